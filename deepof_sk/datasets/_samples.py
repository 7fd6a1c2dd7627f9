"""Access to the sample tracking tables bundled with the package."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import xarray as xr

__all__ = ["list_samples", "sample_path", "load_sample"]

#: name -> (file, reader keyword arguments, description)
_SAMPLES = {
    "deepof_single": ("testDLC_h5_table.h5", {}, "DeepOF single mouse, DLC .h5, 100 frames, 14 keypoints"),
    "deepof_single_csv": ("testDLC_csv_table.csv", {}, "DeepOF single mouse, DLC .csv, 97 frames (other clip)"),
    "deepof_multi": (
        "testDLC_h5_table_multi.h5",
        {"animal_ids": ["B", "W"]},
        "DeepOF two mice as prefixed body parts (B_, W_), DLC .h5, 100 frames",
    ),
    "deepof_madlc": ("testDLC_h5_table_madlc.h5", {}, "DeepOF two mice, multi-animal DLC .h5, 100 frames"),
    "deepof_sleap": ("testDLC_sleap.slp", {}, "DeepOF single mouse, SLEAP .slp, 101 frames"),
    "deepof_sleap_analysis": ("testDLC_sleap.analysis.h5", {}, "DeepOF single mouse, SLEAP analysis .h5"),
}

#: Frame rate of DeepOF's test examples (its reference outputs were made with frame_rate=25).
SAMPLE_FPS = 25.0


def list_samples() -> dict[str, str]:
    """Names and one-line descriptions of the bundled samples."""
    return {name: desc for name, (_, _, desc) in _SAMPLES.items()}


def sample_path(name: str) -> Path:
    """Path of a bundled sample file (read-only; never write to it)."""
    if name not in _SAMPLES:
        raise ValueError(f"sample_path: unknown sample {name!r}; choose one of {sorted(_SAMPLES)}.")
    return Path(str(resources.files("deepof_sk.datasets") / "data" / _SAMPLES[name][0]))


def load_sample(name: str = "deepof_single", *, fps: float | None = SAMPLE_FPS) -> xr.Dataset:
    """Read a bundled sample as a poses dataset.

    Parameters
    ----------
    name : str, default "deepof_single"
        One of :func:`list_samples`.
    fps : float or None, default 25
        Frame rate to attach (DeepOF's examples are 25 fps; the files do not store it).

    Returns
    -------
    xarray.Dataset
    """
    from ..io import read_poses

    file, kwargs, _ = _SAMPLES[name] if name in _SAMPLES else (None, None, None)
    if file is None:
        raise ValueError(f"load_sample: unknown sample {name!r}; choose one of {sorted(_SAMPLES)}.")
    ds = read_poses(sample_path(name), fps=fps, **kwargs)
    ds.attrs["recording_id"] = name
    return ds
