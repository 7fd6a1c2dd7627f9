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
from ..utils._blocks import halo_blocks, time_blocks
from ..utils._median import nanmedian_planes
from ..utils._params import as_float, window_in_frames, writable
from ..utils._runs import order_runs, run_bounds
from ..utils._xr import with_variables
from ..validation import get_fps

__all__ = ["ConfidenceFilter", "OutlierFilter", "PresenceMasker"]


# -- helpers shared by the cleaning, interpolation and imputation steps -------------------------------------------
def recording_label(ds: xr.Dataset) -> str:
    """A short name for messages: the source file, or ``<unnamed>``."""
    return str(ds.attrs.get(S.SOURCE_FILE) or "<unnamed>")


def position_array(ds: xr.Dataset) -> np.ndarray:
    """``position`` as a float array (time, space, keypoint, individual) that the caller may modify."""
    return np.array(position_values(ds), copy=True)


def position_values(ds: xr.Dataset) -> np.ndarray:
    """``position`` (time, space, keypoint, individual) without a copy: read it, never write to it."""
    return as_float(ds[S.POSITION].transpose(*S.POSITION_DIMS).values)


def confidence_array(ds: xr.Dataset, nan_confidence: str = "ignore", dtype=float) -> np.ndarray:
    """``confidence`` (time, keypoint, individual); NaN (no score) becomes 0 when ``nan_confidence="zero"``.

    ``dtype=None`` keeps a float32 array float32 (compare it with ``np.float64(threshold)``, which compares in
    double precision, as with float64 scores).
    """
    values = ds[S.CONFIDENCE].transpose(*S.CONFIDENCE_DIMS).values
    conf = as_float(values) if dtype is None else np.asarray(values, dtype=dtype)
    return np.nan_to_num(conf, nan=0.0) if nan_confidence == "zero" else conf


def mask_hits(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frames and flat track indices (keypoint * n_individuals + individual) of the True points of a
    (time, keypoint, individual) mask: the work of masking is then proportional to the points masked."""
    n_tracks = int(np.prod(mask.shape[1:]))
    return np.divmod(np.flatnonzero(mask), max(n_tracks, 1))


def masked_position(position: np.ndarray, mask: np.ndarray | None = None, copy: bool = True,
                    hits=None) -> np.ndarray:
    """``position`` with every coordinate of the points in ``mask`` (time, keypoint, individual) NaN.

    A new array, or with ``copy=False`` ``position`` itself, written in place, when it is writeable. ``hits``:
    :func:`mask_hits` of ``mask`` when the caller has them (then ``mask`` may be None). Only the masked points are
    written (a masked ``copyto`` over the whole array costs 2-10x more for the usual few percent of points).
    """
    out = position.copy() if copy or not position.flags.writeable else position
    frames, tracks = mask_hits(mask) if hits is None else hits
    if out.flags.c_contiguous:
        rows = out.reshape(out.shape[0], out.shape[1], -1)  # (time, space, track), a view
        for s in range(rows.shape[1]):
            rows[frames, s, tracks] = np.nan
    else:  # a transposed view of the caller's data: the same points through its own strides
        where = np.unravel_index(tracks, out.shape[2:])
        for s in range(out.shape[1]):
            out[(frames, s, *where)] = np.nan
    return out


def masked_fraction(position: np.ndarray, hits) -> np.ndarray:
    """(keypoint, individual): fraction of the frames in which ``hits`` (:func:`mask_hits`) masks a valid point."""
    frames, tracks = hits
    n_t, n_s = position.shape[:2]
    rows = position.reshape(n_t, n_s, -1)
    valid = np.ones(frames.size, dtype=bool)
    for s in range(n_s):  # only at the masked points
        valid &= np.isfinite(rows[frames, s, tracks])
    counts = np.bincount(tracks[valid], minlength=rows.shape[2])
    return (counts / max(n_t, 1)).reshape(position.shape[2:])


def with_position(ds: xr.Dataset, values: np.ndarray) -> xr.Dataset:
    """A new dataset equal to ``ds`` with ``position`` replaced (attrs of the variable kept)."""
    # a Variable set without xarray's merge (the coordinates are unchanged)
    return with_variables(ds, {S.POSITION: ds[S.POSITION].variable.transpose(*S.POSITION_DIMS).copy(deep=False,
                                                                                                   data=values)})


def warn_empty_individuals(ds: xr.Dataset, position: np.ndarray, where: str) -> np.ndarray:
    """Warn (MissingDataWarning) about individuals without one valid point; return a bool mask over individuals."""
    n_ind = position.shape[3]
    head = position[: min(64, position.shape[0])]
    empty = np.array([not np.isfinite(head[..., i]).any() and not np.isfinite(position[..., i]).any()
                      for i in range(n_ind)], dtype=bool)  # the short head settles the usual case at once
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


def warn_masked_fraction(ds: xr.Dataset, fraction: np.ndarray, warn_fraction: float | None, where: str,
                         hint: str) -> None:
    """Warn once per recording listing every (keypoint, individual) with more than ``warn_fraction`` of its frames
    masked (``fraction``: (keypoint, individual), from :func:`masked_fraction`)."""
    if warn_fraction is None or fraction.size == 0:
        return
    bad = np.argwhere(fraction > warn_fraction)
    if bad.size == 0:
        return
    kps = np.asarray(ds[S.KEYPOINT].values)
    inds = np.asarray(ds[S.INDIVIDUAL].values)
    listed = ", ".join(f"{kps[k]}/{inds[i]} ({fraction[k, i]:.0%})" for k, i in bad[:12])
    more = f" and {len(bad) - 12} more" if len(bad) > 12 else ""
    warnings.warn(
        f"{where}: more than {warn_fraction:.0%} of the frames were masked in recording {recording_label(ds)!r} "
        f"for keypoint/individual {listed}{more}. {hint}",
        MissingDataWarning,
        stacklevel=3,
    )


def _valid_points(position: np.ndarray) -> np.ndarray:
    """(time, keypoint, individual): True where every spatial coordinate is finite."""
    finite = np.isfinite(position)  # one pass over the whole array (a strided slice per axis is ~2x slower)
    valid = finite[:, 0].copy()
    for s in range(1, position.shape[1]):
        valid &= finite[:, s]
    return valid


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
    copy : bool, default True
        False: mask the points in the input's own ``position`` array (no new array; the input recording is
        modified, as scikit-learn's ``copy=False``). For a pipeline that owns its recordings (read from files and
        not used again); in place only where the array is a writeable float array, else a copy is made.
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
    >>> masked = out.position.isnull().any("space").values  # (time, keypoint, individual)
    >>> bool((masked == truth.dropout_mask).all())
    True
    """

    _parameter_constraints = {
        "threshold": [Interval(Real, None, None, closed="neither")],
        "nan_confidence": [StrOptions({"ignore", "zero"})],
        "warn_fraction": [Interval(Real, 0, 1, closed="both"), None],
        "copy": ["boolean"],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, threshold=0.6, nan_confidence="ignore", warn_fraction=0.3, copy=True, n_jobs=None):
        self.threshold = threshold
        self.nan_confidence = nan_confidence
        self.warn_fraction = warn_fraction
        self.copy = copy
        self.n_jobs = n_jobs

    def _transform_recording(self, ds):
        where = type(self).__name__
        pos = position_values(ds)
        warn_empty_individuals(ds, pos, where)
        # NaN < t is False: kept; a float64 threshold compares float32 scores in double precision without a copy
        low = confidence_array(ds, self.nan_confidence, dtype=None) < np.float64(self.threshold)
        hits = mask_hits(low)
        warn_masked_fraction(ds, masked_fraction(pos, hits), self.warn_fraction, where,
                             f"Lower `threshold` (now {self.threshold}) or retrain the tracker.")
        return with_position(ds, masked_position(pos, low, self.copy, hits))


# -- OutlierFilter -------------------------------------------------------------------------------------------------
def _edge_lines(block: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Least-squares line through the valid entries of ``block`` (C, n), per row, evaluated at ``at``: (C, len(at))."""
    n = block.shape[1]
    w = np.isfinite(block)
    t = np.arange(n, dtype=float)[None, :]
    count = w.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        t_mean = (w * t).sum(axis=1, keepdims=True) / count
        x_mean = np.where(w, block, 0.0).sum(axis=1, keepdims=True) / count
        dt = np.where(w, t - t_mean, 0.0)
        sxx = (dt**2).sum(axis=1, keepdims=True)
        slope = np.where(sxx > 0, (dt * np.where(w, block - x_mean, 0.0)).sum(axis=1, keepdims=True) / sxx, 0.0)
    return x_mean + slope * (np.asarray(at, dtype=float)[None, :] - t_mean)


def _moving_reference(values: np.ndarray, n: int, reference: str, edge_mode: str) -> np.ndarray:
    """Centred moving mean/median along the last axis of a (columns, time) array, ignoring NaN.

    ``edge_mode="interp"``: the first/last ``n // 2`` frames, where the window does not fit, take the value of a
    straight line fitted to the first/last ``n`` frames (a centred moving mean is that line's value at the centre,
    so the two agree; a truncated window would be off-centre and turn the animal's velocity into a residual).
    ``"zeros"``: frames outside the recording count as zeros (numpy's ``convolve(..., mode="same")``, DeepOF).
    """
    half = n // 2
    T = values.shape[1]
    valid = np.isfinite(values)
    complete = bool(valid.all())
    if reference == "mean":
        if complete:  # the common case: one pass of a running mean
            ref = uniform_filter1d(values, n, axis=1, mode="constant", cval=0.0)
            if edge_mode != "zeros":
                ref[:, :half] = np.nan  # replaced below
                ref[:, T - half:] = np.nan
        else:
            ref = uniform_filter1d(np.where(valid, values, 0.0), n, axis=1, mode="constant", cval=0.0)
            count = uniform_filter1d(valid.astype(float), n, axis=1, mode="constant",
                                     cval=1.0 if edge_mode == "zeros" else 0.0)
            count[count < 1e-9] = np.nan  # a window without a valid frame
            ref /= count
    else:
        pad_value = 0.0 if edge_mode == "zeros" else np.nan
        padded = np.pad(values, [(0, 0), (half, half)], constant_values=pad_value)
        ref = pd.DataFrame(padded.T).rolling(n, center=True, min_periods=1).median().to_numpy()
        ref = np.ascontiguousarray(ref[half: half + T].T)
    if edge_mode == "interp" and half > 0 and T >= n:
        ref[:, :half] = _edge_lines(values[:, :n], np.arange(half))
        ref[:, T - half:] = _edge_lines(values[:, T - n:], np.arange(n - half, n))
    return ref


def _row_stats(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (ddof 0) of each row, ignoring NaN; NaN for rows without a value."""
    valid = np.isfinite(a)
    if valid.all():
        return a.mean(axis=1), a.std(axis=1)
    count = valid.sum(axis=1)
    z = np.where(valid, a, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = z.sum(axis=1) / count
        z -= mean[:, None]
        z[~valid] = 0.0
        var = np.einsum("ij,ij->i", z, z) / count
    return mean, np.sqrt(var)


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
    edge_mode : {"interp", "zeros"}, default "interp"
        How the moving window treats the first/last ``window // 2`` frames, where it does not fit. ``"interp"``
        uses a straight line fitted to the first/last ``window`` frames (what the centred mean is in the middle of
        a track), so an animal's steady motion does not look like an outlier at the ends. ``"zeros"`` reproduces
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
    copy : bool, default True
        False: mask the points in the input's own ``position`` array (no new array; the input recording is
        modified, as scikit-learn's ``copy=False``). For a pipeline that owns its recordings (read from files and
        not used again); in place only where the array is a writeable float array, else a copy is made.
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

    The speed rule targets single-frame glitches: a jump that lasts several frames has a fast entry and a fast exit
    but no single frame with both, so it is not flagged (the residual rule, with a wide enough ``window``, is).

    The threshold never goes below ``1e-9`` times the largest coordinate of the track, so that the round-off residuals
    of noise-free (synthetic) tracks are not called outliers; real tracking noise is many orders above it.

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
        "edge_mode": [StrOptions({"interp", "zeros"})],
        "likelihood_tol": [Interval(Real, None, None, closed="neither"), None],
        "max_speed": [Interval(Real, 0, None, closed="neither"), None],
        "speed_unit": [StrOptions({"per_second", "per_frame"})],
        "nan_confidence": [StrOptions({"ignore", "zero"})],
        "warn_fraction": [Interval(Real, 0, 1, closed="both"), None],
        "copy": ["boolean"],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, method="deepof", window=5, window_unit="frames", n_std=3.0, combine="any",
                 reference="mean", edge_mode="interp", likelihood_tol=None, max_speed=None,
                 speed_unit="per_second", nan_confidence="ignore", warn_fraction=0.3, copy=True, n_jobs=None):
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
        self.copy = copy
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
        T, n_space = pos.shape[:2]
        if self.reference == "mean" and T > 2 * n + 1:
            flagged = _moving_mean_outliers(pos.reshape(T, -1), n, n_space, self.edge_mode, float(self.n_std),
                                            self.combine)
            return flagged.reshape(T, *pos.shape[2:])
        flat = pos.reshape(T, n_space, -1)  # (time, space, keypoint x individual)
        n_tracks = flat.shape[2]
        flagged = np.zeros((n_tracks, T), dtype=bool)
        # tracks in blocks of ~2 million values: the temporaries stay small however long the recording
        step = max(1, (1 << 21) // max(T * n_space, 1))
        for lo in range(0, n_tracks, step):
            block = np.ascontiguousarray(flat[:, :, lo:lo + step].transpose(2, 1, 0)).reshape(-1, T)
            beyond = self._beyond(block, n).reshape(-1, n_space, T)
            flagged[lo:lo + step] = beyond.any(axis=1) if self.combine == "any" else beyond.all(axis=1)
        return flagged.T.reshape(T, *pos.shape[2:])

    def _beyond(self, cols: np.ndarray, n: int) -> np.ndarray:
        """(rows, time) bool: where the residual of each row (one coordinate of one track) passes its limit."""
        T = cols.shape[1]
        resid = cols - _moving_reference(cols, n, self.reference, self.edge_mode)
        mean, std = _row_stats(resid[:, n:T - n] if T > 2 * n + 1 else resid)
        limit = mean + self.n_std * std  # all-NaN rows: NaN, nothing flagged
        # floor far below any real tracking noise: on noise-free tracks the residuals are pure round-off
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            scale = np.fmax(np.nanmax(np.abs(cols), axis=1), 1.0)
        limit = np.fmax(limit, 1e-9 * scale)
        np.abs(resid, out=resid)
        with np.errstate(invalid="ignore"):
            return resid > limit[:, None]

    def _speed_hits(self, pos: np.ndarray, ds: xr.Dataset) -> np.ndarray:
        frames_per_unit = 1.0
        if self.speed_unit == "per_second":
            frames_per_unit = get_fps(ds, where=f"{type(self).__name__} (speed_unit='per_second')")
        return _jump_hits(pos, float(self.max_speed), float(frames_per_unit))

    def _transform_recording(self, ds):
        where = type(self).__name__
        pos = position_values(ds)
        warn_empty_individuals(ds, pos, where)
        n_tracks = max(int(np.prod(pos.shape[2:], dtype=np.int64)), 1)
        if self.method == "speed" and self.likelihood_tol is None:  # the flagged points only, no mask
            hits = np.divmod(self._speed_hits(pos, ds), n_tracks)
        else:
            if self.method == "deepof":
                mask = self._residual_mask(pos, ds)
            else:
                mask = _points_mask(self._speed_hits(pos, ds), pos)
            if self.likelihood_tol is not None:
                mask |= confidence_array(ds, self.nan_confidence, dtype=None) < np.float64(self.likelihood_tol)
            hits = mask_hits(mask)
        hint = ("Raise `n_std` or `window`" if self.method == "deepof" else "Raise `max_speed`") + (
            f" or lower `likelihood_tol` (now {self.likelihood_tol})" if self.likelihood_tol is not None else ""
        ) + "; a keypoint this noisy may be better dropped."
        warn_masked_fraction(ds, masked_fraction(pos, hits), self.warn_fraction, where, hint)
        return with_position(ds, masked_position(pos, None, self.copy, hits))


def _moving_mean_outliers(x: np.ndarray, n: int, n_space: int, edge_mode: str, n_std: float,
                          combine: str) -> np.ndarray:
    """The residual rule with a moving mean, on (time, space x track) positions in time order: (time, track) bool.

    The same rule as :meth:`OutlierFilter._beyond` on transposed track blocks, evaluated by time blocks in the
    recording's own layout (no transposed copies): the centred moving mean of ``n`` frames is a direct sum of the
    valid values in the window over their count (frames outside the recording count as valid zeros with
    ``edge_mode="zeros"``; with ``"interp"`` the first/last ``n // 2`` frames take the straight line fitted to the
    first/last ``n`` frames). A first pass streams each column's residual mean and squared deviations over frames
    ``n .. T - n - 1`` (combined block by block, Chan et al.) and its largest absolute value; a second pass
    recomputes the residuals and compares them with ``mean + n_std * std``. Needs ``T > 2 n + 1``.
    """
    T, R = x.shape
    half = n // 2
    zeros = edge_mode == "zeros"
    edges = None
    if edge_mode == "interp" and half > 0:  # the straight-line references of the first/last half-window
        edges = (_edge_lines(x[:n].T, np.arange(half)).T, _edge_lines(x[T - n:].T, np.arange(n - half, n)).T)
    blocks = halo_blocks(T, 8 * R, halo=half)  # float64 temporaries of about a MiB

    count_type = np.uint8 if n <= 255 else np.int32  # window counts: narrow integers add fastest

    def residuals(kept: slice) -> np.ndarray:
        m = kept.stop - kept.start
        lo, hi = kept.start - half, kept.stop + half  # the window rows, possibly outside the recording
        inner = x[max(lo, 0):min(hi, T)]
        pad_lo, pad_hi = max(lo, 0) - lo, hi - min(hi, T)
        valid = np.isfinite(inner)
        complete = bool(valid.all())
        values = inner.astype(np.float64)  # one conversion, then same-type sums
        if not complete:
            np.copyto(values, 0.0, where=~valid)
        if pad_lo or pad_hi:  # frames outside the recording: zeros, valid only with edge_mode="zeros"
            values = np.concatenate([np.zeros((pad_lo, R)), values, np.zeros((pad_hi, R))])
            valid = np.concatenate([np.full((pad_lo, R), zeros), valid, np.full((pad_hi, R), zeros)])
        total = values[:m].copy()
        for k in range(1, n):
            total += values[k:k + m]
        if complete:  # every window full (edge frames of "interp" are replaced below)
            ref = np.divide(total, n, out=total)
        else:
            count = valid[:m].astype(count_type)
            for k in range(1, n):
                count += valid[k:k + m]
            # a window without a valid frame is centred on a missing one: its residual is NaN whatever ref is
            ref = np.divide(total, count, out=total, where=count > 0)
        if edges is not None:
            if kept.start < half:
                a, b = kept.start, min(kept.stop, half)
                ref[: b - a] = edges[0][a:b]
            if kept.stop > T - half:
                a, b = max(kept.start, T - half), kept.stop
                ref[a - kept.start:] = edges[1][a - (T - half):b - (T - half)]
        return np.subtract(x[kept], ref, out=ref)

    count = np.zeros(R)
    mean = np.zeros(R)
    m2 = np.zeros(R)
    absmax = np.full(R, -np.inf)
    for kept, _, _ in blocks:
        with np.errstate(invalid="ignore"):
            absmax = np.fmax(absmax, np.fmax.reduce(np.abs(x[kept]), axis=0))
        a, b = max(kept.start, n), min(kept.stop, T - n)  # the statistics leave out n frames at each end
        if b <= a:
            continue
        r = residuals(kept)[a - kept.start:b - kept.start]
        ok = np.isfinite(r)
        with np.errstate(invalid="ignore", divide="ignore"):
            if ok.all():
                cnt = np.full(R, float(len(r)))
                bmean = r.sum(axis=0) / cnt
                z = np.subtract(r, bmean, out=r)
            else:
                cnt = ok.sum(axis=0).astype(np.float64)
                z = np.where(ok, r, 0.0)
                bmean = z.sum(axis=0) / cnt
                np.subtract(z, bmean, out=z)
                np.copyto(z, 0.0, where=~ok)
            bm2 = np.einsum("ij,ij->j", z, z)
            total = count + cnt
            delta = np.where(cnt > 0, bmean - mean, 0.0)
            w = np.where(total > 0, cnt / total, 0.0)
            m2 += np.where(cnt > 0, bm2 + delta * delta * count * w, 0.0)
            mean += delta * w
        count = total
    with np.errstate(invalid="ignore", divide="ignore"):
        limit = np.where(count > 0, mean, np.nan) + n_std * np.sqrt(m2 / count)
    absmax[~np.isfinite(absmax)] = np.nan
    # floor far below any real tracking noise: on noise-free tracks the residuals are pure round-off
    limit = np.fmax(limit, 1e-9 * np.fmax(absmax, 1.0))
    flagged = np.empty((T, R // n_space), dtype=bool)
    for kept, _, _ in blocks:
        r = np.abs(residuals(kept))
        with np.errstate(invalid="ignore"):
            beyond = (r > limit).reshape(len(r), n_space, -1)
        flagged[kept] = beyond.any(axis=1) if combine == "any" else beyond.all(axis=1)
    return flagged


def _points_mask(hits: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """``(time, ...)`` bool mask of positions ``(time, space, ...)``, True at the flat point indices ``hits``."""
    mask = np.zeros(pos.shape[:1] + pos.shape[2:], dtype=bool)
    mask.reshape(-1)[hits] = True
    return mask


def _jump_mask(pos: np.ndarray, max_speed: float, frames_per_unit: float) -> np.ndarray:
    """The speed rule of :class:`OutlierFilter` as a ``(time, ...)`` bool mask of positions ``(time, space, ...)``
    (see :func:`_jump_hits`)."""
    return _points_mask(_jump_hits(pos, max_speed, frames_per_unit), pos)


def _jump_hits(pos: np.ndarray, max_speed: float, frames_per_unit: float) -> np.ndarray:
    """The speed rule of :class:`OutlierFilter` on positions ``(time, space, ...)``: the flagged points, as sorted
    flat indices ``frame * n_tracks + track`` (a track is one keypoint of one individual).

    A valid point is flagged when its speed to both reference neighbours exceeds ``max_speed``. The references
    are the nearest valid points before and after it; at the ends of a track, where one side has none, the two
    nearest valid points on the other side. Speed is distance / frame gap * ``frames_per_unit``.

    Most points have valid direct neighbours, so the rule is first evaluated with slices (frame t-1 and t+1), one
    pass over the recording by time blocks that also finds the runs of invalid points. The other points (the
    exceptions) are the valid points next to a run, and the valid points at a track's ends: their references come
    from the runs themselves (the run before or after, and the track's next run when it touches), so the work
    beyond the pass is in the number of runs, not the recording's length.
    """
    T, n_space = pos.shape[:2]
    p = pos.reshape(T, n_space, -1)  # (time, space, track), a view in the schema's layout
    C = p.shape[2]
    if T < 2 or C == 0:
        return np.zeros(0, dtype=np.int64)
    hits, begins, ends = [], [], []
    # speed = distance / gap * frames_per_unit > max_speed, compared squared (no square roots):
    # squared distance > (max_speed / frames_per_unit * gap) ** 2, the same test in both passes below
    limit = max_speed / frames_per_unit
    # by time blocks with one frame of overlap (the rule reads the direct neighbours only)
    for kept, extended, inner in halo_blocks(T, p[:1].nbytes, halo=1):
        q = p[extended]
        valid = _valid_points(q)
        d = np.subtract(q[1:], q[:-1])  # (frames - 1, space, track): contiguous, one pass over every axis
        np.multiply(d, d, out=d)
        step = d[:, 0].copy()  # squared distance between consecutive frames
        for k in range(1, n_space):
            step += d[:, k]
        with np.errstate(invalid="ignore"):
            fast = step > limit * limit  # False where either point is invalid (NaN)
        both_fast = np.zeros(valid.shape, dtype=bool)
        np.logical_and(fast[:-1], fast[1:], out=both_fast[1:-1])  # both direct neighbours valid and too far
        hits.append(np.flatnonzero(both_fast[inner]) + kept.start * C)
        # runs of invalid points, bounded within the kept frames with the halo's frames as their neighbours
        invalid = np.logical_not(valid, out=valid)
        b, e = run_bounds(invalid[inner], invalid[inner.start - 1] if inner.start > 0 else None,
                          invalid[inner.stop] if inner.stop < invalid.shape[0] else None)
        begins.append(b + kept.start * C)
        ends.append(e + kept.start * C)
        if kept.start == 0:
            edge_start = ~invalid[:2]  # validity of frames 0 and 1 (T >= 2)
        if kept.stop == T:
            edge_stop = ~invalid[-2:]  # frames T - 2 and T - 1
    column, start, stop = order_runs(begins, ends, C)
    frames, tracks, prev, nxt = _exceptions((column, start, stop), edge_start, edge_stop, T)
    if frames.size:
        starts, stops, last = column * T + start, column * T + stop, max(column.size - 1, 0)

        def step(t, track, forward):
            """Nearest valid frame after (``forward``) or before frames ``t`` of ``track``; T or -1 if none."""
            nb = t + 1 if forward else t - 1
            inside = (t >= 0) & (t < T) & (nb >= 0) & (nb < T)
            if column.size == 0:
                return np.clip(nb, -1, T)
            table = starts if forward else stops
            key = track * T + (nb if forward else t)  # a run starting at t + 1 / ending at t
            i = np.minimum(np.searchsorted(table, key), last)
            hit = inside & (table[i] == key)
            return np.clip(np.where(hit, stop[i] if forward else start[i] - 1, nb), -1, T)

        # the second neighbour is needed at a track's ends only (few points): looked up in the runs
        a, b = np.where(prev >= 0, prev, nxt), np.where(nxt < T, nxt, prev)
        at_start, at_end = np.flatnonzero(prev < 0), np.flatnonzero((nxt >= T) & (prev >= 0))
        b[at_start] = step(nxt[at_start], tracks[at_start], True)
        b[at_end] = step(prev[at_end], tracks[at_end], False)
        flat = p.reshape(-1)  # a view: p is C-ordered (time, space, track)

        def coords(t):  # (space, n) coordinates of the query tracks at frames t, by flat takes
            base = t * (n_space * C) + tracks
            return [np.take(flat, base + k * C) for k in range(n_space)]

        here = coords(frames)

        def too_fast(ref):
            ok = (ref >= 0) & (ref < T)
            d2 = np.zeros(frames.size, dtype=p.dtype)  # the precision of the direct-neighbour pass above
            for h, r in zip(here, coords(np.clip(ref, 0, T - 1)), strict=True):
                h = h - r
                d2 += np.multiply(h, h, out=h)
            reach = np.abs(ref - frames) * limit
            with np.errstate(invalid="ignore"):
                return ok & (d2 > reach * reach)

        flagged = too_fast(a) & too_fast(b)
        hits.append(frames[flagged] * C + tracks[flagged])
    return np.sort(np.concatenate(hits))  # the direct and the gathered verdicts are for disjoint points


def _exceptions(runs, edge_start: np.ndarray, edge_stop: np.ndarray, T: int):
    """The valid points the direct-neighbour pass of :func:`_jump_hits` cannot settle, with their nearest valid
    frames before (``prev``, -1 if none) and after (``nxt``, ``T`` if none).

    ``runs``: (column, start, stop) of the runs of invalid points, column-major and in time order (so run
    ``r + 1`` is the next run of the same track when its column is the same). ``edge_start`` / ``edge_stop``:
    validity (2, n_tracks) of frames 0-1 and T-2 - T-1. Every exception is found once: the point just after a
    run (its ``prev`` is the frame before the run; its ``nxt`` the frame after it, or past the next run when that
    run starts there), the point just before a run unless it is also just after the previous one, and the valid
    first and last frames of a track whose second (last but one) frame is valid too.
    """
    column, start, stop = runs
    n = column.size
    # run r + 1 is on the same track as run r and starts one valid frame after it ends
    touching = (column[1:] == column[:-1]) & (start[1:] == stop[:-1] + 1)
    touches_next, touches_prev = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    touches_next[:-1], touches_prev[1:] = touching, touching
    # after run r: t = stop (when inside the recording)
    after = np.flatnonzero(stop < T)
    after_nxt = np.minimum(stop[after] + 1, T)
    hop = touches_next[after]
    after_nxt[hop] = stop[after[hop] + 1]
    # before run r: t = start - 1, unless that point is just after run r - 1 (then counted above)
    before = np.flatnonzero((start > 0) & ~touches_prev)
    before_prev = start[before] - 2  # valid (no touching run), or -1 before the track's first frame
    # track ends with a valid neighbour (a run next to them would have listed them already)
    first = np.flatnonzero(edge_start[0] & edge_start[1])
    last = np.flatnonzero(edge_stop[1] & edge_stop[0])
    frames = np.concatenate([stop[after], start[before] - 1, np.zeros(first.size, dtype=np.int64),
                             np.full(last.size, T - 1, dtype=np.int64)])
    tracks = np.concatenate([column[after], column[before], first, last])
    prev = np.concatenate([start[after] - 1, before_prev, np.full(first.size, -1, dtype=np.int64),
                           np.full(last.size, T - 2, dtype=np.int64)])
    nxt = np.concatenate([after_nxt, stop[before], np.ones(first.size, dtype=np.int64),
                          np.full(last.size, T, dtype=np.int64)])
    return frames, tracks, np.maximum(prev, -1), nxt


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
    copy : bool, default True
        False: write the NaNs into the input's own ``position`` array where it is writeable (no new array; the
        input recording is modified, as scikit-learn's ``copy=False``). For a pipeline that owns its recordings.
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
        "copy": ["boolean"],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, threshold=0.5, nan_confidence="ignore", warn_fraction=0.3, copy=True, n_jobs=None):
        self.threshold = threshold
        self.nan_confidence = nan_confidence
        self.warn_fraction = warn_fraction
        self.copy = copy
        self.n_jobs = n_jobs

    def _transform_recording(self, ds):
        where = type(self).__name__
        pos = position_values(ds)
        empty = warn_empty_individuals(ds, pos, where)
        conf = confidence_array(ds, self.nan_confidence)  # (T, K, I)
        median = np.empty((conf.shape[0], conf.shape[2]))
        for sl in time_blocks(conf.shape[0], conf[:1].nbytes):  # the sorting network's planes stay in cache
            median[sl] = nanmedian_planes([conf[sl, k] for k in range(conf.shape[1])])
        absent = median <= self.threshold  # NaN median (no score at all) compares False: kept
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
        out = writable(pos, self.copy)
        frames, individuals = np.nonzero(absent)  # (a broadcast (T, 1, 1, I) mask makes numpy's inner loop 1-2 long)
        out[frames, :, :, individuals] = np.nan
        return with_position(ds, out)
