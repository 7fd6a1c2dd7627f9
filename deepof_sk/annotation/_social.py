"""Rule-based behaviours of animal pairs (DeepOF 0.9.0's social behaviours, inventory section 3.2).

Every ordered pair (A, B) of animals is a row of the ``individual_pair`` dimension (label ``"A_B"``, coordinates
``actor`` = A and ``partner`` = B); the values go to ``social_annotation`` (dims ``time, individual_pair,
social_behavior``). Non-directional behaviours (nose2nose, sidebyside, sidereside) are symmetric, so A_B and B_A hold
the same values (``directional`` coordinate False); DeepOF's table keeps only the first order. Directional ones
(nose2tail, nose2body, following) read "A's nose to B's tail base", "A's nose to B's body", "A follows B".
Recordings with a single animal get no social annotation.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ._base import AnnotationContext, BaseAnnotator, BehaviorInfo
from ._filters import remove_short_bouts, smooth_binary_median
from ._roles import ROLE_GROUPS

__all__ = ["SocialContactAnnotator", "FollowingAnnotator", "CONTACT_BEHAVIORS"]

#: Contact behaviours in DeepOF's column order, with their directionality.
CONTACT_BEHAVIORS = {"nose2nose": False, "sidebyside": False, "sidereside": False, "nose2tail": True,
                     "nose2body": True}

_COMMON = {"roles": [dict, None], "mask_missing": ["boolean"], "n_jobs": [Integral, None]}
_NONNEG = [Interval(Real, 0, None, closed="left")]


class SocialContactAnnotator(BaseAnnotator):
    """Close contacts between two animals: nose2nose, sidebyside, sidereside, nose2tail and nose2body.

    Parameters
    ----------
    behaviors : list of str, optional
        Subset of :data:`CONTACT_BEHAVIORS` to compute; default all five.
    close_contact_tol : float, default 25
        Distance in mm for nose2nose, nose2tail and nose2body.
    side_contact_tol : float, default 50
        Distance in mm for sidebyside and sidereside.
    median_window : float, default 0.5
        Binary median filter, seconds (DeepOF: fps / 2).
    roles : dict, optional
        Role -> keypoint overrides (roles ``nose`` and ``tail_base``; the body roles for nose2body when mapped).
    mask_missing : bool, default True
        NaN where either animal is missing.
    n_jobs : int, optional
        Recordings processed in parallel.

    Attributes
    ----------
    roles_ : dict
        Resolved role -> keypoint mapping.
    behaviors_ : list of str
        Behaviours added.

    Notes
    -----
    Rules (DeepOF; d = Euclidean distance in mm, then a binary median filter): nose2nose d(A.nose, B.nose) < 25;
    sidebyside d(A.nose, B.nose) < 50 AND d(A.tail_base, B.tail_base) < 50; sidereside d(A.nose, B.tail_base) < 50
    AND d(A.tail_base, B.nose) < 50; nose2tail d(A.nose, B.tail_base) < 25; nose2body A's nose within 25 of any
    of B's ears, spine, centre and hips (those mapped). A NaN distance is not a contact.

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> ds = make_synthetic_poses(150, scenario="nose_to_nose", contact_start=2.0, contact_duration=2.0,
    ...                           random_state=0)
    >>> out = SocialContactAnnotator().fit_transform(ds)
    >>> float(out.social_annotation.sel(social_behavior="nose2nose", individual_pair="mouse1_mouse2").isel(time=75))
    1.0
    """

    _parameter_constraints = {
        **_COMMON, "behaviors": [list, tuple, None], "close_contact_tol": _NONNEG, "side_contact_tol": _NONNEG,
        "median_window": _NONNEG,
    }
    _scope = "pair"

    def __init__(self, *, behaviors=None, close_contact_tol=25.0, side_contact_tol=50.0, median_window=0.5,
                 roles=None, mask_missing=True, n_jobs=None):
        self.behaviors = behaviors
        self.close_contact_tol = close_contact_tol
        self.side_contact_tol = side_contact_tol
        self.median_window = median_window
        self.roles = roles
        self.mask_missing = mask_missing
        self.n_jobs = n_jobs

    def _selected(self) -> list[str]:
        if self.behaviors is None:
            return list(CONTACT_BEHAVIORS)
        return [b for b in CONTACT_BEHAVIORS if b in set(self.behaviors)]

    def _check_params(self):
        if self.behaviors is not None:
            unknown = sorted(set(map(str, self.behaviors)) - set(CONTACT_BEHAVIORS))
            if unknown or not self.behaviors:
                raise ValueError(
                    f"{type(self).__name__}: `behaviors` must be a non-empty subset of {list(CONTACT_BEHAVIORS)}; "
                    f"unknown: {unknown}."
                )

    def _required_roles(self):
        return ("nose", "tail_base")

    def _optional_roles(self):
        return ROLE_GROUPS["body"] if "nose2body" in self._selected() else ()

    def _behavior_info(self):
        return {b: BehaviorInfo(directional=CONTACT_BEHAVIORS[b]) for b in self._selected()}

    def annotate(self, ctx: AnnotationContext) -> dict[str, np.ndarray]:
        if len(ctx.individuals) < 2:
            return {}
        a, b = ctx.pair_index()
        close2, side2 = float(self.close_contact_tol) ** 2, float(self.side_contact_tol) ** 2
        width = ctx.frames(self.median_window)
        wanted = self._selected()
        body = ctx.available("body") if "nose2body" in wanted else []
        kidx = [ctx.keypoints.index(ctx.roles[r]) for r in ("nose", "tail_base", *body)]
        raw = {name: np.zeros((ctx.n_frames, len(a)), dtype=bool) for name in wanted}
        x, y = ctx._series()  # (keypoint, individual, time), contiguous along time
        nose, tail = kidx[0], kidx[1]
        # one pass over blocks of frames; squared distances against squared tolerances (DeepOF's norm < tol)
        for first, stop in ctx._chunks():
            t = slice(first, stop)
            for p, (i, j) in enumerate(zip(a, b, strict=True)):  # loop over ordered pairs
                px, py = x[kidx, j, t], y[kidx, j, t]  # (keypoints, frames): the partner's nose, tail base, body
                dx, dy = px - x[nose, i, t], py - y[nose, i, t]
                from_nose = dx * dx + dy * dy  # actor's nose to the partner's nose, tail base, body parts
                dx, dy = px[:2] - x[tail, i, t], py[:2] - y[tail, i, t]
                from_tail = dx * dx + dy * dy  # actor's tail base to the partner's nose and tail base
                nn, nt = from_nose[0], from_nose[1]
                with np.errstate(invalid="ignore"):
                    if "nose2nose" in wanted:
                        raw["nose2nose"][t, p] = nn < close2
                    if "sidebyside" in wanted:
                        raw["sidebyside"][t, p] = (nn < side2) & (from_tail[1] < side2)
                    if "sidereside" in wanted:
                        raw["sidereside"][t, p] = (nt < side2) & (from_tail[0] < side2)
                    if "nose2tail" in wanted:
                        raw["nose2tail"][t, p] = nt < close2
                    if "nose2body" in wanted and body:
                        raw["nose2body"][t, p] = (from_nose[2:] < close2).any(axis=0)
        return {name: smooth_binary_median(raw[name], width) for name in wanted}


class FollowingAnnotator(BaseAnnotator):
    """``following`` (directional): A walks where B's tail base has just been, behind B and facing it.

    Parameters
    ----------
    follow_window : float, default 0.5
        How far back B's tail-base path counts, seconds (DeepOF's ``follow_frames`` = fps / 2).
    follow_tol : float, default 25
        Maximum distance in mm from A's nose to that path.
    stationary_threshold : float, default 40
        A's nose must move faster than this, mm/s.
    median_window : float, default 0.5
        Binary median filter, seconds.
    min_bout_duration : float, default 0.25
        Shorter following bouts are dropped, seconds (DeepOF's ``min_follow_frames`` = fps / 4).
    roles, mask_missing, n_jobs
        As for :class:`SocialContactAnnotator` (roles ``nose`` and ``tail_base``).

    Attributes
    ----------
    roles_, behaviors_
        As for :class:`SocialContactAnnotator`.

    Notes
    -----
    Rule (DeepOF): min over lags k = 0 .. F-1 of d(A.nose(t), B.tail_base(t - k)) < ``follow_tol`` AND
    d(A.nose, B.tail_base) < d(A.tail_base, B.tail_base) AND d(A.nose, B.tail_base) < d(A.nose, B.nose) AND
    v(A.nose) > ``stationary_threshold``; then a binary median filter and the minimum bout length. Lags before the
    first frame and NaN positions are skipped in the minimum; an undefined speed is not following.

    Examples
    --------
    >>> import numpy as np
    >>> from deepof_sk import make_poses_dataset
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> walk = make_synthetic_poses(200, speed=100.0, random_state=0)  # one mouse walking along +x
    >>> pos = walk.position.values
    >>> behind = pos - np.array([100.0, 0.0])[:, None, None]  # the same walk, 100 mm behind
    >>> ds = make_poses_dataset(np.concatenate([pos, behind], axis=3), walk.confidence.values.repeat(2, axis=2),
    ...                         keypoints=walk.keypoint.values, individuals=["leader", "follower"], fps=25,
    ...                         space_unit="mm")
    >>> f = FollowingAnnotator().fit_transform(ds).social_annotation.sel(social_behavior="following")
    >>> float(f.sel(individual_pair="follower_leader").mean()) > 0.9, float(f.sel(individual_pair="leader_follower").max())
    (True, 0.0)
    """

    _parameter_constraints = {
        **_COMMON, "follow_window": _NONNEG, "follow_tol": _NONNEG, "stationary_threshold": _NONNEG,
        "median_window": _NONNEG, "min_bout_duration": _NONNEG,
    }
    _scope = "pair"

    def __init__(self, *, follow_window=0.5, follow_tol=25.0, stationary_threshold=40.0, median_window=0.5,
                 min_bout_duration=0.25, roles=None, mask_missing=True, n_jobs=None):
        self.follow_window = follow_window
        self.follow_tol = follow_tol
        self.stationary_threshold = stationary_threshold
        self.median_window = median_window
        self.min_bout_duration = min_bout_duration
        self.roles = roles
        self.mask_missing = mask_missing
        self.n_jobs = n_jobs

    def _required_roles(self):
        return ("nose", "tail_base")

    def _behavior_info(self):
        return {"following": BehaviorInfo(directional=True)}

    def annotate(self, ctx):
        if len(ctx.individuals) < 2:
            return {}
        a, b = ctx.pair_index()
        lags = min(ctx.frames(self.follow_window), ctx.n_frames)
        tol2 = float(self.follow_tol) ** 2
        n, t = ctx.keypoints.index(ctx.roles["nose"]), ctx.keypoints.index(ctx.roles["tail_base"])
        x, y = ctx._series()  # (keypoint, individual, time), contiguous along time
        raw = np.zeros((ctx.n_frames, len(a)), dtype=bool)
        fast = ctx.speed("nose")[:, a] > self.stationary_threshold
        for first, stop in ctx._chunks():  # blocks of frames, each reading lags - 1 frames back
            lo = max(0, first - lags + 1)
            here = slice(first, stop)
            for p, (i, j) in enumerate(zip(a, b, strict=True)):  # loop over ordered pairs (i follows j)
                nx, ny = x[n, i, here], y[n, i, here]  # contiguous rows: the lag loop reads them many times
                tx, ty = x[t, j, lo:stop], y[t, j, lo:stop]
                best = np.full(stop - first, np.nan)  # min over lags of the squared nose-to-path distance
                for k in range(lags):  # loop over lags (fps / 2 of them), vectorised over frames
                    t0 = max(first, k)  # nose frames t >= k have a tail frame t - k
                    if t0 >= stop:
                        continue
                    dx = nx[t0 - first:] - tx[t0 - k - lo: stop - k - lo]
                    dy = ny[t0 - first:] - ty[t0 - k - lo: stop - k - lo]
                    dx *= dx
                    dy *= dy
                    dx += dy
                    np.fmin(best[t0 - first:], dx, out=best[t0 - first:])
                # squared distances (monotone, so the same comparisons as DeepOF's distances)
                nt = (nx - x[t, j, here]) ** 2 + (ny - y[t, j, here]) ** 2  # i's nose to j's tail base
                tt = (x[t, i, here] - x[t, j, here]) ** 2 + (y[t, i, here] - y[t, j, here]) ** 2
                nn = (nx - x[n, j, here]) ** 2 + (ny - y[n, j, here]) ** 2
                with np.errstate(invalid="ignore"):
                    raw[here, p] = (best < tol2) & (nt < tt) & (nt < nn) & fast[here, p]
        smoothed = smooth_binary_median(raw, ctx.frames(self.median_window))
        return {"following": remove_short_bouts(smoothed, ctx.frames(self.min_bout_duration))}
