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
import warnings
from numbers import Integral, Real

import numpy as np
import xarray as xr
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .. import schema as S
from ..base import BasePosesTransformer
from ..exceptions import DataQualityWarning
from ..validation import append_log, check_recordings, return_like
from ._arena_geometry import (  # noqa: F401 - re-exported
    ARENA_ATTR,
    PX_PER_MM_ATTR,
    ROIS_ATTR,
    Arena,
    _coerce_arena,
    _fit_circle,
    _import_cv2,
    _recording_label,
    attach_arena,
    convert_to_dataset_unit,
    get_arena,
    parse_length,
    resolve_arena,
)

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


def _envelope(p: np.ndarray, center: np.ndarray, quantile: float, n_sectors: int) -> np.ndarray:
    """Per angular sector around ``center``, the point at the ``quantile`` of the distance (vectorised)."""
    dx, dy = p[:, 0] - center[0], p[:, 1] - center[1]  # contiguous columns: hypot and arctan2 vectorise
    r = np.hypot(dx, dy)
    angle = np.arctan2(dy, dx)
    angle += np.pi  # in place, the same operations in the same order as (arctan2 + pi) / (2 pi) * n_sectors
    angle /= 2 * np.pi
    angle *= n_sectors
    sector = np.floor(angle, out=angle).astype(np.int16 if n_sectors < 2**15 else int) % n_sectors
    # points grouped by sector in their original order (a stable radix sort of small integers), then in each
    # sector the k-th smallest distance by a partition, ties broken by position: what a lexsort by (sector, r)
    # followed by indexing gives, without sorting every point by its distance
    order = np.argsort(sector, kind="stable")
    counts = np.bincount(sector, minlength=n_sectors)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    full = np.flatnonzero(counts > 0)
    ranks = np.floor(quantile * (counts[full] - 1)).astype(int)
    r_sorted = r[order]
    pick = np.empty(len(full), dtype=np.intp)
    for n, (s, k) in enumerate(zip(full, ranks, strict=True)):  # loop over sectors (tens), not points
        seg = r_sorted[starts[s]: starts[s] + counts[s]]
        v = np.partition(seg, k)[k]
        pick[n] = starts[s] + np.flatnonzero(seg == v)[k - np.count_nonzero(seg < v)]
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
    max_points: int = 250_000,
) -> Arena:
    """Estimate the arena from where the animals go: the outer envelope of all tracked points.

    Points are binned into ``n_sectors`` angular sectors around a provisional centre; in each sector the point at
    the ``quantile`` of the distance is kept (robust to tracking spikes). A circle is fitted to those envelope
    points by least squares (twice, re-centring), or their convex hull is returned as a polygon; with
    ``n_vertices`` the hull is simplified to that many corners and each edge refitted as the least-squares line of
    the envelope points nearest to it. The result is an inner bound: an arena whose walls the animals never reach is
    underestimated. Returns an :class:`Arena` in the dataset's unit. Recordings with more than ``max_points``
    finite points use an evenly strided subset of them (deterministic; the envelope quantiles barely move, and a
    one-hour recording is read in a fraction of a second).
    """
    from scipy.spatial import ConvexHull

    where = "detect_arena_from_tracks"
    if shape not in ("circle", "polygon"):
        raise ValueError(f"{where}: `shape` must be 'circle' or 'polygon'; got {shape!r}.")
    pos = ds[S.POSITION] if keypoints is None else ds[S.POSITION].sel({S.KEYPOINT: list(keypoints)})
    pos = pos.transpose(..., S.SPACE)  # a view: (other dims..., space)
    space = [str(c) for c in pos[S.SPACE].values]
    cols = [space.index(c) for c in S.SPACE_2D]
    values = pos.values  # (n_points..., space)
    # flat indices (C order over the other dims) of the points with both coordinates finite, evenly strided
    # beyond max_points; only those points are gathered (no copy of the whole array)
    finite = np.isfinite(values)
    idx = np.flatnonzero(finite[..., cols[0]] & finite[..., cols[1]])
    if len(idx) > max_points:
        idx = idx[:: int(np.ceil(len(idx) / max_points))]
    p = values[np.unravel_index(idx, values.shape[:-1])]
    p = p if cols == [0, 1] and p.shape[1] == 2 else p[:, cols]
    if len(p) < 10:
        raise ValueError(
            f"{where}: recording {_recording_label(ds)} has {len(p)} finite keypoint positions; at least 10 are "
            "needed to estimate an arena from the tracks. Give the arena explicitly (attach_arena)."
        )
    lo, hi = np.quantile(p, [0.005, 0.995], axis=0)
    center = (lo + hi) / 2
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
    copy : bool, default True
        False: :meth:`transform` rescales the input's own arrays in place where they are writeable float arrays
        (no new array; the input recording is modified, as scikit-learn's ``copy=False``). For a pipeline that owns
        its recordings.
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
        "copy": ["boolean"],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, arena_size="380 mm", px_per_mm=None, arena="from_attrs", copy=True, n_jobs=None):
        self.arena_size = arena_size
        self.px_per_mm = px_per_mm
        self.arena = arena
        self.copy = copy
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

    def _rescale(self, ds, factor: float, unit: str, scale: float, inplace: bool = False) -> xr.Dataset:
        out = ds.copy()
        old_unit = "pixels" if unit == "mm" else "mm"
        for name, da in ds.data_vars.items():
            if name == S.POSITION or da.attrs.get("units") == old_unit:
                values = da.values
                if inplace and values.flags.writeable and values.dtype.kind == "f":
                    np.multiply(values, factor, out=values)  # the same float32/float64 arithmetic as da * factor
                    scaled = da.variable.copy(deep=False, data=values)  # a Variable: no coordinate alignment
                    scaled.attrs = {**da.attrs, "units": unit}
                    out[name] = scaled
                else:
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
        return self._rescale(ds, 1.0 / scale, "mm", scale, inplace=not self.copy)

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
