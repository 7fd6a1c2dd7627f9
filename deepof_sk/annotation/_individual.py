"""Rule-based behaviours of one animal (DeepOF 0.9.0's individual behaviours, inventory section 3.2): the arena
rules, immobility, missing and the continuous locomotion measures (the speed-based activity states live in
:mod:`deepof_sk.annotation._activity`).

Each annotator adds its behaviours to the ``annotation`` variable (dims ``time, individual, behavior``): 1.0 / 0.0
for binary behaviours, values for continuous ones, NaN where the animal is missing. Distances are in mm, speeds in
mm/s (DeepOF's rolling speed, see :class:`~deepof_sk.annotation.AnnotationContext`), durations in seconds turned
into frames with DeepOF's truncation (``int(0.5 * fps)``); datasets in pixels need ``attrs['px_per_mm']``.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from ..utils._params import fill_nan_linear
from ._base import AnnotationContext, BaseAnnotator, BehaviorInfo
from ._filters import remove_short_bouts, smooth_binary_median

__all__ = [
    "ClimbingAnnotator",
    "ArenaSniffingAnnotator",
    "ImmobilityAnnotator",
    "MissingAnnotator",
    "LocomotionAnnotator",
]

_COMMON = {"roles": [dict, None], "mask_missing": ["boolean"], "n_jobs": [Integral, None]}
_SECONDS = [Interval(Real, 0, None, closed="left")]
_POSITIVE = [Interval(Real, 0, None, closed="left")]
_PROBABILITY = [Interval(Real, 0, 1, closed="both")]
_ARENA = "no_validation"  # "auto", "from_attrs", an Arena or a dict: checked in fit


def _check_arena(arena, where: str) -> None:
    from ..preprocessing._arena import Arena

    if isinstance(arena, str) and arena in ("auto", "from_attrs"):
        return
    if isinstance(arena, dict):
        Arena.from_dict(arena)
        return
    if not isinstance(arena, Arena):
        raise TypeError(
            f"{where}: `arena` must be 'auto', 'from_attrs', an Arena or a dict from Arena.to_dict(); got "
            f"{type(arena).__name__}."
        )


def _in_band(arena, points: np.ndarray, inner: float | None, outer: float) -> np.ndarray:
    """Points (T, 2) inside the arena grown by ``outer`` and, unless ``inner`` is None, outside it shrunk by
    ``inner``. Ellipses grow and shrink their semi-axes (DeepOF's legacy test); circles and polygons use the exact
    signed distance to the wall (for polygons a round buffer, like shapely's). NaN points are never in the band."""
    finite = np.isfinite(points[:, 0]) & np.isfinite(points[:, 1])
    if arena.shape == "ellipse":
        band = arena.buffer(outer).contains(points)
        if inner is not None:
            band &= ~arena.buffer(-inner).contains(points)
        return finite & band
    if arena.shape == "circle":  # Arena.distance_to_edge of a circle, without its generic point handling
        d = arena.radius - np.hypot(points[:, 0] - arena.center[0], points[:, 1] - arena.center[1])
    else:
        d = arena.distance_to_edge(points)  # signed, positive inside
    with np.errstate(invalid="ignore"):
        band = d >= -outer
        if inner is not None:
            band &= d <= inner
    return finite & band


class ClimbingAnnotator(BaseAnnotator):
    """``climb-arena``: the nose is beyond the arena wall by more than a fraction of the body length.

    Parameters
    ----------
    arena : "auto", "from_attrs", Arena or dict, default "auto"
        The arena: ``"auto"`` uses ``attrs['arena']`` and, when absent, estimates a circle from the tracks (logged);
        ``"from_attrs"`` requires ``attrs['arena']``; an :class:`~deepof_sk.preprocessing.Arena` (or its dict) in mm,
        or in pixels with ``attrs['px_per_mm']``.
    climb_tol : float, default 0.15
        Tolerance as a fraction of the body length (DeepOF's ``climb_tol``).
    body_length : float, optional
        Body length in mm for every animal; default ``attrs["deepof_sk_body_length"]`` (JSON ``{individual: mm}``)
        when the dataset has it, else DeepOF's estimate (80th percentile of the backbone length, 50 mm when the
        backbone is not tracked on at least 400 frames).
    median_window : float, default 0.5
        Binary median filter in seconds (DeepOF's ``median_filter_width`` = fps / 2 frames).
    roles : dict, optional
        Role -> keypoint overrides (role ``nose``; backbone roles for the body length).
    mask_missing : bool, default True
        NaN where the animal is missing (DeepOF's presence mask); False keeps 0/1 there.
    n_jobs : int, optional
        Recordings processed in parallel.

    Attributes
    ----------
    roles_ : dict
        Resolved role -> keypoint mapping.
    behaviors_ : list of str
        ``["climb-arena"]``.

    Notes
    -----
    Rule (DeepOF): the nose, with NaN gaps linearly interpolated, lies outside the arena grown by
    ``climb_tol * body_length``. Circles and ellipses grow their semi-axes (DeepOF's legacy ellipse test);
    polygons use the exact distance to the wall, like shapely's round buffer. Then a binary median filter.

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> from deepof_sk.preprocessing import Arena, attach_arena
    >>> ds = attach_arena(make_synthetic_poses(100, scenario="still", random_state=0),
    ...                   Arena.circle((0.0, 0.0), 30.0, unit="pixels"))
    >>> out = ClimbingAnnotator().fit_transform(ds)
    >>> float(out.annotation.sel(behavior="climb-arena").isel(time=50, individual=0))
    1.0
    """

    _parameter_constraints = {
        **_COMMON, "arena": _ARENA, "climb_tol": _POSITIVE,
        "body_length": [Interval(Real, 0, None, closed="neither"), None], "median_window": _SECONDS,
    }

    def __init__(self, *, arena="auto", climb_tol=0.15, body_length=None, median_window=0.5, roles=None,
                 mask_missing=True, n_jobs=None):
        self.arena = arena
        self.climb_tol = climb_tol
        self.body_length = body_length
        self.median_window = median_window
        self.roles = roles
        self.mask_missing = mask_missing
        self.n_jobs = n_jobs

    def _check_params(self):
        _check_arena(self.arena, type(self).__name__)

    def _required_roles(self):
        return ("nose",)

    def _optional_roles(self):
        return ("spine_1", "center", "spine_2", "tail_base")

    def _behavior_info(self):
        return {"climb-arena": BehaviorInfo()}

    def annotate(self, ctx: AnnotationContext) -> dict[str, np.ndarray]:
        k_nose = ctx.keypoints.index(ctx.roles["nose"])
        series = ctx._series()  # (2, keypoint, individual, time), contiguous along time
        if np.isnan(series[:, k_nose]).any():
            nose = fill_nan_linear(ctx.position("nose"), axis=0)
        else:
            nose = series[:, k_nose].transpose(2, 0, 1)  # (time, 2, individual) view, the same values
        arena = ctx.arena(self.arena)
        lengths = ctx.body_length() if self.body_length is None else np.full(len(ctx.individuals),
                                                                               float(self.body_length))
        out = np.zeros((ctx.n_frames, len(ctx.individuals)), dtype=bool)
        for i, length in enumerate(lengths):  # loop over animals
            p = nose[:, :, i]
            out[:, i] = np.isfinite(p[:, 0]) & np.isfinite(p[:, 1]) & ~_in_band(arena, p, None, self.climb_tol * length)
        return {"climb-arena": smooth_binary_median(out, ctx.frames(self.median_window))}


class ArenaSniffingAnnotator(BaseAnnotator):
    """``sniff-arena``: the nose is within ``sniff_arena_tol`` of the wall (either side) while the body is still.

    Parameters
    ----------
    arena : "auto", "from_attrs", Arena or dict, default "auto"
        As for :class:`ClimbingAnnotator`.
    sniff_arena_tol : float, default 12.5
        Half-width of the band around the wall, mm.
    stationary_threshold : float, default 40
        The centre must move slower than this, mm/s.
    median_window : float, default 0.5
        Binary median filter, seconds.
    roles, mask_missing, n_jobs
        As for :class:`ClimbingAnnotator` (roles ``nose`` and ``center``).

    Attributes
    ----------
    roles_, behaviors_
        As for :class:`ClimbingAnnotator`.

    Notes
    -----
    Rule (DeepOF): nose between the arena shrunk and grown by ``sniff_arena_tol`` AND v(center) <
    ``stationary_threshold``; then a binary median filter. A frame with an undefined nose or centre speed is False.

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> from deepof_sk.preprocessing import Arena, attach_arena
    >>> ds = attach_arena(make_synthetic_poses(100, scenario="still", random_state=0),
    ...                   Arena.circle((0.0, 0.0), 50.0, unit="pixels"))
    >>> float(ArenaSniffingAnnotator().fit_transform(ds).annotation.sel(behavior="sniff-arena").isel(time=50, individual=0))
    1.0
    """

    _parameter_constraints = {
        **_COMMON, "arena": _ARENA, "sniff_arena_tol": _POSITIVE, "stationary_threshold": _POSITIVE,
        "median_window": _SECONDS,
    }

    def __init__(self, *, arena="auto", sniff_arena_tol=12.5, stationary_threshold=40.0, median_window=0.5,
                 roles=None, mask_missing=True, n_jobs=None):
        self.arena = arena
        self.sniff_arena_tol = sniff_arena_tol
        self.stationary_threshold = stationary_threshold
        self.median_window = median_window
        self.roles = roles
        self.mask_missing = mask_missing
        self.n_jobs = n_jobs

    def _check_params(self):
        _check_arena(self.arena, type(self).__name__)

    def _required_roles(self):
        return ("nose", "center")

    def _behavior_info(self):
        return {"sniff-arena": BehaviorInfo()}

    def annotate(self, ctx):
        arena = ctx.arena(self.arena)
        # (time, 2, individual) view of the contiguous series: its x and y columns are contiguous along time
        nose = ctx._series()[:, ctx.keypoints.index(ctx.roles["nose"])].transpose(2, 0, 1)
        tol = float(self.sniff_arena_tol)
        band = np.stack([_in_band(arena, nose[:, :, i], tol, tol) for i in range(len(ctx.individuals))], axis=1)
        with np.errstate(invalid="ignore"):
            still = ctx.speed("center") < self.stationary_threshold
        return {"sniff-arena": smooth_binary_median(band & still, ctx.frames(self.median_window))}


class ImmobilityAnnotator(BaseAnnotator):
    """``immobility``: a rule on body and nose speed, or a fitted frame classifier's output, filtered like DeepOF.

    Parameters
    ----------
    classifier : "freezing", fitted estimator with ``predict``, or None, default None
        ``"freezing"`` uses the freezing/immobility model shipped with deepof_sk
        (:func:`deepof_sk.supervised.load_freezing_model`: scale-free features on keypoint roles, trained on
        BehaviorDEPOT's human-labelled recording). Or any frame classifier (e.g. a
        :class:`~deepof_sk.supervised.FrameClassifier` or a Pipeline ending in one) whose ``predict(ds)`` returns
        one truthy/falsy label per frame, shape ``(n_time,)`` (one animal) or ``(n_time, n_individuals)``; wrap it
        in :class:`sklearn.frozen.FrozenEstimator` so that ``clone`` (grid search, cross-validation) keeps it
        fitted. Default None: the speed rule below (the rule annotator never depends on a classifier).
    speed_threshold : float, default 20
        Rule: the median speed of the body parts AND the nose speed are below this, mm/s.
    median_window : float, default 0.5
        Binary median filter, seconds (DeepOF: fps / 2).
    min_bout_duration : float, default 1.0
        Shorter immobile bouts are dropped, seconds (DeepOF's ``min_immobility`` = fps frames).
    roles, mask_missing, n_jobs
        As for :class:`ClimbingAnnotator` (role ``nose``; the locomotion parts when mapped).

    Attributes
    ----------
    roles_, behaviors_
        As for :class:`ClimbingAnnotator`.

    Notes
    -----
    DeepOF's immobility comes from a pre-trained XGBoost model that is not redistributed; the rule is the
    documented stand-in, not a reproduction (the agreement test excludes this behaviour). Frames with undefined
    speeds are not immobile. With a classifier, NaN predictions count as not immobile.

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> ds = make_synthetic_poses(100, scenario="still", random_state=0)
    >>> float(ImmobilityAnnotator().fit_transform(ds).annotation.sel(behavior="immobility").isel(time=50, individual=0))
    1.0
    """

    _parameter_constraints = {
        **_COMMON, "classifier": [HasMethods(["predict"]), StrOptions({"freezing"}), None],
        "speed_threshold": _POSITIVE,
        "median_window": _SECONDS, "min_bout_duration": _SECONDS,
    }

    def __init__(self, *, classifier=None, speed_threshold=20.0, median_window=0.5, min_bout_duration=1.0,
                 roles=None, mask_missing=True, n_jobs=None):
        self.classifier = classifier
        self.speed_threshold = speed_threshold
        self.median_window = median_window
        self.min_bout_duration = min_bout_duration
        self.roles = roles
        self.mask_missing = mask_missing
        self.n_jobs = n_jobs

    def _classifier(self):
        """The frame classifier to use: the given one, or the shipped freezing model for ``"freezing"``."""
        if isinstance(self.classifier, str):
            from ..supervised import load_freezing_model

            return load_freezing_model()
        return self.classifier

    def _check_params(self):
        if self.classifier is not None and not isinstance(self.classifier, str):
            from sklearn.exceptions import NotFittedError
            from sklearn.utils.validation import check_is_fitted

            try:
                check_is_fitted(self.classifier)
            except NotFittedError as exc:
                raise ValueError(
                    f"{type(self).__name__}: `classifier` must be fitted ({type(self.classifier).__name__} is not). "
                    "Fit it first and wrap it in sklearn.frozen.FrozenEstimator(...) so clone() keeps it fitted."
                ) from exc

    def _required_roles(self):
        return () if self.classifier is not None else ("nose",)

    def _optional_roles(self):
        return () if self.classifier is not None else ("center", "spine_1", "spine_2", "left_ear", "right_ear",
                                                       "left_fhip", "right_fhip", "left_bhip", "right_bhip",
                                                       "tail_base")

    def _behavior_info(self):
        return {"immobility": BehaviorInfo()}

    def _raw(self, ctx):
        n_t, n_i = ctx.n_frames, len(ctx.individuals)
        if self.classifier is not None:
            pred = np.asarray(self._classifier().predict(ctx.ds))
            if pred.ndim == 1 and n_i == 1:
                pred = pred[:, None]
            if pred.shape != (n_t, n_i):
                raise ValueError(
                    f"{type(self).__name__}: classifier.predict returned shape {pred.shape}; expected ({n_t}, {n_i})"
                    f" (one label per frame and animal){' or (' + str(n_t) + ',)' if n_i == 1 else ''}."
                )
            if pred.dtype.kind in "fc":
                pred = np.nan_to_num(pred, nan=0.0)
            return pred.astype(bool)
        body = ctx.median_speed(ctx.available("locomotion"))
        with np.errstate(invalid="ignore"):
            return (body < self.speed_threshold) & (ctx.speed("nose") < self.speed_threshold)

    def annotate(self, ctx):
        raw = self._raw(ctx)
        smoothed = smooth_binary_median(raw, ctx.frames(self.median_window))
        return {"immobility": remove_short_bouts(smoothed, ctx.frames(self.min_bout_duration))}


class MissingAnnotator(BaseAnnotator):
    """``missing``: 1 where the animal is not tracked (median keypoint confidence at or below a threshold).

    Parameters
    ----------
    presence_threshold : float, default 0.5
        DeepOF's presence rule: present when the median confidence over the animal's keypoints exceeds it.
    n_jobs : int, optional
        Recordings processed in parallel.

    Attributes
    ----------
    roles_, behaviors_
        As for :class:`ClimbingAnnotator` (no roles needed: every keypoint counts).

    Notes
    -----
    A confidence of NaN ("not provided") counts as 1 where the keypoint has a position and 0 where it does not,
    which is what DeepOF does for SLEAP and numpy input. The value is never masked.
    """

    _parameter_constraints = {"presence_threshold": _PROBABILITY, "n_jobs": [Integral, None]}

    def __init__(self, *, presence_threshold=0.5, n_jobs=None):
        self.presence_threshold = presence_threshold
        self.n_jobs = n_jobs

    def _behavior_info(self):
        return {"missing": BehaviorInfo(maskable=False)}

    def annotate(self, ctx):
        return {"missing": ~ctx.presence}


class LocomotionAnnotator(BaseAnnotator):
    """Continuous ``distance`` (mm per frame), ``cum-distance`` (mm) and ``speed`` (mm/s).

    Parameters
    ----------
    roles, mask_missing, n_jobs
        As for :class:`ClimbingAnnotator` (role ``center``; the other locomotion parts when mapped).

    Attributes
    ----------
    roles_, behaviors_
        As for :class:`ClimbingAnnotator`.

    Notes
    -----
    DeepOF's rule: speed = per-frame median of the rolling speeds of up to 11 parts (centre, spine, nose, ears,
    hips, tail base), NaN on the first frame and where no part has a speed (the first 4 frames); distance =
    speed / fps; cum-distance = cumulative sum of the distance with undefined frames counted as 0. DeepOF's
    table then writes 0 for undefined values (see :func:`to_deepof_table`).

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> ds = make_synthetic_poses(100, scenario="walk", speed=100.0, random_state=0)
    >>> out = LocomotionAnnotator().fit_transform(ds)
    >>> round(float(out.annotation.sel(behavior="speed").isel(time=50, individual=0)), 3)
    100.0
    """

    _parameter_constraints = dict(_COMMON)

    def __init__(self, *, roles=None, mask_missing=True, n_jobs=None):
        self.roles = roles
        self.mask_missing = mask_missing
        self.n_jobs = n_jobs

    def _required_roles(self):
        return ("center",)

    def _optional_roles(self):
        return ("spine_1", "spine_2", "nose", "left_ear", "right_ear", "left_fhip", "right_fhip", "left_bhip",
                "right_bhip", "tail_base")

    def _behavior_info(self):
        return {"distance": BehaviorInfo("continuous", "mm"), "cum-distance": BehaviorInfo("continuous", "mm"),
                "speed": BehaviorInfo("continuous", "mm/s")}

    def annotate(self, ctx):
        speed = ctx.median_speed(ctx.available("locomotion")).copy()
        speed[0] = np.nan
        distance = speed / ctx.fps
        return {"distance": distance, "cum-distance": np.cumsum(np.nan_to_num(distance), axis=0), "speed": speed}


# names of every behaviour of this module, in DeepOF's column order
INDIVIDUAL_BEHAVIORS = ("climb-arena", "sniff-arena", "immobility", "stat-lookaround", "stat-active",
                        "stat-passive", "moving", "sniffing", "distance", "cum-distance", "speed", "missing")
