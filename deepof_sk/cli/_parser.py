"""The argument parser of ``deepof-sk`` (argument types, sub-commands) and its entry point :func:`main`."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
import warnings

from .. import __version__
from ._annotate import _cmd_annotate
from ._basic import _cmd_convert, _cmd_demo, _cmd_samples, _cmd_summarize
from ._cluster import _cmd_cluster
from ._common import _DEEP_HINT, CLIError, _UsageError, log
from ._report import _cmd_report
from ._supervised import _cmd_predict, _cmd_train


# -- parser ----------------------------------------------------------------------------------------------------
def _number(kind, minimum, *, strict: bool, what: str):
    """An argparse ``type``: ``kind`` (int or float) at least ``minimum`` (above it when ``strict``)."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}; got {text!r}") from None
        if value < minimum or (strict and value == minimum) or value != value:  # value != value: NaN
            raise argparse.ArgumentTypeError(f"expected a number {'>' if strict else '>='} {minimum}; got {value:g}")
        return value

    return parse


_positive_int = _number(int, 1, strict=False, what="a whole number")
_non_negative_int = _number(int, 0, strict=False, what="a whole number")
_positive_float = _number(float, 0, strict=True, what="a number")


def _length(text: str) -> str:
    from ..preprocessing import parse_length

    try:
        parse_length(text, where="--arena-size")
    except (ValueError, TypeError) as exc:
        raise argparse.ArgumentTypeError(f"{exc} Example: --arena-size \"380 mm\"") from None
    return text


def _role(text: str) -> tuple[str, str]:
    role, sep, keypoint = text.partition("=")
    if not sep or not role or not keypoint:
        raise argparse.ArgumentTypeError(f"expected ROLE=KEYPOINT (e.g. center=midback); got {text!r}")
    return role.strip(), keypoint.strip()


def _text(*paragraphs: str) -> str:
    """Help text: prose paragraphs wrapped at 100 columns, lines starting with a space or "-" kept as written."""
    import textwrap

    out = []
    for para in paragraphs:
        lines = para.split("\n")
        out.append("\n".join(line if line.startswith((" ", "-")) else textwrap.fill(line, 100) for line in lines))
    return "\n\n".join(out)


_EPILOG_INPUT = _text("INPUT: tracking files (DeepLabCut .h5/.csv, SLEAP .slp/.analysis.h5, movement .nc, NWB, JABS, "
                 "SimBA, LightningPose) or folders of them. The recording id of a file is its name without extension "
                 "and DeepLabCut scorer suffix.")


def _add_common(p, *, output: bool = True, default_out: str | None = None) -> None:
    """Options every processing verb shares; -v/--quiet are repeated so they also work after the verb."""
    p.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                   help="log progress and warnings to stderr, show tracebacks of failures")
    p.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                   help="no progress bars and no printed tables (files are still written)")
    if output:
        p.add_argument("-o", "--output", required=default_out is None, default=default_out, metavar="DIR",
                       help="output folder (created if needed)" + (f"; default {default_out}" if default_out else ""))


def _add_reading(p, *, jobs_help: str = "recordings processed in parallel (worker processes; -1 = all cores)"):
    p.add_argument("--fps", type=_positive_float, default=None, help="frame rate, if the files do not store it")
    p.add_argument("--max-frames", type=_positive_int, default=None, metavar="N",
                   help="use only the first N frames of every recording (quick trials)")
    p.add_argument("--n-jobs", type=int, default=None, metavar="N", help=jobs_help)
    p.add_argument("--float32", action="store_true",
                   help="hold positions in single precision: half the memory and faster cleaning and features "
                        "(about 7 significant digits)")


def _add_scale(p) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--arena-size", type=_length, default=None, metavar="LENGTH",
                   help='real size of the arena, e.g. "380 mm" (diameter of a round arena, detected from the '
                        "tracks): positions are converted to mm")
    g.add_argument("--px-per-mm", type=_positive_float, default=None, help="pixels per millimetre, if known")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``deepof-sk`` (exposed for documentation and tests)."""
    from ..annotation import DEEPOF_BEHAVIORS

    parser = argparse.ArgumentParser(
        prog="deepof-sk",
        description=(
            "Turn DeepLabCut / SLEAP / movement pose tracking into behaviour. Start with `deepof-sk demo`, which "
            "runs on the bundled sample tables; then `deepof-sk annotate YOUR_FOLDER --arena-size '380 mm' -o out`, "
            "and `deepof-sk report out --conditions conditions.csv -o stats`. `deepof-sk COMMAND --help` explains "
            "each command."
        ),
        epilog="Exit codes: 0 success, 1 a file could not be processed (the message says which and what to do), "
               "2 bad command line. Documentation: docs/cli.md.",
    )
    parser.add_argument("--version", action="version", version=f"deepof-sk {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and warnings to stderr")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars and no printed tables")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    fmt = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser("demo", help="run the main job on the bundled sample data",
                       description="Read the six bundled DeepOF sample tables, write a tracking-quality summary, "
                                   "DeepOF's rule-based behaviours, an ethogram and netCDF recordings.")
    _add_common(p, default_out="deepof_sk_output")
    p.add_argument("--smooth-window", type=int, default=5, help="Savitzky-Golay window in frames (odd)")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser(
        "annotate", help="DeepOF preprocessing + all rule-based behaviours -> tables, bouts, summary",
        formatter_class=fmt,
        description=_text(
            "Clean every recording as DeepOF's Project.create() does (outlier removal, gap filling, presence), "
            "convert it to mm (with --arena-size or --px-per-mm) and tag DeepOF's rule-based behaviours: contacts, "
            "following, climbing, sniffing, immobility, activity, speed ...",
            "Writes into --output: annotations/<recording>_supervised.csv (DeepOF's supervised_annotation table) "
            "and/or annotations/<recording>.nc, bouts.csv, behavior_summary.csv, results.json (and conditions.csv "
            "with --conditions). Recordings that fail are listed at the end; the others are still written.",
            "Example:\n  deepof-sk annotate tracking/ --arena-size \"380 mm\" --exclude-keypoints Tail_1 Tail_2 "
            "Tail_tip \\\n      --conditions conditions.csv --n-jobs 4 -o annotated"),
        epilog=_EPILOG_INPUT)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="tracking files or folders")
    _add_common(p)
    _add_reading(p)
    _add_scale(p)
    p.add_argument("--exclude-keypoints", nargs="+", default=None, metavar="KEYPOINT",
                   help="keypoints to drop first (DeepOF's exclude_bodyparts), e.g. Tail_1 Tail_2 Tail_tip")
    p.add_argument("--roles", nargs="+", type=_role, default=None, metavar="ROLE=KEYPOINT",
                   help="map behaviour roles to your keypoint names, e.g. center=midback left_ear=l_ear "
                        "(DeepOF's names are recognised without it)")
    p.add_argument("--behaviors", nargs="+", choices=list(DEEPOF_BEHAVIORS), default=None, metavar="BEHAVIOR",
                   help="only these behaviours (default all): " + ", ".join(DEEPOF_BEHAVIORS))
    p.add_argument("--format", nargs="+", choices=["csv", "netcdf"], default=["csv"],
                   help="per-recording output: DeepOF-layout CSV and/or netCDF (default csv)")
    p.add_argument("--conditions", default=None, metavar="TABLE.csv",
                   help="experimental conditions: first column the recording id, then one column per condition "
                        "(checked and saved for `deepof-sk report`)")
    p.set_defaults(func=_cmd_annotate)

    p = sub.add_parser(
        "train", help="train a frame classifier from tracking files + per-frame labels",
        formatter_class=fmt,
        description=_text(
            "Train a per-frame behaviour classifier (motion features with temporal context, gradient boosting) on "
            "tracking files and their per-frame labels; report cross-validated scores with whole recordings (or "
            "blocks of time) held out, then fit on everything.",
            "Label files, one per tracking file in the same order (1 = behaviour, 0 = not, empty = unlabelled):\n"
            "  - a CSV with one column per behaviour and one row per frame (frame/time columns are ignored)\n"
            "  - a SimBA table with <behaviour>_prediction columns (omit --labels to read them from the tracking "
            "files)\n"
            "  - a BehaviorDEPOT hBehavior .mat file (<Behaviour>.Vector)",
            "Writes into --output: model.joblib, model.json (behaviours, training files, cross-validated scores), "
            "cv_scores.csv, training_files.csv.",
            "Example:\n  deepof-sk train demo2_tracking.csv --labels hB_demo2_manual_annotations.mat --behaviors "
            "Freezing \\\n      --fps 30 --preset freezing -o freezing_model"),
        epilog=_EPILOG_INPUT)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="tracking files or folders")
    p.add_argument("--labels", nargs="+", default=None, metavar="LABELS",
                   help="per-frame label files, one per tracking file in the same order")
    _add_common(p)
    _add_reading(p, jobs_help="recordings featurised in parallel")
    p.add_argument("--behaviors", nargs="+", default=None, metavar="BEHAVIOR",
                   help="label columns to learn (default all columns of the label files)")
    p.add_argument("--preset", choices=["motion", "freezing"], default="motion",
                   help="motion: body-motion features of every keypoint; freezing: the shipped freezing recipe "
                        "(nose and tail base only, transfers across skeletons and frame rates). Default motion")
    p.add_argument("--cv-folds", type=_non_negative_int, default=5, metavar="K",
                   help="cross-validation folds (0 = skip); default 5")
    p.add_argument("--cv-by", choices=["auto", "recording", "time"], default="auto",
                   help="hold out whole recordings, or blocks of time of every recording (auto: recordings when "
                        "there are several)")
    p.add_argument("--max-iter", type=_positive_int, default=None, help="boosting iterations (fewer = faster)")
    p.add_argument("--random-state", type=int, default=0, help="seed (default 0)")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser(
        "predict", help="apply a trained or shipped classifier -> per-frame CSV + bouts",
        formatter_class=fmt,
        description=_text(
            "Apply a frame classifier to tracking files. MODEL is a model.joblib written by `deepof-sk train` or "
            "the name of a shipped model (freezing); it can also be given as --model.",
            "Writes into --output: predictions/<recording>.csv (frame, time, one 0/1 column per behaviour and "
            "animal, and its probability), bouts.csv, behavior_summary.csv, results.json.",
            "Example:\n  deepof-sk predict freezing tracking/ --fps 30 -o predicted"),
        epilog=_EPILOG_INPUT)
    p.add_argument("inputs", nargs="+", metavar="[MODEL] INPUT", help="the model (unless --model), then inputs")
    p.add_argument("--model", default=None, help="model file or shipped model name")
    _add_common(p)
    _add_reading(p)
    p.add_argument("--min-bout", type=float, default=0.0, metavar="SECONDS",
                   help="leave shorter bouts out of bouts.csv (default 0)")
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser(
        "cluster", help="deep clustering of behaviour (needs the deep extra)",
        formatter_class=fmt,
        description=_text(
            "DeepOF's unsupervised pipeline: preprocessing, optional mm scaling, egocentric alignment, then a deep "
            "clustering model on sliding windows gives every frame a cluster. Needs Keras 3 and jax: "
            f"{_DEEP_HINT}.",
            "Writes into --output: clusters/<recording>.csv (frame, time, cluster and confidence per animal), "
            "model.joblib, occupancy.csv, behavior_summary.csv, bouts.csv, training_history.csv, results.json.",
            "Example:\n  deepof-sk cluster tracking/ --n-clusters 10 --epochs 15 --arena-size \"380 mm\" "
            "-o clusters"),
        epilog=_EPILOG_INPUT)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="tracking files or folders")
    _add_common(p)
    _add_reading(p, jobs_help="recordings preprocessed in parallel")
    _add_scale(p)
    p.add_argument("--n-clusters", type=_positive_int, default=10, metavar="K", help="number of clusters (default 10)")
    p.add_argument("--epochs", type=_positive_int, default=15, help="maximum training epochs (default 15)")
    p.add_argument("--pretrain-epochs", type=_non_negative_int, default=3, help="autoencoder pretraining (default 3)")
    p.add_argument("--model", choices=["vade", "vqvae", "contrastive"], default="vade", help="default vade")
    p.add_argument("--encoder", choices=["gru", "tcn", "transformer"], default="gru", help="default gru")
    p.add_argument("--window", type=_positive_int, default=25, help="window length in frames (default 25)")
    p.add_argument("--latent-dim", type=_positive_int, default=8, help="embedding size (default 8)")
    p.add_argument("--center", default="Center", help="keypoint at the origin after alignment (default Center)")
    p.add_argument("--align", default="Spine_1", help="keypoint put on the +y axis (default Spine_1)")
    p.add_argument("--exclude-keypoints", nargs="+", default=None, metavar="KEYPOINT", help="keypoints to drop")
    p.add_argument("--random-state", type=int, default=0, help="seed (default 0)")
    p.set_defaults(func=_cmd_cluster)

    p = sub.add_parser(
        "report", help="statistics across conditions of an annotate/predict/cluster output + figures",
        formatter_class=fmt,
        description=_text(
            "Compare behaviour between experimental conditions: one test per behaviour (Mann-Whitney by default, "
            "Benjamini-Hochberg corrected), effect sizes, and a bar chart per condition column (figures need "
            "matplotlib).",
            "Writes into --output: enrichment.csv, summary_by_condition.csv, behavior_table.csv, "
            "enrichment_<condition>.png.",
            "Example:\n  deepof-sk report annotated --conditions conditions.csv -o stats"))
    p.add_argument("results", metavar="RESULTS_DIR", help="output folder of annotate, predict or cluster")
    p.add_argument("--conditions", default=None, metavar="TABLE.csv",
                   help="conditions table (default: the one saved by annotate --conditions)")
    p.add_argument("--condition", default=None, metavar="COLUMN", help="compare only this condition column")
    p.add_argument("--value", choices=["fraction", "time_s", "n_bouts", "mean_bout_s"], default="fraction",
                   help="measure to compare (default fraction of time)")
    p.add_argument("--test", choices=["mannwhitneyu", "ttest", "welch", "brunnermunzel", "permutation", "kruskal"],
                   default="mannwhitneyu", help="statistical test (default mannwhitneyu)")
    _add_common(p)
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("summarize", help="read tracking files or folders, write a quality summary and netCDF")
    p.add_argument("paths", nargs="+", help="tracking files (DLC .h5/.csv, SLEAP .slp/.analysis.h5, .nc, .nwb, "
                                            "JABS, SimBA) or folders of them")
    p.add_argument("--fps", type=float, default=None, help="frame rate, if the files do not store it")
    p.add_argument("--n-jobs", type=int, default=None, help="read recordings in parallel")
    p.add_argument("--px-per-mm", type=float, default=None,
                   help="pixel scale, for behaviour thresholds in mm (without it only unit-free output)")
    p.add_argument("--no-annotate", action="store_true", help="skip DeepOF's rule-based behaviour annotation")
    _add_common(p, default_out="deepof_sk_output")
    p.add_argument("--smooth-window", type=int, default=5, help="Savitzky-Golay window in frames (odd)")
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
    """Entry point of ``deepof-sk``; returns the exit code (0 ok, 1 processing failure, 2 bad command line)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.verbose = bool(getattr(args, "verbose", False))
    args.quiet = bool(getattr(args, "quiet", False))
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    level = logging.INFO if args.verbose else (logging.ERROR if args.quiet else logging.WARNING)
    old_level, old_propagate = log.level, log.propagate
    log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False
    import xarray as xr

    try:
        # numbagg (installed with movement) compiles its kernels on the first xarray reduction of a process, ~30 s
        # that a command-line run should not pay; numpy's reductions give the same values
        with xr.set_options(use_numbagg=False):
            if args.verbose:
                return args.func(args)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # data-quality notes are logged per recording with -v
                return args.func(args)
    except _UsageError as exc:
        print(f"deepof-sk {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"deepof-sk {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the CLI turns every failure into a message and exit code 1
        message = str(exc) if isinstance(exc, CLIError) else f"{type(exc).__name__}: {exc}"
        print(f"deepof-sk {args.command}: error: {message}", file=sys.stderr)
        if args.verbose:
            traceback.print_exc()
        else:
            print("(run again with -v for details)", file=sys.stderr)
        return 1
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)
        log.propagate = old_propagate
