"""``deepof-sk annotate``: DeepOF's preprocessing and rule-based behaviours on tracking files."""

from __future__ import annotations

import warnings
from pathlib import Path

from ._common import (
    _RESULTS,
    _SUMMARY,
    CLIError,
    _collect_inputs,
    _concat,
    _load_conditions,
    _log_warnings,
    _parallel,
    _print_behaviors,
    _read,
    _report_failures,
    _run_safely,
    _say,
    _write_results,
    log,
)

_TAIL = ("Tail_1", "Tail_2", "Tail_tip")


# -- the DeepOF chain --------------------------------------------------------------------------------------------
def _annotate(ds, px_per_mm: float | None, *, arena_size: str | None = None, exclude=_TAIL, roles=None,
              behaviors=None, copy: bool = True):
    """DeepOF's create() + supervised_annotation(), from the public estimators (see docs/pipeline-contract.md).

    Preprocessing (:func:`make_deepof_preprocessor`), then pixels -> mm (``px_per_mm``, or an arena detected from
    the tracks whose real size is ``arena_size``), then :class:`DeepOFAnnotator`. ``copy=False`` when the caller
    owns ``ds`` and does not use it again: the cleaning and scaling steps then work in its position array.
    """
    from sklearn.pipeline import make_pipeline

    from ..annotation import DeepOFAnnotator
    from ..preprocessing import ArenaDetector, ArenaScaler, make_deepof_preprocessor

    drop = set(exclude or ())
    if drop:
        ds = ds.sel(keypoint=[k for k in ds["keypoint"].values if k not in drop])
    steps = [make_deepof_preprocessor(copy=copy)]
    if px_per_mm is not None:
        steps.append(ArenaScaler(px_per_mm=px_per_mm, copy=copy))
    elif arena_size is not None:
        steps += [ArenaDetector(), ArenaScaler(arena_size=arena_size, copy=copy)]
    steps.append(DeepOFAnnotator(arena="auto", roles=roles, behaviors=behaviors))
    return make_pipeline(*steps).fit_transform(ds)


def _annotate_job(path: Path, cfg: dict) -> dict:
    from ..annotation import bout_table, summarize_behaviors, to_deepof_table
    from ..io import write_netcdf

    ds = _read(path, cfg["fps"], cfg["max_frames"], cfg["float32"])
    rid = ds.attrs["recording_id"]
    if not ds.attrs.get("fps"):
        raise CLIError("no frame rate: the file does not store one; pass --fps.")
    missing = sorted(set(cfg["exclude"]) - {str(k) for k in ds["keypoint"].values})
    if missing:
        warnings.warn(f"--exclude-keypoints {missing} not in this recording (ignored)", UserWarning, stacklevel=2)
    try:
        result = _annotate(ds, cfg["px_per_mm"], arena_size=cfg["arena_size"], exclude=cfg["exclude"],
                           roles=cfg["roles"], behaviors=cfg["behaviors"], copy=False)  # ds was read here
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
        log.warning("no --arena-size or --px-per-mm: DeepOF's thresholds are in mm (25 mm contact, 40 mm/s ...), so "
                    "only recordings already in mm can be annotated; recordings in pixels will fail. Pass "
                    "--arena-size '380 mm' (the arena's real diameter) or --px-per-mm.")


def _cmd_annotate(args) -> int:
    output = Path(args.output)
    cond_path = Path(args.conditions) if args.conditions else None
    paths = _collect_inputs(args.inputs, exclude=cond_path)
    from ..io import infer_recording_id

    ids = [infer_recording_id(p) for p in paths]
    if cond_path is not None:
        _load_conditions(cond_path, ids, output)
    _scale_check(args)
    (output / "annotations").mkdir(parents=True, exist_ok=True)
    cfg = {"fps": args.fps, "max_frames": args.max_frames, "float32": args.float32, "px_per_mm": args.px_per_mm,
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
