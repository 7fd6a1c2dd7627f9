"""JABS pose_est HDF5 files (versions 2 to 6), read with h5py.

Layout: ``poseest/points`` (frames, instance slots, 12, 2) uint16 pixels in **(y, x)** order (v2: no slot axis),
``poseest/confidence`` (frames, slots, 12) where 0 means "not detected", ``poseest/instance_count`` (frames,) valid
slots per frame (v3), ``poseest/instance_track_id`` (frames, slots) short-term tracklet ids (v3+),
``poseest/instance_embed_id`` (frames, slots) long-term identities, 0 = none (v4+), ``poseest/id_mask`` (True =
slot has no identity, v4+) and the attribute ``cm_per_pixel`` on ``poseest`` (v5+).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import h5py
import numpy as np
import xarray as xr

from ..exceptions import PosesFormatError
from ._common import PathLike, build_dataset, check_file, format_error, resolve_fps

__all__ = ["read_jabs", "JABS_KEYPOINTS"]

#: JABS keypoint order (12 points), named as in the JABS documentation.
JABS_KEYPOINTS = (
    "nose",
    "left ear",
    "right ear",
    "base of neck",
    "left front paw",
    "right front paw",
    "center spine",
    "left rear paw",
    "right rear paw",
    "base of tail",
    "mid tail",
    "tip of tail",
)


def _individual_slots(p: h5py.Group, n_t: int, n_slots: int, identity: str, path: Path):
    """(valid mask (frames, slots), individual index (frames, slots), individual names, rule used)."""
    slots = np.arange(n_slots)[None, :]
    if "instance_count" in p:
        valid = slots < p["instance_count"][()].astype(np.int64)[:, None]
    else:
        valid = np.ones((n_t, n_slots), bool)
    if identity == "auto":
        identity = (
            "identity" if "instance_embed_id" in p else ("track" if "instance_track_id" in p else "slot")
        )
    if identity == "identity":
        if "instance_embed_id" not in p:
            raise format_error(
                path,
                "identity='identity' but the file has no instance_embed_id (JABS v4+)",
                "Use identity='track' or 'slot'",
            )
        ids = p["instance_embed_id"][()].astype(np.int64)
        valid = valid & (ids > 0)
        if "id_mask" in p:
            valid = valid & ~p["id_mask"][()].astype(bool)
        if "instance_id_center" in p:
            n_ids = int(p["instance_id_center"].shape[0])
            valid = valid & (ids <= n_ids)
            names = list(range(1, n_ids + 1))
        else:
            names = sorted(int(v) for v in np.unique(ids[valid]))
        labels = [f"id_{v}" for v in names]
    elif identity == "track":
        if "instance_track_id" not in p:
            raise format_error(
                path,
                "identity='track' but the file has no instance_track_id (JABS v3+)",
                "Use identity='slot'",
            )
        ids = p["instance_track_id"][()].astype(np.int64)
        names = sorted(int(v) for v in np.unique(ids[valid]))
        labels = [f"track_{v}" for v in names]
    elif identity == "slot":
        ids = np.broadcast_to(slots, (n_t, n_slots))
        names = list(range(n_slots))
        labels = [f"slot_{v}" for v in names]
    else:
        raise ValueError(
            f"read_jabs: identity must be 'auto', 'identity', 'track' or 'slot'; got {identity!r}."
        )
    known = np.asarray(names, dtype=np.int64)  # sorted
    pos = np.clip(np.searchsorted(known, ids), 0, max(known.size - 1, 0))
    index = np.where(known.size and (known[pos] == ids), pos, -1) if known.size else np.full(ids.shape, -1)
    valid = valid & (index >= 0)
    return valid, index, labels, identity


def read_jabs(
    path: PathLike,
    *,
    fps: float | None = None,
    identity: Literal["auto", "identity", "track", "slot"] = "auto",
    keypoints: Sequence[str] | None = None,
) -> xr.Dataset:
    """Read a JABS ``pose_est_v*.h5`` file.

    Parameters
    ----------
    path : str or path-like
        JABS pose file.
    fps : float, optional
        Frame rate (JABS files do not store it; the JAX rig records at 30 fps).
    identity : {"auto", "identity", "track", "slot"}, default "auto"
        How instance slots become individuals: ``"identity"`` uses the long-term ``instance_embed_id`` (v4+,
        individuals ``id_1``, ``id_2``, ...; slots without an identity are dropped), ``"track"`` the tracklet ids
        of ``instance_track_id`` (v3+, individuals ``track_<id>``: one per tracklet, so possibly many), ``"slot"``
        the raw slot index (not an identity). ``"auto"`` picks the first available in that order.
    keypoints : sequence of str, optional
        Keypoint names; default :data:`JABS_KEYPOINTS` for 12-point files.

    Returns
    -------
    xarray.Dataset
        Poses dataset in pixels with (x, y) order; ``attrs["cm_per_pixel"]`` when the file stores it.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    PosesFormatError
        Not a JABS file, truncated.

    Notes
    -----
    Points with confidence 0 (not detected) have NaN position and confidence 0; an individual absent from a
    frame has NaN position and NaN confidence.

    Examples
    --------
    >>> import tempfile, pathlib, h5py, numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "clip_pose_est_v2.h5"
    >>> with h5py.File(path, "w") as f:
    ...     _ = f.create_dataset("poseest/points", data=np.full((5, 12, 2), 7, dtype=np.uint16))
    ...     _ = f.create_dataset("poseest/confidence", data=np.ones((5, 12), dtype=np.float32))
    >>> ds = read_jabs(path, fps=30)
    >>> ds.sizes["individual"], str(ds.keypoint.values[1])
    (1, 'left ear')
    """
    path = check_file(path, "read_jabs")
    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise format_error(
            path,
            f"it cannot be opened as HDF5 ({exc}); it looks truncated or is another format",
            "Copy or export the file again",
        ) from None
    with h5:
        try:
            if "poseest" not in h5 or "points" not in h5["poseest"]:
                raise format_error(path, "no 'poseest/points' dataset", "Is it a JABS pose_est file?")
            p = h5["poseest"]
            points = p["points"][()]
            conf = p["confidence"][()].astype(float) if "confidence" in p else None
            if points.ndim == 3:  # v2: one mouse
                points, conf = points[:, None], None if conf is None else conf[:, None]
            if points.ndim != 4 or points.shape[-1] != 2:
                raise format_error(
                    path,
                    f"'poseest/points' has shape {points.shape}",
                    "Expected (frames, slots, keypoints, 2)",
                )
            n_t, n_slots, n_k, _ = points.shape
            valid, index, individuals, rule = _individual_slots(p, n_t, n_slots, identity, path)
            attrs = {}
            for name in ("cm_per_pixel", "cm_per_pixel_source"):
                if name in p.attrs:
                    value = p.attrs[name]
                    value = value.decode() if isinstance(value, bytes) else value
                    attrs[name] = value.item() if isinstance(value, np.generic) else value
            if "cm_per_pixel" in attrs:
                attrs["cm_per_pixel"] = float(attrs["cm_per_pixel"])
            version = p.attrs.get("version")
            if version is not None:
                attrs["jabs_version_attr"] = ".".join(str(int(v)) for v in np.atleast_1d(version))
        except (PosesFormatError, ValueError):
            raise
        except (OSError, KeyError, RuntimeError) as exc:
            raise format_error(
                path,
                f"reading the JABS data failed ({type(exc).__name__}: {exc}); the file may be truncated",
                "Copy or export the file again",
            ) from None
    names = (
        list(keypoints)
        if keypoints is not None
        else (list(JABS_KEYPOINTS) if n_k == 12 else [f"keypoint_{i}" for i in range(n_k)])
    )
    if len(names) != n_k:
        raise ValueError(
            f"read_jabs: {len(names)} keypoint names given for {n_k} keypoints in {str(path)!r}."
        )
    if conf is None:
        conf = np.ones(points.shape[:3])
    xy = points[..., ::-1].astype(float)  # (y, x) -> (x, y)
    xy[conf <= 0] = np.nan
    f, s = np.nonzero(valid)
    i = index[f, s]
    position = np.full((n_t, len(individuals), n_k, 2), np.nan)
    confidence = np.full((n_t, len(individuals), n_k), np.nan)
    position[f, i] = xy[f, s]
    confidence[f, i] = conf[f, s]
    return build_dataset(
        position.transpose(0, 3, 2, 1),
        confidence.transpose(0, 2, 1),
        path=path,
        keypoints=names,
        individuals=individuals,
        fps=resolve_fps(fps, None, path),
        source_software="JABS",
        reader="read_jabs",
        attrs=attrs,
        log={"identity": rule},
    )
