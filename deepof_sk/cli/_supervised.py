"""``deepof-sk train`` and ``deepof-sk predict``: frame classifiers from per-frame labels, and their use."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from .. import __version__
from ._common import (
    _RESULTS,
    _SUMMARY,
    CLIError,
    _collect_inputs,
    _concat,
    _cut,
    _labels_dataset,
    _log_warnings,
    _mkdir,
    _parallel,
    _print_behaviors,
    _progress,
    _read,
    _report_failures,
    _run_safely,
    _say,
    _table_text,
    _UsageError,
    _write_results,
    log,
)


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
            from ..io import read_simba_labels

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

    from ..supervised import BodyMotionExtractor, FrameClassifier, make_freezing_classifier

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

    from ..supervised import cross_validate_report

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
        ds = _read(path, args.fps, None, args.float32)
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

# -- predict ---------------------------------------------------------------------------------------------------
def _load_model(spec: str):
    """A classifier and its behaviour names: a joblib file (from ``train``) or a shipped model's name."""
    import joblib

    from ..supervised import list_pretrained_models, load_pretrained_model

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

    from ..annotation import bout_table, summarize_behaviors

    ds = _read(path, cfg["fps"], cfg["max_frames"], cfg["float32"])
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
    cfg = {"fps": args.fps, "max_frames": args.max_frames, "float32": args.float32, "model": model, "output": str(output),
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
