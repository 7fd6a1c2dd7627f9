"""The arena: a geometry value object, its detection (from the tracks or from a video) and px -> mm scaling.

An :class:`Arena` is a circle, an ellipse or a polygon in one unit (``"pixels"`` or ``"mm"``). Recordings carry
their arena as JSON in ``attrs["arena"]`` (see :func:`attach_arena` / :func:`get_arena`), so it survives a netCDF
round trip and travels with the data through a Pipeline. :class:`ArenaDetector` finds it, :class:`ArenaScaler`
converts pixels to millimetres from the arena's known size (DeepOF's ``video_scale``).

OpenCV is an optional dependency (``pip install "deepof-sk[video]"``), imported only by video detection.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
import xarray as xr
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .. import schema as S
from ..base import BasePosesTransformer
from ..exceptions import DataQualityWarning
from ..validation import append_log, check_recordings, return_like

__all__ = [
    "Arena",
    "ArenaDetector",
    "ArenaScaler",
    "attach_arena",
    "detect_arena_from_tracks",
    "detect_arena_from_video",
    "get_arena",
    "parse_length",
]

#: Attribute holding the arena (JSON of :meth:`Arena.to_dict`).
ARENA_ATTR = "arena"
#: Attribute holding the pixel scale written by :class:`ArenaScaler`.
PX_PER_MM_ATTR = "px_per_mm"
#: Attribute holding the ROIs (JSON of ``{name: Arena.to_dict()}``), written by the ROI helpers.
ROIS_ATTR = "rois"

_SHAPES = ("circle", "ellipse", "polygon")
_MM_PER = {"mm": 1.0, "cm": 10.0, "dm": 100.0, "m": 1000.0, "in": 25.4, "inch": 25.4, "inches": 25.4}
_CHUNK = 2_000_000  # points x edges per block in the polygon computations (bounded memory)


def _import_cv2(where: str):
    try:
        import cv2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f'{where} needs OpenCV, an optional dependency: pip install "deepof-sk[video]" '
            "(or pip install opencv-python-headless)."
        ) from exc
    return cv2


# -- geometry helpers (vectorised, bounded memory) --------------------------------------------------------------
def _signed_area(v: np.ndarray) -> float:
    x, y = v[:, 0], v[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def _centroid(v: np.ndarray) -> tuple[float, float]:
    x, y = v[:, 0], v[:, 1]
    cross = x * np.roll(y, -1) - np.roll(x, -1) * y
    six_a = 3 * cross.sum()
    return float(((x + np.roll(x, -1)) * cross).sum() / six_a), float(
        ((y + np.roll(y, -1)) * cross).sum() / six_a
    )


def _blocks(n: int, n_edges: int):
    step = max(1, _CHUNK // max(n_edges, 1))
    for start in range(0, n, step):
        yield slice(start, min(n, start + step))


def _polygon_contains(p: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Even-odd rule; p (N, 2) finite points, v (V, 2) vertices."""
    a, b = v, np.roll(v, -1, axis=0)
    out = np.zeros(len(p), bool)
    for sl in _blocks(len(p), len(v)):
        x, y = p[sl, :1], p[sl, 1:]
        straddle = (a[:, 1] > y) != (b[:, 1] > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_cross = a[:, 0] + (y - a[:, 1]) * (b[:, 0] - a[:, 0]) / (b[:, 1] - a[:, 1])
        out[sl] = np.count_nonzero(straddle & (x < x_cross), axis=1) % 2 == 1
    return out


def _polygon_edge_distance(p: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Unsigned distance of points p (N, 2) to the boundary of the polygon v (V, 2)."""
    a, b = v, np.roll(v, -1, axis=0)
    ab = b - a
    len2 = np.maximum((ab**2).sum(1), 1e-300)
    out = np.empty(len(p))
    for sl in _blocks(len(p), len(v)):
        ap = p[sl, None, :] - a[None]
        t = np.clip((ap * ab[None]).sum(-1) / len2, 0.0, 1.0)
        out[sl] = np.sqrt(((ap - t[..., None] * ab[None]) ** 2).sum(-1).min(1))
    return out


def _offset_polygon(v: np.ndarray, d: float) -> np.ndarray:
    """Mitre offset: every edge moved outward by ``d`` (inward when negative), corners kept sharp."""
    orient = 1.0 if _signed_area(v) > 0 else -1.0
    t = np.roll(v, -1, axis=0) - v
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    n = orient * np.stack([t[:, 1], -t[:, 0]], axis=1)  # outward normal of edge i (v_i -> v_i+1)
    n_prev = np.roll(n, 1, axis=0)
    # vertex i lies on edges i-1 and i: solve n_prev . p = n_prev . v + d and n . p = n . v + d
    det = n_prev[:, 0] * n[:, 1] - n_prev[:, 1] * n[:, 0]
    r1 = (n_prev * v).sum(1) + d
    r2 = (n * v).sum(1) + d
    with np.errstate(divide="ignore", invalid="ignore"):
        px = (r1 * n[:, 1] - r2 * n_prev[:, 1]) / det
        py = (n_prev[:, 0] * r2 - n[:, 0] * r1) / det
    straight = np.abs(det) < 1e-12  # collinear neighbours: plain shift along the normal
    px = np.where(straight, v[:, 0] + d * n[:, 0], px)
    py = np.where(straight, v[:, 1] + d * n[:, 1], py)
    return np.stack([px, py], axis=1)


def _fit_circle(p: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares circle (algebraic fit refined by a few Gauss-Newton steps on the geometric error)."""
    A = np.c_[2 * p, np.ones(len(p))]
    sol = np.linalg.lstsq(A, (p**2).sum(1), rcond=None)[0]
    c = sol[:2]
    for _ in range(20):
        d = p - c
        r_i = np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-12)
        r = r_i.mean()
        J = np.c_[-d / r_i[:, None], -np.ones(len(p))]
        step = np.linalg.lstsq(J, -(r_i - r), rcond=None)[0]
        c = c + step[:2]
        if np.abs(step).max() < 1e-9 * max(r, 1.0):
            break
    return c, float(np.hypot(*(p - c).T).mean())


def _ellipse_distance(q: np.ndarray, a: float, b: float) -> np.ndarray:
    """Unsigned distance of points q (N, 2), in the ellipse's own frame, to the ellipse x²/a² + y²/b² = 1.

    Newton-like iteration on the parameter t of the nearest point (a cos t, b sin t) in the first quadrant, using
    the local centre of curvature; a few fixed iterations reach ~1e-9 relative accuracy, vectorised over points.
    """
    px, py = np.abs(q[:, 0]), np.abs(q[:, 1])
    t = np.full(len(q), np.pi / 4)
    for _ in range(6):
        c, s = np.cos(t), np.sin(t)
        x, y = a * c, b * s
        ex, ey = (a * a - b * b) * c**3 / a, (b * b - a * a) * s**3 / b
        rx, ry, qx, qy = x - ex, y - ey, px - ex, py - ey
        r, qn = np.hypot(rx, ry), np.maximum(np.hypot(qx, qy), 1e-300)
        dc = r * np.arcsin(np.clip((rx * qy - ry * qx) / (r * qn), -1.0, 1.0))
        t = np.clip(t + dc / np.sqrt(np.maximum(a * a + b * b - x * x - y * y, 1e-300)), 0.0, np.pi / 2)
    return np.hypot(px - a * np.cos(t), py - b * np.sin(t))


def _as_points(points, where: str) -> tuple[np.ndarray, tuple, Any]:
    """(N, 2) array, the leading shape, and a function that wraps a flat result back (DataArray-aware)."""
    if isinstance(points, xr.DataArray):
        if S.SPACE not in points.dims:
            raise ValueError(
                f"{where}: a DataArray of points needs a `{S.SPACE}` dim; got dims {points.dims}."
            )
        da = points.sel({S.SPACE: list(S.SPACE_2D)}).transpose(..., S.SPACE)
        arr, shape = da.values.reshape(-1, 2), da.shape[:-1]
        template = da.isel({S.SPACE: 0}, drop=True)
        return arr.astype(float), shape, lambda flat: template.copy(data=flat.reshape(shape))
    arr = np.asarray(points, dtype=float)
    if arr.shape[-1:] != (2,):
        raise ValueError(f"{where}: points must have a last axis of length 2 (x, y); got shape {arr.shape}.")
    shape = arr.shape[:-1]
    return arr.reshape(-1, 2), shape, lambda flat: flat.reshape(shape)


def _tuple2(value, name: str) -> tuple[float, float]:
    arr = np.asarray(value, dtype=float).ravel()
    if arr.shape != (2,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"Arena: `{name}` must be two finite numbers; got {value!r}.")
    return float(arr[0]), float(arr[1])


@dataclass(frozen=True)
class Arena:
    """Geometry of an arena (or of a region of interest): a circle, an ellipse or a polygon.

    Build one with :meth:`circle`, :meth:`ellipse`, :meth:`polygon`, :meth:`from_dict` or :meth:`from_deepof`.
    The value is immutable, hashable, picklable and JSON-serialisable through :meth:`to_dict`.

    Parameters
    ----------
    shape : {"circle", "ellipse", "polygon"}
        Kind of geometry.
    center : tuple of float
        Centre (x, y); for a polygon, its area centroid.
    radius : float, optional
        Radius of a circle.
    axes : tuple of float, optional
        Semi-axes (a, b) of an ellipse; ``a`` lies along ``angle``.
    angle : float, default 0
        Orientation of an ellipse's first axis, radians counter-clockwise from +x.
    vertices : tuple of (x, y), optional
        Polygon vertices in drawing order; the first edge (vertex 0 -> 1) is DeepOF's scale edge.
    unit : str, default "pixels"
        Unit of every coordinate (``"pixels"`` or ``"mm"``).

    Notes
    -----
    Geometric queries take points of shape ``(..., 2)`` or an :class:`xarray.DataArray` with a ``space`` dim; a
    point with a NaN coordinate is not contained (``False``) and has a NaN distance.

    Examples
    --------
    >>> arena = Arena.circle((0.0, 0.0), 190.0, unit="mm")
    >>> arena.contains([[0.0, 0.0], [200.0, 0.0]]).tolist()
    [True, False]
    >>> arena.distance_to_edge([[180.0, 0.0]]).round(6).tolist()
    [10.0]
    >>> Arena.from_dict(arena.to_dict()) == arena
    True
    """

    shape: str
    center: tuple[float, float]
    radius: float | None = None
    axes: tuple[float, float] | None = None
    angle: float = 0.0
    vertices: tuple[tuple[float, float], ...] | None = None
    unit: str = "pixels"

    def __post_init__(self):
        if self.shape not in _SHAPES:
            raise ValueError(f"Arena: `shape` must be one of {list(_SHAPES)}; got {self.shape!r}.")
        object.__setattr__(self, "center", _tuple2(self.center, "center"))
        object.__setattr__(self, "angle", float(self.angle))
        if self.shape == "circle":
            if self.radius is None or not np.isfinite(self.radius) or self.radius <= 0:
                raise ValueError(f"Arena: a circle needs a positive finite `radius`; got {self.radius!r}.")
            object.__setattr__(self, "radius", float(self.radius))
        elif self.shape == "ellipse":
            axes = _tuple2(self.axes, "axes") if self.axes is not None else (0.0, 0.0)
            if min(axes) <= 0:
                raise ValueError(f"Arena: an ellipse needs two positive semi-axes; got {self.axes!r}.")
            object.__setattr__(self, "axes", axes)
        else:
            v = np.asarray(self.vertices, dtype=float) if self.vertices is not None else np.empty((0, 2))
            if v.ndim != 2 or v.shape[1] != 2 or len(v) < 3 or not np.all(np.isfinite(v)):
                raise ValueError(
                    f"Arena: a polygon needs at least 3 finite (x, y) vertices; got shape {v.shape}."
                )
            if abs(_signed_area(v)) <= 0:
                raise ValueError("Arena: the polygon has zero area (collinear vertices).")
            object.__setattr__(self, "vertices", tuple((float(x), float(y)) for x, y in v))

    # -- constructors --------------------------------------------------------------------------------------------
    @classmethod
    def circle(cls, center, radius: float, *, unit: str = "pixels") -> Arena:
        """A circular arena of ``radius`` around ``center``."""
        return cls("circle", center, radius=radius, unit=unit)

    @classmethod
    def ellipse(cls, center, axes, angle: float = 0.0, *, unit: str = "pixels") -> Arena:
        """An elliptical arena with semi-axes ``axes`` rotated by ``angle`` radians."""
        return cls("ellipse", center, axes=axes, angle=angle, unit=unit)

    @classmethod
    def polygon(cls, vertices, *, unit: str = "pixels") -> Arena:
        """A polygonal arena; the centre is the area centroid, the first edge is the scale edge."""
        v = np.asarray(vertices, dtype=float)
        center = _centroid(v) if v.ndim == 2 and len(v) >= 3 and _signed_area(v) != 0 else (np.nan, np.nan)
        if not np.all(np.isfinite(center)):
            center = (0.0, 0.0)  # let __post_init__ report the real problem
        return cls("polygon", center, vertices=v, unit=unit)

    @classmethod
    def from_dict(cls, d: dict) -> Arena:
        """Inverse of :meth:`to_dict`."""
        if not isinstance(d, dict) or "shape" not in d:
            raise ValueError(f"Arena.from_dict: expected a dict with a 'shape' key; got {d!r}.")
        if d["shape"] == "polygon":
            return cls.polygon(d["vertices"], unit=d.get("unit", "pixels"))
        keys = ("shape", "center", "radius", "axes", "angle", "unit")
        return cls(**{k: d[k] for k in keys if d.get(k) is not None})

    @classmethod
    def from_deepof(cls, params, *, unit: str = "mm") -> Arena:
        """Convert DeepOF's arena parameters: a vertex array (polygon) or ``((cx, cy), (a, b), angle_degrees)``.

        DeepOF's ellipse tuples hold the semi-axes (it draws them as radii) and an angle in degrees.
        """
        if isinstance(params, (tuple, list)) and len(params) == 3 and np.ndim(params[2]) == 0:
            center, axes, angle = params
            return cls.ellipse(center, axes, np.deg2rad(float(angle)), unit=unit)
        return cls.polygon(params, unit=unit)

    # -- serialisation -------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain JSON-serialisable dict (lists and floats)."""
        d: dict[str, Any] = {"shape": self.shape, "center": list(self.center), "unit": self.unit}
        if self.shape == "circle":
            d["radius"] = self.radius
        elif self.shape == "ellipse":
            d.update(axes=list(self.axes), angle=self.angle)
        else:
            d["vertices"] = [list(v) for v in self.vertices]
        return d

    # -- derived quantities --------------------------------------------------------------------------------------
    @property
    def area(self) -> float:
        """Area in ``unit`` squared."""
        if self.shape == "circle":
            return float(np.pi * self.radius**2)
        if self.shape == "ellipse":
            return float(np.pi * self.axes[0] * self.axes[1])
        return abs(_signed_area(np.asarray(self.vertices)))

    @property
    def scale_length(self) -> float:
        """Reference length for scaling (DeepOF's convention): the diameter of a circle, twice the mean semi-axis
        of an ellipse, the first edge of a polygon."""
        if self.shape == "circle":
            return 2.0 * self.radius
        if self.shape == "ellipse":
            return float(self.axes[0] + self.axes[1])
        v = np.asarray(self.vertices)
        return float(np.hypot(*(v[1] - v[0])))

    def as_polygon(self, n_vertices: int = 720) -> np.ndarray:
        """Vertices (V, 2): the polygon itself, or ``n_vertices`` points on a circle/ellipse."""
        if self.shape == "polygon":
            return np.asarray(self.vertices, dtype=float)
        t = np.linspace(0, 2 * np.pi, n_vertices, endpoint=False)
        a, b = (self.radius, self.radius) if self.shape == "circle" else self.axes
        c, s = np.cos(self.angle), np.sin(self.angle)
        x, y = a * np.cos(t), b * np.sin(t)
        return np.c_[self.center[0] + c * x - s * y, self.center[1] + s * x + c * y]

    # -- queries -------------------------------------------------------------------------------------------------
    def contains(self, points) -> np.ndarray:
        """Whether each point lies inside (or on) the arena; NaN points are outside (False)."""
        p, _, wrap = _as_points(points, "Arena.contains")
        out = np.zeros(len(p), bool)
        ok = np.isfinite(p).all(1)
        q = p[ok] - np.asarray(self.center)
        if self.shape == "circle":
            out[ok] = np.hypot(q[:, 0], q[:, 1]) <= self.radius
        elif self.shape == "ellipse":
            c, s = np.cos(self.angle), np.sin(self.angle)
            u, w = c * q[:, 0] + s * q[:, 1], -s * q[:, 0] + c * q[:, 1]
            out[ok] = (u / self.axes[0]) ** 2 + (w / self.axes[1]) ** 2 <= 1.0
        else:
            out[ok] = _polygon_contains(p[ok], np.asarray(self.vertices))
        return wrap(out)

    def distance_to_edge(self, points) -> np.ndarray:
        """Signed distance to the arena's edge: positive inside, negative outside, NaN for NaN points."""
        p, _, wrap = _as_points(points, "Arena.distance_to_edge")
        out = np.full(len(p), np.nan)
        ok = np.isfinite(p).all(1)
        q = p[ok] - np.asarray(self.center)
        if self.shape == "circle":
            out[ok] = self.radius - np.hypot(q[:, 0], q[:, 1])
        elif self.shape == "ellipse":
            c, s = np.cos(self.angle), np.sin(self.angle)
            local = np.c_[c * q[:, 0] + s * q[:, 1], -s * q[:, 0] + c * q[:, 1]]
            a, b = self.axes
            inside = (local[:, 0] / a) ** 2 + (local[:, 1] / b) ** 2 <= 1.0
            out[ok] = np.where(inside, 1.0, -1.0) * _ellipse_distance(local, a, b)
        else:
            v = np.asarray(self.vertices)
            inside = _polygon_contains(p[ok], v)
            out[ok] = np.where(inside, 1.0, -1.0) * _polygon_edge_distance(p[ok], v)
        return wrap(out)

    def buffer(self, distance: float) -> Arena:
        """The arena grown by ``distance`` (shrunk when negative), in ``unit``.

        Circles change radius (exact); ellipses change both semi-axes (an approximation of the parallel curve);
        polygons move every edge by ``distance`` with sharp (mitre) corners, exact for convex polygons.
        """
        d = float(distance)
        if self.shape == "circle":
            if self.radius + d <= 0:
                raise ValueError(f"Arena.buffer({d}) removes the whole circle of radius {self.radius}.")
            return Arena.circle(self.center, self.radius + d, unit=self.unit)
        if self.shape == "ellipse":
            if min(self.axes) + d <= 0:
                raise ValueError(f"Arena.buffer({d}) removes the whole ellipse with semi-axes {self.axes}.")
            return Arena.ellipse(
                self.center, (self.axes[0] + d, self.axes[1] + d), self.angle, unit=self.unit
            )
        v = np.asarray(self.vertices)
        new = _offset_polygon(v, d)
        if not np.all(np.isfinite(new)) or np.sign(_signed_area(new)) != np.sign(_signed_area(v)):
            raise ValueError(f"Arena.buffer({d}) collapses the polygon; use a smaller inward distance.")
        return Arena.polygon(new, unit=self.unit)

    def scaled(self, factor: float, unit: str) -> Arena:
        """All coordinates multiplied by ``factor`` (a unit change about the origin), labelled ``unit``."""
        f = float(factor)
        if self.shape == "polygon":
            return Arena.polygon(np.asarray(self.vertices) * f, unit=unit)
        c = (self.center[0] * f, self.center[1] * f)
        if self.shape == "circle":
            return Arena.circle(c, self.radius * f, unit=unit)
        return Arena.ellipse(c, (self.axes[0] * f, self.axes[1] * f), self.angle, unit=unit)


# -- dataset attrs ----------------------------------------------------------------------------------------------
def _coerce_arena(value, where: str) -> Arena:
    if isinstance(value, Arena):
        return value
    if isinstance(value, dict):
        return Arena.from_dict(value)
    if isinstance(value, str):
        return Arena.from_dict(json.loads(value))
    raise TypeError(f"{where}: expected an Arena or a dict from Arena.to_dict(); got {type(value).__name__}.")


def get_arena(ds: xr.Dataset) -> Arena | None:
    """The arena stored in ``ds.attrs["arena"]``, or None."""
    raw = ds.attrs.get(ARENA_ATTR)
    return None if raw is None else _coerce_arena(raw, "get_arena")


def attach_arena(ds: xr.Dataset, arena: Arena | dict) -> xr.Dataset:
    """Return a copy of ``ds`` with ``arena`` stored in ``attrs["arena"]`` (JSON, kept by netCDF)."""
    out = ds.copy()
    out.attrs = {**ds.attrs, ARENA_ATTR: json.dumps(_coerce_arena(arena, "attach_arena").to_dict())}
    return out


def _recording_label(ds: xr.Dataset) -> str:
    return str(ds.attrs.get("recording_id") or ds.attrs.get(S.SOURCE_FILE) or "<unnamed>")


def convert_to_dataset_unit(geom: Arena, ds: xr.Dataset, where: str) -> Arena:
    """``geom`` expressed in the dataset's space unit, using ``attrs["px_per_mm"]`` when the units differ."""
    unit = ds.attrs.get(S.SPACE_UNIT, "pixels")
    if geom.unit == unit:
        return geom
    scale = ds.attrs.get(PX_PER_MM_ATTR)
    if scale is not None and {geom.unit, unit} == {"pixels", "mm"}:
        return geom.scaled(1 / float(scale) if unit == "mm" else float(scale), unit)
    raise ValueError(
        f"{where}: the arena/ROI is in {geom.unit!r} but recording {_recording_label(ds)} is in {unit!r} and has "
        "no attrs['px_per_mm'] to convert. Give the geometry in the dataset's unit."
    )


def resolve_arena(arena, ds: xr.Dataset, where: str) -> Arena:
    """The arena to use for ``ds``: the given one, or attrs['arena'] for ``"from_attrs"``; in the dataset's unit."""
    if arena is None or (isinstance(arena, str) and arena == "from_attrs"):
        found = get_arena(ds)
        if found is None:
            raise ValueError(
                f"{where}: recording {_recording_label(ds)} has no arena (attrs['arena'] is missing). Run "
                "ArenaDetector first, attach one with attach_arena(ds, Arena.circle(...)), or pass `arena=`."
            )
        arena = found
    return convert_to_dataset_unit(_coerce_arena(arena, where), ds, where)


def parse_length(value, *, where: str = "parse_length", param: str = "arena_size") -> float:
    """Convert a length with unit (``"380 mm"``, ``"38 cm"``, ``"0.38 m"``, ``"15 in"``) to millimetres."""
    if (
        isinstance(value, (int, float, np.number))
        and not isinstance(value, bool)
        or re.fullmatch(r"\s*[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?\d+)?\s*", str(value))
    ):
        value = str(value).strip()
        raise ValueError(
            f"{where}: `{param}`={value!r} has no unit. Give a string with its unit, e.g. '{value} mm' or "
            f"'{value} cm' (DeepOF's video_scale convention)."
        )
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?\d+)?)\s*([A-Za-z]+)\s*", str(value))
    if not m or m.group(2).lower() not in _MM_PER:
        raise ValueError(
            f"{where}: cannot read `{param}`={value!r}; expected a number followed by a unit among "
            f"{sorted(_MM_PER)}, e.g. '380 mm'."
        )
    return float(m.group(1)) * _MM_PER[m.group(2).lower()]


# -- detection --------------------------------------------------------------------------------------------------
def _envelope(p: np.ndarray, center: np.ndarray, quantile: float, n_sectors: int) -> np.ndarray:
    """Per angular sector around ``center``, the point at the ``quantile`` of the distance (vectorised)."""
    d = p - center
    r = np.hypot(d[:, 0], d[:, 1])
    sector = (
        np.floor((np.arctan2(d[:, 1], d[:, 0]) + np.pi) / (2 * np.pi) * n_sectors).astype(int) % n_sectors
    )
    order = np.lexsort((r, sector))
    counts = np.bincount(sector, minlength=n_sectors)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    full = counts > 0
    pick = starts[full] + np.floor(quantile * (counts[full] - 1)).astype(int)
    return p[order[pick]]


def _simplify(v: np.ndarray, n_vertices: int) -> np.ndarray:
    """Drop the vertex spanning the smallest triangle until ``n_vertices`` remain (Visvalingam-Whyatt)."""
    v = v.copy()
    while len(v) > n_vertices:  # loop over hull vertices (tens), not frames
        prev, nxt = np.roll(v, 1, axis=0), np.roll(v, -1, axis=0)
        tri = np.abs(
            (v[:, 0] - prev[:, 0]) * (nxt[:, 1] - prev[:, 1])
            - (nxt[:, 0] - prev[:, 0]) * (v[:, 1] - prev[:, 1])
        )
        v = np.delete(v, int(np.argmin(tri)), axis=0)
    return v


def _refine_edges(v: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Refit each edge of polygon ``v`` as the total-least-squares line of the points nearest to it; the new
    corners are where consecutive lines meet (corners of the hull of samples are otherwise cut)."""
    a, b = v, np.roll(v, -1, axis=0)
    ab = b - a
    ap = pts[:, None, :] - a[None]
    t = np.clip((ap * ab[None]).sum(-1) / (ab**2).sum(1), 0, 1)
    nearest = np.argmin(((ap - t[..., None] * ab[None]) ** 2).sum(-1), axis=1)
    normals, offsets = [], []
    for i in range(len(v)):  # loop over edges (a handful)
        sel = pts[nearest == i]
        if len(sel) < 2:
            n = np.array([ab[i, 1], -ab[i, 0]]) / np.hypot(*ab[i])
            normals.append(n)
            offsets.append(n @ a[i])
            continue
        mean = sel.mean(0)
        n = np.linalg.svd(sel - mean, full_matrices=False)[2][-1]  # direction of least spread
        normals.append(n)
        offsets.append(n @ mean)
    n, c = np.array(normals), np.array(offsets)
    n_prev, c_prev = np.roll(n, 1, axis=0), np.roll(c, 1)
    det = n_prev[:, 0] * n[:, 1] - n_prev[:, 1] * n[:, 0]
    if np.any(np.abs(det) < 1e-9):
        return v
    return np.c_[(c_prev * n[:, 1] - c * n_prev[:, 1]) / det, (n_prev[:, 0] * c - n[:, 0] * c_prev) / det]


def detect_arena_from_tracks(
    ds: xr.Dataset,
    *,
    shape: str = "circle",
    keypoints=None,
    quantile: float = 0.99,
    n_sectors: int = 72,
    n_vertices: int | None = None,
) -> Arena:
    """Estimate the arena from where the animals go: the outer envelope of all tracked points.

    Points are binned into ``n_sectors`` angular sectors around a provisional centre; in each sector the point at
    the ``quantile`` of the distance is kept (robust to tracking spikes). A circle is fitted to those envelope
    points by least squares (twice, re-centring), or their convex hull is returned as a polygon; with
    ``n_vertices`` the hull is simplified to that many corners and each edge refitted as the least-squares line of
    the envelope points nearest to it. The result is an inner bound: an arena whose walls the animals never reach is
    underestimated. Returns an :class:`Arena` in the dataset's unit.
    """
    from scipy.spatial import ConvexHull

    where = "detect_arena_from_tracks"
    if shape not in ("circle", "polygon"):
        raise ValueError(f"{where}: `shape` must be 'circle' or 'polygon'; got {shape!r}.")
    pos = ds[S.POSITION] if keypoints is None else ds[S.POSITION].sel({S.KEYPOINT: list(keypoints)})
    p = pos.sel({S.SPACE: list(S.SPACE_2D)}).transpose(..., S.SPACE).values.reshape(-1, 2)
    p = p[np.isfinite(p).all(1)]
    if len(p) < 10:
        raise ValueError(
            f"{where}: recording {_recording_label(ds)} has {len(p)} finite keypoint positions; at least 10 are "
            "needed to estimate an arena from the tracks. Give the arena explicitly (attach_arena)."
        )
    center = (np.quantile(p, 0.005, axis=0) + np.quantile(p, 0.995, axis=0)) / 2
    unit = ds.attrs.get(S.SPACE_UNIT, "pixels")
    for _ in range(2):
        env = _envelope(p, center, quantile, n_sectors)
        center = _fit_circle(env)[0] if len(env) >= 3 else center
    env = _envelope(p, center, quantile, n_sectors)
    if shape == "circle":
        c, r = _fit_circle(env)
        return Arena.circle(c, r, unit=unit)
    hull = env[ConvexHull(env).vertices]
    if n_vertices is not None and len(hull) > n_vertices:
        hull = _refine_edges(_simplify(hull, n_vertices), env)
    return Arena.polygon(hull, unit=unit)


_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def _to_gray(cv2, frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.ndim == 3:
        frame = cv2.cvtColor(
            frame.astype(np.uint8), cv2.COLOR_BGR2GRAY if frame.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
        )
    if frame.dtype != np.uint8:
        lo, hi = np.nanmin(frame), np.nanmax(frame)
        frame = ((frame - lo) / max(hi - lo, 1e-12) * 255).astype(np.uint8)
    return frame


def _background(cv2, source, n_frames: int, random_state) -> np.ndarray:
    """Grayscale background: the frame itself, or the median of frames sampled from a stack or a video file."""
    where = "detect_arena_from_video"
    if isinstance(source, np.ndarray):
        if source.ndim == 2 or (source.ndim == 3 and source.shape[-1] in (3, 4)):
            return _to_gray(cv2, source)
        if source.ndim in (3, 4):
            return np.median(np.stack([_to_gray(cv2, f) for f in source]), axis=0).astype(np.uint8)
        raise ValueError(
            f"{where}: a frame must be (H, W), (H, W, 3) or a stack (N, H, W[, 3]); got {source.shape}."
        )
    path = os.fspath(source)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{where}: no such video or image file: {path!r}.")
    if path.lower().endswith(_IMAGE_SUFFIXES):
        img = cv2.imread(path)
        if img is None:
            raise ValueError(f"{where}: OpenCV could not read the image {path!r}.")
        return _to_gray(cv2, img)
    cap = cv2.VideoCapture(path)
    try:
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if not cap.isOpened() or total <= 0:
            raise ValueError(f"{where}: OpenCV could not open the video {path!r} (or it has no frames).")
        rng = check_random_state(random_state)
        idx = np.sort(rng.choice(total, size=min(n_frames, total), replace=False))
        frames = []
        for i in idx:  # loop over sampled video frames (<= n_frames)
            cap.set(cv2.CAP_PROP_POS_FRAMES, int(i))
            ok, frame = cap.read()
            if ok:
                frames.append(_to_gray(cv2, frame))
    finally:
        cap.release()
    if not frames:
        raise ValueError(f"{where}: no frame of {path!r} could be decoded.")
    return np.median(np.stack(frames), axis=0).astype(np.uint8)


def detect_arena_from_video(
    source, *, shape: str = "circle", n_frames: int = 100, n_vertices: int | None = None, random_state=None
) -> Arena:
    """Detect the arena in a video (median background of sampled frames) or in one frame, with OpenCV.

    The background is blurred and split by Otsu's threshold; of both polarities (bright arena on a dark floor or
    the reverse), the largest region that does not touch the image border is the arena. Its convex hull (which
    closes notches left by an animal on the wall) gives a circle (centroid, radius from the area), an ellipse
    (``cv2.fitEllipse``) or a polygon (``cv2.approxPolyDP``, to ``n_vertices`` corners when given).

    Parameters
    ----------
    source : str, path-like or ndarray
        A video file, an image file, one frame (H, W[, 3]) or a stack of frames (N, H, W[, 3]).
    shape : {"circle", "ellipse", "polygon"}, default "circle"
        Geometry fitted to the detected region.
    n_frames : int, default 100
        Frames sampled from a video for the median background.
    n_vertices : int, optional
        Number of polygon corners (default: what ``approxPolyDP`` finds at 1 % of the perimeter).
    random_state : int, RandomState or None
        Frame sampling.

    Returns
    -------
    Arena
        In pixels.
    """
    where = "detect_arena_from_video"
    cv2 = _import_cv2(where)
    gray = cv2.GaussianBlur(_background(cv2, source, n_frames, random_state), (5, 5), 0)
    _, bw = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    h, w = gray.shape
    best, best_area, fallback, fallback_area = None, 0.0, None, 0.0
    for mask in (bw, 255 - bw):
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        for cnt in contours:
            area = cv2.contourArea(cnt)
            x, y, cw, ch = cv2.boundingRect(cnt)
            touches = x <= 0 or y <= 0 or x + cw >= w or y + ch >= h
            if not touches and area > best_area:
                best, best_area = cnt, area
            if area > fallback_area:
                fallback, fallback_area = cnt, area
    cnt = best if best is not None else fallback
    if cnt is None or cv2.contourArea(cnt) < 0.01 * h * w:
        raise ValueError(f"{where}: no arena-sized region found in the background image ({w}x{h} px).")
    hull = cv2.convexHull(cnt)
    if shape == "circle":
        m = cv2.moments(hull)
        return Arena.circle((m["m10"] / m["m00"], m["m01"] / m["m00"]), np.sqrt(m["m00"] / np.pi))
    if shape == "ellipse":
        (cx, cy), (da, db), ang = cv2.fitEllipse(hull)
        return Arena.ellipse((cx, cy), (da / 2, db / 2), np.deg2rad(ang))
    perimeter = cv2.arcLength(hull, True)
    if n_vertices is None:
        approx = cv2.approxPolyDP(hull, 0.01 * perimeter, True)
    else:
        lo, hi = 0.0, 0.5 * perimeter
        approx = hull
        for _ in range(40):  # bisection on the tolerance until the corner count matches
            eps = (lo + hi) / 2
            approx = cv2.approxPolyDP(hull, eps, True)
            if len(approx) == n_vertices:
                break
            lo, hi = (eps, hi) if len(approx) > n_vertices else (lo, eps)
    return Arena.polygon(approx.reshape(-1, 2).astype(float))


# -- estimators -------------------------------------------------------------------------------------------------
class ArenaDetector(BasePosesTransformer):
    """Find each recording's arena and store it in ``attrs["arena"]``.

    Parameters
    ----------
    method : {"tracks", "video"}, default "tracks"
        ``"tracks"``: the outer envelope of where the animals go (:func:`detect_arena_from_tracks`); ``"video"``:
        the arena seen in the video's median background (:func:`detect_arena_from_video`, needs OpenCV).
    shape : {"circle", "polygon", "ellipse"}, default "circle"
        Arena geometry; ``"ellipse"`` is available with ``method="video"`` only.
    keypoints : list of str, optional
        Keypoints whose positions outline the arena (``method="tracks"``); default all.
    quantile : float, default 0.99
        Robust "outermost" level per angular sector (``method="tracks"``); 1.0 takes the farthest point.
    n_vertices : int, optional
        Number of polygon corners (``shape="polygon"``).
    video : str, path-like, ndarray or dict, optional
        For ``method="video"``: one video/image/frame for every recording, or a dict from recording id (or source
        file) to a video/image/frame. Default: ``attrs["video_file"]`` of each recording.
    n_frames : int, default 100
        Frames sampled from a video for its median background.
    random_state : int, RandomState or None
        Frame sampling of videos.
    n_jobs : int, optional
        Recordings processed in parallel with joblib.

    Attributes
    ----------
    keypoints_, individuals_, n_recordings_
        As for every poses transformer (see :class:`~deepof_sk.base.BasePosesTransformer`).

    Notes
    -----
    Stateless: ``fit`` only validates, each recording's arena is detected in ``transform`` and written to
    ``attrs["arena"]`` as JSON (read it back with :func:`get_arena`); positions are unchanged. NaN positions are
    ignored by the track method; a recording with fewer than 10 finite points is an error. Units: the track arena
    is in the dataset's unit, the video arena in pixels.

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> from deepof_sk.preprocessing import get_arena
    >>> ds = make_synthetic_poses(500, scenario="explore", random_state=0)
    >>> out = ArenaDetector().fit_transform(ds)
    >>> get_arena(out).shape
    'circle'
    """

    _parameter_constraints = {
        "method": [StrOptions({"tracks", "video"})],
        "shape": [StrOptions({"circle", "polygon", "ellipse"})],
        "keypoints": [list, tuple, None],
        "quantile": [Interval(Real, 0, 1, closed="right")],
        "n_vertices": [Interval(Integral, 3, None, closed="left"), None],
        "video": [str, os.PathLike, np.ndarray, dict, None],
        "n_frames": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        *,
        method="tracks",
        shape="circle",
        keypoints=None,
        quantile=0.99,
        n_vertices=None,
        video=None,
        n_frames=100,
        random_state=None,
        n_jobs=None,
    ):
        self.method = method
        self.shape = shape
        self.keypoints = keypoints
        self.quantile = quantile
        self.n_vertices = n_vertices
        self.video = video
        self.n_frames = n_frames
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _fit_recordings(self, recordings, y=None):
        if self.method == "tracks" and self.shape == "ellipse":
            raise ValueError(
                "ArenaDetector: shape='ellipse' needs method='video'; use 'circle' or 'polygon'."
            )
        if self.keypoints is not None:
            missing = sorted(set(self.keypoints) - set(self.keypoints_))
            if missing:
                raise ValueError(
                    f"ArenaDetector: `keypoints` names {missing}, absent from the data "
                    f"(has {sorted(self.keypoints_)})."
                )

    def _video_for(self, ds):
        src = self.video
        if isinstance(src, dict):
            for key in (ds.attrs.get("recording_id"), ds.attrs.get(S.SOURCE_FILE)):
                if key is not None and key in src:
                    return src[key]
            raise ValueError(
                f"ArenaDetector: `video` has no entry for recording {_recording_label(ds)}; its keys are "
                f"{sorted(map(str, src))}. Key it by attrs['recording_id'] or attrs['source_file']."
            )
        if src is None:
            src = ds.attrs.get("video_file") or ds.attrs.get("video_path")
            if not src:
                raise ValueError(
                    f"ArenaDetector(method='video'): recording {_recording_label(ds)} has no attrs['video_file']; "
                    "pass `video=` (a path, a frame, or a dict from recording id to path)."
                )
        return src

    def _transform_recording(self, ds):
        if self.method == "tracks":
            arena = detect_arena_from_tracks(
                ds,
                shape=self.shape,
                keypoints=self.keypoints,
                quantile=self.quantile,
                n_vertices=self.n_vertices,
            )
        else:
            arena = detect_arena_from_video(
                self._video_for(ds),
                shape=self.shape,
                n_frames=self.n_frames,
                n_vertices=self.n_vertices,
                random_state=self.random_state,
            )
            arena = convert_to_dataset_unit(arena, ds, "ArenaDetector")
        return attach_arena(ds, arena)


def _scale_rois_attr(raw, factor: float, unit: str):
    if raw is None:
        return None
    rois = json.loads(raw) if isinstance(raw, str) else raw
    return json.dumps(
        {k: _coerce_arena(v, "ArenaScaler").scaled(factor, unit).to_dict() for k, v in rois.items()}
    )


class ArenaScaler(BasePosesTransformer):
    """Convert positions from pixels to millimetres, from the arena's known size or a given pixel scale.

    Parameters
    ----------
    arena_size : str, default "380 mm"
        Real size of the arena's reference length with its unit (DeepOF's ``video_scale``): the diameter of a
        circle (twice the mean semi-axis of an ellipse), the first edge of a polygon. A bare number is an error;
        sizes outside 50-5000 mm warn (:class:`~deepof_sk.exceptions.DataQualityWarning`).
    px_per_mm : float, optional
        Pixels per millimetre; when given, it sets the scale and ``arena_size`` is ignored (the arena, if any, is
        still converted to mm and stored).
    arena : Arena, dict or "from_attrs", default "from_attrs"
        The arena in pixels (one for every recording; stored in ``attrs["arena"]`` in mm after scaling), or each
        recording's ``attrs["arena"]``.
    n_jobs : int, optional
        Recordings processed in parallel with joblib.

    Attributes
    ----------
    keypoints_, individuals_, n_recordings_
        As for every poses transformer.

    Notes
    -----
    Positions (and every variable whose ``units`` attribute is ``"pixels"``) are divided by the per-recording
    scale; the origin is unchanged, as in DeepOF. ``attrs["space_unit"]`` and ``position.attrs["units"]`` become
    ``"mm"``, the scale is recorded in ``attrs["px_per_mm"]`` (and kept by :meth:`inverse_transform`, as it still
    describes the pixel data), and the stored arena and ROIs are converted too.
    :meth:`inverse_transform` returns to pixels. NaNs stay NaN. A recording already in mm is an error.

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> ds = make_synthetic_poses(50, px_per_mm=3.0, random_state=0)
    >>> mm = ArenaScaler(px_per_mm=3.0).fit_transform(ds)
    >>> nose_ahead = mm.position.sel(keypoint="Nose") - mm.position.sel(keypoint="Center")
    >>> mm.attrs["space_unit"], float(nose_ahead.isel(time=0, individual=0).sel(space="x"))
    ('mm', 45.0)
    """

    _parameter_constraints = {
        "arena_size": [str, Real, None],
        "px_per_mm": [Interval(Real, 0, None, closed="neither"), None],
        "arena": [Arena, dict, StrOptions({"from_attrs"})],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, arena_size="380 mm", px_per_mm=None, arena="from_attrs", n_jobs=None):
        self.arena_size = arena_size
        self.px_per_mm = px_per_mm
        self.arena = arena
        self.n_jobs = n_jobs

    def _fit_recordings(self, recordings, y=None):
        if self.px_per_mm is not None:
            return
        if self.arena_size is None:
            raise ValueError("ArenaScaler: give `arena_size` (e.g. '380 mm') or `px_per_mm`.")
        size = parse_length(self.arena_size, where="ArenaScaler")
        if not 50 <= size <= 5000:
            warnings.warn(
                f"ArenaScaler: arena_size={self.arena_size!r} is {size:g} mm, outside the plausible 50-5000 mm; "
                "check the unit.",
                DataQualityWarning,
                stacklevel=3,
            )

    def _scale_for(self, ds) -> float:
        if self.px_per_mm is not None:
            return float(self.px_per_mm)
        arena = self.arena
        if isinstance(arena, str):
            arena = get_arena(ds)
            if arena is None:
                raise ValueError(
                    f"ArenaScaler: recording {_recording_label(ds)} has no attrs['arena']; run ArenaDetector first, "
                    "pass `arena=` (in pixels) or `px_per_mm=`."
                )
        arena = _coerce_arena(arena, "ArenaScaler")
        if arena.unit != "pixels":
            raise ValueError(f"ArenaScaler: the arena must be in pixels; got unit {arena.unit!r}.")
        return arena.scale_length / parse_length(self.arena_size, where="ArenaScaler")

    def _rescale(self, ds, factor: float, unit: str, scale: float) -> xr.Dataset:
        out = ds.copy()
        old_unit = "pixels" if unit == "mm" else "mm"
        for name, da in ds.data_vars.items():
            if name == S.POSITION or da.attrs.get("units") == old_unit:
                out[name] = (da * factor).assign_attrs({**da.attrs, "units": unit})
        attrs = {**ds.attrs, S.SPACE_UNIT: unit}
        given = unit == "mm" and not isinstance(self.arena, str)
        arena = _coerce_arena(self.arena, "ArenaScaler") if given else get_arena(ds)
        if arena is not None and arena.unit == old_unit:
            arena = arena.scaled(factor, unit)
        if arena is not None:
            attrs[ARENA_ATTR] = json.dumps(arena.to_dict())
        if ds.attrs.get(ROIS_ATTR) is not None:
            attrs[ROIS_ATTR] = _scale_rois_attr(ds.attrs[ROIS_ATTR], factor, unit)
        attrs[PX_PER_MM_ATTR] = float(scale)  # still true of the pixel data after inverse_transform
        out.attrs = attrs
        return out

    def _transform_recording(self, ds):
        if ds.attrs.get(S.SPACE_UNIT, "pixels") != "pixels":
            raise ValueError(
                f"ArenaScaler: recording {_recording_label(ds)} is in {ds.attrs.get(S.SPACE_UNIT)!r}, not pixels; "
                "it is already scaled."
            )
        scale = self._scale_for(ds)
        return self._rescale(ds, 1.0 / scale, "mm", scale)

    def inverse_transform(self, X):
        """Back to pixels with each recording's ``attrs["px_per_mm"]``.

        Parameters
        ----------
        X : xarray.Dataset or sequence of xarray.Dataset
            Recordings produced by :meth:`transform`.

        Returns
        -------
        xarray.Dataset or list of xarray.Dataset
        """
        check_is_fitted(self)
        recordings, single = check_recordings(X, where="ArenaScaler.inverse_transform")
        out = []
        for ds in recordings:
            scale = ds.attrs.get(PX_PER_MM_ATTR)
            if ds.attrs.get(S.SPACE_UNIT) != "mm" or scale is None:
                raise ValueError(
                    f"ArenaScaler.inverse_transform: recording {_recording_label(ds)} is not in mm with "
                    "attrs['px_per_mm']; only the output of ArenaScaler.transform can be inverted."
                )
            back = self._rescale(ds, float(scale), "pixels", float(scale))
            append_log(back, "ArenaScaler.inverse_transform")
            out.append(back)
        return return_like(out, single)
