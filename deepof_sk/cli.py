"""The ``deepof-sk`` command line.

Sub-commands
------------
``deepof-sk demo``
    The main job on the bundled sample data (DeepOF's test tables): quality summary, DeepOF's rule-based
    behaviours, an ethogram and the smoothed recordings as netCDF.
``deepof-sk annotate INPUT ...``
    DeepOF's preprocessing and every rule-based behaviour on your tracking files: DeepOF-layout tables, netCDF,
    bouts and a behaviour summary.
``deepof-sk train INPUT ... --labels LABELS ...``
    Train a frame classifier on tracking files and per-frame labels; cross-validated scores by recording.
``deepof-sk predict MODEL INPUT ...``
    Apply a trained (or the shipped ``freezing``) classifier: per-frame predictions and bouts.
``deepof-sk cluster INPUT ...``
    Deep clustering of behaviour (needs the ``deep`` extra): a cluster per frame, the model, occupancy.
``deepof-sk report RESULTS_DIR``
    Statistics across experimental conditions of an annotate / predict / cluster output folder, with figures.
``deepof-sk summarize PATH ...``, ``deepof-sk convert IN OUT``, ``deepof-sk samples``
    Quality summary of your files, format conversion, the list of bundled samples.

Every verb that writes results leaves a ``results.json`` (what ran, on which files, what was written) and a
``behavior_summary.csv`` (time, fraction and bouts per recording, animal and behaviour) that ``report`` reads.

Exit codes: 0 success; 1 failure while processing (the message names the file and what to do; ``--verbose`` adds
the traceback); 2 bad command line.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import traceback
import warnings
from pathlib import Path

from . import __version__

__all__ = ["main", "build_parser"]

log = logging.getLogger("deepof_sk")

#: DeepOF's test videos: a 380 mm arena spans 252 px (reference project info), i.e. 0.663 px per mm.
_SAMPLE_PX_PER_MM = 252.0 / 380.0
_TAIL = ("Tail_1", "Tail_2", "Tail_tip")
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
    from .io import SUPPORTED_EXTENSIONS, infer_recording_id

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


def _read(path: Path, fps: float | None, max_frames: int | None):
    """One recording with ``attrs['recording_id']``, cut to its first ``max_frames`` frames."""
    from .io import infer_recording_id, read_poses

    ds = read_poses(path, fps=fps)
    ds.attrs["recording_id"] = infer_recording_id(path)
    return _cut(ds, max_frames)


def _cut(ds, max_frames: int | None):
    if max_frames is not None and ds.sizes["time"] > max_frames:
        ds = ds.isel(time=slice(0, max_frames))
    return ds


def _load_conditions(path, ids: list[str], output: Path):
    """Read a conditions table, check it covers every recording, and save it as ``output/conditions.csv``."""
    from .io import read_conditions

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


# -- the DeepOF chain --------------------------------------------------------------------------------------------
def _annotate(ds, px_per_mm: float | None, *, arena_size: str | None = None, exclude=_TAIL, roles=None,
              behaviors=None):
    """DeepOF's create() + supervised_annotation(), from the public estimators (see docs/pipeline-contract.md).

    Preprocessing (:func:`make_deepof_preprocessor`), then pixels -> mm (``px_per_mm``, or an arena detected from
    the tracks whose real size is ``arena_size``), then :class:`DeepOFAnnotator`.
    """
    from sklearn.pipeline import make_pipeline

    from .annotation import DeepOFAnnotator
    from .preprocessing import ArenaDetector, ArenaScaler, make_deepof_preprocessor

    drop = set(exclude or ())
    if drop:
        ds = ds.sel(keypoint=[k for k in ds["keypoint"].values if k not in drop])
    steps = [make_deepof_preprocessor()]
    if px_per_mm is not None:
        steps.append(ArenaScaler(px_per_mm=px_per_mm))
    elif arena_size is not None:
        steps += [ArenaDetector(), ArenaScaler(arena_size=arena_size)]
    steps.append(DeepOFAnnotator(arena="auto", roles=roles, behaviors=behaviors))
    return make_pipeline(*steps).fit_transform(ds)


def _annotate_job(path: Path, cfg: dict) -> dict:
    from .annotation import bout_table, summarize_behaviors, to_deepof_table
    from .io import write_netcdf

    ds = _read(path, cfg["fps"], cfg["max_frames"])
    rid = ds.attrs["recording_id"]
    if not ds.attrs.get("fps"):
        raise CLIError("no frame rate: the file does not store one; pass --fps.")
    missing = sorted(set(cfg["exclude"]) - {str(k) for k in ds["keypoint"].values})
    if missing:
        warnings.warn(f"--exclude-keypoints {missing} not in this recording (ignored)", UserWarning, stacklevel=2)
    try:
        result = _annotate(ds, cfg["px_per_mm"], arena_size=cfg["arena_size"], exclude=cfg["exclude"],
                           roles=cfg["roles"], behaviors=cfg["behaviors"])
    except ValueError as exc:
        if "keypoint roles" in str(exc):
            raise CLIError(f"{exc} On the command line: --roles center=midback nose=snout ..., or choose "
                           "behaviours with --behaviors.") from None
        raise
    result.attrs["recording_id"] = rid
    out = Path(cfg["output"])
    files = []
    if "csv" in cfg["formats"]:
        files.append(out / "annotations" / f"{rid}_supervised.csv")
        to_deepof_table(result, files[-1])
    if "netcdf" in cfg["formats"]:
        files.append(out / "annotations" / f"{rid}.nc")
        write_netcdf(result, files[-1])
    return {"recording_id": rid, "path": str(path), "fps": float(result.attrs["fps"]),
            "n_frames": int(result.sizes["time"]), "individuals": [str(i) for i in result["individual"].values],
            "files": [str(f.relative_to(out)) for f in files],
            "summary": summarize_behaviors(result), "bouts": bout_table(result)}


def _scale_check(args) -> None:
    if args.px_per_mm is None and args.arena_size is None:
        log.warning("no --arena-size or --px-per-mm: positions stay in pixels while DeepOF's thresholds are in mm "
                    "(25 mm contact, 40 mm/s ...); behaviours are only right if 1 px is about 1 mm.")


def _cmd_annotate(args) -> int:
    output = Path(args.output)
    cond_path = Path(args.conditions) if args.conditions else None
    paths = _collect_inputs(args.inputs, exclude=cond_path)
    from .io import infer_recording_id

    ids = [infer_recording_id(p) for p in paths]
    if cond_path is not None:
        _load_conditions(cond_path, ids, output)
    _scale_check(args)
    (output / "annotations").mkdir(parents=True, exist_ok=True)
    cfg = {"fps": args.fps, "max_frames": args.max_frames, "px_per_mm": args.px_per_mm,
           "arena_size": args.arena_size, "exclude": list(args.exclude_keypoints or ()), "roles": args.roles,
           "behaviors": args.behaviors, "formats": list(args.format), "output": str(output)}
    results = _parallel(_AnnotateTask(cfg), paths, n_jobs=args.n_jobs, desc="annotate", args=args)
    _log_warnings(results)
    ok = [r for r in results if r["ok"]]
    summary = _concat([r.pop("summary") for r in ok], output, _SUMMARY)
    bouts = _concat([r.pop("bouts") for r in ok], output, "bouts.csv")
    _write_results(output, "annotate", args, results,
                   {"conditions": "conditions.csv" if cond_path else None})
    _print_behaviors(args, summary, f"Behaviour summary ({len(ok)} recordings, DeepOF rules):")
    _say(args, f"\nWrote {len(ok)} annotated recordings to {output / 'annotations'} "
               f"({' and '.join(args.format)}), {output / _SUMMARY}, {output / 'bouts.csv'} ({len(bouts)} bouts) "
               f"and {output / _RESULTS}.")
    return _report_failures(results, args, "annotate")


class _AnnotateTask:
    """Picklable per-recording job (joblib sends it to worker processes)."""

    def __init__(self, cfg):
        self.cfg = cfg

    def __call__(self, path):
        return _run_safely(_annotate_job, path, self.cfg)


# -- train -----------------------------------------------------------------------------------------------------
def _read_labels(path: Path, behaviors=None, *, simba_only: bool = False):
    """Per-frame labels as a DataFrame (frames x behaviours; NaN = unlabelled) from a label file.

    BehaviorDEPOT ``.mat`` (``hBehavior.<Behaviour>.Vector``), SimBA tables (``<behaviour>_prediction`` columns)
    or a plain CSV with one numeric column per behaviour (``frame``/``time``/index columns are ignored).
    """
    import numpy as np
    import pandas as pd

    if not path.is_file():
        raise CLIError(f"label file {str(path)!r} does not exist; check the path.")
    if simba_only and path.suffix.lower() != ".csv":
        raise CLIError(f"no --labels given and {str(path)!r} is not a SimBA table with labels; pass one label file "
                       "per tracking file with --labels.")
    if path.suffix.lower() == ".mat":
        import scipy.io as sio

        mat = sio.loadmat(path, simplify_cells=True)
        columns = {}
        for key, struct in mat.items():
            if key.startswith("__") or not isinstance(struct, dict):
                continue
            for name, field in struct.items():
                if isinstance(field, dict) and "Vector" in field:
                    columns[name] = np.asarray(field["Vector"], dtype=float).reshape(-1)
        if not columns:
            raise CLIError(f"label file {str(path)!r}: no per-frame label vector (a BehaviorDEPOT hBehavior struct "
                           "with <Behaviour>.Vector fields was expected).")
        table = pd.DataFrame(columns)
    else:
        head = pd.read_csv(path, nrows=0).columns
        if any(str(c).endswith("_prediction") for c in head):
            from .io import read_simba_labels

            table = read_simba_labels(path).reset_index(drop=True).astype(float)
        elif simba_only:
            raise CLIError(f"no --labels given and {str(path)!r} has no SimBA <behaviour>_prediction columns; pass "
                           "one label file per tracking file with --labels.")
        else:
            table = pd.read_csv(path)
            drop = [c for c in table.columns if str(c).strip().lower() in ("frame", "frames", "time", "index", "")
                    or str(c).startswith("Unnamed")]
            table = table.drop(columns=drop)
            bad = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
            if bad or table.shape[1] == 0:
                raise CLIError(f"label file {str(path)!r}: expected one numeric column per behaviour (0/1, empty = "
                               f"unlabelled); " + (f"non-numeric columns {bad}." if bad else "no label column."))
            table = table.astype(float)
    table.columns = [str(c) for c in table.columns]
    if behaviors:
        lower = {c.lower(): c for c in table.columns}
        unknown = [b for b in behaviors if b.lower() not in lower]
        if unknown:
            raise CLIError(f"label file {str(path)!r} has no behaviour {unknown}; it has {list(table.columns)} "
                           "(--behaviors).")
        table = table[[lower[b.lower()] for b in behaviors]]
        table.columns = list(behaviors)
    return table


def _make_classifier(args):
    from sklearn.ensemble import HistGradientBoostingClassifier

    from .supervised import BodyMotionExtractor, FrameClassifier, make_freezing_classifier

    if args.preset == "freezing":
        model = make_freezing_classifier(random_state=args.random_state)
        if args.max_iter is not None:
            model.set_params(estimator__max_iter=args.max_iter)
        return model
    return FrameClassifier(
        HistGradientBoostingClassifier(max_iter=args.max_iter or 200, random_state=args.random_state),
        features=BodyMotionExtractor(use_keypoints="all"), variables="motion", n_jobs=args.n_jobs,
    )


def _cv_splits(recordings, targets, args):
    """(recordings, targets, groups, cv) for grouped cross-validation: by recording, or blocks of time."""
    import numpy as np
    from sklearn.model_selection import GroupKFold, LeaveOneGroupOut

    by = args.cv_by if args.cv_by != "auto" else ("recording" if len(recordings) > 1 else "time")
    if by == "recording":
        if len(recordings) < 2:
            raise CLIError("--cv-by recording needs two or more recordings; use --cv-by time or --cv-folds 0.")
        groups = np.asarray([ds.attrs["recording_id"] for ds in recordings])
        return recordings, targets, groups, GroupKFold(n_splits=min(args.cv_folds, len(recordings))), by
    recs, ys, groups = [], [], []
    for ds, y in zip(recordings, targets, strict=True):
        edges = np.linspace(0, ds.sizes["time"], args.cv_folds + 1).round().astype(int)
        for k, (a, b) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
            recs.append(ds.isel(time=slice(a, b)))
            ys.append(y[a:b] if not hasattr(y, "iloc") else y.iloc[a:b].reset_index(drop=True))
            groups.append(k)
    return recs, ys, np.asarray(groups), LeaveOneGroupOut(), by


def _cmd_train(args) -> int:
    import joblib
    import pandas as pd

    from .supervised import cross_validate_report

    if args.cv_folds == 1:
        raise _UsageError("--cv-folds must be 0 (no cross-validation) or at least 2.")
    output = Path(args.output)
    paths = _collect_inputs(args.inputs)
    labels = [Path(p) for p in args.labels] if args.labels else list(paths)
    if len(labels) != len(paths):
        raise CLIError(f"{len(paths)} tracking files but {len(labels)} label files; give one label file per "
                       f"tracking file, in the same order (tracking: {[p.name for p in paths]}).")
    recordings, targets = [], []
    pairs = list(zip(paths, labels, strict=True))
    for path, label_path in _progress(iter(pairs), total=len(pairs), desc="read", enabled=not args.quiet):
        ds = _read(path, args.fps, None)
        table = _read_labels(label_path, args.behaviors, simba_only=not args.labels)
        if len(table) != ds.sizes["time"]:
            raise CLIError(f"label file {str(label_path)!r} has {len(table)} frames but tracking file {str(path)!r} "
                           f"has {ds.sizes['time']}; they must describe the same frames.")
        recordings.append(_cut(ds, args.max_frames))
        targets.append(table.iloc[: recordings[-1].sizes["time"]].reset_index(drop=True))
    names = list(targets[0].columns)
    if any(list(t.columns) != names for t in targets):
        raise CLIError(f"the label files name different behaviours ({[list(t.columns) for t in targets]}); choose "
                       "common ones with --behaviors.")
    y = [t.iloc[:, 0].to_numpy() for t in targets] if len(names) == 1 else targets
    model = _make_classifier(args)
    report: dict = {"behaviors": names, "preset": args.preset,
                    "training_files": [{"tracking": str(p), "labels": str(q)} for p, q in pairs],
                    "n_frames": int(sum(ds.sizes["time"] for ds in recordings))}
    if args.cv_folds:
        cv_recs, cv_y, groups, cv, by = _cv_splits(recordings, y, args)
        _say(args, f"Cross-validating ({cv.get_n_splits(groups=groups)} folds by {by}) ...")
        scores = cross_validate_report(model, cv_recs, cv_y, groups=groups, cv=cv,
                                       behaviors=names if len(names) > 1 else None)
        if len(names) == 1:
            scores["behavior"] = names[0]
        scores["held_out"] = scores["held_out"].map(lambda v: " ".join(map(str, v)))
        scores.to_csv(_mkdir(output) / "cv_scores.csv", index=False)
        report["cross_validation"] = {"by": by, "n_folds": int(cv.get_n_splits(groups=groups)),
                                      "scores": json.loads(scores.to_json(orient="records"))}
        pooled = scores[scores["fold"] == "pooled"]
        _say(args, "Held-out scores (pooled over folds):\n" + _table_text(
            pooled[["behavior", "precision", "recall", "f1", "bout_f1", "support"]]))
    _say(args, f"Training on {len(recordings)} recordings ({report['n_frames']} frames) ...")
    model.fit(recordings, y)
    model_path = _mkdir(output) / "model.joblib"
    joblib.dump(model, model_path, compress=3)
    sidecar = {"name": model_path.stem, "file": model_path.name, "behaviors": names,
               "deepof_sk_version": __version__, "feature_schema": getattr(model, "feature_schema_", None),
               **report}
    (output / "model.json").write_text(json.dumps(sidecar, indent=2, default=str) + "\n")
    pd.DataFrame(report["training_files"]).to_csv(output / "training_files.csv", index=False)
    _say(args, f"\nWrote {model_path} and {output / 'model.json'} (training report"
               + (f", cross-validated scores also in {output / 'cv_scores.csv'}" if args.cv_folds else "") + ").\n"
               f"Apply it with: deepof-sk predict {model_path} YOUR_FILES --output predictions")
    return 0


def _mkdir(path: Path) -> Path:
    """``path``, created if needed."""
    path.mkdir(parents=True, exist_ok=True)
    return path


# -- predict ---------------------------------------------------------------------------------------------------
def _load_model(spec: str):
    """A classifier and its behaviour names: a joblib file (from ``train``) or a shipped model's name."""
    import joblib

    from .supervised import list_pretrained_models, load_pretrained_model

    path = Path(spec)
    if not path.exists() and spec in list_pretrained_models():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = load_pretrained_model(spec)
        for w in caught:
            log.info("model %s: %s", spec, w.message)
        return model, [spec]
    if not path.is_file():
        raise CLIError(f"model {spec!r} is neither a model file nor a shipped model ({list_pretrained_models()}); "
                       "train one with `deepof-sk train`.")
    model = joblib.load(path)
    if not hasattr(model, "predict"):
        raise CLIError(f"model file {str(path)!r} holds a {type(model).__name__}, not a classifier.")
    sidecar = path.with_suffix(".json")
    names = json.loads(sidecar.read_text()).get("behaviors") if sidecar.is_file() else None
    return model, names or ["label"]


def _prediction_columns(model, names, ds):
    """Behaviour names and a (time, individual, behaviour) array of 0/1 from the model's predictions."""
    import numpy as np

    pred = np.asarray(model.predict(ds))
    n_t, n_i = ds.sizes["time"], ds.sizes["individual"]
    multi = getattr(model, "behaviors_", None) is not None
    if multi:
        values = pred.reshape(n_t, -1, len(model.behaviors_))
        behaviors = [str(b) for b in model.behaviors_]
    else:
        pred = pred.reshape(n_t, -1)
        classes = list(np.asarray(model.classes_).tolist())
        if set(classes) <= {0, 1}:
            values, behaviors = pred[..., None], [names[0]]
        else:
            values = np.stack([pred == c for c in classes], axis=-1)
            behaviors = [f"{names[0]}={c}" for c in classes]
    if values.shape[1] == 1 and n_i > 1:
        values = np.repeat(values, n_i, axis=1)
    return behaviors, values.astype(float)


def _predict_job(path: Path, cfg: dict) -> dict:
    import numpy as np
    import pandas as pd

    from .annotation import bout_table, summarize_behaviors

    ds = _read(path, cfg["fps"], cfg["max_frames"])
    rid = ds.attrs["recording_id"]
    if not ds.attrs.get("fps"):
        raise CLIError("no frame rate: the file does not store one; pass --fps.")
    model, names = cfg["model"]
    behaviors, values = _prediction_columns(model, names, ds)
    individuals = [str(i) for i in ds["individual"].values]
    prefix = (lambda a: f"{a}_") if len(individuals) > 1 else (lambda a: "")
    table = {"frame": np.arange(ds.sizes["time"]), "time": np.asarray(ds["time"].values)}
    for i, ind in enumerate(individuals):
        for b, name in enumerate(behaviors):
            table[f"{prefix(ind)}{name}"] = values[:, i, b].astype(int)
    if hasattr(model, "predict_proba") and len(behaviors) == 1:
        proba = model.predict_proba(ds)
        last = proba.dims[-1]
        positive = proba.isel({last: -1}).values.reshape(ds.sizes["time"], -1)
        for i, ind in enumerate(individuals):
            table[f"{prefix(ind)}{behaviors[0]}_probability"] = positive[:, min(i, positive.shape[1] - 1)]
    out = Path(cfg["output"]) / "predictions" / f"{rid}.csv"
    pd.DataFrame(table).to_csv(out, index=False)
    labelled = _labels_dataset(ds, values, behaviors)
    return {"recording_id": rid, "path": str(path), "fps": float(ds.attrs["fps"]), "n_frames": int(ds.sizes["time"]),
            "individuals": individuals, "files": [f"predictions/{rid}.csv"],
            "summary": summarize_behaviors(labelled), "bouts": bout_table(labelled, min_duration=cfg["min_bout"])}


class _PredictTask:
    def __init__(self, cfg):
        self.cfg = cfg

    def __call__(self, path):
        return _run_safely(_predict_job, path, self.cfg)


def _cmd_predict(args) -> int:
    inputs = list(args.inputs)
    spec = args.model
    if spec is None:
        if len(inputs) < 2:
            raise _UsageError("give the model and at least one input: deepof-sk predict MODEL INPUT... "
                              "(or --model MODEL INPUT...)")
        spec, inputs = inputs[0], inputs[1:]
    output = Path(args.output)
    model = _load_model(spec)
    paths = _collect_inputs(inputs)
    (output / "predictions").mkdir(parents=True, exist_ok=True)
    cfg = {"fps": args.fps, "max_frames": args.max_frames, "model": model, "output": str(output),
           "min_bout": args.min_bout}
    results = _parallel(_PredictTask(cfg), paths, n_jobs=args.n_jobs, desc="predict", args=args)
    _log_warnings(results)
    ok = [r for r in results if r["ok"]]
    summary = _concat([r.pop("summary") for r in ok], output, _SUMMARY)
    bouts = _concat([r.pop("bouts") for r in ok], output, "bouts.csv")
    _write_results(output, "predict", args, results, {"model": spec, "behaviors": model[1]})
    _print_behaviors(args, summary, f"Predicted behaviour ({len(ok)} recordings, model {spec}):")
    _say(args, f"\nWrote per-frame predictions of {len(ok)} recordings to {output / 'predictions'}, "
               f"{output / 'bouts.csv'} ({len(bouts)} bouts), {output / _SUMMARY} and {output / _RESULTS}.")
    return _report_failures(results, args, "predict")


# -- cluster ---------------------------------------------------------------------------------------------------
def _require_keras():
    """Import keras with a usable backend, or fail with the install command."""
    from .clustering._training import import_keras

    try:
        import_keras("deepof-sk cluster")
    except ImportError as exc:
        raise CLIError(f"deep clustering needs Keras 3 and a backend, which are not installed ({exc}). Install "
                       f'them with: {_DEEP_HINT}') from None


def _cmd_cluster(args) -> int:
    import joblib
    import numpy as np
    import pandas as pd
    from sklearn.pipeline import make_pipeline

    from .annotation import bout_table, summarize_behaviors
    from .clustering import DeepClusterer
    from .preprocessing import ArenaDetector, ArenaScaler, EgocentricAligner, make_deepof_preprocessor
    from .stats import compute_occupancy

    _require_keras()
    output = Path(args.output)
    paths = _collect_inputs(args.inputs)
    drop = set(args.exclude_keypoints or ())
    recordings = []
    for path in _progress(iter(paths), total=len(paths), desc="read", enabled=not args.quiet):
        ds = _read(path, args.fps, args.max_frames)
        if drop:
            ds = ds.sel(keypoint=[k for k in ds["keypoint"].values if k not in drop])
        recordings.append(ds)
    steps = [make_deepof_preprocessor(n_jobs=args.n_jobs)]
    if args.px_per_mm is not None:
        steps.append(ArenaScaler(px_per_mm=args.px_per_mm))
    elif args.arena_size is not None:
        steps += [ArenaDetector(), ArenaScaler(arena_size=args.arena_size)]
    steps.append(EgocentricAligner(center=args.center, align=args.align))
    _say(args, f"Preprocessing and aligning {len(recordings)} recordings ...")
    prepared = make_pipeline(*steps).fit_transform(recordings)
    clusterer = DeepClusterer(model=args.model, encoder=args.encoder, n_clusters=args.n_clusters,
                              epochs=args.epochs, pretrain_epochs=args.pretrain_epochs,
                              window=args.window, latent_dim=args.latent_dim, random_state=args.random_state,
                              verbose=1 if args.verbose else 0)
    _say(args, f"Training {args.model} ({args.encoder} encoder, {args.n_clusters} clusters, {args.epochs} epochs) ...")
    clusterer.fit(prepared)
    (output / "clusters").mkdir(parents=True, exist_ok=True)
    joblib.dump(clusterer, output / "model.joblib")
    results, summaries, bouts, labels, ids = [], [], [], [], []
    clusters = clusterer.predict(prepared)
    probas = clusterer.predict_proba(prepared)
    for ds, cl, pr in _progress(zip(prepared, clusters, probas, strict=True), total=len(prepared), desc="write",
                                enabled=not args.quiet):
        rid = ds.attrs["recording_id"]
        individuals = [str(i) for i in ds["individual"].values]
        values = cl.transpose("time", "individual").values
        conf = pr.max("cluster").transpose("time", "individual").values
        prefix = (lambda a: f"{a}_") if len(individuals) > 1 else (lambda a: "")
        table = {"frame": np.arange(ds.sizes["time"]), "time": np.asarray(ds["time"].values)}
        for i, ind in enumerate(individuals):
            table[f"{prefix(ind)}cluster"] = values[:, i]
            table[f"{prefix(ind)}confidence"] = conf[:, i]
        pd.DataFrame(table).to_csv(output / "clusters" / f"{rid}.csv", index=False)
        names = [f"cluster_{k}" for k in range(args.n_clusters)]
        onehot = (values[..., None] == np.arange(args.n_clusters)).astype(float)
        onehot[values < 0] = np.nan
        labelled = _labels_dataset(ds, onehot, names)
        summaries.append(summarize_behaviors(labelled))
        bouts.append(bout_table(labelled))
        labels.append(cl.where(cl >= 0))
        ids.append(rid)
        results.append({"ok": True, "recording_id": rid, "path": ds.attrs.get("source_file", rid),
                        "fps": ds.attrs.get("fps"), "n_frames": int(ds.sizes["time"]), "individuals": individuals,
                        "files": [f"clusters/{rid}.csv"]})
    fps = [ds.attrs.get("fps") for ds in prepared]
    occupancy = compute_occupancy(labels, fps=fps, recording_ids=ids, states=range(args.n_clusters))
    occupancy.to_csv(output / "occupancy.csv", index=False)
    _concat(summaries, output, _SUMMARY)
    _concat(bouts, output, "bouts.csv")
    pd.DataFrame(clusterer.history_).to_csv(output / "training_history.csv", index_label="epoch")
    _write_results(output, "cluster", args, results, {
        "n_clusters": args.n_clusters, "cluster_occupancy": np.asarray(clusterer.cluster_occupancy_).tolist(),
        "cluster_balance": float(clusterer.cluster_balance_),
        "n_populated_clusters": int(clusterer.n_populated_clusters_)})
    _say(args, f"\nClusters used: {clusterer.n_populated_clusters_} of {args.n_clusters} (balance "
               f"{clusterer.cluster_balance_:.2f}; 1 = even use).")
    _say(args, f"Wrote per-frame clusters to {output / 'clusters'}, the model to {output / 'model.joblib'}, "
               f"{output / 'occupancy.csv'}, {output / _SUMMARY} and {output / _RESULTS}.")
    return 0


# -- report ----------------------------------------------------------------------------------------------------
def _cmd_report(args) -> int:
    import pandas as pd

    from .stats import compute_enrichment

    source = Path(args.results)
    if not (source / _RESULTS).is_file() or not (source / _SUMMARY).is_file():
        raise CLIError(f"{str(source)!r} is not an output folder of deepof-sk annotate, predict or cluster (no "
                       f"{_RESULTS} / {_SUMMARY} in it); run one of those first.")
    info = json.loads((source / _RESULTS).read_text())
    summary = pd.read_csv(source / _SUMMARY, keep_default_na=False, na_values=[""])
    summary["partner"] = summary["partner"].fillna("")
    if "kind" in summary:
        summary = summary[summary["kind"] == "binary"]
    cond_path = Path(args.conditions) if args.conditions else (source / "conditions.csv")
    if not cond_path.is_file():
        raise CLIError(f"no conditions table: pass --conditions table.csv (first column the recording id, then one "
                       f"column per condition) or run {info.get('command', 'annotate')} with --conditions.")
    output = _mkdir(Path(args.output))
    ids = sorted(set(summary["recording"].astype(str)))
    from .io import read_conditions

    conditions = read_conditions(cond_path)
    missing = sorted(set(ids) - set(conditions["recording_id"]))
    if missing:
        raise CLIError(f"the conditions table {str(cond_path)!r} has no row for recordings {missing}.")
    table = summary.rename(columns={"recording": "recording_id", "time": "time_s",
                                    "mean_bout_duration": "mean_bout_s"})
    table["recording_id"] = table["recording_id"].astype(str)
    table["individual"] = table["individual"].astype(str)
    keys = ["recording_id", "individual"] if "individual" in conditions.columns else ["recording_id"]
    table = table.merge(conditions, on=keys, how="left")
    columns = [c for c in conditions.columns if c not in ("recording_id", "individual")]
    if args.condition:
        if args.condition not in columns:
            raise CLIError(f"--condition {args.condition!r} is not a column of {str(cond_path)!r} ({columns}).")
        columns = [args.condition]
    table.to_csv(output / "behavior_table.csv", index=False)
    results, figures = [], []
    for col in columns:
        groups = table[col].dropna().unique()
        if len(groups) < 2:
            log.warning("condition %r has one value (%s): nothing to compare", col, list(groups))
            continue
        res = compute_enrichment(table.dropna(subset=[col]), condition=col, value=args.value, by=["behavior"],
                                 test=args.test, random_state=0)
        results.append(res)
        fig = _enrichment_figure(table.dropna(subset=[col]), res, col, args.value, output / f"enrichment_{col}.png")
        if fig is not None:
            figures.append(fig)
    if not results:
        raise CLIError(f"no condition in {str(cond_path)!r} has two or more groups among these recordings; "
                       "nothing to compare.")
    enrichment = pd.concat(results, ignore_index=True)
    enrichment.to_csv(output / "enrichment.csv", index=False)
    means = (table.groupby(columns[:1] + ["behavior"])[args.value].agg(["mean", "sem", "count"]).reset_index())
    means.to_csv(output / "summary_by_condition.csv", index=False)
    shown = enrichment[["condition", "behavior", "group_a", "group_b", "mean_a", "mean_b", "p_adjusted",
                        "significant", "effect_size"]]
    _say(args, f"Enrichment of {args.value} across conditions ({args.test}, BH-FDR):\n" + _table_text(shown))
    _say(args, f"\nWrote {output / 'enrichment.csv'}, {output / 'summary_by_condition.csv'}, "
               f"{output / 'behavior_table.csv'}" + (", " + ", ".join(map(str, figures)) if figures else "") + ".")
    return 0


def _enrichment_figure(table, enrichment, condition: str, value: str, path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed (pip install 'deepof-sk[plots]'): no figures, tables only.")
        return None
    from .plotting import plot_enrichment

    n = table["behavior"].nunique()
    fig, ax = plt.subplots(figsize=(max(4.0, 0.6 * n + 2), 3.6), constrained_layout=True)
    plot_enrichment(table, condition=condition, value=value, enrichment=enrichment, ax=ax)
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return path


# -- demo, summarize, convert, samples (unchanged behaviour) ---------------------------------------------------
def _summarize(recordings, ids, output: Path, smooth_window: int, px_per_mm: float | None = None,
               annotate: bool = True) -> int:
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
    print(_table_text(per_recording))
    written = [output / "summary.csv", output / "tracking_quality.csv"]
    if annotated:
        from .annotation import summarize_behaviors, to_deepof_table

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
    from .datasets import list_samples, sample_path

    for name, desc in list_samples().items():
        print(f"{name:24s} {desc}\n{'':24s} {sample_path(name)}")
    return 0


# -- parser ----------------------------------------------------------------------------------------------------
class _UsageError(Exception):
    """A bad command line found after parsing (exit code 2)."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1; got {value}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number; got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0; got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number; got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0; got {value:g}")
    return value


def _length(text: str) -> str:
    from .preprocessing import parse_length

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


def _add_scale(p) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--arena-size", type=_length, default=None, metavar="LENGTH",
                   help='real size of the arena, e.g. "380 mm" (diameter of a round arena, detected from the '
                        "tracks): positions are converted to mm")
    g.add_argument("--px-per-mm", type=_positive_float, default=None, help="pixels per millimetre, if known")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``deepof-sk`` (exposed for documentation and tests)."""
    from .annotation import DEEPOF_BEHAVIORS

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
    try:
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
