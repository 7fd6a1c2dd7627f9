"""Reading a project's inputs: tables (folder, paths or datasets), videos paired by recording id, conditions."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .. import schema as S

__all__ = ["read_tables", "pair_videos", "match_conditions", "select_keypoints"]

logger = logging.getLogger("deepof_sk.project")

_VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".mpg", ".mpeg", ".wmv", ".m4v")
RECORDING_ID = "recording_id"


def select_keypoints(X, keep=None, exclude=()):
    """Keep the keypoints ``keep`` (in that order; all when None) minus ``exclude``, in one dataset or a list.

    DeepOF's "keep the body-part graph" and ``exclude_bodyparts`` step (names absent from a recording are ignored).
    Used as the first step of the project's preprocessing Pipeline (a ``FunctionTransformer``).
    """
    single = isinstance(X, xr.Dataset)
    out = []
    for ds in [X] if single else X:
        names = [str(k) for k in ds[S.KEYPOINT].values]
        order = names if keep is None else [k for k in keep if k in set(names)]  # one keypoint order for all
        chosen = [k for k in order if k not in set(exclude)]
        out.append(ds if chosen == names else ds.sel({S.KEYPOINT: chosen}))
    return out[0] if single else out


def _set_fps(ds: xr.Dataset, fps, rid: str) -> xr.Dataset:
    have = ds.attrs.get(S.FPS)
    if fps is None:
        return ds
    if have is not None:
        if abs(float(have) - float(fps)) > 1e-6:
            raise ValueError(
                f"Project: recording {rid!r} stores fps={have} but fps={fps} was given; drop fps= or fix the file."
            )
        return ds
    ds = ds.assign_coords({S.TIME: np.arange(ds.sizes[S.TIME]) / float(fps)})
    ds.attrs.update({S.FPS: float(fps), "time_unit": "seconds"})
    return ds


def read_tables(tables, *, fps=None, dtype=None, n_jobs=None, verbose=False) -> dict[str, xr.Dataset]:
    """``{recording_id: dataset}`` from a folder, a file, a list of paths or datasets, or a dict."""
    from ..io import infer_recording_id, read_poses, read_recordings
    from ..io._dispatch import _float_dtype, cast_poses
    from ..validation import normalize_poses

    where = "Project"
    target = _float_dtype(dtype, where)  # a bad dtype fails before any file is read
    if tables is None:
        raise ValueError(f"{where}: `tables` is required (a folder, a list of files, or {{id: xarray.Dataset}}).")
    if isinstance(tables, (str, os.PathLike)):
        path = Path(tables)
        if not path.exists():
            raise FileNotFoundError(f"{where}: the table folder {str(path)!r} does not exist; check `tables=`.")
        recordings, _ = read_recordings(path, fps=fps, n_jobs=n_jobs, dtype=dtype)
        return {ds.attrs[RECORDING_ID]: ds for ds in recordings}
    if isinstance(tables, xr.Dataset):
        tables = [tables]
    if isinstance(tables, Mapping):
        items = list(tables.items())
    else:
        items = []
        for i, t in enumerate(tables):
            if isinstance(t, xr.Dataset):
                rid = t.attrs.get(RECORDING_ID) or (
                    infer_recording_id(t.attrs[S.SOURCE_FILE]) if t.attrs.get(S.SOURCE_FILE) else f"recording_{i}")
            else:
                rid = infer_recording_id(t)
            items.append((str(rid), t))
    ids = [str(k) for k, _ in items]
    dupes = sorted({k for k in ids if ids.count(k) > 1})
    if dupes:
        raise ValueError(f"{where}: several tables have the recording ids {dupes}; give unique ids (a dict).")
    missing = sorted(str(t) for _, t in items if not isinstance(t, xr.Dataset) and not Path(t).exists())
    if missing:
        raise FileNotFoundError(f"{where}: these table files do not exist: {missing}.")
    out = {}
    for rid, t in _progress(items, verbose, "reading tables"):
        ds = cast_poses(normalize_poses(t), target) if isinstance(t, xr.Dataset) else read_poses(t, fps=fps, dtype=dtype)
        ds = _set_fps(ds, fps, rid)
        ds.attrs[RECORDING_ID] = str(rid)
        out[str(rid)] = ds
    return out


def pair_videos(videos, ids: list[str]) -> dict[str, str]:
    """``{recording_id: video path}``: by recording id (video stem), else by sorted order as DeepOF does."""
    from ..io import infer_recording_id

    where = "Project"
    if videos is None:
        return {}
    if isinstance(videos, Mapping):
        paths = {str(k): str(v) for k, v in videos.items()}
        unknown = sorted(set(paths) - set(ids))
        if unknown:
            raise ValueError(f"{where}: `videos` names recordings {unknown} that are not in the tables ({ids}).")
        return paths
    if isinstance(videos, (str, os.PathLike)):
        root = Path(videos)
        if not root.exists():
            raise FileNotFoundError(f"{where}: the video folder {str(root)!r} does not exist; check `videos=`.")
        files = [root] if root.is_file() else sorted(p for p in root.iterdir()
                                                      if p.suffix.lower() in _VIDEO_SUFFIXES)
    else:
        files = [Path(v) for v in videos]
    missing = sorted(str(p) for p in files if not p.exists())
    if missing:
        raise FileNotFoundError(f"{where}: these video files do not exist: {missing}.")
    by_id = {}
    for p in files:
        stem = infer_recording_id(p)
        match = [r for r in ids if r == stem] or [r for r in ids if r.startswith(stem)]
        if len(match) == 1:
            by_id[match[0]] = str(p)
    if len(by_id) == len(files):
        return by_id
    if len(files) == len(ids):  # DeepOF's rule: tables and videos paired in sorted order
        logger.info("Project: videos paired with tables by sorted order (names do not match the recording ids).")
        return {r: str(p) for r, p in zip(sorted(ids), sorted(files), strict=True)}
    raise ValueError(
        f"{where}: cannot pair {len(files)} videos with {len(ids)} tables: name each video like its recording id "
        f"(ids: {ids}; videos: {[p.name for p in files]}), or pass videos={{recording_id: path}}."
    )


def video_fps(path: str) -> float:
    """Frame rate of a video (OpenCV)."""
    try:
        import cv2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError('Project: reading the frame rate from videos needs OpenCV: pip install "deepof-sk[video]"; '
                          "or pass fps=.") from exc
    cap = cv2.VideoCapture(str(path))
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS))
    finally:
        cap.release()
    if not fps > 0:
        raise ValueError(f"Project: OpenCV could not read a frame rate from {path!r}; pass fps=.")
    return fps


def match_conditions(conditions, ids: list[str]) -> pd.DataFrame:
    """One row per recording (in ``ids`` order): ``recording_id`` then the condition columns."""
    from ..io import read_conditions

    where = "Project"
    if conditions is None:
        return pd.DataFrame({RECORDING_ID: list(ids)})
    if isinstance(conditions, Mapping):
        rows = []
        for rid, value in conditions.items():
            row = dict(value) if isinstance(value, Mapping) else {"condition": value}
            rows.append({RECORDING_ID: str(rid), **row})
        table = pd.DataFrame(rows)
    else:
        table = read_conditions(conditions)
    if "individual" in table.columns:
        raise ValueError(f"{where}: conditions are per recording (DeepOF's exp_conditions); the table has an "
                         "`individual` column. Use deepof_sk.stats with per-animal tables instead.")
    dup = sorted(table.loc[table[RECORDING_ID].duplicated(), RECORDING_ID])
    if dup:
        raise ValueError(f"{where}: the conditions give several rows for recordings {dup}; keep one per recording.")
    have = set(table[RECORDING_ID])
    missing, extra = sorted(set(ids) - have), sorted(have - set(ids))
    if missing or extra:
        parts = ([f"recordings without conditions: {missing}"] if missing else []) + (
            [f"conditions naming no recording: {extra}"] if extra else [])
        raise ValueError(f"{where}: the conditions do not match the recording ids: {'; '.join(parts)}. Recording "
                         f"ids are {list(ids)}.")
    return table.set_index(RECORDING_ID).loc[list(ids)].reset_index()


def _progress(iterable, verbose: bool, desc: str, total: int | None = None):
    """tqdm progress bar when ``verbose`` and tqdm is installed; the iterable unchanged otherwise."""
    if not verbose:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, desc=desc, total=total)
