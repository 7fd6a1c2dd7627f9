"""Activity states of one animal from DeepOF's speed rules: stat-lookaround, stat-active / stat-passive / moving,
and sniffing (DeepOF 0.9.0, inventory section 3.2).

The states compare DeepOF's rolling speeds (mm/s) with ``stationary_threshold`` T and the tracking confidence with
``nose_likelihood``; the stationary states are smoothed against each other with DeepOF's paired smoothing
(:func:`~deepof_sk.annotation.smooth_paired`). Values go to the ``annotation`` variable like every individual
behaviour (see :mod:`deepof_sk.annotation._individual`).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ._base import BaseAnnotator, BehaviorInfo
from ._filters import remove_short_bouts, smooth_paired, widen_bouts

__all__ = ["LookaroundAnnotator", "ActivityAnnotator", "SniffingAnnotator"]

_COMMON = {"roles": [dict, None], "mask_missing": ["boolean"], "n_jobs": [Integral, None]}
_SECONDS = [Interval(Real, 0, None, closed="left")]
_POSITIVE = [Interval(Real, 0, None, closed="left")]
_PROBABILITY = [Interval(Real, 0, 1, closed="both")]


class LookaroundAnnotator(BaseAnnotator):
    """``stat-lookaround``: the animal stands still and moves its nose, head level, away from other animals.

    Parameters
    ----------
    stationary_threshold : float, default 40
        T in mm/s: the tail base is "still" below 2T, the back hips below 2T, the nose "active" above T.
    nose_likelihood : float, default 0.85
        Confidence the nose and back hips need for their speed to count.
    side_contact_tol : float, default 50
        The nose must be farther than this (mm) from every keypoint of every other animal.
    smoothing_window : float, default 0.25
        Length of DeepOF's immobility widening and paired smoothing, seconds (``min_follow_frames`` = fps / 4).
    roles, mask_missing, n_jobs
        As for :class:`ClimbingAnnotator` (roles ``nose``, ``tail_base``, ``left_ear``, ``right_ear``; back hips
        when mapped).

    Attributes
    ----------
    roles_, behaviors_
        As for :class:`ClimbingAnnotator`.

    Notes
    -----
    Rule (DeepOF): immobile := [v(tail_base) <= 2T] widened over the smoothing window, bouts shorter than it
    dropped; lookaround := immobile AND v(nose) > T AND L(nose) > 0.85 AND both back hips slower than 2T with
    L > 0.85 AND both nose-ear distances above 0.9 x their median AND not close to another animal; then DeepOF's
    paired smoothing against ``immobile AND NOT lookaround``. Speeds are linearly interpolated over gaps before
    the comparisons (as DeepOF does); frames where the tail-base speed was undefined are False.
    """

    _parameter_constraints = {
        **_COMMON, "stationary_threshold": _POSITIVE, "nose_likelihood": _PROBABILITY,
        "side_contact_tol": _POSITIVE, "smoothing_window": _SECONDS,
    }

    def __init__(self, *, stationary_threshold=40.0, nose_likelihood=0.85, side_contact_tol=50.0,
                 smoothing_window=0.25, roles=None, mask_missing=True, n_jobs=None):
        self.stationary_threshold = stationary_threshold
        self.nose_likelihood = nose_likelihood
        self.side_contact_tol = side_contact_tol
        self.smoothing_window = smoothing_window
        self.roles = roles
        self.mask_missing = mask_missing
        self.n_jobs = n_jobs

    def _required_roles(self):
        return ("nose", "tail_base", "left_ear", "right_ear")

    def _optional_roles(self):
        return ("left_bhip", "right_bhip")

    def _behavior_info(self):
        return {"stat-lookaround": BehaviorInfo()}

    def _close_range(self, ctx):
        """(T, I): the nose is within ``side_contact_tol`` of any keypoint of any other animal."""
        n_i = len(ctx.individuals)
        close = np.zeros((ctx.n_frames, n_i), dtype=bool)
        if n_i < 2:
            return close
        tol2 = float(self.side_contact_tol) ** 2
        a, b = ctx.pair_index()
        k_nose = ctx.keypoints.index(ctx.roles["nose"])
        x, y = ctx._series()  # (keypoint, individual, time), contiguous along time
        for first, stop in ctx._chunks():  # blocks of frames (temporaries stay in cache), vectorised over keypoints
            t = slice(first, stop)
            for i, j in zip(a, b, strict=True):  # loop over ordered pairs
                dx = x[:, j, t] - x[k_nose, i, t]  # (K, frames): every keypoint of j to the nose of i
                dy = y[:, j, t] - y[k_nose, i, t]
                dx *= dx
                dy *= dy
                dx += dy
                with np.errstate(invalid="ignore"):
                    close[t, i] |= (dx < tol2).any(axis=0)
        return close

    def annotate(self, ctx):
        thr, lik = float(self.stationary_threshold), float(self.nose_likelihood)
        lag = ctx.frames(self.smoothing_window)
        hips = ctx.available("back_hips")
        ctx.speeds(["tail_base", "nose", *hips])
        undefined = np.isnan(ctx.speed("tail_base"))
        with np.errstate(invalid="ignore"):
            immobile = remove_short_bouts(widen_bouts(ctx.speed("tail_base", interpolate=True) <= 2 * thr, lag),
                                          lag)
            cue = (ctx.speed("nose", interpolate=True) > thr) & (ctx.confidence("nose") > lik)
            if len(hips) == 2:
                for r in hips:
                    cue &= (ctx.speed(r, interpolate=True) <= 2 * thr) & (ctx.confidence(r) > lik)
            ctx.distances([("nose", "left_ear"), ("nose", "right_ear")])
            for ear in ("left_ear", "right_ear"):
                d = ctx.distance("nose", ear)
                cue &= d > 0.9 * ctx.nose_ear_median(ear)
        cue &= ~self._close_range(ctx)
        look, _ = smooth_paired(immobile & cue, immobile & ~cue, immobile, lag)
        look[undefined] = False
        return {"stat-lookaround": look}


class ActivityAnnotator(BaseAnnotator):
    """``stat-active``, ``stat-passive`` and ``moving``: mutually exclusive activity states.

    Parameters
    ----------
    stationary_threshold : float, default 40
        T in mm/s: the animal is stationary while its centre is slower than T, and "active" while any of nose and
        hips is faster than T.
    nose_likelihood : float, default 0.85
        Confidence a part needs for its speed to count as activity.
    smoothing_window : float, default 0.25
        Length of the widening and of DeepOF's paired smoothing, seconds (fps / 4).
    roles, mask_missing, n_jobs
        As for :class:`ClimbingAnnotator` (role ``center``; nose and hips when mapped).

    Attributes
    ----------
    roles_, behaviors_
        As for :class:`ClimbingAnnotator`.

    Notes
    -----
    Rule (DeepOF's code; its tutorial says 2T): immobile := [v(center) < T] widened, short bouts dropped;
    activity := any of nose, fore and back hips faster than T with confidence above ``nose_likelihood``; active :=
    immobile AND activity, passive := immobile AND NOT activity, smoothed as a pair within ``immobile``; moving :=
    neither. Speeds are interpolated over gaps first; frames where the centre speed is undefined are False in all
    three. (DeepOF itself, having interpolated the speed table in place in an earlier rule, only clears the first
    frames of the recording; the difference is limited to frames where the centre is untracked.)

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> ds = make_synthetic_poses(100, scenario="walk", speed=150.0, random_state=0)
    >>> out = ActivityAnnotator().fit_transform(ds)
    >>> float(out.annotation.sel(behavior="moving").isel(time=50, individual=0))
    1.0
    """

    _parameter_constraints = {
        **_COMMON, "stationary_threshold": _POSITIVE, "nose_likelihood": _PROBABILITY, "smoothing_window": _SECONDS,
    }

    def __init__(self, *, stationary_threshold=40.0, nose_likelihood=0.85, smoothing_window=0.25, roles=None,
                 mask_missing=True, n_jobs=None):
        self.stationary_threshold = stationary_threshold
        self.nose_likelihood = nose_likelihood
        self.smoothing_window = smoothing_window
        self.roles = roles
        self.mask_missing = mask_missing
        self.n_jobs = n_jobs

    def _required_roles(self):
        return ("center",)

    def _optional_roles(self):
        return ("nose", "left_fhip", "right_fhip", "left_bhip", "right_bhip")

    def _behavior_info(self):
        return {"stat-active": BehaviorInfo(), "stat-passive": BehaviorInfo(), "moving": BehaviorInfo()}

    def annotate(self, ctx):
        thr, lik = float(self.stationary_threshold), float(self.nose_likelihood)
        lag = ctx.frames(self.smoothing_window)
        parts = ctx.available(["nose", "left_fhip", "right_fhip", "left_bhip", "right_bhip"])
        ctx.speeds(["center", *parts])
        undefined = np.isnan(ctx.speed("center"))
        with np.errstate(invalid="ignore"):
            immobile = remove_short_bouts(widen_bouts(ctx.speed("center", interpolate=True) < thr, lag), lag)
            activity = np.zeros_like(immobile)
            for r in parts:
                activity |= (ctx.speed(r, interpolate=True) > thr) & (ctx.confidence(r) > lik)
        active, passive = smooth_paired(immobile & activity, immobile & ~activity, immobile, lag)
        moving = ~(active | passive)
        for arr in (active, passive, moving):
            arr[undefined] = False
        return {"stat-active": active, "stat-passive": passive, "moving": moving}


class SniffingAnnotator(BaseAnnotator):
    """``sniffing``: the body is still while the (reliably tracked) nose moves.

    Parameters
    ----------
    stationary_threshold : float, default 40
        v(center) below and v(nose) above this, mm/s.
    nose_likelihood : float, default 0.85
        Confidence the nose needs.
    roles, mask_missing, n_jobs
        As for :class:`ClimbingAnnotator` (roles ``center`` and ``nose``).

    Attributes
    ----------
    roles_, behaviors_
        As for :class:`ClimbingAnnotator`.

    Notes
    -----
    Rule (DeepOF's legacy "lookaround"): v(center) < T AND v(nose) > T AND L(nose) > ``nose_likelihood``; no
    filtering. Undefined speeds give False.
    """

    _parameter_constraints = {**_COMMON, "stationary_threshold": _POSITIVE, "nose_likelihood": _PROBABILITY}

    def __init__(self, *, stationary_threshold=40.0, nose_likelihood=0.85, roles=None, mask_missing=True,
                 n_jobs=None):
        self.stationary_threshold = stationary_threshold
        self.nose_likelihood = nose_likelihood
        self.roles = roles
        self.mask_missing = mask_missing
        self.n_jobs = n_jobs

    def _required_roles(self):
        return ("center", "nose")

    def _behavior_info(self):
        return {"sniffing": BehaviorInfo()}

    def annotate(self, ctx):
        thr = float(self.stationary_threshold)
        ctx.speeds(["center", "nose"])
        with np.errstate(invalid="ignore"):
            out = ((ctx.speed("center") < thr) & (ctx.speed("nose") > thr)
                   & (ctx.confidence("nose") > self.nose_likelihood))
        return {"sniffing": out}
