"""The ``deepof-sk`` command line.

Sub-commands
------------
``deepof-sk demo``
    Run the main job on the bundled sample data (DeepOF's test tables): read every sample, smooth it, write a
    tracking-quality summary and the recordings as netCDF into an output folder.
``deepof-sk summarize PATH ...``
    The same for your own files or folders.
``deepof-sk convert IN OUT``
    Convert one tracking file to another format (netCDF for movement, DLC .h5/.csv).
``deepof-sk samples``
    List the bundled samples.

Exit codes: 0 success, 1 failure while processing (the message says what and where), 2 bad command line.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

__all__ = ["main", "build_parser"]

log = logging.getLogger("deepof_sk")


#: DeepOF's test videos: a 380 mm arena spans 252 px (reference project info), i.e. 0.663 px per mm.
_SAMPLE_PX_PER_MM = 252.0 / 380.0
_TAIL = ("Tail_1", "Tail_2", "Tail_tip")


def _annotate(ds, px_per_mm: float | None):
    """DeepOF's create() + supervised_annotation(), from the public estimators (see docs/pipeline-contract.md)."""
    from sklearn.pipeline import make_pipeline

    from .annotation import DeepOFAnnotator
    from .preprocessing import ArenaScaler, make_deepof_preprocessor

    keep = [k for k in ds["keypoint"].values if k not in _TAIL]
    ds = ds.sel(keypoint=keep)
    steps = [make_deepof_preprocessor()]
    if px_per_mm is not None:
        steps.append(ArenaScaler(px_per_mm=px_per_mm))
    steps.append(DeepOFAnnotator(arena="auto"))
    return make_pipeline(*steps).fit_transform(ds)


def _summarize(recordings, ids, output: Path, smooth_window: int, px_per_mm: float | None = None,
               annotate: bool = True) -> int:
    import warnings

    import pandas as pd

    from .exceptions import DataQualityWarning
    from .io import write_netcdf
    from .preprocessing import SavgolSmoother
    from .quality import tracking_quality

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
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(per_recording.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    written = [output / "summary.csv", output / "tracking_quality.csv"]
    if annotated:
        from .annotation import summarize_behaviors, to_deepof_table

        table_dir = output / "annotations"
        table_dir.mkdir(exist_ok=True)
        for ds in annotated:
            to_deepof_table(ds, table_dir / f"{ds.attrs['recording_id']}_supervised.csv")
        behaviors = summarize_behaviors(annotated)
        behaviors.to_csv(output / "behavior_summary.csv", index=False)
        written += [output / "behavior_summary.csv", table_dir]
        cols = [c for c in ("recording", "individual", "partner", "behavior", "time", "fraction", "n_bouts") if c in behaviors]
        print("\nBehaviour summary (DeepOF rules):")
        with pd.option_context("display.width", 160, "display.max_rows", 60):
            shown = behaviors[cols].dropna(subset=[c for c in ("fraction",) if c in cols])
            print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
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
    from .plotting import plot_ethogram

    annotation = ds["annotation"]
    binary = annotation.sel(behavior=annotation["behavior_kind"].values == "binary")
    fig, ax = plt.subplots(figsize=(8, 3.2), constrained_layout=True)
    plot_ethogram([binary], fps=ds.attrs["fps"], recording_ids=[ds.attrs["recording_id"]], ax=ax)
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return path


def _cmd_demo(args) -> int:
    from .datasets import list_samples, load_sample

    names = list(list_samples())
    recordings = [load_sample(name) for name in names]
    print(f"deepof-sk demo: {len(names)} bundled DeepOF sample tables (MIT, see deepof_sk/datasets/data/"
          "ATTRIBUTION.md)\n")
    return _summarize(recordings, names, Path(args.output), args.smooth_window, px_per_mm=_SAMPLE_PX_PER_MM)


def _cmd_summarize(args) -> int:
    from .io import read_recordings

    recordings, table = read_recordings(args.paths, fps=args.fps, n_jobs=args.n_jobs)
    ids = [ds.attrs.get("recording_id", f"recording_{i}") for i, ds in enumerate(recordings)]
    return _summarize(recordings, ids, Path(args.output), args.smooth_window, px_per_mm=args.px_per_mm,
                      annotate=not args.no_annotate)


def _cmd_convert(args) -> int:
    from .io import read_poses, write_dlc, write_netcdf

    ds = read_poses(args.input, fps=args.fps)
    out = Path(args.output)
    if out.suffix == ".nc":
        write_netcdf(ds, out)
    elif out.suffix in (".h5", ".csv"):
        write_dlc(ds, out)
    else:
        raise ValueError(f"convert: unknown output format {out.suffix!r}; use .nc, .h5 or .csv.")
    print(f"Wrote {out}")
    return 0


def _cmd_samples(args) -> int:
    from .datasets import list_samples, sample_path

    for name, desc in list_samples().items():
        print(f"{name:24s} {desc}\n{'':24s} {sample_path(name)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``deepof-sk`` (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="deepof-sk",
        description=(
            "Turn DeepLabCut / SLEAP / movement pose tracking into behaviour. Start with `deepof-sk demo`, which "
            "runs on the bundled sample tables, then `deepof-sk summarize YOUR_FOLDER --fps 25`."
        ),
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def common(p, default_out):
        p.add_argument("-o", "--output", default=default_out, help=f"output folder (default: {default_out})")
        p.add_argument("--smooth-window", type=int, default=5, help="Savitzky-Golay window in frames (odd)")

    p = sub.add_parser("demo", help="run the main job on the bundled sample data")
    common(p, "deepof_sk_output")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("summarize", help="read tracking files or folders, write a quality summary and netCDF")
    p.add_argument("paths", nargs="+", help="tracking files (DLC .h5/.csv, SLEAP .slp/.analysis.h5, .nc, .nwb, "
                                            "JABS, SimBA) or folders of them")
    p.add_argument("--fps", type=float, default=None, help="frame rate, if the files do not store it")
    p.add_argument("--n-jobs", type=int, default=None, help="read recordings in parallel")
    p.add_argument("--px-per-mm", type=float, default=None,
                   help="pixel scale, for behaviour thresholds in mm (without it only unit-free output)")
    p.add_argument("--no-annotate", action="store_true", help="skip DeepOF's rule-based behaviour annotation")
    common(p, "deepof_sk_output")
    p.set_defaults(func=_cmd_summarize)

    p = sub.add_parser("convert", help="convert one tracking file (to .nc for movement, or DLC .h5/.csv)")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--fps", type=float, default=None, help="frame rate, if the file does not store it")
    p.set_defaults(func=_cmd_convert)

    p = sub.add_parser("samples", help="list the bundled sample files")
    p.set_defaults(func=_cmd_samples)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``deepof-sk``; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        return args.func(args)
    except (ValueError, TypeError, FileNotFoundError, OSError) as exc:
        print(f"deepof-sk {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
