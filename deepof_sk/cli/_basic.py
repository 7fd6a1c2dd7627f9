"""``deepof-sk demo``, ``summarize``, ``convert`` and ``samples``."""

from __future__ import annotations

import warnings
from pathlib import Path

from ._annotate import _annotate
from ._common import _SUMMARY, _table_text, _UsageError, log

#: DeepOF's test videos: a 380 mm arena spans 252 px (reference project info), i.e. 0.663 px per mm.
_SAMPLE_PX_PER_MM = 252.0 / 380.0


# -- demo, summarize, convert, samples (unchanged behaviour) ---------------------------------------------------
def _summarize(recordings, ids, output: Path, smooth_window: int, px_per_mm: float | None = None,
               annotate: bool = True) -> int:
    from ..exceptions import DataQualityWarning
    from ..io import write_netcdf
    from ..preprocessing import SavgolSmoother
    from ..quality import tracking_quality

    output.mkdir(parents=True, exist_ok=True)
    quality = tracking_quality(recordings, recording_ids=ids)
    per_recording = (
        quality.groupby(["recording", "individual"], sort=False)
        .agg(
            n_frames=("n_frames", "first"),
            duration_s=("duration_s", "first"),
            keypoints=("keypoint", "count"),
            missing_fraction=("missing_fraction", "mean"),
            low_confidence_fraction=("low_confidence_fraction", "mean"),
        )
        .reset_index()
    )
    quality.to_csv(output / "tracking_quality.csv", index=False)
    per_recording.to_csv(output / "summary.csv", index=False)
    nc_dir = output / "recordings"
    nc_dir.mkdir(exist_ok=True)
    annotated = []
    for rid, ds in zip(ids, recordings, strict=True):
        n = min(smooth_window, ds.sizes["time"] - (1 - ds.sizes["time"] % 2))
        smoothed = SavgolSmoother(window=max(n, 3), polyorder=2).fit_transform(ds)
        write_netcdf(smoothed, nc_dir / f"{rid}.nc")
        if annotate and ds.attrs.get("fps"):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", DataQualityWarning)
                result = _annotate(ds, px_per_mm)
            for w in caught:
                log.info("%s: %s", rid, w.message)
            result.attrs["recording_id"] = rid
            annotated.append(result)
    print(_table_text(per_recording))
    written = [output / "summary.csv", output / "tracking_quality.csv"]
    if annotated:
        from ..annotation import summarize_behaviors, to_deepof_table

        table_dir = output / "annotations"
        table_dir.mkdir(exist_ok=True)
        for ds in annotated:
            to_deepof_table(ds, table_dir / f"{ds.attrs['recording_id']}_supervised.csv")
        behaviors = summarize_behaviors(annotated)
        behaviors.to_csv(output / _SUMMARY, index=False)
        written += [output / _SUMMARY, table_dir]
        cols = [c for c in ("recording", "individual", "partner", "behavior", "time", "fraction", "n_bouts")
                if c in behaviors]
        print("\nBehaviour summary (DeepOF rules):")
        print(_table_text(behaviors[cols].dropna(subset=[c for c in ("fraction",) if c in cols])))
        figure = _ethogram(annotated[0], output / "ethogram.png")
        if figure is not None:
            written.append(figure)
    print("\nWrote " + ", ".join(str(p) for p in written) + f" and {len(ids)} smoothed recordings in {nc_dir} "
          "(netCDF, readable by movement).")
    return 0


def _ethogram(ds, path: Path) -> Path | None:
    """Save the ethogram of one annotated recording (needs the `plots` extra; skipped without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.info("matplotlib is not installed (pip install 'deepof-sk[plots]'): no ethogram figure.")
        return None
    from ..plotting import plot_ethogram

    annotation = ds["annotation"]
    binary = annotation.sel(behavior=annotation["behavior_kind"].values == "binary")
    fig, ax = plt.subplots(figsize=(8, 3.2), constrained_layout=True)
    plot_ethogram([binary], fps=ds.attrs["fps"], recording_ids=[ds.attrs["recording_id"]], ax=ax)
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return path


def _cmd_demo(args) -> int:
    from ..datasets import list_samples, load_sample

    names = list(list_samples())
    recordings = [load_sample(name) for name in names]
    print(f"deepof-sk demo: {len(names)} bundled DeepOF sample tables (MIT, see deepof_sk/datasets/data/"
          "ATTRIBUTION.md)\n")
    return _summarize(recordings, names, Path(args.output), args.smooth_window, px_per_mm=_SAMPLE_PX_PER_MM)


def _cmd_summarize(args) -> int:
    from ..io import read_recordings

    recordings, table = read_recordings(args.paths, fps=args.fps, n_jobs=args.n_jobs)
    ids = [ds.attrs.get("recording_id", f"recording_{i}") for i, ds in enumerate(recordings)]
    return _summarize(recordings, ids, Path(args.output), args.smooth_window, px_per_mm=args.px_per_mm,
                      annotate=not args.no_annotate)


def _cmd_convert(args) -> int:
    from ..io import read_poses, write_dlc, write_netcdf

    out = Path(args.output)
    if out.suffix not in (".nc", ".h5", ".csv"):
        raise _UsageError(f"unknown output format {out.suffix!r}; use .nc, .h5 or .csv.")
    ds = read_poses(args.input, fps=args.fps)
    if out.suffix == ".nc":
        write_netcdf(ds, out)
    else:
        write_dlc(ds, out)
    print(f"Wrote {out}")
    return 0


def _cmd_samples(args) -> int:
    from ..datasets import list_samples, sample_path

    for name, desc in list_samples().items():
        print(f"{name:24s} {desc}\n{'':24s} {sample_path(name)}")
    return 0
