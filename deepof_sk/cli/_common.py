"""Shared machinery of the ``deepof-sk`` verbs: errors, progress, messages, inputs, parallel runs, results."""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
import warnings
from pathlib import Path

from .. import __version__

log = logging.getLogger("deepof_sk")

_RESULTS = "results.json"
_SUMMARY = "behavior_summary.csv"
_DEEP_HINT = 'pip install "deepof-sk[deep]"'


class CLIError(Exception):
    """A processing failure with a message for the user (exit code 1)."""


# -- progress, messages ----------------------------------------------------------------------------------------
def _progress(iterable, *, total: int, desc: str, enabled: bool):
    """Iterate with a progress bar on stderr: tqdm when installed, else one plain line per item."""
    if not enabled:
        yield from iterable
        return
    try:
        from tqdm.auto import tqdm
    except ImportError:
        for k, item in enumerate(iterable, 1):
            label = item.get("recording_id", "") if isinstance(item, dict) else ""
            print(f"{desc}: {k}/{total} {label}".rstrip(), file=sys.stderr, flush=True)
            yield item
        return
    with tqdm(total=total, desc=desc, unit="rec", file=sys.stderr, leave=False) as bar:
        for item in iterable:
            yield item
            bar.update(1)


def _say(args, text: str = "") -> None:
    """Print to stdout unless --quiet."""
    if not args.quiet:
        print(text, flush=True)


def _table_text(df, float_digits: int = 3) -> str:
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_rows", 60, "display.max_columns", 20):
        return df.to_string(index=False, float_format=lambda v: f"{v:.{float_digits}f}")


# -- inputs ----------------------------------------------------------------------------------------------------
def _collect_inputs(inputs, *, exclude: Path | None = None) -> list[Path]:
    """Tracking files named on the command line (folders are scanned, not recursively, sorted by name)."""
    from ..io import SUPPORTED_EXTENSIONS, infer_recording_id

    paths: list[Path] = []
    for item in inputs:
        p = Path(item)
        if not p.exists():
            raise CLIError(f"{str(p)!r} does not exist; check the path (give tracking files or folders of them).")
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in SUPPORTED_EXTENSIONS
                           and (exclude is None or f.resolve() != exclude.resolve()))
            if not found:
                raise CLIError(f"no tracking file in folder {str(p)!r} (supported extensions: "
                               f"{', '.join(SUPPORTED_EXTENSIONS)}).")
            paths += found
        else:
            paths.append(p)
    seen: dict[str, list[str]] = {}
    for p in paths:
        seen.setdefault(infer_recording_id(p), []).append(str(p))
    dupes = {rid: files for rid, files in seen.items() if len(files) > 1}
    if dupes:
        raise CLIError(f"several files give the same recording id: {dupes}. Recording ids are file names without "
                       "extension and DeepLabCut scorer suffix; keep one file per recording.")
    return paths


def _read(path: Path, fps: float | None, max_frames: int | None, float32: bool = False):
    """One recording with ``attrs['recording_id']``, cut to its first ``max_frames`` frames (float32 if asked)."""
    from ..io import infer_recording_id, read_poses

    ds = read_poses(path, fps=fps, dtype="float32" if float32 else None)
    ds.attrs["recording_id"] = infer_recording_id(path)
    return _cut(ds, max_frames)


def _cut(ds, max_frames: int | None):
    if max_frames is not None and ds.sizes["time"] > max_frames:
        ds = ds.isel(time=slice(0, max_frames))
    return ds


def _load_conditions(path, ids: list[str], output: Path):
    """Read a conditions table, check it covers every recording, and save it as ``output/conditions.csv``."""
    from ..io import read_conditions

    table = read_conditions(path)
    missing = sorted(set(ids) - set(table["recording_id"]))
    if missing:
        raise CLIError(f"the conditions table {str(path)!r} has no row for recordings {missing}; its first column "
                       f"must hold the recording ids (file names without extension), found "
                       f"{sorted(set(table['recording_id']))[:10]}.")
    extra = sorted(set(table["recording_id"]) - set(ids))
    if extra:
        log.info("conditions table: rows without a recording here are ignored: %s", extra)
    table = table[table["recording_id"].isin(ids)]
    output.mkdir(parents=True, exist_ok=True)
    table.to_csv(output / "conditions.csv", index=False)
    return table


def _parallel(func, items, *, n_jobs, desc: str, args):
    """``func(item)`` for every item, in worker processes when ``n_jobs`` > 1, with a progress bar."""
    total = len(items)
    if n_jobs is None or n_jobs == 1 or total < 2:
        results = (func(item) for item in items)
    else:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=n_jobs, return_as="generator")(delayed(func)(item) for item in items)
    return list(_progress(results, total=total, desc=desc, enabled=not args.quiet))


def _run_safely(job, path: Path, *payload):
    """Run one recording's job; return ``{"ok": False, "error": ...}`` instead of raising, with its warnings."""
    import xarray as xr

    with warnings.catch_warnings(record=True) as caught, xr.set_options(use_numbagg=False):
        warnings.simplefilter("always")
        try:
            out = job(path, *payload)
            out["ok"] = True
        except Exception as exc:  # noqa: BLE001 - reported per recording, the others go on
            message = str(exc) if isinstance(exc, CLIError) else f"{type(exc).__name__}: {exc}"
            out = {"ok": False, "path": str(path), "error": message,
                   "traceback": traceback.format_exc()}
    out["warnings"] = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    return out


def _log_warnings(results) -> None:
    """Data-quality warnings of each recording, logged once (they were caught in the worker)."""
    for r in results:
        for w in r.get("warnings", []):
            log.warning("%s: %s", r.get("recording_id", r.get("path")), w)


def _report_failures(results, args, verb: str) -> int:
    """Print failures; the exit code (1 when any recording failed)."""
    failed = [r for r in results if not r["ok"]]
    for r in failed:
        print(f"deepof-sk {verb}: error: {r['path']}: {r['error']}", file=sys.stderr)
        if args.verbose:
            print(r["traceback"], file=sys.stderr)
    if failed:
        rest = "the others were written" if len(failed) < len(results) else "nothing was written"
        print(f"deepof-sk {verb}: {len(failed)} of {len(results)} recordings failed (listed above); {rest}. Fix or "
              "remove those files and run again (-v shows the tracebacks).", file=sys.stderr)
        return 1
    return 0


def _write_results(output: Path, verb: str, args, results, extra: dict | None = None) -> None:
    info = {
        "command": verb,
        "deepof_sk_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "arguments": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                      if k not in ("func", "verbose", "quiet")},
        "recordings": [{k: r[k] for k in ("recording_id", "path", "fps", "n_frames", "individuals", "files")
                        if k in r} for r in results if r["ok"]],
        "failed": [{"path": r["path"], "error": r["error"]} for r in results if not r["ok"]],
        **(extra or {}),
    }
    (output / _RESULTS).write_text(json.dumps(info, indent=2, default=str) + "\n")


def _labels_dataset(ds, values, behaviors):
    """``ds`` plus an ``annotation`` (time, individual, behavior) of binary values, so that the bout and summary
    functions of :mod:`deepof_sk.annotation` apply to predictions and clusters too."""
    import numpy as np

    return ds.assign(annotation=(("time", "individual", "behavior"), np.asarray(values, dtype=float))).assign_coords(
        behavior=list(behaviors), behavior_kind=("behavior", ["binary"] * len(behaviors)))


def _concat(frames, output: Path, name: str):
    import pandas as pd

    frames = [f for f in frames if f is not None and len(f)]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    table.to_csv(output / name, index=False)
    return table


def _print_behaviors(args, summary, title: str) -> None:
    """A short per-behaviour overview of a behaviour summary table."""
    if summary.empty or args.quiet:
        return
    binary = summary[summary["kind"] == "binary"] if "kind" in summary else summary
    overview = (binary.groupby("behavior", sort=False)
                .agg(n=("fraction", "size"), mean_percent_time=("fraction", "mean"),
                     bouts=("n_bouts", "sum"))
                .reset_index())
    overview["mean_percent_time"] *= 100
    print(f"\n{title}")
    print(_table_text(overview, 1))


def _mkdir(path: Path) -> Path:
    """``path``, created if needed."""
    path.mkdir(parents=True, exist_ok=True)
    return path


class _UsageError(Exception):
    """A bad command line found after parsing (exit code 2)."""
