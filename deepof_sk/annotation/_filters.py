"""Binary filters on per-frame annotations: DeepOF's moving median, minimum-bout filter and paired smoothing.

Every function takes a boolean array with time along axis 0, of shape ``(n_frames,)`` or ``(n_frames, n_series)``
(one column per animal or animal pair), and filters each column independently. All of them are vectorised: window
counts come from cumulative sums, the minimum-bout filter is a binary opening built from two of them, and bouts
are found by run-length encoding with numpy; the cost is a few passes over the data whatever the number of bouts,
with no Python loop over frames or over bouts.

The semantics reproduce DeepOF 0.9.0 exactly (``deepof.utils.binary_moving_median_numba``,
``filter_short_true_segments``, ``moving_average(...).astype(bool)`` and ``multi_step_paired_smoothing``), which is
what makes frame-by-frame agreement with DeepOF possible. NaN is not a boolean: callers turn NaN into False first
(DeepOF does the same with ``nan_to_num``).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "smooth_binary_median",
    "widen_bouts",
    "remove_short_bouts",
    "smooth_paired",
    "run_lengths",
]


def _as_2d(x) -> tuple[np.ndarray, bool]:
    arr = np.asarray(x)
    if arr.dtype != bool:
        arr = np.nan_to_num(arr.astype(float), nan=0.0) != 0
    if arr.ndim == 1:
        return arr[:, None], True
    if arr.ndim != 2:
        raise ValueError(f"expected an array of shape (n_frames,) or (n_frames, n_series); got shape {arr.shape}.")
    return arr, False


def _back(arr: np.ndarray, was_1d: bool) -> np.ndarray:
    return arr[:, 0] if was_1d else arr


def _window_counts(x: np.ndarray, before: int, after: int) -> np.ndarray:
    """Number of True values of each column in the window ``[t - before, t + after]`` (clipped at the edges).

    One cumulative sum, padded with zeros before and its last value after, then two slices: no fancy indexing.
    """
    n, m = x.shape
    before, after = max(int(before), 0), max(int(after), 0)
    # int16 running sums may wrap around on long recordings, but differences over a window shorter than 2**15
    # frames are still exact in modular arithmetic: half the memory of int32
    dtype = np.int16 if before + after + 1 < 2**15 else np.int64
    ext = np.zeros((before + n + 1 + after, m), dtype=dtype)
    with np.errstate(over="ignore"):
        np.cumsum(x, axis=0, dtype=dtype, out=ext[before + 1: before + n + 1])
    ext[before + n + 1:] = ext[before + n]
    return ext[before + after + 1: before + after + 1 + n] - ext[:n]  # wraps back to the exact count


def _moving_average(x: np.ndarray, lag: int) -> np.ndarray:
    """DeepOF's ``moving_average``: ``np.convolve(x, ones(lag) / lag, "same")`` per column.

    The conflict rule of :func:`smooth_paired` compares two such averages; with equal counts the float sums can
    still differ in the last bit, and DeepOF's output depends on it, so the same numpy convolution is used
    (one call per column: lag * n_frames multiply-adds, vectorised in C).
    """
    n = x.shape[0]
    if n < lag:  # numpy's "same" mode returns max(n, lag) values; use exact window means instead
        return _window_counts(x, lag // 2, (lag - 1) // 2) / lag
    kernel = np.ones(lag) / lag
    return np.stack([np.convolve(x[:, j].astype(float), kernel, mode="same") for j in range(x.shape[1])], axis=1)


def _average_wins(b: np.ndarray, nb: np.ndarray, both: np.ndarray, lag: int) -> np.ndarray:
    """``both & (_moving_average(b, lag) >= _moving_average(nb, lag))``, bit for bit, averaging only near ``both``.

    The averages matter only where ``both`` is True, usually a small fraction of the frames. Each run of ``both``
    is padded by ``lag`` frames on each side (clipped at the edges), the padded segments of a column are joined
    end to end, and the same numpy convolution runs on that shorter series: every frame of a run keeps its whole
    window inside its own segment, and the first and last segments keep the recording's edges, so each average is
    the same dot product over the same values as on the full column.
    """
    n, m = b.shape
    busy = np.count_nonzero(both)
    if busy == 0:
        return np.zeros_like(both)
    if n < 4 * lag or busy * 4 > n * m:  # short or busy recordings: the whole columns
        return both & (_moving_average(b, lag) >= _moving_average(nb, lag))
    out = np.zeros_like(both)
    kernel = np.ones(lag) / lag
    col, start, stop = run_lengths(both)
    for j in np.unique(col):  # loop over columns (animals or pairs)
        s0 = np.maximum(start[col == j] - lag, 0)
        e0 = np.minimum(stop[col == j] + lag, n)
        # merge overlapping padded runs (a segment starts where the running end of the previous ones stops short)
        new = np.r_[True, s0[1:] > np.maximum.accumulate(e0)[:-1]]
        s0, e0 = s0[new], np.maximum.reduceat(e0, np.flatnonzero(new))
        length = e0 - s0
        frames = np.arange(length.sum()) + np.repeat(s0 - (np.cumsum(length) - length), length)  # the segments
        mb = np.convolve(b[frames, j].astype(float), kernel, mode="same")
        mn = np.convolve(nb[frames, j].astype(float), kernel, mode="same")
        out[frames, j] = both[frames, j] & (mb >= mn)
    return out


def smooth_binary_median(x, width: int) -> np.ndarray:
    """DeepOF's binary moving median.

    A frame is True when more than half of the centred window of ``2 * ((width - 1) // 2) + 1`` frames is True
    (an even ``width`` behaves like ``width - 1``); the ``(width - 1) // 2`` frames at each edge, where the window
    does not fit, are False.

    Parameters
    ----------
    x : array-like of bool, shape (n_frames,) or (n_frames, n_series)
        Raw per-frame detections (NaN counts as False).
    width : int
        Window in frames (>= 1; 1 leaves ``x`` unchanged).

    Returns
    -------
    ndarray of bool
        Same shape as ``x``.

    Examples
    --------
    >>> smooth_binary_median([0, 1, 1, 0, 1, 1, 1, 0, 0], 3).astype(int).tolist()
    [0, 1, 1, 1, 1, 1, 1, 0, 0]
    """
    arr, one = _as_2d(x)
    width = int(width)
    if width < 1:
        raise ValueError(f"smooth_binary_median: `width` must be >= 1 frame; got {width}.")
    pad = (width - 1) // 2
    if pad == 0:
        return _back(arr.copy(), one)
    out = _window_counts(arr, pad, pad) > pad
    out[:pad] = False
    out[max(arr.shape[0] - pad, 0):] = False
    return _back(out, one)


def widen_bouts(x, width: int) -> np.ndarray:
    """Dilate True values by a window of ``width`` frames (DeepOF's ``moving_average(x, width).astype(bool)``).

    A frame becomes True when any frame in ``[t - width // 2, t + (width - 1) // 2]`` is True (numpy's
    ``convolve(..., mode="same")`` alignment, which is off-centre by one frame for even widths).

    Examples
    --------
    >>> widen_bouts([0, 0, 0, 1, 0, 0, 0], 3).astype(int).tolist()
    [0, 0, 1, 1, 1, 0, 0]
    """
    arr, one = _as_2d(x)
    width = max(int(width), 1)
    return _back(_window_counts(arr, width // 2, (width - 1) // 2) > 0, one)


def run_lengths(x) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run-length encoding of the True runs of every column.

    Returns
    -------
    column, start, stop : ndarray of int
        For every run of consecutive True frames: its column, its first frame and one past its last frame;
        sorted by column, then by start.

    Examples
    --------
    >>> [a.tolist() for a in run_lengths([1, 1, 0, 1])]
    [[0, 0], [0, 3], [2, 4]]
    """
    arr, _ = _as_2d(x)
    n, m = arr.shape
    padded = np.zeros((m, n + 2), dtype=np.int8)
    padded[:, 1:-1] = arr.T
    edges = np.diff(padded, axis=1)
    col_s, start = np.nonzero(edges == 1)
    _, stop = np.nonzero(edges == -1)
    return col_s, start, stop


def remove_short_bouts(x, min_length: int) -> np.ndarray:
    """Drop True runs shorter than ``min_length`` frames (DeepOF's ``filter_short_true_segments``).

    Examples
    --------
    >>> remove_short_bouts([1, 0, 1, 1, 1, 0, 1, 1], 2).astype(int).tolist()
    [0, 0, 1, 1, 1, 0, 1, 1]
    """
    arr, one = _as_2d(x)
    min_length = int(min_length)
    if min_length <= 1:
        return _back(arr.copy(), one)
    # a binary opening by a segment of min_length frames: frames that start min_length True frames (erosion),
    # widened back over those frames (dilation). It keeps runs of >= min_length whole and removes shorter ones.
    starts = _window_counts(arr, 0, min_length - 1) == min_length
    return _back(_window_counts(starts, min_length - 1, 0) > 0, one)


def smooth_paired(behavior, not_behavior=None, exclude=None, min_length: int = 6):
    """DeepOF's ``multi_step_paired_smoothing``: smooth a behaviour against its complement within a mask.

    Both masks are widened by ``min_length`` frames (:func:`widen_bouts`); frames claimed by both go to the one
    with the larger moving average over ``4 * min_length`` frames (ties, up to DeepOF's floating-point rounding,
    go to ``behavior``); both are cut back
    to ``exclude``; ``behavior`` gets a binary moving median of ``4 * min_length + 1`` frames and wins overlaps; runs
    shorter than ``min_length`` are dropped from both and ``exclude`` is applied again.

    Parameters
    ----------
    behavior : array-like of bool, shape (n_frames,) or (n_frames, n_series)
        Raw detections.
    not_behavior : array-like of bool, optional
        Raw detections of the complement; default ``exclude & ~behavior``.
    exclude : array-like of bool, optional
        Frames where either state may hold (e.g. "immobile"); default everywhere.
    min_length : int, default 6
        Smoothing length in frames (DeepOF: ``min_follow_frames`` = fps / 4).

    Returns
    -------
    behavior, not_behavior : ndarray of bool
        The smoothed pair, same shape as ``behavior``.
    """
    b, one = _as_2d(behavior)
    if exclude is None:
        ex = np.ones_like(b)
    else:
        ex, _ = _as_2d(exclude)
    if not_behavior is None:
        nb = ex & ~b
        b = ex & b
    else:
        nb, _ = _as_2d(not_behavior)
    lag = max(int(min_length), 1)
    b = widen_bouts(b, lag)
    nb = widen_bouts(nb, lag)
    both = b & nb
    b_wins = _average_wins(b, nb, both, 4 * lag)  # both & (moving average of b >= that of nb)
    nb = nb & ~b_wins
    b = b & ~(both & ~b_wins)
    b &= ex
    nb &= ex
    b = smooth_binary_median(b, 4 * lag + 1)
    nb &= ~b
    b = remove_short_bouts(b, lag)
    nb = remove_short_bouts(nb, lag)
    b &= ex
    nb &= ex
    return _back(b, one), _back(nb, one)
