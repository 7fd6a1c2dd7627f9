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
    n_nan = np.count_nonzero(nan, axis=0)
    if np.all((n_nan == first) | (n_nan == values.shape[0])):  # only leading NaNs (the usual case)
        return values
    out = fill_nan_linear(values, axis=0)
    out[np.arange(values.shape[0])[:, None] < first] = np.nan
    return out


def _median_above(values: np.ndarray, threshold: float) -> np.ndarray:
    """``np.median(values, axis=1) > threshold`` for (T, K, I) without sorting: counts decide, except for an even
    K with exactly K / 2 values above, where the two middle values are found with a min and a max."""
    above = values > threshold
    count = np.zeros((values.shape[0], values.shape[2]), dtype=np.int16)
    for j in range(values.shape[1]):  # loop over keypoints: plane sums are faster than a reduce over a short axis
        count += above[:, j]
    k = values.shape[1]
    if k % 2:
        return count >= (k + 1) // 2
    out = count > k // 2
    tie = count == k // 2
    if tie.any():
        hi = np.where(above, values, np.inf).min(axis=1)
        lo = np.where(above, -np.inf, values).max(axis=1)
        out |= tie & ((lo + hi) / 2 > threshold)
    return out


def nanmedian_last(values: np.ndarray, skip_leading: int = 0) -> np.ndarray:
    """NaN-ignoring median along the last axis, ``np.nanmedian``'s values (the mean of the two middle values for
    an even count), NaN where nothing is finite. Rows without NaN use one partition, rows with some NaN a sort.
    ``skip_leading`` rows along axis 0 are known to be NaN (the first 4 frames of a DeepOF speed): when the rest has
    no NaN at all, the NaN bookkeeping is skipped."""
    r = values.shape[-1]
    out = np.full(values.shape[:-1], np.nan)
    mid = [(r - 1) // 2, r // 2]
    rest = values[skip_leading:]
    if skip_leading and not np.isnan(rest).any():
        part = np.partition(rest, mid, axis=-1)
        out[skip_leading:] = (part[..., mid[0]] + part[..., mid[1]]) / 2
        return out
    count = np.zeros(values.shape[:-1], dtype=np.int16)
    for j in range(r):  # plane sums (a reduce over a short last axis is slow)
        count += np.isfinite(values[..., j])
    full = count == r
    if full.any():
        part = np.partition(values[full], mid, axis=-1)
        out[full] = (part[:, mid[0]] + part[:, mid[1]]) / 2
    some = (count > 0) & ~full
    if some.any():
        rows = np.sort(values[some], axis=-1)  # NaN sorts last
        c = count[some]
        lo = np.take_along_axis(rows, ((c - 1) // 2)[:, None], axis=-1)[:, 0]
        hi = np.take_along_axis(rows, (c // 2)[:, None], axis=-1)[:, 0]
        out[some] = (lo + hi) / 2
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
    individual); ``body_length()``; ``arena(spec)`` (an :class:`~deepof_sk.preprocessing.Arena` in mm);
    ``frames(seconds)``; ``has(role)`` / ``available(roles_or_group)``. Arrays are shared caches or views of the
    dataset: read them, never write into them.
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

    def _confidence_all(self) -> np.ndarray:
        """Confidences with movement's "not provided" NaN read as 1 where the point is tracked, 0 where not
        (what DeepOF does for SLEAP and numpy input)."""
        if "conf" not in self._cache:
            conf = self._conf
            if np.isnan(conf).any():
                tracked = np.isfinite(self._raw[:, 0]) & np.isfinite(self._raw[:, 1])
                conf = np.where(np.isnan(conf), tracked.astype(float), conf)
            self._cache["conf"] = conf
        return self._cache["conf"]

    def confidence(self, role: str, individual=None) -> np.ndarray:
        """Tracking confidence of ``role``: ``(time, individual)`` or ``(time,)``."""
        return self._confidence_all()[:, self._kp(role), self._ind(individual)]

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
        kidx = sorted({self._kp(r) for p in todo for r in p})
        outs = [np.empty((self.n_frames, len(self.individuals))) for _ in todo]
        for first, stop in self._chunks():
            block, at = self._block_of(kidx, first, stop)  # read once per block for every distance
            pos = dict(zip(kidx, at, strict=True))
            for out, (ra, rb) in zip(outs, todo, strict=True):
                d = block[:, :, pos[self._kp(ra)]] - block[:, :, pos[self._kp(rb)]]  # (frames, 2, I)
                d *= d
                np.sqrt(d[:, 0] + d[:, 1], out=out[first:stop])
        for out, p in zip(outs, todo, strict=True):
            self._cache[("dist", *p)] = out

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
            for first, stop in self._chunks():  # blocks of frames: the (frames, I, R) stack stays small
                stack = np.stack([v[first:stop] for v in speeds], axis=-1)
                out[first:stop] = nanmedian_last(stack, skip_leading=max(0, 4 - first))
            self._cache[key] = out
        return self._cache[key]

    def body_length(self) -> np.ndarray:
        """Per-animal body length in mm (DeepOF): the 80th percentile of the summed Nose-Spine_1-Center-Spine_2-
        Tail_base segment lengths over up to 5,000 frames where the mapped backbone parts are all tracked; 50 mm
        when fewer than two parts are mapped or fewer than 400 such frames exist. DeepOF draws the 5,000 frames at
        random; they are evenly spaced here, so the value is deterministic."""
        if "body_length" not in self._cache:
            parts = self.available("backbone")
            out = np.full(len(self.individuals), 50.0)
            if len(parts) > 1:
                kidx = [self._kp(r) for r in parts]
                complete = np.ones((self.n_frames, len(self.individuals)), dtype=bool)
                for k in kidx:  # loop over backbone parts
                    complete &= np.isfinite(self._raw[:, 0, k]) & np.isfinite(self._raw[:, 1, k])
                for i in range(len(self.individuals)):  # loop over animals
                    frames = np.flatnonzero(complete[:, i])
                    if frames.size < 400:
                        continue
                    frames = frames[np.linspace(0, frames.size - 1, min(5000, frames.size)).astype(int)]
                    pts = self._raw[frames][:, :, kidx, i]  # (n, 2, R): only the sampled frames are read
                    seg = np.diff(pts, axis=2) * self.mm_per_unit  # (n, 2, R - 1)
                    out[i] = np.percentile(np.sqrt((seg * seg).sum(axis=1)).sum(axis=1), 80)
            self._cache["body_length"] = out
        return self._cache["body_length"]

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
        return store_annotations(ds, ctx, results, self._behavior_info(), scope=self._scope,
                                 mask_missing=getattr(self, "mask_missing", True), where=type(self).__name__)

    def get_feature_names_out(self, input_features=None):
        """Names of the behaviours this annotator adds."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        return np.asarray(self.behaviors_, dtype=object)
