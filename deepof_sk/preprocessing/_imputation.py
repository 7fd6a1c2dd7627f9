"""Imputation of long gaps from the rest of the skeleton and from the motion before and after the gap."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.linalg import LinAlgError, solve_banded, solveh_banded
from scipy.sparse.csgraph import minimum_spanning_tree
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from threadpoolctl import threadpool_limits

from .. import schema as S
from ..base import BasePosesTransformer
from ..utils._runs import expand_runs, find_runs_along_time
from ..validation import get_fps
from ._cleaning import position_array, warn_empty_individuals, with_position

__all__ = ["KeypointImputer"]

_N_HOLDOUT = 200  # complete frames hidden from the imputer to measure its error (sets imputation_std)
_SKELETON_PASSES = 3


def _run_lengths(missing: np.ndarray):
    """Per missing entry of a (time, columns) mask: length of its NaN run, and whether valid frames bound it."""
    T = missing.shape[0]
    column, start, stop = find_runs_along_time(missing)
    run, t = expand_runs(start, stop)
    length = np.zeros(missing.shape, dtype=np.int64)
    interior = np.zeros(missing.shape, dtype=bool)
    length[t, column[run]] = (stop - start)[run]
    interior[t, column[run]] = ((start > 0) & (stop < T))[run]
    return length, interior


def smooth_gaps(values: np.ndarray, unknown: np.ndarray, z: np.ndarray, rho: float) -> np.ndarray:
    """Posterior mean of a constant-velocity track at the ``unknown`` entries, observed entries held fixed.

    The model is ``x[t+1] - 2 x[t] + x[t-1] ~ N(0, sigma_a^2)`` (white acceleration, i.e. a constant-velocity
    state-space model) with the valid entries of ``values`` observed exactly and ``z`` (where finite) observed with
    noise ``sigma_z``; ``rho = (sigma_a / sigma_z) ** 2``. The posterior mean, which a Rauch-Tung-Striebel smoother
    would return, minimises ``sum (second differences)^2 + rho * sum (x - z)^2``. Only the second differences that
    touch an unknown entry matter, so the normal equations are assembled for the unknowns alone (ordered track by
    track, where they form a symmetric pentadiagonal matrix) and solved at once with one banded Cholesky solve:
    time and memory are O(number of unknowns), whatever the length of the recording.

    Parameters
    ----------
    values : ndarray (n_frames, n_columns)
        Tracks with NaN where missing.
    unknown : ndarray of bool (n_frames, n_columns)
        Missing entries to estimate. Each run of them must either be bounded by valid frames on both sides or carry
        a finite ``z`` at every entry, so that the system is positive definite.
    z : ndarray (n_frames, n_columns)
        Noisy estimates of the unknown entries (NaN where none).
    rho : float
        Weight of ``z`` relative to the smoothness prior.

    Returns
    -------
    ndarray (n_frames, n_columns)
        ``values`` with the unknown entries filled.
    """
    out = values.copy()
    T, C = values.shape
    flat_unknown = np.flatnonzero(unknown)
    if flat_unknown.size == 0:
        return out
    ut, uc = np.divmod(flat_unknown, C)
    key = uc.astype(np.int64) * T + ut  # track-major order: neighbours in time are neighbours in the system
    order = np.argsort(key, kind="stable")
    key, ut, uc = key[order], ut[order], uc[order]
    n = key.size
    usable = np.isfinite(values) | unknown
    # centres of the second differences that touch an unknown entry, inside the track and on usable frames
    centre = np.unique(np.concatenate([key - 1, key, key + 1]))
    ct, cc = centre % T, centre // T
    inside = (ct >= 1) & (ct <= T - 2)
    centre, ct, cc = centre[inside], ct[inside], cc[inside]
    ok = usable[ct - 1, cc] & usable[ct, cc] & usable[ct + 1, cc]
    centre, ct, cc = centre[ok], ct[ok], cc[ok]
    coef = (1.0, -2.0, 1.0)
    slot, is_unknown, fixed_value = [], [], []
    for d in (-1, 0, 1):
        at = np.searchsorted(key, centre + d)
        hit = (at < n) & (key[np.minimum(at, n - 1)] == centre + d)
        slot.append(at)
        is_unknown.append(hit)
        fixed_value.append(np.where(hit, 0.0, np.nan_to_num(values[ct + d, cc])))
    diag = np.zeros(n)
    off = {1: np.zeros(n), 2: np.zeros(n)}
    rhs = np.zeros(n)
    for a in range(3):
        ua = is_unknown[a]
        diag += np.bincount(slot[a][ua], weights=np.full(ua.sum(), coef[a] ** 2), minlength=n)
        for b in range(3):
            if b == a:
                continue
            pull = ua & ~is_unknown[b]
            rhs -= np.bincount(slot[a][pull], weights=coef[a] * coef[b] * fixed_value[b][pull], minlength=n)
            if b > a:
                both = ua & is_unknown[b]
                gap = slot[b][both] - slot[a][both]  # 1 or 2 in the track-major numbering of unknowns
                for g in (1, 2):
                    sel = gap == g
                    off[g] += np.bincount(slot[a][both][sel], weights=np.full(sel.sum(), coef[a] * coef[b]),
                                          minlength=n)
    zu = z[ut, uc]
    has_z = np.isfinite(zu)
    diag += rho * has_z
    rhs += rho * np.where(has_z, zu, 0.0)
    isolated = diag <= 0  # no usable neighbour and no estimate (e.g. tracks shorter than 3 frames): left NaN
    diag[isolated] = 1.0
    ab = np.zeros((3, n))
    ab[2] = diag
    ab[1, 1:] = off[1][:-1]
    ab[0, 2:] = off[2][:-2]
    try:
        x = solveh_banded(ab, rhs, check_finite=False)
    except LinAlgError:  # not positive definite in floating point: fall back to a banded LU solve
        full = np.zeros((5, n))
        full[:3] = ab
        full[3, :-1] = off[1][:-1]
        full[4, :-2] = off[2][:-2]
        x = solve_banded((2, 2), full, rhs, check_finite=False)
    x[isolated] = np.nan
    out[ut, uc] = x
    return out


def _align(q, w, template):
    """Per-frame rigid fit (Kabsch) of ``template`` (S, K) onto the points ``q`` (F, S, K) observed in ``w`` (F, K).

    Returns ``R`` (F, S, S), the centroids ``qbar`` and ``tbar`` (F, S) of the data and template over the
    keypoints used, and ``ok`` (F,), False where fewer than 2 keypoints could be used.
    """
    w = w & np.isfinite(template).all(axis=0)[None, :]
    wf = w[:, None, :].astype(float)
    n = w.sum(axis=1)
    ok = n >= 2
    denom = np.maximum(n, 1)[:, None]
    qz = np.where(w[:, None, :], q, 0.0)
    tz = np.where(w[:, None, :], np.nan_to_num(template)[None], 0.0)
    qbar, tbar = qz.sum(axis=2) / denom, tz.sum(axis=2) / denom
    H = ((tz - tbar[:, :, None]) * wf) @ ((qz - qbar[:, :, None]) * wf).transpose(0, 2, 1)
    U, _, Vt = np.linalg.svd(H)
    V = Vt.transpose(0, 2, 1)
    flip = np.linalg.det(V @ U.transpose(0, 2, 1)) < 0
    V[flip, :, -1] *= -1  # no reflections
    return V @ U.transpose(0, 2, 1), qbar, tbar, ok


def _to_body(q, R, qbar, tbar):
    """World points (F, S, K) to the template's body frame: ``R.T (q - qbar) + tbar``."""
    return np.einsum("fsj,fsk->fjk", R, q - qbar[:, :, None]) + tbar[:, :, None]


def _to_world(b, R, qbar, tbar):
    """Inverse of :func:`_to_body`."""
    return np.einsum("fjs,fsk->fjk", R, b - tbar[:, :, None]) + qbar[:, :, None]


def _estimate_template(points, observed, rng, n_frames=2000, n_rounds=3):
    """Median body shape (S, K), NaN for keypoints never seen, by iterated rigid alignment of sampled frames."""
    usable = np.flatnonzero(observed.sum(axis=1) >= 2)
    template = np.full(points.shape[1:], np.nan)
    if usable.size == 0:
        return template
    rows = rng.choice(usable, size=n_frames, replace=False) if usable.size > n_frames else usable
    q, w = points[rows], observed[rows]
    ref = int(np.argmax(w.sum(axis=1)))
    template = np.where(w[ref][None, :], q[ref], np.nan)
    for _ in range(n_rounds):
        template = template - np.nanmean(template, axis=1, keepdims=True)
        R, qbar, tbar, ok = _align(q, w, template)
        body = _to_body(q, R, qbar, tbar)
        body[~np.broadcast_to(w[:, None, :], body.shape)] = np.nan
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # keypoints never observed in the sample
            template = np.nanmedian(body[ok], axis=0)
    return template - np.nanmean(template, axis=1, keepdims=True)


def _auto_skeleton(points: np.ndarray, rng) -> list[tuple[int, int]]:
    """Minimum spanning tree of the median inter-keypoint distances: each keypoint tied to its body."""
    T, _, K = points.shape
    sample = points[rng.choice(T, size=min(T, 5000), replace=False)] if T > 5000 else points
    diff = sample[:, :, :, None] - sample[:, :, None, :]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(np.sqrt((diff**2).sum(axis=1)), axis=0)  # (K, K)
    ok = np.isfinite(np.diag(med))  # keypoints observed at least once
    med = np.where(np.isfinite(med), med + 1e-9, 0.0)  # csgraph: zero means "no edge"
    tree = minimum_spanning_tree(med).tocoo()
    return [(int(a), int(b)) for a, b in zip(tree.row, tree.col, strict=True) if ok[a] and ok[b]]


def enforce_lengths(points, imputed, edges, lengths, tolerance):
    """Move imputed keypoints along each edge until its length is within ``lengths * (1 +/- tolerance)``.

    ``points`` (n_frames, n_space, n_keypoints) is modified in place; observed keypoints never move. Vectorised over
    frames, a few passes over the (few) edges.
    """
    for _ in range(_SKELETON_PASSES):
        for (a, b), length in zip(edges, lengths, strict=True):
            move_a, move_b = imputed[:, a], imputed[:, b]
            act = move_a | move_b
            if not act.any() or not np.isfinite(length):
                continue
            vec = points[act, :, b] - points[act, :, a]
            d = np.sqrt((vec**2).sum(axis=1))
            target = np.clip(d, length * (1 - tolerance), length * (1 + tolerance))
            bad = np.isfinite(d) & (d > 1e-12) & (np.abs(target - d) > 1e-12)
            if not bad.any():
                continue
            unit = vec / np.where(d > 1e-12, d, 1.0)[:, None]
            delta = (target - d)[:, None] * unit  # total change of b - a
            ma, mb = move_a[act], move_b[act]
            share_a = np.where(ma & mb, 0.5, np.where(ma, 1.0, 0.0))[:, None]
            share_b = np.where(ma & mb, 0.5, np.where(mb, 1.0, 0.0))[:, None]
            rows = np.flatnonzero(act)[bad]
            points[rows, :, a] -= (share_a * delta)[bad]
            points[rows, :, b] += (share_b * delta)[bad]
    return points


class KeypointImputer(BasePosesTransformer):
    """Impute long keypoint gaps from the other keypoints of the animal and from its motion around the gap.

    Three stages, per recording and individual:

    1. *Spatial* (``strategy`` "iterative" or "both"): scikit-learn's ``IterativeImputer`` predicts each missing
       keypoint from the others, on body-centred coordinates: every frame is brought into the animal's own frame
       by the rigid (rotation + translation) fit of a median body shape to its observed keypoints, so the
       regression only has to learn posture, not where the animal is or where it faces. Frames with fewer than
       ``min_observed`` observed keypoints get no spatial estimate. Its error is
       measured on up to 200 complete frames in which one of the keypoints that have gaps is hidden, and sets
       ``imputation_std`` when not given.
    2. *Temporal* (``strategy`` "kalman" or "both"): a constant-velocity state-space model (white acceleration
       with standard deviation ``acceleration_std``) bridges each gap; the filled values are its posterior mean
       given the observed frames (exact) and the spatial estimates (noise ``imputation_std``), which is what a
       Rauch-Tung-Striebel smoother returns, computed by one banded linear solve instead of a frame loop.
    3. *Skeleton*: for every edge of ``skeleton``, imputed keypoints are moved along the edge until its length is
       within ``length_tolerance`` of the edge's median length (observed keypoints never move).

    Parameters
    ----------
    strategy : {"both", "iterative", "kalman"}, default "both"
        Which of stages 1 and 2 to run. With "kalman" alone only gaps bounded by valid frames are filled;
        with a spatial stage, the NaN runs at the start/end of a track are filled where spatial estimates exist.
    max_gap : int or float or None, default None
        Longest run of missing frames (per coordinate) that is filled, in ``gap_unit``; None fills all.
    gap_unit : {"frames", "seconds"}, default "frames"
        Unit of ``max_gap``.
    skeleton : "auto", sequence of (str, str) or None, default "auto"
        Edges whose length is constrained. "auto": the minimum spanning tree of the median distances between
        keypoints (no names needed); None: no constraint.
    length_tolerance : float, default 0.1
        Allowed relative deviation of an edge from its median length (DeepOF: 10 %).
    min_observed : int, default 3
        Observed keypoints a frame needs to receive a spatial estimate.
    max_iter : int, default 10
        Rounds of the ``IterativeImputer``.
    max_samples : int, default 5000
        Complete frames (sampled at random) added to the frames with gaps to train the ``IterativeImputer``.
    acceleration_std : float, optional
        Process noise of the temporal model, in space units per frame squared. Default: a robust estimate (1.4826
        x median absolute second difference) from the observed frames of the individual.
    imputation_std : float, optional
        Noise of the spatial estimates in space units. Default: their measured hold-out error.
    random_state : int, RandomState instance or None, default 0
        Seeds the training sample, the hold-out frames and the ``IterativeImputer``. The default is a fixed seed so
        that preprocessing is reproducible unless asked otherwise; None draws from numpy's global generator.
    n_jobs : int, optional
        Recordings processed in parallel with joblib.

    Attributes
    ----------
    keypoints_ : ndarray of str
        Keypoints seen in ``fit``.
    individuals_ : ndarray of str
        Individuals of the first recording seen in ``fit``.
    n_recordings_ : int
        Number of recordings seen in ``fit``.

    Notes
    -----
    NaN handling: observed values never change (they are restored bit for bit at the end). Gaps longer than
    ``max_gap``, keypoints that are never observed and an individual without any valid point stay NaN (the last
    with a :class:`~deepof_sk.exceptions.MissingDataWarning`). A point with one missing coordinate is imputed as a
    whole but its observed coordinate is kept.

    Complexity per individual with ``K`` keypoints and ``n`` frames to impute: the spatial stage costs about
    ``max_iter * 2K`` Bayesian ridge fits on ``n + max_samples`` rows of ``2K`` features; the temporal stage is
    O(number of missing values); the skeleton stage O(frames x edges). Short gaps are cheaper to fill first with
    :class:`Interpolator`. Units are unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> ds = make_synthetic_poses(400, scenario="turn", noise=0.3, random_state=0)
    >>> ds["position"].loc[{"keypoint": "Nose", "time": ds.time[100:160]}] = np.nan   # a 60-frame gap
    >>> out = KeypointImputer(random_state=0).fit_transform(ds)
    >>> int(ds.position.isnull().sum()), int(out.position.isnull().sum())
    (120, 0)
    """

    _parameter_constraints = {
        "strategy": [StrOptions({"both", "iterative", "kalman"})],
        "max_gap": [Interval(Real, 0, None, closed="left"), None],
        "gap_unit": [StrOptions({"frames", "seconds"})],
        "skeleton": [StrOptions({"auto"}), list, tuple, None],
        "length_tolerance": [Interval(Real, 0, None, closed="left")],
        "min_observed": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "max_samples": [Interval(Integral, 0, None, closed="left")],
        "acceleration_std": [Interval(Real, 0, None, closed="neither"), None],
        "imputation_std": [Interval(Real, 0, None, closed="neither"), None],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, strategy="both", max_gap=None, gap_unit="frames", skeleton="auto", length_tolerance=0.1,
                 min_observed=3, max_iter=10, max_samples=5000, acceleration_std=None, imputation_std=None,
                 random_state=0, n_jobs=None):
        self.strategy = strategy
        self.max_gap = max_gap
        self.gap_unit = gap_unit
        self.skeleton = skeleton
        self.length_tolerance = length_tolerance
        self.min_observed = min_observed
        self.max_iter = max_iter
        self.max_samples = max_samples
        self.acceleration_std = acceleration_std
        self.imputation_std = imputation_std
        self.random_state = random_state
        self.n_jobs = n_jobs

    # -- configuration -------------------------------------------------------------------------------------------
    def _fit_recordings(self, recordings, y=None):
        if self.skeleton is None or isinstance(self.skeleton, str):
            return
        where = type(self).__name__
        bad = [e for e in self.skeleton if not (isinstance(e, (list, tuple)) and len(e) == 2)]
        if bad:
            raise ValueError(f"{where}: `skeleton` must be 'auto', None or a list of (keypoint, keypoint) pairs; "
                             f"got entries {bad[:5]}.")
        unknown = sorted({str(k) for e in self.skeleton for k in e} - set(map(str, self.keypoints_)))
        if unknown:
            raise ValueError(f"{where}: `skeleton` names keypoints {unknown} that the recordings do not have "
                             f"(they have {sorted(map(str, self.keypoints_))}).")

    def _max_gap_frames(self, ds):
        if self.max_gap is None:
            return np.inf
        if self.gap_unit == "frames":
            return float(self.max_gap)
        return np.floor(float(self.max_gap) * get_fps(ds, where=f"{type(self).__name__} (gap_unit='seconds')")
                        + 1e-9)

    def _edges(self, ds, points, rng):
        if self.skeleton is None:
            return []
        if isinstance(self.skeleton, str):
            return _auto_skeleton(points, rng)
        names = [str(k) for k in ds[S.KEYPOINT].values]
        return [(names.index(str(a)), names.index(str(b))) for a, b in self.skeleton]

    # -- stages --------------------------------------------------------------------------------------------------
    def _spatial(self, points, missing_pt, rng):
        """Spatial estimates (T, S, K), NaN where none, and the hold-out RMS error (or None)."""
        T, n_space, K = points.shape
        z = np.full(points.shape, np.nan)
        observed = ~missing_pt
        target_rows = np.flatnonzero(missing_pt.any(axis=1) & (observed.sum(axis=1) >= self.min_observed))
        if target_rows.size == 0:
            return z, None
        template = _estimate_template(points, observed, rng)
        known = np.isfinite(template).all(axis=0)  # keypoints with a place in the body frame
        if known.sum() < 2:
            return z, None
        complete = np.flatnonzero(observed[:, known].all(axis=1))
        perm = rng.permutation(complete)
        gappy = np.flatnonzero((missing_pt[target_rows] & known).any(axis=0))
        n_hold = min(_N_HOLDOUT, complete.size // 5) if gappy.size else 0
        holdout, train = perm[:n_hold], perm[n_hold: n_hold + self.max_samples]
        hide = gappy[rng.randint(0, max(gappy.size, 1), size=n_hold)]  # one gappy keypoint per hold-out frame
        rows = np.concatenate([target_rows, train, holdout])
        q = points[rows]
        w = observed[rows].copy()
        w[np.arange(target_rows.size + train.size, rows.size), hide] = False
        R, qbar, tbar, ok = _align(q, w, template)
        body = _to_body(q, R, qbar, tbar)
        body[~np.broadcast_to(w[:, None, :], body.shape)] = np.nan
        body[~ok] = np.nan
        matrix = body[:, :, known].reshape(rows.size, -1)
        empty = np.isnan(matrix).all(axis=0)
        # imported here: scikit-learn's imputation modules add 15 MB and 0.1 s to every import of deepof_sk
        from sklearn.experimental import enable_iterative_imputer  # noqa: F401 - registers IterativeImputer
        from sklearn.impute import IterativeImputer

        imputer = IterativeImputer(max_iter=self.max_iter, random_state=rng.randint(np.iinfo(np.int32).max),
                                   skip_complete=True, keep_empty_features=True)
        # thousands of tiny ridge fits: multi-threaded BLAS only adds synchronisation cost (100x on busy machines)
        with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
            warnings.simplefilter("ignore", ConvergenceWarning)
            done = imputer.fit_transform(matrix)
        done[:, empty] = np.nan
        body[:, :, known] = done.reshape(rows.size, n_space, int(known.sum()))
        world = _to_world(body, R, qbar, tbar)
        world[~ok] = np.nan
        error = None
        if n_hold:
            got = world[-n_hold:][np.arange(n_hold), :, hide]
            want = points[holdout][np.arange(n_hold), :, hide]
            err = np.sqrt(np.nanmean(((got - want) ** 2).sum(axis=1)))
            error = float(err) if np.isfinite(err) else None
        z[target_rows] = world[: target_rows.size]
        return z, error

    def _impute_individual(self, points, max_gap, edges, rng):
        """Fill one individual's (T, S, K) array; returns a new array."""
        T, n_space, K = points.shape
        original = points.copy()
        observed = np.isfinite(original)
        missing_pt = ~observed.all(axis=1)  # (T, K)
        work = np.where(missing_pt[:, None, :], np.nan, original)
        flat = work.reshape(T, -1)
        missing = np.isnan(flat)
        length, interior = _run_lengths(missing)
        candidate = missing & (length <= max_gap)
        if self.strategy in ("iterative", "both"):
            z, error = self._spatial(work, missing_pt, rng)
            z = z.reshape(T, -1)
        else:
            z, error = np.full(flat.shape, np.nan), None
        has_z = candidate & np.isfinite(z)
        if self.strategy == "iterative":
            filled = np.where(has_z, z, flat)
        else:
            unknown = candidate & (interior | has_z) if self.strategy == "both" else candidate & interior
            acc = self.acceleration_std
            if acc is None:  # robust scale of the second differences, from up to 20,000 sampled frames
                rows = np.sort(rng.choice(T - 2, size=min(T - 2, 20_000), replace=False)) if T > 2 else []
                second = flat[rows + 2] - 2 * flat[rows + 1] + flat[rows] if len(rows) else np.zeros(0)
                second = second[np.isfinite(second)]
                acc = 1.4826 * float(np.median(np.abs(second))) if second.size else 1.0
            imp = self.imputation_std if self.imputation_std is not None else error
            if imp is None:
                imp = float(np.nanmedian(np.nanstd(flat, axis=0))) if np.isfinite(flat).any() else 1.0
            rho = max((acc / max(imp, 1e-12)) ** 2, 1e-10)
            filled = smooth_gaps(flat, unknown, z, rho)
        out = filled.reshape(T, n_space, K)
        if edges:
            lengths = []
            for a, b in edges:
                d = np.sqrt(((original[:, :, a] - original[:, :, b]) ** 2).sum(axis=1))
                lengths.append(float(np.nanmedian(d)) if np.isfinite(d).any() else np.nan)
            imputed = missing_pt & np.isfinite(out).all(axis=1)
            out = enforce_lengths(out, imputed, edges, lengths, self.length_tolerance)
        out[observed] = original[observed]
        return out

    def _transform_recording(self, ds):
        where = type(self).__name__
        rng = check_random_state(self.random_state)
        pos = position_array(ds)
        empty = warn_empty_individuals(ds, pos, where)
        max_gap = self._max_gap_frames(ds)
        for i in range(pos.shape[3]):
            if empty[i] or not np.isnan(pos[..., i]).any():
                continue
            edges = self._edges(ds, pos[..., i], rng)
            pos[..., i] = self._impute_individual(pos[..., i], max_gap, edges, rng)
        return with_position(ds, pos)
