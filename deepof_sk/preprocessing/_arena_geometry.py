"""The arena value object (circle, ellipse, polygon) and its geometry, stored in dataset attrs."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from .. import schema as S
from ..utils._optional import import_optional

__all__ = [
    "Arena",
    "attach_arena",
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
    return import_optional("cv2", where)


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
