"""Saving, loading and extending a Project: one folder with project.json, netCDF recordings and joblib models."""

from __future__ import annotations

import json
import os
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from .. import schema as S
from ._inputs import match_conditions, pair_videos, read_tables
from ._tables import PreprocessedTables

__all__ = ["save_project", "load_project", "extend_project"]

FORMAT = "deepof_sk.project"
FORMAT_VERSION = 1
_IN_MEMORY = "<in-memory tables>"


def _jsonable(value):
    from ..features import Skeleton
    from ..preprocessing import Arena

    if isinstance(value, Arena):
        return {"__arena__": value.to_dict()}
    if isinstance(value, Skeleton):
        return {"__skeleton__": value.to_dict()}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, dict):
        if any(not isinstance(v, (str, os.PathLike)) for v in value.values()):
            return _IN_MEMORY
        return {str(k): os.fspath(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_jsonable(v) for v in value]
        return _IN_MEMORY if _IN_MEMORY in items else items
    return _IN_MEMORY


def _from_json(value):
    from ..features import Skeleton
    from ..preprocessing import Arena

    if isinstance(value, dict) and "__arena__" in value:
        return Arena.from_dict(value["__arena__"])
    if isinstance(value, dict) and "__skeleton__" in value:
        d = value["__skeleton__"]
        return Skeleton(d["keypoints"], [tuple(e) for e in d["edges"]], areas=d.get("areas"),
                        inter_animal_edges=[tuple(e) for e in d.get("inter_animal_edges", ())])
    return value


def save_project(proj, path, *, overwrite: bool = False) -> Path:
    """Write ``proj`` into the folder ``path`` (see :func:`load_project`)."""
    from .. import __version__
    from ..io import write_netcdf

    root = Path(path)
    if (root / "project.json").exists() and not overwrite:
        raise FileExistsError(f"Project.save: {str(root)!r} already holds a project; pass overwrite=True.")
    root.mkdir(parents=True, exist_ok=True)
    ids = list(proj.recordings)
    files = {rid: f"rec_{i:04d}.nc" for i, rid in enumerate(ids)}
    for sub in ("recordings", "annotations", "models"):
        (root / sub).mkdir(exist_ok=True)
    for rid, ds in proj.recordings.items():
        write_netcdf(ds, root / "recordings" / files[rid])
    joblib.dump(proj.preprocessor_, root / "models" / "preprocessor.joblib")
    params = {k: _jsonable(v) for k, v in proj.get_params().items() if k not in ("conditions",)}
    info = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "deepof_sk_version": __version__,
        "name": proj.name, "params": params, "recording_ids": ids, "files": files,
        "keypoints": proj.keypoints_, "videos": getattr(proj, "videos_", {}),
        "skeleton": None if proj.skeleton_ is None else proj.skeleton_.to_dict(),
        "conditions": json.loads(proj.conditions.to_json(orient="split", index=False)),
    }
    if hasattr(proj, "annotations_"):
        for rid, ds in proj.annotations_.items():
            write_netcdf(ds, root / "annotations" / files[rid])
        joblib.dump(proj.annotator_, root / "models" / "annotator.joblib")
        info["annotations"] = True
    if hasattr(proj, "clusterer_"):
        joblib.dump(proj.clusterer_, root / "models" / "clusterer.joblib")
        X = proj.preprocessed_
        info["embedding"] = {"recipe": list(X.recipe) if X.recipe else None, "train": list(X.train),
                             "test": list(X.test), "window_size": X.window_size, "window_step": X.window_step,
                             "variables": X.variables, "random_state": _jsonable(X.random_state)}
    (root / "project.json").write_text(json.dumps(info, indent=1, default=str))
    return root


def _read_nc(path):
    from ..io import read_netcdf

    ds = read_netcdf(path)
    if "original_source_file" in ds.attrs:  # keep the tracking file as the source, not the project copy
        ds.attrs[S.SOURCE_FILE] = ds.attrs.pop("original_source_file")
    return ds


def load_project(path):
    """Load a project saved with :meth:`Project.save`; every verb works on it without re-reading the tables.

    Parameters
    ----------
    path : str or path-like
        The project folder.

    Returns
    -------
    Project

    Examples
    --------
    >>> import tempfile, deepof_sk
    >>> from deepof_sk.datasets import load_sample
    >>> proj = deepof_sk.Project({"m1": load_sample("deepof_single")}, px_per_mm=252 / 380).create()
    >>> folder = proj.save(tempfile.mkdtemp() + "/proj")
    >>> deepof_sk.load_project(folder).recordings["m1"].attrs["space_unit"]
    'mm'
    """
    from ._project import Project

    root = Path(path)
    meta = root / "project.json"
    if not meta.is_file():
        raise FileNotFoundError(f"load_project: {str(root)!r} holds no project.json; is it a saved project folder?")
    info = json.loads(meta.read_text())
    if info.get("format") != FORMAT:
        raise ValueError(f"load_project: {str(meta)!r} is not a deepof_sk project file.")
    if info.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(f"load_project: the project was written by a newer deepof_sk ({info['deepof_sk_version']});"
                         " upgrade deepof_sk.")
    params = {k: _from_json(v) for k, v in info["params"].items()}
    if params.get("tables") == _IN_MEMORY:
        params["tables"] = None
    if params.get("videos") == _IN_MEMORY:
        params["videos"] = None
    proj = Project(**params)
    ids, files = info["recording_ids"], info["files"]
    proj.recordings = {rid: _read_nc(root / "recordings" / files[rid]) for rid in ids}
    proj.preprocessor_ = joblib.load(root / "models" / "preprocessor.joblib")
    split = info["conditions"]
    proj.conditions = pd.DataFrame(split["data"], columns=split["columns"])
    proj.keypoints_ = list(info["keypoints"])
    proj.videos_ = dict(info.get("videos") or {})
    proj.skeleton_ = None if info.get("skeleton") is None else _from_json({"__skeleton__": info["skeleton"]})
    if info.get("annotations"):
        proj.annotations_ = {rid: _read_nc(root / "annotations" / files[rid]) for rid in ids}
        proj.annotator_ = joblib.load(root / "models" / "annotator.joblib")
    if info.get("embedding"):
        emb = info["embedding"]
        proj.clusterer_ = joblib.load(root / "models" / "clusterer.joblib")
        recipe = tuple(emb["recipe"]) if emb["recipe"] else ("get_coords", {})
        table = proj._features_for(recipe)
        proj.preprocessed_ = PreprocessedTables(
            table.filter_videos([k for k in emb["train"] if k in table]),
            table.filter_videos([k for k in emb["test"] if k in table]) if emb["test"] else table.filter_videos([]),
            window_size=emb["window_size"], window_step=emb["window_step"], variables=emb["variables"],
            random_state=emb["random_state"])
    return proj


def extend_project(proj, tables, *, conditions=None, videos=None):
    """Read ``tables``, process them with the fitted preprocessor and add them to ``proj`` (see Project.extend)."""
    where = "Project.extend"
    raw = read_tables(tables, fps=proj.fps, dtype=proj.dtype, n_jobs=proj.n_jobs, verbose=proj.verbose)
    dupes = sorted(set(raw) & set(proj.recordings))
    if dupes:
        raise ValueError(f"{where}: the project already has recordings {dupes}; rename the new tables (a dict "
                         "{new_id: path}) or leave them out.")
    kept = set(proj.keypoints_) | set(proj.exclude_keypoints or ())
    for rid, ds in raw.items():
        have = {str(k) for k in ds[S.KEYPOINT].values}
        missing = sorted(set(proj.keypoints_) - have)
        extra = sorted(have - kept) if proj.skeleton_ is None else []
        if missing or extra:
            raise ValueError(
                f"{where}: recording {rid!r} has another skeleton than the project: "
                + (f"missing keypoints {missing}" if missing else "")
                + ("; " if missing and extra else "")
                + (f"extra keypoints {extra}" if extra else "")
                + f" (the project's keypoints: {proj.keypoints_})."
            )
    new_videos = pair_videos(videos, list(raw)) if videos is not None else {}
    no_fps = [r for r, ds in raw.items() if not ds.attrs.get(S.FPS)]
    if no_fps:
        raise ValueError(f"{where}: the recordings {no_fps} have no frame rate; pass tables with one (or set fps=).")
    has_conditions = len(proj.conditions.columns) > 1
    if has_conditions and conditions is None:
        raise ValueError(f"{where}: the project has conditions {list(proj.conditions.columns[1:])}; pass "
                         f"conditions= for the new recordings {list(raw)}.")
    table = match_conditions(conditions, list(raw))
    if has_conditions and list(table.columns) != list(proj.conditions.columns):
        raise ValueError(f"{where}: the new conditions have columns {list(table.columns)}, the project's "
                         f"{list(proj.conditions.columns)}.")
    pre = proj.preprocessor_
    if new_videos and "arena" in pre.named_steps and pre.named_steps["arena"].method == "video":
        pre.named_steps["arena"].video = {**(pre.named_steps["arena"].video or {}), **new_videos}
    out = pre.transform(list(raw.values()))
    for rid, ds in zip(raw, out, strict=True):
        proj.recordings[rid] = ds
    proj.videos_ = {**getattr(proj, "videos_", {}), **new_videos}
    proj.conditions = pd.concat([proj.conditions, table[proj.conditions.columns]], ignore_index=True) \
        if has_conditions else pd.concat([proj.conditions, table[["recording_id"]]], ignore_index=True)
    if hasattr(proj, "annotations_"):
        for rid, ds in zip(raw, out, strict=True):
            proj.annotations_[rid] = proj.annotator_.transform(ds)
    return proj
