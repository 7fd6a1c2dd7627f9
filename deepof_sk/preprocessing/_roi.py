"""Regions of interest: polygons (or circles) per recording, inside/outside masks, DeepOF's inner arena ROI."""

from __future__ import annotations

import json
from numbers import Integral, Real

import numpy as np
import xarray as xr
from sklearn.utils._param_validation import Interval, StrOptions

from .. import schema as S
from ..base import BasePosesTransformer
from ._arena import (
    ROIS_ATTR,
    Arena,
    _coerce_arena,
    _recording_label,
    convert_to_dataset_unit,
    resolve_arena,
)

__all__ = ["ROIMasker", "attach_rois", "compute_roi_mask", "get_rois", "make_inner_roi"]

#: New dimension of ROI masks.
ROI = S.ROI
#: Name of the mask variable written by :class:`ROIMasker`.
IN_ROI = "in_roi"


def make_inner_roi(arena: Arena, area_ratio: float = 0.7) -> Arena:
    """DeepOF's automatic inner ROI: the arena shrunk inward until its area is ``area_ratio`` of the arena's.

    Every edge moves inward by the same distance (sharp corners), found by bisection to a relative area error
    below 1e-9. For a circle this is the concentric circle of radius ``r * sqrt(area_ratio)``; an ellipse is first
    turned into a 720-vertex polygon.

    Parameters
    ----------
    arena : Arena
        The outer region.
    area_ratio : float, default 0.7
        Target ratio of inner to outer area, in (0, 1).

    Returns
    -------
    Arena
        Same unit as ``arena``.

    Examples
    --------
    >>> inner = make_inner_roi(Arena.polygon([[0, 0], [100, 0], [100, 100], [0, 100]]), 0.64)
    >>> round(inner.area)
    6400
    """
    if not 0 < area_ratio < 1:
        raise ValueError(f"make_inner_roi: `area_ratio` must be in (0, 1); got {area_ratio!r}.")
    if arena.shape == "circle":
        return Arena.circle(arena.center, arena.radius * np.sqrt(area_ratio), unit=arena.unit)
    outer = arena if arena.shape == "polygon" else Arena.polygon(arena.as_polygon(720), unit=arena.unit)
    target = outer.area * area_ratio
    v = np.asarray(outer.vertices)
    lo, hi = 0.0, float(np.ptp(v, axis=0).max())
    best = outer
    for _ in range(100):  # bisection on the inward distance
        mid = (lo + hi) / 2
        try:
            cand = outer.buffer(-mid)
        except ValueError:
            hi = mid
            continue
        best = cand
        if cand.area > target:
            lo = mid
        else:
            hi = mid
        if abs(cand.area - target) <= 1e-9 * outer.area:
            break
    return best


def _coerce_roi(value, unit: str, where: str) -> Arena:
    if isinstance(value, (Arena, dict, str)):
        return _coerce_arena(value, where)
    return Arena.polygon(
        np.asarray(value, dtype=float), unit=unit
    )  # a bare vertex array is in the data's unit


def get_rois(ds: xr.Dataset) -> dict[str, Arena]:
    """The ROIs stored in ``ds.attrs["rois"]`` (empty dict if none)."""
    raw = ds.attrs.get(ROIS_ATTR)
    if raw is None:
        return {}
    rois = json.loads(raw) if isinstance(raw, str) else raw
    return {str(k): _coerce_arena(v, "get_rois") for k, v in rois.items()}


def attach_rois(ds: xr.Dataset, rois: dict) -> xr.Dataset:
    """Return a copy of ``ds`` with ``rois`` ({name: Arena, dict or vertex array}) in ``attrs["rois"]`` (JSON).

    Bare vertex arrays are taken to be in the dataset's unit.
    """
    unit = ds.attrs.get(S.SPACE_UNIT, "pixels")
    out = ds.copy()
    payload = {str(k): _coerce_roi(v, unit, "attach_rois").to_dict() for k, v in rois.items()}
    out.attrs = {**ds.attrs, ROIS_ATTR: json.dumps(payload)}
    return out


def compute_roi_mask(ds: xr.Dataset, roi) -> xr.DataArray:
    """Boolean (time, keypoint, individual): whether each keypoint lies inside ``roi``; NaN positions -> False.

    ``roi`` is an :class:`~deepof_sk.preprocessing.Arena` (converted to the dataset's unit through
    ``attrs["px_per_mm"]`` if needed), a dict from :meth:`Arena.to_dict`, or a vertex array in the data's unit.
    """
    unit = ds.attrs.get(S.SPACE_UNIT, "pixels")
    geom = convert_to_dataset_unit(_coerce_roi(roi, unit, "compute_roi_mask"), ds, "compute_roi_mask")
    pos = ds[S.POSITION].sel({S.SPACE: list(S.SPACE_2D)}).transpose(S.TIME, S.KEYPOINT, S.INDIVIDUAL, S.SPACE)
    inside = geom.contains(pos.values)
    return xr.DataArray(
        inside,
        dims=(S.TIME, S.KEYPOINT, S.INDIVIDUAL),
        coords={d: ds[d] for d in (S.TIME, S.KEYPOINT, S.INDIVIDUAL)},
    )


class ROIMasker(BasePosesTransformer):
    """Add a boolean ``in_roi`` variable: whether each keypoint of each animal is inside each region of interest.

    Parameters
    ----------
    rois : dict or "from_attrs", default "from_attrs"
        ``{name: region}`` where a region is an :class:`Arena` (polygon, circle or ellipse), a dict from
        :meth:`Arena.to_dict` or a vertex array (n_vertices, 2) in the data's unit; the same for every recording.
        ``"from_attrs"`` uses each recording's ``attrs["rois"]`` (see :func:`attach_rois`), if any.
    inner_area_ratio : float, optional
        Also add DeepOF's automatic ROIs: ``"inner"``, the arena shrunk to this share of its area (DeepOF's default
        is 0.7, see :func:`make_inner_roi`), and ``"outer"``, inside the arena but not in ``"inner"``.
    arena : Arena, dict or "from_attrs", default "from_attrs"
        The arena for ``inner_area_ratio``.
    n_jobs : int, optional
        Recordings processed in parallel with joblib.

    Attributes
    ----------
    keypoints_, individuals_, n_recordings_
        As for every poses transformer.

    Notes
    -----
    ``in_roi`` has dims ``(time, keypoint, individual, roi)``; a point on the edge is inside. A NaN position is
    not inside any ROI (False), so "outside" is ``~in_roi`` only where the position is known. Regions given in
    another unit than the data are converted with ``attrs["px_per_mm"]``; otherwise a unit mismatch is an error.
    Positions are unchanged; user ROIs are (re)stored in ``attrs["rois"]``.

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> ds = make_synthetic_poses(50, scenario="still", random_state=0)
    >>> box = [[-20, -20], [20, -20], [20, 20], [-20, 20]]
    >>> out = ROIMasker(rois={"box": box}).fit_transform(ds)
    >>> bool(out.in_roi.sel(keypoint="Center", roi="box").all()), bool(out.in_roi.sel(keypoint="Nose").any())
    (True, False)
    """

    _parameter_constraints = {
        "rois": [dict, StrOptions({"from_attrs"})],
        "inner_area_ratio": [Interval(Real, 0, 1, closed="neither"), None],
        "arena": [Arena, dict, StrOptions({"from_attrs"})],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, rois="from_attrs", inner_area_ratio=None, arena="from_attrs", n_jobs=None):
        self.rois = rois
        self.inner_area_ratio = inner_area_ratio
        self.arena = arena
        self.n_jobs = n_jobs

    def _fit_recordings(self, recordings, y=None):
        if isinstance(self.rois, dict):
            reserved = sorted({"inner", "outer"} & set(map(str, self.rois)))
            if reserved and self.inner_area_ratio is not None:
                raise ValueError(
                    f"ROIMasker: ROI names {reserved} clash with the automatic ROIs of `inner_area_ratio`; rename "
                    "them."
                )

    def _transform_recording(self, ds):
        where = "ROIMasker"
        unit = ds.attrs.get(S.SPACE_UNIT, "pixels")
        user = (
            get_rois(ds)
            if isinstance(self.rois, str)
            else {str(k): _coerce_roi(v, unit, where) for k, v in self.rois.items()}
        )
        masks = {name: compute_roi_mask(ds, geom) for name, geom in user.items()}
        if self.inner_area_ratio is not None:
            arena = resolve_arena(self.arena, ds, where)
            in_arena = compute_roi_mask(ds, arena)
            masks["inner"] = compute_roi_mask(ds, make_inner_roi(arena, self.inner_area_ratio))
            masks["outer"] = in_arena & ~masks["inner"]
        if not masks:
            raise ValueError(
                f"{where}: no ROI for recording {_recording_label(ds)}: pass `rois={{name: vertices}}`, attach them "
                "with attach_rois(), or set `inner_area_ratio` (e.g. 0.7, DeepOF's default)."
            )
        out = ds.drop_vars([IN_ROI, ROI], errors="ignore")  # re-running replaces earlier masks
        mask = xr.concat(list(masks.values()), dim=xr.DataArray(list(masks), dims=ROI, name=ROI))
        out[IN_ROI] = mask.transpose(S.TIME, S.KEYPOINT, S.INDIVIDUAL, ROI).assign_attrs(
            long_name="keypoint inside region of interest", units="boolean"
        )
        if user:
            out.attrs = {**ds.attrs, ROIS_ATTR: json.dumps({k: g.to_dict() for k, g in user.items()})}
        return out
