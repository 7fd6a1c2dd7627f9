"""Round trip with movement: load with movement, process with deepof_sk, hand the result back to movement.

Story: you already load and clean your tracking with movement (neuroinformatics-unit/movement). deepof_sk reads the
same ``xarray.Dataset`` (the poses schema: ``position``, ``confidence``, ``attrs["fps"]``), so its estimators take
movement's datasets as they are. The example loads a bundled DeepLabCut table with movement, cleans it with movement's
filters and with deepof_sk's estimators and compares the two, adds DeepOF's behaviours, writes netCDF with
``deepof_sk.io.write_netcdf`` and opens that file again as movement does (``xarray.open_dataset``), ready for
``movement.kinematics``.

Requires movement (``pip install movement``; it is in the ``test`` extra).

Note: with numbagg installed (movement pulls it in), xarray's first NaN-aware reduction in a process (``.median()``,
``.mean()`` of a DataArray) JIT-compiles for about 30 s; this script reduces with numpy to stay fast. Call
``xarray.set_options(use_numbagg=False)`` in your own scripts to avoid the wait.

Run:  python examples/movement_interop.py [--output FOLDER]
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import xarray as xr

from deepof_sk.annotation import DeepOFAnnotator
from deepof_sk.datasets import sample_path
from deepof_sk.io import read_netcdf, write_netcdf
from deepof_sk.preprocessing import ConfidenceFilter, Interpolator, SavgolSmoother


def main(argv=None) -> xr.Dataset:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("movement_interop_output"))
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    logging.getLogger("movement").setLevel(logging.WARNING)
    from movement import filtering
    from movement.io import load_poses
    from movement.kinematics import compute_speed

    # 1. movement loads the file (DeepOF's single-mouse test table, 14 keypoints, 25 fps)
    mds = load_poses.from_dlc_file(sample_path("deepof_single_csv"), fps=25)
    legacy = "keypoints" in mds.dims    # movement < 0.17 names its dims keypoints/individuals
    print("movement dataset:", dict(mds.sizes))

    # 2. the same cleaning with movement's functions and with deepof_sk's estimators
    by_movement = filtering.filter_by_confidence(mds.position, mds.confidence, threshold=0.99)
    by_movement = filtering.interpolate_over_time(by_movement, max_gap=5)
    by_movement = filtering.savgol_filter(by_movement, window=5, polyorder=2)

    cleaned = ConfidenceFilter(threshold=0.99).fit_transform(mds)    # a movement dataset goes straight in
    cleaned = Interpolator(max_gap=5).fit_transform(cleaned)
    cleaned = SavgolSmoother(window=5, polyorder=2).fit_transform(cleaned)
    print("deepof_sk dataset:", dict(cleaned.sizes))                  # singular dim names on the way out

    ours = cleaned.position.values
    theirs = by_movement.values          # same axis order: time, space, keypoint(s), individual(s)
    both = ~np.isnan(ours) & ~np.isnan(theirs)
    print(f"max difference where both have a value: {np.abs(ours[both] - theirs[both]).max():.2e} px")
    print(f"missing values: movement {int(np.isnan(theirs).sum())}, deepof_sk {int(np.isnan(ours).sum())} "
          "(movement's Savitzky-Golay spreads a NaN over its window; deepof_sk's bridges the gap)")

    # 3. what deepof_sk adds: DeepOF's behaviours, here on pixels with DeepOF's scale for this video
    cleaned.attrs["px_per_mm"] = 252 / 380
    annotated = DeepOFAnnotator().fit_transform(cleaned)
    moving = annotated.annotation.sel(behavior="moving")
    print(f"moving in {np.nanmean(moving.values):.0%} of frames")   # numpy: see the note on numbagg below

    # 4. back to movement: netCDF with its dim names, opened the way movement opens netCDF
    path = args.output / "deepof_single_clean.nc"
    write_netcdf(annotated, path, legacy_dims=legacy)
    back = xr.open_dataset(path)
    speed = compute_speed(back.position)                             # movement's kinematics on our output
    nose = speed.sel({"keypoints" if legacy else "keypoint": "Nose"}).values
    print(f"movement reads {path.name}: variables {sorted(back.data_vars)}; "
          f"median Nose speed {np.nanmedian(nose):.0f} px/s")
    assert read_netcdf(path).sizes["time"] == mds.sizes["time"]     # and deepof_sk reads it back too
    return back


if __name__ == "__main__":
    main()
