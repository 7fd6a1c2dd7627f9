"""Masking of unreliable keypoints: low confidence, outliers (residual or speed rule) and absent animals.

Each step replaces ``position`` with a copy in which the rejected points are NaN; ``confidence`` is passed through
unchanged, so later steps (and :class:`PresenceMasker`) still see the tracker's scores.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
import xarray as xr
from scipy.ndimage import uniform_filter1d
from sklearn.utils._param_validation import Interval, StrOptions

from .. import schema as S
from ..base import BasePosesTransformer
from ..exceptions import MissingDataWarning
from ..utils._params import window_in_frames
from ..validation import get_fps

__all__ = ["ConfidenceFilter", "OutlierFilter", "PresenceMasker"]


# -- helpers shared by the cleaning, interpolation and imputation steps -------------------------------------------
def recording_label(ds: xr.Dataset) -> str:
    """A short name for messages: the source file, or ``<unnamed>``."""
    return str(ds.attrs.get(S.SOURCE_FILE) or "<unnamed>")


def position_array(ds: xr.Dataset) -> np.ndarray:
    """``position`` as a float array (time, space, keypoint, individual) that the caller may modify."""
    return np.array(ds[S.POSITION].transpose(*S.POSITION_DIMS).values, dtype=float, copy=True)


def confidence_array(ds: xr.Dataset, nan_confidence: str = "ignore") -> np.ndarray:
    """``confidence`` (time, keypoint, individual); NaN (no score) becomes 0 when ``nan_confidence="zero"``."""
    conf = np.asarray(ds[S.CONFIDENCE].transpose(*S.CONFIDENCE_DIMS).values, dtype=float)
    return np.nan_to_num(conf, nan=0.0) if nan_confidence == "zero" else conf


def with_position(ds: xr.Dataset, values: np.ndarray) -> xr.Dataset:
    """A new dataset equal to ``ds`` with ``position`` replaced (attrs of the variable kept)."""
    out = ds.copy()
    out[S.POSITION] = ds[S.POSITION].transpose(*S.POSITION_DIMS).copy(data=values)
    return out


def warn_empty_individuals(ds: xr.Dataset, position: np.ndarray, where: str) -> np.ndarray:
    """Warn (MissingDataWarning) about individuals without one valid point; return a bool mask over individuals."""
    empty = np.isnan(position).all(axis=(0, 1, 2))
    if empty.any():
        names = [str(n) for n in np.asarray(ds[S.INDIVIDUAL].values)[empty]]
        warnings.warn(
            f"{where}: individual(s) {names} of recording {recording_label(ds)!r} have no valid position (all "
            "NaN); they are passed through unchanged. Check the tracking or drop them with "
            "ds.drop_sel(individual=[...]).",
            MissingDataWarning,
            stacklevel=3,
        )
    return empty


def warn_masked_fraction(ds: xr.Dataset, newly_masked: np.ndarray, warn_fraction: float | None, where: str,
                         hint: str) -> None:
    """Warn once per recording listing every (keypoint, individual) with more than ``warn_fraction`` masked."""
    if warn_fraction is None or newly_masked.size == 0:
        return
    frac = newly_masked.mean(axis=0)  # (keypoint, individual)
    bad = np.argwhere(frac > warn_fraction)
    if bad.size == 0:
        return
    kps = np.asarray(ds[S.KEYPOINT].values)
    inds = np.asarray(ds[S.INDIVIDUAL].values)
    listed = ", ".join(f"{kps[k]}/{inds[i]} ({frac[k, i]:.0%})" for k, i in bad[:12])
    more = f" and {len(bad) - 12} more" if len(bad) > 12 else ""
    warnings.warn(
        f"{where}: more than {warn_fraction:.0%} of the frames were masked in recording {recording_label(ds)!r} "
        f"for keypoint/individual {listed}{more}. {hint}",
        MissingDataWarning,
        stacklevel=3,
    )


def _valid_points(position: np.ndarray) -> np.ndarray:
    """(time, keypoint, individual): True where every spatial coordinate is finite."""
    return np.isfinite(position).all(axis=1)


# -- ConfidenceFilter ----------------------------------------------------------------------------------------------
class ConfidenceFilter(BasePosesTransformer):
    """Set keypoints whose tracking confidence is below a threshold to NaN.

    Parameters
    ----------
    threshold : float, default 0.6
        Points with ``confidence < threshold`` are masked (DeepLabCut's usual ``pcutoff`` is 0.6; DeepOF uses 0.75
        inside its outlier step).
    nan_confidence : {"ignore", "zero"}, default "ignore"
        What a NaN confidence means. ``"ignore"``: no score was provided (movement's convention) and the point is
        kept; ``"zero"``: treat it as confidence 0 and mask the point (DeepOF replaces NaN likelihoods by 0).
    warn_fraction : float or None, default 0.3
        Warn (:class:`~deepof_sk.exceptions.MissingDataWarning`) when a step masks more than this fraction of the
        frames of a keypoint; None switches the warning off.
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
    NaN handling: positions that are already NaN stay NaN; all spatial coordinates of a masked point become NaN;
    ``confidence`` itself is returned unchanged. Units are unchanged.

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> ds, truth = make_synthetic_poses(200, dropout_rate=0.05, random_state=0, return_truth=True)
    >>> out = ConfidenceFilter(threshold=0.6).fit_transform(ds)
    >>> bool(out.position.isnull().any("space").values.squeeze().__eq__(truth.dropout_mask.squeeze()).all())
    True
    """

    _parameter_constraints = {
        "threshold": [Interval(Real, None, None, closed="neither")],
        "nan_confidence": [StrOptions({"ignore", "zero"})],
        "warn_fraction": [Interval(Real, 0, 1, closed="both"), None],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, threshold=0.6, nan_confidence="ignore", warn_fraction=0.3, n_jobs=None):
        self.threshold = threshold
        self.nan_confidence = nan_confidence
        self.warn_fraction = warn_fraction
        self.n_jobs = n_jobs

    def _transform_recording(self, ds):
        where = type(self).__name__
        pos = position_array(ds)
        warn_empty_individuals(ds, pos, where)
        low = confidence_array(ds, self.nan_confidence) < self.threshold  # NaN < t is False: kept
        newly = low & _valid_points(pos)
        pos[np.broadcast_to(low[:, None], pos.shape)] = np.nan
        warn_masked_fraction(ds, newly, self.warn_fraction, where,
                             f"Lower `threshold` (now {self.threshold}) or retrain the tracker.")
        return with_position(ds, pos)


# -- OutlierFilter -------------------------------------------------------------------------------------------------
def _moving_reference(values: np.ndarray, n: int, reference: str, edge_mode: str) -> np.ndarray:
    """Centred moving mean/median along axis 0 of a 2-D array, ignoring NaN.

    ``edge_mode="shrink"``: the window is truncated at the recording's ends; ``"zeros"``: frames outside the
    recording count as zeros (numpy's ``convolve(..., mode="same")``, DeepOF's choice).
    """
    half = n // 2
    if reference == "mean":
        valid = np.isfinite(values)
        total = uniform_filter1d(np.where(valid, values, 0.0), n, axis=0, mode="constant", cval=0.0)
        count = uniform_filter1d(valid.astype(float), n, axis=0, mode="constant",
                                 cval=1.0 if edge_mode == "zeros" else 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 1e-9, total / count, np.nan)
    pad_value = 0.0 if edge_mode == "zeros" else np.nan
    padded = np.pad(values, [(half, half)] + [(0, 0)] * (values.ndim - 1), constant_values=pad_value)
    med = pd.DataFrame(padded).rolling(n, center=True, min_periods=1).median().to_numpy()
    return med[half: half + values.shape[0]]


class OutlierFilter(BasePosesTransformer):
    """Set outlying keypoint positions to NaN: DeepOF's moving-average residual rule or a speed rule.

    Parameters
    ----------
    method : {"deepof", "speed"}, default "deepof"
        ``"deepof"``: for each keypoint and coordinate, the residual from a centred moving average over ``window``
        frames is computed; a point is an outlier where ``|residual| > mean + n_std * std`` of that coordinate's
        residuals, in x **or** y (``combine="any"``). ``"speed"``: a point is an outlier where the speed from the
        previous valid point **and** the speed to the next valid point both exceed ``max_speed`` (the jump-out
        and jump-back signature of a tracking glitch; the first/last valid points use their two nearest valid
        neighbours on one side).
    window : int or float, default 5
        Moving-average window (``"deepof"``), in ``window_unit``; odd in frames (DeepOF's ``lag=5``).
    window_unit : {"frames", "seconds"}, default "frames"
        Unit of ``window``.
    n_std : float, default 3
        Number of standard deviations of the residuals above their mean (DeepOF's ``interpolation_std=3``).
    combine : {"any", "all"}, default "any"
        Whether one spatial coordinate beyond the threshold is enough (DeepOF's ``mode="or"``) or all are needed.
    reference : {"mean", "median"}, default "mean"
        Moving statistic the residuals are taken from. ``"mean"`` is DeepOF's rule; ``"median"`` is robust: the
        neighbours of a large spike are not pulled off and stay unmasked.
    edge_mode : {"shrink", "zeros"}, default "shrink"
        How the moving window treats the recording's ends. ``"shrink"`` truncates it. ``"zeros"`` reproduces
        DeepOF, whose ``np.convolve(..., mode="same")`` pads with zeros: the first and last ``window // 2`` frames
        then have huge residuals and are always masked (DeepOF's imputation later fills them with the nearest
        valid value).
    likelihood_tol : float, optional
        Also mask points whose confidence is below this value (DeepOF: 0.75). None (default) leaves confidence
        to :class:`ConfidenceFilter`.
    max_speed : float, optional
        Speed limit for ``method="speed"`` (required there), in the dataset's ``space_unit`` per ``speed_unit``.
    speed_unit : {"per_second", "per_frame"}, default "per_second"
        Time unit of ``max_speed``; per second needs ``attrs["fps"]``.
    nan_confidence : {"ignore", "zero"}, default "ignore"
        For ``likelihood_tol``: a NaN confidence is "not provided" and never masks (``"ignore"``), or counts as 0
        (``"zero"``, DeepOF).
    warn_fraction : float or None, default 0.3
        Warn (:class:`~deepof_sk.exceptions.MissingDataWarning`) when more than this fraction of a keypoint's
        frames is masked by this step; None switches the warning off.
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
    Statistics are per recording, keypoint, individual and coordinate; as in DeepOF the residual mean and standard
    deviation leave out ``window`` frames at each end of the recording (when it is long enough). The mask of a
    point covers all its coordinates.

    NaN handling: NaN positions stay NaN and are skipped by the moving statistic (the window averages the valid
    frames it holds), so a point next to a gap is still tested; DeepOF instead lets a NaN spread over the window
    and never tests those neighbours. With ``method="speed"`` speeds are measured to the nearest valid frames on
    each side, however far. Thresholds are in the dataset's units (pixels before scaling, mm after).

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> ds, truth = make_synthetic_poses(500, scenario="turn", noise=0.5, n_spikes=10, random_state=0,
    ...                                  return_truth=True)
    >>> out = OutlierFilter(method="speed", max_speed=600).fit_transform(ds)
    >>> bool(out.position.isnull().any("space").values[truth.spike_mask].all())
    True
    """

    _parameter_constraints = {
        "method": [StrOptions({"deepof", "speed"})],
        "window": [Interval(Real, 0, None, closed="neither")],
        "window_unit": [StrOptions({"frames", "seconds"})],
        "n_std": [Interval(Real, 0, None, closed="left")],
        "combine": [StrOptions({"any", "all"})],
        "reference": [StrOptions({"mean", "median"})],
        "edge_mode": [StrOptions({"shrink", "zeros"})],
        "likelihood_tol": [Interval(Real, None, None, closed="neither"), None],
        "max_speed": [Interval(Real, 0, None, closed="neither"), None],
        "speed_unit": [StrOptions({"per_second", "per_frame"})],
        "nan_confidence": [StrOptions({"ignore", "zero"})],
        "warn_fraction": [Interval(Real, 0, 1, closed="both"), None],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, method="deepof", window=5, window_unit="frames", n_std=3.0, combine="any",
                 reference="mean", edge_mode="shrink", likelihood_tol=None, max_speed=None,
                 speed_unit="per_second", nan_confidence="ignore", warn_fraction=0.3, n_jobs=None):
        self.method = method
        self.window = window
        self.window_unit = window_unit
        self.n_std = n_std
        self.combine = combine
        self.reference = reference
        self.edge_mode = edge_mode
        self.likelihood_tol = likelihood_tol
        self.max_speed = max_speed
        self.speed_unit = speed_unit
        self.nan_confidence = nan_confidence
        self.warn_fraction = warn_fraction
        self.n_jobs = n_jobs

    def _fit_recordings(self, recordings, y=None):
        if self.method == "speed" and self.max_speed is None:
            raise ValueError(
                f"{type(self).__name__}: method='speed' needs `max_speed` (in the dataset's space unit per "
                f"{self.speed_unit.replace('per_', '')}); got None. Example: max_speed=500 for mm per second."
            )

    def _residual_mask(self, pos: np.ndarray, ds: xr.Dataset) -> np.ndarray:
        where = type(self).__name__
        n = window_in_frames(self.window, self.window_unit, ds, where=where, odd=True)
        T = pos.shape[0]
        flat = pos.reshape(T, -1)
        resid = flat - _moving_reference(flat, n, self.reference, self.edge_mode)
        core = resid[n:T - n] if T > 2 * n + 1 else resid
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: thresholds NaN, nothing flagged
            limit = np.nanmean(core, axis=0) + self.n_std * np.nanstd(core, axis=0)
        with np.errstate(invalid="ignore"):
            beyond = (np.abs(resid) > limit).reshape(pos.shape)
        return beyond.any(axis=1) if self.combine == "any" else beyond.all(axis=1)

    def _speed_mask(self, pos: np.ndarray, ds: xr.Dataset) -> np.ndarray:
        frames_per_unit = 1.0
        if self.speed_unit == "per_second":
            frames_per_unit = get_fps(ds, where=f"{type(self).__name__} (speed_unit='per_second')")
        T = pos.shape[0]
        valid = _valid_points(pos)  # (T, K, I)
        shape = valid.shape
        v = valid.reshape(T, -1)
        p = pos.reshape(T, pos.shape[1], -1)  # (T, S, C)
        t = np.arange(T)[:, None]
        # nearest valid frame strictly before / after each frame (-1 / T when none)
        last = np.maximum.accumulate(np.where(v, t, -1), axis=0)
        prev = np.vstack([np.full((1, v.shape[1]), -1), last[:-1]])
        first = np.minimum.accumulate(np.where(v, t, T)[::-1], axis=0)[::-1]
        nxt = np.vstack([first[1:], np.full((1, v.shape[1]), T)])
        nxt2 = np.take_along_axis(np.vstack([nxt, np.full((1, v.shape[1]), T)]), np.clip(nxt, 0, T), axis=0)
        prev2 = np.take_along_axis(np.vstack([prev, np.full((1, v.shape[1]), -1)]), np.where(prev < 0, T, prev),
                                   axis=0)
        # the two reference neighbours: previous and next; one-sided at the ends of a track
        a = np.where(prev >= 0, prev, nxt)
        b = np.where(prev < 0, nxt2, np.where(nxt < T, nxt, prev2))
        cols = np.arange(v.shape[1])[None, :]

        def speed(ref):
            ok = (ref >= 0) & (ref < T)
            r = np.clip(ref, 0, T - 1)
            disp = np.sqrt(((p - p[r, :, cols].transpose(0, 2, 1)) ** 2).sum(axis=1))
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(ok, disp / np.abs(r - t) * frames_per_unit, np.nan)

        with np.errstate(invalid="ignore"):
            flagged = v & (speed(a) > self.max_speed) & (speed(b) > self.max_speed)
        return flagged.reshape(shape)

    def _transform_recording(self, ds):
        where = type(self).__name__
        pos = position_array(ds)
        warn_empty_individuals(ds, pos, where)
        valid = _valid_points(pos)
        mask = self._residual_mask(pos, ds) if self.method == "deepof" else self._speed_mask(pos, ds)
        if self.likelihood_tol is not None:
            mask |= confidence_array(ds, self.nan_confidence) < self.likelihood_tol
        pos[np.broadcast_to(mask[:, None], pos.shape)] = np.nan
        hint = ("Raise `n_std` or `window`" if self.method == "deepof" else "Raise `max_speed`") + (
            f" or lower `likelihood_tol` (now {self.likelihood_tol})" if self.likelihood_tol is not None else ""
        ) + "; a keypoint this noisy may be better dropped."
        warn_masked_fraction(ds, mask & valid, self.warn_fraction, where, hint)
        return with_position(ds, pos)


# -- PresenceMasker ------------------------------------------------------------------------------------------------
class PresenceMasker(BasePosesTransformer):
    """Mask every keypoint of an animal in the frames where it is judged absent (DeepOF's presence rule).

    An animal is present in a frame when the median confidence over its keypoints is above ``threshold``.

    Parameters
    ----------
    threshold : float, default 0.5
        Presence threshold on the per-frame median confidence (DeepOF hard-codes 0.5).
    nan_confidence : {"ignore", "zero"}, default "ignore"
        ``"ignore"``: keypoints with NaN confidence are left out of the median, and a frame where no keypoint has
        a score is kept (presence cannot be judged); ``"zero"``: NaN counts as 0 (DeepOF), so a frame without
        scores is absent.
    warn_fraction : float or None, default 0.3
        Warn (:class:`~deepof_sk.exceptions.MissingDataWarning`) when an animal is absent in more than this
        fraction of the frames; None switches the warning off.
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
    The median is taken over the keypoints of the dataset it receives: DeepOF takes it over all tracked body parts,
    including those excluded from the analysis, so drop keypoints after this step to match DeepOF exactly.
    NaN handling: positions already NaN stay NaN; ``confidence`` is returned unchanged. Units are unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> ds = make_synthetic_poses(50, random_state=0)
    >>> ds["confidence"][10:20] = 0.1
    >>> out = PresenceMasker().fit_transform(ds)
    >>> int(out.position.isnull().all(["space", "keypoint"]).sum())
    10
    """

    _parameter_constraints = {
        "threshold": [Interval(Real, None, None, closed="neither")],
        "nan_confidence": [StrOptions({"ignore", "zero"})],
        "warn_fraction": [Interval(Real, 0, 1, closed="both"), None],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, threshold=0.5, nan_confidence="ignore", warn_fraction=0.3, n_jobs=None):
        self.threshold = threshold
        self.nan_confidence = nan_confidence
        self.warn_fraction = warn_fraction
        self.n_jobs = n_jobs

    def _transform_recording(self, ds):
        where = type(self).__name__
        pos = position_array(ds)
        empty = warn_empty_individuals(ds, pos, where)
        conf = confidence_array(ds, self.nan_confidence)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # frames without any score: median NaN
            median = np.nanmedian(conf, axis=1)  # (T, I)
        absent = median <= self.threshold  # NaN median (no score at all) compares False: kept
        pos[np.broadcast_to(absent[:, None, None, :], pos.shape)] = np.nan
        frac = absent.mean(axis=0)
        bad = (frac > self.warn_fraction) & ~empty if self.warn_fraction is not None else np.zeros_like(empty)
        if bad.any():
            names = ", ".join(f"{n} ({f:.0%})" for n, f in zip(np.asarray(ds[S.INDIVIDUAL].values)[bad],
                                                               frac[bad], strict=True))
            warnings.warn(
                f"{where}: in recording {recording_label(ds)!r}, individual(s) {names} are absent (median "
                f"confidence <= {self.threshold}) in more than {self.warn_fraction:.0%} of the frames; their "
                "positions there are NaN. Lower `threshold` if the tracker's scores are low overall.",
                MissingDataWarning,
                stacklevel=2,
            )
        return with_position(ds, pos)
