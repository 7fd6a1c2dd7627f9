"""Shared machinery of the rule-based annotators: the per-recording context, the base estimator, the output layout.

* :class:`AnnotationContext` gives a rule what it needs for one recording, in DeepOF's units (mm, mm/s), computed
  lazily and cached: positions by role, confidences, DeepOF's rolling speeds, animal presence, body length, the
  arena. The composite annotator shares one context between all its rules, so each speed is computed once.
* :class:`BaseAnnotator` is the estimator every annotator derives from (a user's own rule can too): it resolves
  keypoint roles in ``fit`` and, in ``transform``, calls :meth:`BaseAnnotator.annotate` and stores the result.
* Output: individual behaviours go to ``annotation`` with dims ``(time, individual, behavior)``; pair behaviours to
  ``social_annotation`` with dims ``(time, individual_pair, social_behavior)``. Both are float: 1.0 / 0.0 for binary
  behaviours, values for continuous ones (coordinates ``behavior_kind`` / ``social_behavior_kind`` and
  ``behavior_unit`` say which; ``directional`` marks directional pair behaviours), and NaN
  where the animal (either animal of a pair) is missing. Re-running an annotator replaces its behaviours and keeps
  the others, so annotators compose in a Pipeline.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from numbers import Integral

import numpy as np
import xarray as xr

from .. import schema as S
from ..base import BasePosesTransformer
from ..features._kinematics import deepof_speed
from ..utils._median import nanmedian_planes
from ..utils._params import fill_nan_linear
from ..utils._warnings import quiet_nan_warnings
from ..validation import get_fps
from ._roles import ROLE_GROUPS, check_roles_param, resolve_roles

__all__ = [
    "ANNOTATION",
    "SOCIAL_ANNOTATION",
    "SOCIAL_BEHAVIOR",
    "INDIVIDUAL_PAIR",
    "AnnotationContext",
    "BaseAnnotator",
    "BehaviorInfo",
    "BODY_LENGTH_ATTR",
    "NOSE_EAR_ATTR",
]

logger = logging.getLogger(__name__)

#: Variable of individual behaviours, dims (time, individual, behavior).
ANNOTATION = "annotation"
#: Variable of pair behaviours, dims (time, individual_pair, social_behavior).
SOCIAL_ANNOTATION = "social_annotation"
#: Dimension of ordered animal pairs (coordinates ``actor`` and ``partner``). ``schema.PAIR`` ("pair") is taken by
#: the within-animal keypoint pairs of the distance features, so animal pairs get their own name.
INDIVIDUAL_PAIR = S.INDIVIDUAL_PAIR
#: Dimension of pair behaviours (a dimension coordinate cannot be shared with individual behaviours).
SOCIAL_BEHAVIOR = S.SOCIAL_BEHAVIOR
#: Name of the "binary" / "continuous" coordinate of each behaviour dimension (coordinates are dataset-wide).
KIND_COORD = {"behavior": "behavior_kind", SOCIAL_BEHAVIOR: "social_behavior_kind"}

#: Frames per block when deriving speeds and distances from positions.
_CHUNK = 8192

_MM_PER_UNIT = {"mm": 1.0, "millimeters": 1.0, "millimetres": 1.0, "cm": 10.0, "m": 1000.0}

#: ``ds.attrs`` key of a given per-animal body length in mm, JSON ``{individual: value}`` (or a dict): used by
#: climb-arena instead of estimating it from the recording (:meth:`AnnotationContext.body_length`).
BODY_LENGTH_ATTR = "deepof_sk_body_length"
#: ``ds.attrs`` key of given per-animal median nose-ear distances in mm, JSON ``{individual: {"left_ear": value,
#: "right_ear": value}}`` (or a dict): used by stat-lookaround instead of the medians over the recording
#: (:meth:`AnnotationContext.nose_ear_median`).
NOSE_EAR_ATTR = "deepof_sk_lookaround_nose_ear"

#: Body length: fewer complete frames than this give DeepOF's default of 50 mm; at most this many are used.
_MIN_BODY_FRAMES = 400
_MAX_BODY_FRAMES = 5000


def _body_length_sample(n: int) -> np.ndarray:
    """Positions, among ``n`` complete frames, of the (at most 5,000, evenly spaced) frames the body length uses."""
    return np.linspace(0, n - 1, min(_MAX_BODY_FRAMES, n)).astype(int)


def body_length_from_frames(lengths: np.ndarray) -> np.ndarray:
    """DeepOF's body length per animal from per-frame backbone lengths ``(time, individual)`` (NaN where the
    backbone is incomplete), as :meth:`AnnotationContext.body_length` computes it from the same frames."""
    out = np.full(lengths.shape[1], 50.0)
    for i in range(lengths.shape[1]):  # loop over animals
        frames = np.flatnonzero(~np.isnan(lengths[:, i]))
        if frames.size >= _MIN_BODY_FRAMES:
            out[i] = np.percentile(lengths[frames[_body_length_sample(frames.size)], i], 80)
    return out


def median_over_time(values: np.ndarray) -> np.ndarray:
    """Median along axis 0 of ``(time, individual)`` values, NaN ignored (stat-lookaround's reference)."""
    return np.median(values, axis=0) if not np.isnan(values).any() else np.nanmedian(values, axis=0)


@dataclass(frozen=True)
class BehaviorInfo:
    """What a behaviour is: ``kind`` "binary" or "continuous", its ``unit``, and for pairs whether it is
    ``directional`` (A->B differs from B->A). ``maskable=False`` keeps values where the animal is missing."""

    kind: str = "binary"
    unit: str = ""
    directional: bool = True
    maskable: bool = True


def to_frames(seconds: float, fps: float, minimum: int = 1) -> int:
    """Seconds -> frames with DeepOF's truncation (``int(fps / 2)`` for 0.5 s), robust to float noise."""
    return max(int(np.floor(float(seconds) * float(fps) + 1e-9)), int(minimum))


def mm_per_unit(ds: xr.Dataset, *, where: str) -> float:
    """Millimetres per unit of ``position``: 1 for mm, from ``attrs['px_per_mm']`` for pixels."""
    unit = str(ds.attrs.get(S.SPACE_UNIT) or "pixels").lower()
    if unit in _MM_PER_UNIT:
        return _MM_PER_UNIT[unit]
    scale = ds.attrs.get("px_per_mm")
    if unit in ("pixels", "pixel", "px") and scale is not None and np.isfinite(float(scale)) and float(scale) > 0:
        return 1.0 / float(scale)
    raise ValueError(
        f"{where}: the rules use thresholds in mm, but recording {ds.attrs.get(S.SOURCE_FILE) or ''} is in "
        f"{unit!r} with no attrs['px_per_mm']. Scale it first (deepof_sk.preprocessing.ArenaScaler(arena_size="
        "'380 mm')) or set ds.attrs['px_per_mm'] to the pixel scale."
    )


def interpolate_forward(values: np.ndarray) -> np.ndarray:
    """Linear interpolation of NaNs along axis 0, trailing NaNs take the last value, leading NaNs stay NaN
    (pandas' default ``DataFrame.interpolate()``, which DeepOF applies to speeds in the activity rules).
    Returns ``values`` itself when there is nothing to fill (callers never write into it)."""
    nan = np.isnan(values)
    first = np.argmin(nan, axis=0)  # first defined frame of each column (0 when all NaN)
    # leading NaNs of each column (all frames when all NaN); one count over the whole array is much cheaper than a
    # count per column, and equal to their sum only when every NaN is a leading one (the usual case)
    leading = np.where(np.take_along_axis(nan, first[None], axis=0)[0], values.shape[0], first)
    if np.count_nonzero(nan) == int(leading.sum()):
        return values
    out = fill_nan_linear(values, axis=0)
    out[np.arange(values.shape[0])[:, None] < first] = np.nan
    return out


def _median_above(values: np.ndarray, threshold: float) -> np.ndarray:
    """``np.median(values, axis=1) > threshold`` for (T, K, I) without sorting: counts decide, except for an even
    K with exactly K / 2 values above, where the two middle values are found with a min and a max."""
    above = values > threshold
    k = values.shape[1]
    count = np.zeros((values.shape[2], values.shape[0]), dtype=np.uint8 if k < 256 else np.int64)
    for i in range(values.shape[2]):  # loops over animals and keypoints: 1-D sums along time are many times faster
        for j in range(k):  # than a reduce over the short keypoint axis or sums of (time, animal) planes
            count[i] += above[:, j, i].view(np.uint8) if count.dtype == np.uint8 else above[:, j, i]
    count = np.ascontiguousarray(count.T)  # (T, I) in C order, like every other array of the context
    if k % 2:
        return count >= (k + 1) // 2
    out = count > k // 2
    tie = count == k // 2
    if tie.any():  # only the tied (frame, animal) rows
        t, i = np.nonzero(tie)
        v, a = values[t, :, i], above[t, :, i]  # (n_tied, K)
        hi = np.where(a, v, np.inf).min(axis=1)
        lo = np.where(a, -np.inf, v).max(axis=1)
        out[t, i] = (lo + hi) / 2 > threshold
    return out


class AnnotationContext:
    """Everything a rule needs about one recording, in mm and mm/s, computed on demand and cached.

    Parameters
    ----------
    ds : xarray.Dataset
        One recording (validated poses dataset with a frame rate).
    roles : dict
        Role -> keypoint name (see :func:`~deepof_sk.annotation.resolve_roles`).
    where : str
        Name of the caller, for messages.
    presence_threshold : float, default 0.5
        An animal is present in a frame when the median confidence of its keypoints exceeds this (DeepOF).
    extra : dict, optional
        Free-form user data for custom rules (DeepOF's ``custom_behavior_context``).

    Attributes
    ----------
    fps : float
    n_frames : int
    individuals : list of str
    keypoints : list of str
    pairs : list of (str, str)
        Ordered animal pairs: for every combination (A, B) in dataset order, (A, B) then (B, A).
    roles : dict
        Role -> keypoint name.
    extra : dict
        User data (``extra=`` of the annotator).

    Notes
    -----
    What a rule reads (``individual`` is a name or an index; omitted, every animal along the last axis):
    ``position(role, individual)`` and ``keypoint_position(name, individual)`` in mm; ``speed(role, individual)``
    (DeepOF's rolling speed, mm/s); ``confidence(role, individual)``; ``distance(role_a, role_b, individual_a,
    individual_b)`` and ``pair_distance(role_a, role_b)`` over :attr:`pairs`, in mm; ``presence`` (time,
    individual); ``body_length()``; ``nose_ear_median(ear)``; ``arena(spec)`` (an
    :class:`~deepof_sk.preprocessing.Arena` in mm); ``frames(seconds)``; ``has(role)`` /
    ``available(roles_or_group)``. Arrays are shared caches or views of the dataset: read them, never write into
    them.

    Whole-recording statistics can be given instead of computed, through the dataset's attributes (what
    :func:`~deepof_sk.scale.transform_in_chunks` does, from a first pass over the chunks, so that every chunk uses
    the statistic of the whole recording): ``attrs["deepof_sk_body_length"]`` (:data:`BODY_LENGTH_ATTR`), JSON
    ``{individual: mm}``, replaces :meth:`body_length`; ``attrs["deepof_sk_lookaround_nose_ear"]``
    (:data:`NOSE_EAR_ATTR`), JSON ``{individual: {"left_ear": mm, "right_ear": mm}}``, replaces
    :meth:`nose_ear_median`. Without them nothing changes.
    """

    def __init__(self, ds: xr.Dataset, roles: Mapping[str, str], *, where: str, presence_threshold: float = 0.5,
                 extra: Mapping | None = None):
        self.ds = ds
        self.where = where
        self.roles = dict(roles)
        self.fps = get_fps(ds, where=where)
        self.n_frames = int(ds.sizes[S.TIME])
        self.individuals = [str(i) for i in ds[S.INDIVIDUAL].values]
        self.keypoints = [str(k) for k in ds[S.KEYPOINT].values]
        self.pairs = [p for a, b in combinations(self.individuals, 2) for p in ((a, b), (b, a))]
        self.presence_threshold = float(presence_threshold)
        self.extra = dict(extra or {})
        self.mm_per_unit = mm_per_unit(ds, where=where)
        pos = ds[S.POSITION].transpose(S.TIME, S.SPACE, S.KEYPOINT, S.INDIVIDUAL)
        if pos.sizes[S.SPACE] > 2:
            pos = pos.sel({S.SPACE: list(S.SPACE_2D)})
        # the dataset's own array (never written); derived quantities are computed in blocks of frames, so their
        # temporaries stay small (cache-resident, no page faults on 1e5-1e6-frame recordings)
        self._raw = np.asarray(pos.values, dtype=float)
        self._conf = ds[S.CONFIDENCE].transpose(S.TIME, S.KEYPOINT, S.INDIVIDUAL).values
        self._cache: dict = {}

    # -- blocks of frames --------------------------------------------------------------------------------------
    def _chunks(self, start: int = 0):
        """(first, stop) frame ranges of at most ``_CHUNK`` frames covering ``start .. n_frames``."""
        for first in range(start, self.n_frames, _CHUNK):
            yield first, min(self.n_frames, first + _CHUNK)

    def _block_of(self, kidx: Sequence[int], first: int, stop: int) -> tuple[np.ndarray, list[int]]:
        """A block holding keypoints ``kidx`` and where each sits on its keypoint axis: the span of keypoints
        between the smallest and largest index (a view, no copy) when it is not much wider, else a gather."""
        kidx = list(kidx)
        lo, hi = min(kidx), max(kidx) + 1
        if hi - lo <= len(set(kidx)) + 3:
            return self._block(range(lo, hi), first, stop), [k - lo for k in kidx]
        return self._block(kidx, first, stop), list(range(len(kidx)))

    def _block(self, kidx: Sequence[int], first: int, stop: int) -> np.ndarray:
        """Positions in mm of keypoints ``kidx`` on frames ``first .. stop - 1``, (frames, 2, k, individual); a
        view of the dataset when the keypoints are consecutive and already in mm (never write into it)."""
        kidx = list(kidx)
        if kidx == list(range(kidx[0], kidx[-1] + 1)):
            block = self._raw[first:stop, :, kidx[0]: kidx[-1] + 1]
        else:
            block = self._raw[first:stop][:, :, kidx]
        return block * self.mm_per_unit if self.mm_per_unit != 1.0 else block

    def _series(self) -> np.ndarray:
        """Every keypoint in mm as ``(2, keypoint, individual, time)``, contiguous along time (cached; one blocked
        transpose). Rules that combine several keypoints or animals per frame read long contiguous rows from it
        instead of short strided ones (numpy runs ufuncs on ``(time, 2, K, I)`` views with an inner loop of I)."""
        if "series" not in self._cache:
            n_k, n_i = len(self.keypoints), len(self.individuals)
            out = np.empty((2, n_k, n_i, self.n_frames))
            for first, stop in self._chunks():  # blocks of frames: the transpose stays in cache
                np.copyto(out[..., first:stop], self._raw[first:stop].transpose(1, 2, 3, 0))
            if self.mm_per_unit != 1.0:
                out *= self.mm_per_unit
            self._cache["series"] = out
        return self._cache["series"]

    def _release(self) -> None:
        """Drop the cached arrays except ``presence`` (what storing the results needs), before the results are
        written into the output: the positions' transposed copy, speeds and confidences are no longer needed, and
        freeing them lowers the peak memory of long recordings."""
        self._cache = {k: v for k, v in self._cache.items() if k == "presence"}

    # -- lookup helpers ----------------------------------------------------------------------------------------
    def has(self, role: str) -> bool:
        """Whether ``role`` is mapped to a keypoint of this dataset."""
        return role in self.roles

    def available(self, roles: Sequence[str] | str) -> list[str]:
        """The roles (or the roles of a named group, e.g. ``"hips"``) that are mapped, in order."""
        names = ROLE_GROUPS[roles] if isinstance(roles, str) and roles in ROLE_GROUPS else roles
        names = [names] if isinstance(names, str) else list(names)
        return [r for r in names if r in self.roles]

    def _kp(self, role: str) -> int:
        if role not in self.roles:
            raise ValueError(
                f"{self.where}: the rule needs the keypoint role {role!r}, which is not mapped (mapped roles: "
                f"{sorted(self.roles)}). Pass roles={{'{role}': '<keypoint>'}}."
            )
        return self.keypoints.index(self.roles[role])

    def _ind(self, individual) -> int | slice:
        if individual is None:
            return slice(None)
        if isinstance(individual, Integral):
            return int(individual)
        return self.individuals.index(str(individual))

    def pair_index(self) -> tuple[np.ndarray, np.ndarray]:
        """Index arrays (actor, partner) into ``individuals`` for :attr:`pairs`."""
        a = np.array([self.individuals.index(p[0]) for p in self.pairs], dtype=int)
        b = np.array([self.individuals.index(p[1]) for p in self.pairs], dtype=int)
        return a, b

    def frames(self, seconds: float, minimum: int = 1) -> int:
        """A duration in seconds as a number of frames (DeepOF's truncation)."""
        return to_frames(seconds, self.fps, minimum)

    # -- data --------------------------------------------------------------------------------------------------
    def keypoint_position(self, keypoint: str, individual=None) -> np.ndarray:
        """Position of a keypoint by name, in mm: ``(time, 2, individual)`` or ``(time, 2)`` for one animal."""
        k = self.keypoints.index(keypoint)
        if self.mm_per_unit == 1.0:
            return self._raw[:, :, k, self._ind(individual)]
        key = ("kp", keypoint)
        if key not in self._cache:
            self._cache[key] = self._raw[:, :, k, :] * self.mm_per_unit
        return self._cache[key][:, :, self._ind(individual)]

    def position(self, role: str, individual=None) -> np.ndarray:
        """Position of the keypoint playing ``role``, in mm: ``(time, 2, individual)`` or ``(time, 2)``."""
        return self.keypoint_position(self.roles[role] if role in self.roles else self._kp(role), individual)

    def all_positions(self) -> np.ndarray:
        """Every keypoint of every animal in mm, ``(time, 2, keypoint, individual)``."""
        if self.mm_per_unit == 1.0:
            return self._raw
        if "all" not in self._cache:
            self._cache["all"] = self._raw * self.mm_per_unit
        return self._cache["all"]

    def _finite(self) -> np.ndarray:
        """``(time, 2, keypoint, individual)`` bool: finite coordinates (one pass over the positions, cached)."""
        if "finite" not in self._cache:
            self._cache["finite"] = np.isfinite(self._raw)
        return self._cache["finite"]

    def _confidence_all(self) -> np.ndarray:
        """Confidences with movement's "not provided" NaN read as 1 where the point is tracked, 0 where not
        (what DeepOF does for SLEAP and numpy input)."""
        if "conf" not in self._cache:
            conf = self._conf
            nan = np.isnan(conf)
            missing = np.flatnonzero(nan) if nan.any() else ()
            if len(missing) > conf.size // 8:  # confidences "not provided" (e.g. SLEAP): one pass over everything
                tracked = np.isfinite(self._raw[:, 0]) & np.isfinite(self._raw[:, 1])
                conf = np.where(nan, tracked.astype(float), conf)
            elif len(missing):  # usually a few NaNs: patch those entries only
                t, k, i = np.unravel_index(missing, conf.shape)
                tracked = np.isfinite(self._raw[t, 0, k, i]) & np.isfinite(self._raw[t, 1, k, i])
                conf = conf.copy()
                conf.flat[missing] = tracked
            self._cache["conf"] = conf
        return self._cache["conf"]

    def confidence(self, role: str, individual=None) -> np.ndarray:
        """Tracking confidence of ``role``: ``(time, individual)`` or ``(time,)``."""
        key = ("conf", role)
        if key not in self._cache:  # a contiguous copy: comparisons on it run along time, not over 2-wide rows
            self._cache[key] = np.ascontiguousarray(self._confidence_all()[:, self._kp(role)])
        return self._cache[key][:, self._ind(individual)]

    def speeds(self, roles: Sequence[str]) -> None:
        """Compute (and cache) DeepOF's rolling speed of several roles in one pass."""
        todo = [r for r in dict.fromkeys(roles) if ("speed", r) not in self._cache]
        if not todo:
            return
        idx = [self._kp(r) for r in todo]
        out = None
        for first, stop in self._chunks(start=4):  # each block reads 4 frames back
            block, pick = self._block_of(idx, first - 4, stop)  # (frames, 2, keypoints, I)
            if out is None:
                out = np.full((block.shape[2], self.n_frames, len(self.individuals)), np.nan)
            out[:, first:stop] = deepof_speed(block, self.fps)[4:].transpose(1, 0, 2)
        if out is None:  # 4 frames or fewer: no speed is defined
            out, pick = np.full((len(idx), self.n_frames, len(self.individuals)), np.nan), list(range(len(idx)))
        for r, k in zip(todo, pick, strict=True):
            self._cache[("speed", r)] = out[k]

    def speed(self, role: str, individual=None, *, interpolate: bool = False) -> np.ndarray:
        """DeepOF's speed of ``role`` in mm/s, ``(time, individual)`` or ``(time,)``; NaN where undefined (the first
        4 frames, around missing points). ``interpolate=True`` bridges NaNs like DeepOF's activity rules do."""
        self.speeds([role])
        if not interpolate:
            return self._cache[("speed", role)][:, self._ind(individual)]
        key = ("speed_interp", role)
        if key not in self._cache:
            self._cache[key] = interpolate_forward(self._cache[("speed", role)])
        return self._cache[key][:, self._ind(individual)]

    def pair_distance(self, role_a: str, role_b: str, *, squared: bool = False) -> np.ndarray:
        """Distance in mm from ``role_a`` of each actor to ``role_b`` of its partner, ``(time, pair)`` over
        :attr:`pairs`, cached (``squared=True`` gives the squared distance, cheaper for thresholds)."""
        key = ("pair_d2", role_a, role_b)
        if key not in self._cache:
            a, b = self.pair_index()
            ka, kb = self._kp(role_a), self._kp(role_b)
            d2 = np.empty((self.n_frames, len(a)))
            for first, stop in self._chunks():
                pa, pb = self._block([ka], first, stop)[:, :, 0], self._block([kb], first, stop)[:, :, 0]
                dx = pa[:, 0, a] - pb[:, 0, b]
                dy = pa[:, 1, a] - pb[:, 1, b]
                dx *= dx
                dy *= dy
                np.add(dx, dy, out=d2[first:stop])
            self._cache[key] = d2
        d2 = self._cache[key]
        if squared:
            return d2
        key = ("pair_d", role_a, role_b)
        if key not in self._cache:
            self._cache[key] = np.sqrt(d2)
        return self._cache[key]

    def distance(self, role_a: str, role_b: str, individual_a=None, individual_b=None) -> np.ndarray:
        """Euclidean distance in mm between ``role_a`` of ``individual_a`` and ``role_b`` of ``individual_b``
        (default: the same animal), ``(time, individual)`` or ``(time,)``."""
        if individual_b is not None and self._ind(individual_b) != self._ind(individual_a):
            d = self.position(role_a, individual_a) - self.position(role_b, individual_b)
            return np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1])
        key = ("dist", role_a, role_b)
        if key not in self._cache:
            self.distances([(role_a, role_b)])
        return self._cache[key][:, self._ind(individual_a)]

    def distances(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Compute (and cache) several within-animal distances in one pass over blocks of frames."""
        todo = [p for p in dict.fromkeys(map(tuple, pairs)) if ("dist", *p) not in self._cache]
        if not todo:
            return
        x, y = self._series()  # (keypoint, individual, time) each
        for ra, rb in todo:
            ka, kb = self._kp(ra), self._kp(rb)
            dx, dy = x[ka] - x[kb], y[ka] - y[kb]  # (individual, time), contiguous rows
            dx *= dx
            dy *= dy
            dx += dy
            # (time, individual) view of contiguous (individual, time) rows: medians along time stay fast
            self._cache[("dist", ra, rb)] = np.sqrt(dx, out=dx).T

    @property
    def presence(self) -> np.ndarray:
        """``(time, individual)`` bool: median keypoint confidence above ``presence_threshold`` (DeepOF)."""
        if "presence" not in self._cache:
            self._cache["presence"] = _median_above(self._confidence_all(), self.presence_threshold)
        return self._cache["presence"]

    def median_speed(self, roles: Sequence[str]) -> np.ndarray:
        """Per-frame median of the speeds of ``roles`` (NaN ignored), ``(time, individual)``, cached."""
        key = ("median_speed", tuple(roles))
        if key not in self._cache:
            self.speeds(roles)
            speeds = [self.speed(r) for r in roles]
            out = np.empty((self.n_frames, len(self.individuals)))
            for first, stop in self._chunks():  # blocks of frames: the sorting network works in cache
                out[first:stop] = nanmedian_planes([v[first:stop] for v in speeds])
            self._cache[key] = out
        return self._cache[key]

    def body_length(self) -> np.ndarray:
        """Per-animal body length in mm (DeepOF): the 80th percentile of the summed Nose-Spine_1-Center-Spine_2-
        Tail_base segment lengths over up to 5,000 frames where the mapped backbone parts are all tracked; 50 mm
        when fewer than two parts are mapped or fewer than 400 such frames exist. DeepOF draws the 5,000 frames at
        random; they are evenly spaced here, so the value is deterministic. ``attrs["deepof_sk_body_length"]``
        (see :data:`BODY_LENGTH_ATTR`), when present, is used instead."""
        if "body_length" not in self._cache:
            given = self._given(BODY_LENGTH_ATTR)
            if given is not None:
                if not all(np.isfinite(v) and v > 0 for v in given):
                    raise ValueError(f"{self.where}: attrs[{BODY_LENGTH_ATTR!r}] must give a positive body length "
                                     f"in mm for every animal; got {given}.")
                self._cache["body_length"] = np.asarray(given, dtype=float)
                return self._cache["body_length"]
            parts = self.available("backbone")
            out = np.full(len(self.individuals), 50.0)
            if len(parts) > 1:
                kidx = [self._kp(r) for r in parts]
                for i in range(len(self.individuals)):  # loop over animals
                    frames = np.flatnonzero(self._backbone_complete(kidx, i))
                    if frames.size < _MIN_BODY_FRAMES:
                        continue
                    frames = frames[_body_length_sample(frames.size)]
                    out[i] = np.percentile(self._backbone_rows(frames, kidx, i), 80)
            self._cache["body_length"] = out
        return self._cache["body_length"]

    def _backbone_complete(self, kidx: Sequence[int], i: int) -> np.ndarray:
        """``(time,)`` bool: every backbone part ``kidx`` of animal ``i`` has both coordinates."""
        finite = self._finite()
        complete = np.ones(self.n_frames, dtype=bool)
        for k in kidx:  # loop over backbone parts: 1-D along time (fast, unlike (time, animal) planes)
            complete &= finite[:, 0, k, i]
            complete &= finite[:, 1, k, i]
        return complete

    def _backbone_rows(self, frames: np.ndarray, kidx: Sequence[int], i: int) -> np.ndarray:
        """Summed backbone segment lengths in mm of animal ``i`` on ``frames`` (only those frames are read)."""
        pts = self._raw[frames][:, :, kidx, i]  # (n, 2, R)
        seg = np.diff(pts, axis=2) * self.mm_per_unit  # (n, 2, R - 1)
        return np.sqrt((seg * seg).sum(axis=1)).sum(axis=1)

    def backbone_lengths(self) -> np.ndarray:
        """Per-frame summed backbone segment length in mm, ``(time, individual)``: the quantity whose 80th
        percentile is :meth:`body_length`; NaN on frames where a mapped backbone part is not tracked, and
        everywhere when fewer than two backbone parts are mapped. :func:`body_length_from_frames` of the values of
        a whole recording (e.g. gathered chunk by chunk) is :meth:`body_length`, bit for bit."""
        out = np.full((self.n_frames, len(self.individuals)), np.nan)
        parts = self.available("backbone")
        if len(parts) > 1:
            kidx = [self._kp(r) for r in parts]
            for i in range(len(self.individuals)):  # loop over animals
                frames = np.flatnonzero(self._backbone_complete(kidx, i))
                out[frames, i] = self._backbone_rows(frames, kidx, i)
        return out

    def nose_ear_median(self, ear: str) -> np.ndarray:
        """Median over the recording of the nose-``ear`` distance (``ear`` "left_ear" or "right_ear"), mm, per
        animal (stat-lookaround's reference; NaN ignored). ``attrs["deepof_sk_lookaround_nose_ear"]`` (see
        :data:`NOSE_EAR_ATTR`), when present, is used instead."""
        key = ("nose_ear_median", ear)
        if key not in self._cache:
            given = self._given(NOSE_EAR_ATTR, ear)
            if given is not None:
                self._cache[key] = np.asarray(given, dtype=float)
            else:
                self.distances([("nose", ear)])
                self._cache[key] = median_over_time(self.distance("nose", ear))
        return self._cache[key]

    def _given(self, attr: str, part: str | None = None) -> list[float] | None:
        """Per-animal values of a statistic given in ``attrs[attr]`` (JSON or dict ``{individual: value}``, or
        ``{individual: {part: value}}``), in the order of :attr:`individuals`; None when the attribute is absent."""
        raw = self.ds.attrs.get(attr)
        if raw is None:
            return None
        shape = "{individual: value}" if part is None else f'{{individual: {{"{part}": value, ...}}}}'
        try:
            table = json.loads(raw) if isinstance(raw, (str, bytes)) else dict(raw)
            values = []
            for ind in self.individuals:
                entry = table[ind] if part is None else table[ind][part]
                values.append(float(entry))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(
                f"{self.where}: attrs[{attr!r}] of recording {self.ds.attrs.get(S.SOURCE_FILE) or ''} must be "
                f"{shape} (JSON or a dict) with an entry for every animal {self.individuals}; got {raw!r} "
                f"({type(exc).__name__}: {exc}). Remove it to compute the statistic from the recording."
            ) from exc
        return values

    def arena(self, spec="auto"):
        """The arena in mm: ``"auto"`` (attrs, else estimated from the tracks), ``"from_attrs"``, an Arena or a
        dict from :meth:`Arena.to_dict` (in mm, or in pixels with ``attrs['px_per_mm']``)."""
        from ..preprocessing._arena import Arena, detect_arena_from_tracks, get_arena, resolve_arena

        key = ("arena", spec if isinstance(spec, (str, Arena)) else json.dumps(spec, sort_keys=True, default=str))
        if key not in self._cache:
            if isinstance(spec, str) and spec == "auto":
                if get_arena(self.ds) is None:
                    logger.info("%s: no attrs['arena']; estimating a circular arena from the tracks", self.where)
                    geom = detect_arena_from_tracks(self.ds, shape="circle")
                else:
                    geom = resolve_arena("from_attrs", self.ds, self.where)
            else:
                geom = resolve_arena(spec, self.ds, self.where)
            self._cache[key] = geom.scaled(self.mm_per_unit, "mm") if self.mm_per_unit != 1.0 else geom
        return self._cache[key]


class BaseAnnotator(BasePosesTransformer):
    """Base of the rule-based annotators: roles resolved in ``fit``, rules applied per recording in ``transform``.

    Subclass it to write a rule as an estimator: set ``_scope`` ("individual" or "pair"), implement
    :meth:`annotate` and ``_behavior_info`` (name -> :class:`BehaviorInfo`), list ``_required_roles`` (and
    optionally ``_optional_roles``, ``_check_params``), and take ``roles``, ``mask_missing`` and ``n_jobs`` in
    ``__init__``. Such a subclass joins :class:`~deepof_sk.annotation.DeepOFAnnotator` through ``custom_rules``.
    ``BaseAnnotator()`` itself adds nothing.

    Attributes
    ----------
    roles_ : dict
        Role -> keypoint name, resolved against the keypoints seen in ``fit``.
    behaviors_ : list of str
        Names of the behaviours the annotator adds.
    keypoints_, individuals_, n_recordings_
        As for every poses transformer.
    """

    _requires_fps = True
    _scope = "individual"
    _parameter_constraints = {"roles": [dict, None], "mask_missing": ["boolean"], "n_jobs": [Integral, None]}

    def __init__(self, *, roles=None, mask_missing=True, n_jobs=None):
        self.roles = roles
        self.mask_missing = mask_missing
        self.n_jobs = n_jobs

    # -- hooks for subclasses ----------------------------------------------------------------------------------
    def _required_roles(self) -> tuple[str, ...]:
        return ()

    def _optional_roles(self) -> tuple[str, ...]:
        return ()

    def _behavior_info(self) -> dict[str, BehaviorInfo]:
        """Name -> :class:`BehaviorInfo` of each behaviour added (the base class adds none)."""
        return {}

    def _check_params(self) -> None:
        """Checks that the declarative constraints cannot express."""

    def annotate(self, ctx: AnnotationContext) -> dict[str, np.ndarray]:
        """Per-frame values of each behaviour: ``(time, individual)`` arrays (``(time, pair)`` over ``ctx.pairs``
        for pair behaviours), bool for binary behaviours, float for continuous ones. The base class adds nothing
        (``BaseAnnotator()`` is a no-op step); subclasses override this."""
        return {}

    # -- machinery ---------------------------------------------------------------------------------------------
    def _fit_recordings(self, recordings, y=None):
        where = type(self).__name__
        check_roles_param(getattr(self, "roles", None), where=where)
        self._check_params()
        self.roles_ = resolve_roles(
            self.keypoints_, getattr(self, "roles", None), required=self._required_roles(),
            optional=self._optional_roles(), where=where,
        )
        self.behaviors_ = list(self._behavior_info())

    def _context(self, ds: xr.Dataset) -> AnnotationContext:
        return AnnotationContext(
            ds, self.roles_, where=type(self).__name__,
            presence_threshold=getattr(self, "presence_threshold", 0.5), extra=getattr(self, "extra", None),
        )

    def _transform_recording(self, ds: xr.Dataset) -> xr.Dataset:
        from ._output import store_annotations

        ctx = self._context(ds)
        with quiet_nan_warnings():
            results = self.annotate(ctx)
        ctx.presence  # noqa: B018 - computed now, kept by _release
        ctx._release()
        return store_annotations(ds, ctx, results, self._behavior_info(), scope=self._scope,
                                 mask_missing=getattr(self, "mask_missing", True), where=type(self).__name__)

    def get_feature_names_out(self, input_features=None):
        """Names of the behaviours this annotator adds."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        return np.asarray(self.behaviors_, dtype=object)
