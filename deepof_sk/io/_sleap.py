"""SLEAP files: labels/predictions ``.slp`` and analysis ``.h5``, read with h5py (no SLEAP install needed).

``.slp`` layout (HDF5): ``frames`` (frame_id, video, frame_idx, instance_id_start, instance_id_end), ``instances``
(instance_id, instance_type 0 = user / 1 = predicted, frame_id, skeleton, track, from_predicted, score,
point_id_start, point_id_end, ...), ``points`` (user points: x, y, visible, complete) and ``pred_points`` (the same
plus score), ``tracks_json`` (one JSON ``[spawned_on, name]`` per track), ``videos_json`` and the ``metadata`` group
whose ``json`` attribute holds the skeletons and the global node list.

Analysis ``.h5`` layout: ``tracks`` (tracks, 2, nodes, frames), ``point_scores`` (tracks, nodes, frames),
``node_names``, ``track_names`` (some writers store the arrays transposed; both orders are accepted).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import h5py
import numpy as np
import xarray as xr

from ..exceptions import DataQualityWarning, PosesFormatError
from ._common import PathLike, build_dataset, check_file, format_error, resolve_fps

__all__ = ["read_sleap"]

_USER, _PREDICTED = 0, 1


def _decode(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _decode(value[()])
    return str(value)


def _json_list(h5: h5py.File, name: str) -> list:
    if name not in h5:
        return []
    return [json.loads(_decode(v)) for v in h5[name][()]]


def _skeleton_nodes(meta: dict, path: Path) -> list[str]:
    names = [n["name"] if isinstance(n, dict) else str(n) for n in meta.get("nodes", [])]
    skeletons = meta.get("skeletons", [])
    if not skeletons:
        if names:
            return names
        raise format_error(path, "the SLEAP metadata lists no skeleton", "Is the .slp file complete?")
    if len(skeletons) > 1:
        raise format_error(
            path,
            f"the file holds {len(skeletons)} skeletons; deepof_sk reads one skeleton per file",
            "Export one skeleton per file from SLEAP",
        )
    skel = skeletons[0].get("nx_graph", skeletons[0])
    out = []
    for node in skel.get("nodes", []):
        ref = node.get("id") if isinstance(node, dict) else node
        if isinstance(ref, int) and 0 <= ref < len(names):
            out.append(names[ref])
        elif isinstance(ref, dict) and "py/state" in ref:  # node embedded as a jsonpickle object
            state = ref["py/state"]
            out.append(
                str(state["py/tuple"][0] if isinstance(state, dict) and "py/tuple" in state else state)
            )
        else:
            raise format_error(
                path, f"unrecognised skeleton node reference {ref!r}", "Re-save the file with SLEAP"
            )
    return out


def _video_info(videos: list, index: int) -> tuple[float | None, int | None]:
    """(fps, n_frames) recorded in the videos JSON, when present."""
    if not videos or index >= len(videos):
        return None, None
    video = videos[index]
    backend = video.get("backend", {}) if isinstance(video, dict) else {}
    fps = video.get("fps") if isinstance(video, dict) else None
    fps = backend.get("fps", fps) if isinstance(backend, dict) else fps
    shape = backend.get("shape") if isinstance(backend, dict) else None
    n_frames = int(shape[0]) if isinstance(shape, (list, tuple)) and shape and shape[0] else None
    try:
        fps = float(fps) if fps is not None else None
    except (TypeError, ValueError):
        fps = None
    return fps, n_frames


def _read_slp(h5: h5py.File, path: Path, video: int | None):
    for name in ("frames", "instances", "metadata"):
        if name not in h5:
            raise format_error(path, f"the .slp file has no '{name}'", "Is it a complete SLEAP labels file?")
    meta_attrs = h5["metadata"].attrs
    meta = json.loads(_decode(meta_attrs["json"])) if "json" in meta_attrs else {}
    format_id = float(meta_attrs.get("format_id", 1.2))
    nodes = _skeleton_nodes(meta, path)
    n_nodes = len(nodes)
    tracks = [
        str(t[1]) if isinstance(t, list) and len(t) > 1 else str(t) for t in _json_list(h5, "tracks_json")
    ]
    videos = _json_list(h5, "videos_json")

    frames = h5["frames"][()]
    inst = h5["instances"][()]
    # frame of each instance: instances refer to rows of `frames` by frame_id
    frame_ids = frames["frame_id"].astype(np.int64)
    order = np.argsort(frame_ids)
    pos_in_frames = order[np.searchsorted(frame_ids, inst["frame_id"].astype(np.int64), sorter=order)]
    inst_video = frames["video"][pos_in_frames].astype(np.int64)
    inst_frame = frames["frame_idx"][pos_in_frames].astype(np.int64)
    used_videos = np.unique(frames["video"]) if frames.size else np.array([0])
    if video is None:
        if used_videos.size > 1:
            raise ValueError(
                f"Reading {str(path)!r}: the file has labels for {used_videos.size} videos "
                f"({used_videos.tolist()}); choose one with video=<index>."
            )
        video = int(used_videos[0])
    fps, n_video_frames = _video_info(videos, video)

    keep = inst_video == video
    if inst.size and "skeleton" in inst.dtype.names and np.any(inst["skeleton"][keep] != 0):
        raise format_error(
            path, "instances use more than one skeleton", "Export one skeleton per file from SLEAP"
        )
    itype = inst["instance_type"][keep].astype(np.int64)
    track = inst["track"][keep].astype(np.int64)
    frame = inst_frame[keep]
    start = inst["point_id_start"][keep].astype(np.int64)
    score = inst["score"][keep].astype(float) if "score" in inst.dtype.names else np.zeros(keep.sum())

    n_frames = int(frame.max()) + 1 if frame.size else 0
    if n_video_frames is not None:
        n_frames = max(n_frames, n_video_frames)
    if n_frames == 0:
        raise format_error(
            path, "the file holds no labelled or predicted frames", "Run inference and save again"
        )

    untracked = track < 0
    if tracks:
        if untracked.any():
            warnings.warn(
                f"{str(path)!r}: {int(untracked.sum())} instances are not assigned to a track and are left out; "
                "run SLEAP's tracker (or proofread) to keep them.",
                DataQualityWarning,
                stacklevel=3,
            )
        slot = track
        individuals = tracks
    else:
        # no tracks at all: individuals are the instance slots within each frame, in file order
        order = np.lexsort((np.arange(frame.size), frame))
        rank = np.empty(frame.size, dtype=np.int64)
        sorted_frames = frame[order]
        first = np.searchsorted(sorted_frames, sorted_frames, side="left")
        rank[order] = np.arange(frame.size) - first
        slot = rank
        untracked = np.zeros(frame.size, bool)
        individuals = [f"individual_{i}" for i in range(int(slot.max()) + 1 if slot.size else 1)]

    # one instance per (frame, individual): user-labelled instances win over predictions, then the higher score
    valid = np.flatnonzero(~untracked)
    priority = np.where(itype[valid] == _USER, 0, 1)
    sort = np.lexsort(
        (-np.nan_to_num(score[valid], nan=-np.inf), priority, frame[valid] * len(individuals) + slot[valid])
    )
    chosen = valid[sort]
    keys = frame[chosen] * len(individuals) + slot[chosen]
    _, first_idx = np.unique(keys, return_index=True)
    chosen = chosen[first_idx]

    position = np.full((n_frames, len(individuals), n_nodes, 2), np.nan)
    confidence = np.full((n_frames, len(individuals), n_nodes), np.nan)
    point_idx = start[chosen, None] + np.arange(n_nodes)[None, :]
    for kind, dataset in ((_USER, "points"), (_PREDICTED, "pred_points")):
        sel = itype[chosen] == kind
        if not sel.any():
            continue
        pts = h5[dataset][()]
        idx = point_idx[sel]
        if idx.max() >= pts.shape[0]:
            raise format_error(
                path, f"instances point past the end of '{dataset}'", "The file looks truncated"
            )
        p = pts[idx]  # (n_inst, n_nodes)
        xy = np.stack([p["x"], p["y"]], axis=-1).astype(float)
        if format_id < 1.1:  # older files put (0, 0) at the pixel's corner, newer ones at its centre
            xy -= 0.5
        if "visible" in p.dtype.names:
            xy[~p["visible"].astype(bool)] = np.nan
        f, s = frame[chosen][sel], slot[chosen][sel]
        position[f, s] = xy
        if kind == _PREDICTED and "score" in p.dtype.names:
            sc = p["score"].astype(float)
            sc[np.isnan(xy[..., 0])] = np.nan
            confidence[f, s] = sc
    position = position.transpose(0, 3, 2, 1)
    confidence = confidence.transpose(0, 2, 1)
    return position, confidence, nodes, individuals, fps, {"sleap_format_id": format_id}


def _read_analysis(h5: h5py.File, path: Path):
    nodes = [_decode(n) for n in h5["node_names"][()]]
    names = [_decode(n) for n in h5["track_names"][()]] if "track_names" in h5 else []
    tracks = h5["tracks"][()].astype(float)
    n_nodes = len(nodes)
    if tracks.ndim != 4:
        raise format_error(path, f"'tracks' has shape {tracks.shape}; expected 4 dimensions", "Re-export it")
    if (
        tracks.shape[1] in (2, 3) and tracks.shape[2] == n_nodes
    ):  # (tracks, xy, nodes, frames): SLEAP's layout
        position = tracks.transpose(3, 1, 2, 0)
        scores_order = (2, 1, 0)
    elif tracks.shape[2] in (2, 3) and tracks.shape[1] == n_nodes:  # (frames, nodes, xy, tracks)
        position = tracks.transpose(0, 2, 1, 3)
        scores_order = (0, 1, 2)
    else:
        raise format_error(
            path,
            f"'tracks' has shape {tracks.shape}, which does not match {n_nodes} node names",
            "Re-export it",
        )
    n_tracks = position.shape[3]
    if len(names) != n_tracks:
        names = [f"track_{i}" for i in range(n_tracks)]
    confidence = None
    if "point_scores" in h5:
        confidence = h5["point_scores"][()].astype(float).transpose(*scores_order)
        confidence = np.where(np.isnan(position[:, 0]), np.nan, confidence)
    return position, confidence, nodes, names, None, {}


def read_sleap(path: PathLike, *, fps: float | None = None, video: int | None = None) -> xr.Dataset:
    """Read a SLEAP ``.slp`` labels/predictions file or a SLEAP analysis ``.h5`` file.

    Parameters
    ----------
    path : str or path-like
        ``.slp`` or ``.analysis.h5`` file (the kind is detected from the HDF5 content).
    fps : float, optional
        Frame rate. When the ``.slp`` video metadata records one it is used; giving a different value raises.
    video : int, optional
        Video index in a multi-video ``.slp`` (required when the file has labels for more than one video).

    Returns
    -------
    xarray.Dataset
        Poses dataset with one individual per SLEAP track (``track_0``, ...). Without tracks, individuals are the
        instance slots of each frame (``individual_0``, ...), which are not identities.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    PosesFormatError
        Not a SLEAP file, truncated, several skeletons.

    Notes
    -----
    Missing and invisible points are NaN; frames without an instance are NaN. When a frame has both a user-labelled
    and a predicted instance of the same track, the user's is used (its confidence is NaN: user points have no
    score). Instances without a track are left out (with a :class:`DataQualityWarning`) when the file has tracks.
    Coordinates of files older than SLEAP format 1.1 are shifted by -0.5 px to the current pixel-centre convention.

    Examples
    --------
    >>> from deepof_sk.datasets import sample_path
    >>> ds = read_sleap(sample_path("deepof_sleap"), fps=25)
    >>> dict(ds.sizes)
    {'time': 101, 'space': 2, 'keypoint': 14, 'individual': 1}
    """
    path = check_file(path, "read_sleap")
    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise format_error(
            path,
            f"it cannot be opened as HDF5 ({exc}); it looks truncated or is not a SLEAP file",
            "Copy or export the file again",
        ) from None
    with h5:
        try:
            if "tracks" in h5 and isinstance(h5["tracks"], h5py.Dataset) and "node_names" in h5:
                position, confidence, nodes, individuals, file_fps, attrs = _read_analysis(h5, path)
                kind = "analysis"
            elif "instances" in h5 and "frames" in h5:
                position, confidence, nodes, individuals, file_fps, attrs = _read_slp(h5, path, video)
                kind = "slp"
            else:
                raise format_error(
                    path,
                    f"the HDF5 file has neither SLEAP labels ('frames', 'instances') nor an analysis export "
                    f"('tracks', 'node_names'); found {sorted(h5.keys())[:10]}",
                    "Pass a .slp or .analysis.h5 file, or set source_software= to the right format",
                )
        except (PosesFormatError, ValueError):
            raise
        except (OSError, KeyError, RuntimeError) as exc:
            raise format_error(
                path,
                f"reading the SLEAP data failed ({type(exc).__name__}: {exc}); the file may be truncated",
                "Copy or export the file again",
            ) from None
    return build_dataset(
        position,
        confidence,
        path=path,
        keypoints=nodes,
        individuals=individuals,
        fps=resolve_fps(fps, file_fps, path),
        source_software="SLEAP",
        reader="read_sleap",
        attrs=attrs,
        log={"sleap_file": kind},
    )
