"""Run-length helpers on boolean masks, vectorised (no Python loops over frames)."""

from __future__ import annotations

import numpy as np

__all__ = ["find_nan_runs", "find_runs_along_time", "expand_runs"]


def find_nan_runs(missing: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of consecutive missing values along the last axis of a 2-D mask, vectorised.

    Parameters
    ----------
    missing : ndarray of bool, shape (n_columns, n_frames)
        True where a value is missing; each row is one track.

    Returns
    -------
    column, start, stop : ndarray of int, shape (n_runs,)
        Row of each run and its frame span ``start:stop`` (stop exclusive), in row-major order. A run with
        ``start == 0`` is at the beginning of the track and one with ``stop == n_frames`` at its end; otherwise it
        is a gap bounded by valid frames ``start - 1`` and ``stop``.

    Notes
    -----
    One pass over the mask to find the missing entries, then O(number of missing values): the run boundaries come
    from the differences of their flat indices, with no Python loop over frames, gaps or tracks.
    """
    n = missing.shape[1]
    idx = np.flatnonzero(missing)
    if idx.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    cut = np.flatnonzero((np.diff(idx) != 1) | (idx[1:] % n == 0))  # a new run: a jump, or a new track
    first = np.concatenate([idx[:1], idx[cut + 1]])
    last = np.concatenate([idx[cut], idx[-1:]])
    column, start = np.divmod(first, n)
    return column, start, start + (last - first) + 1


def find_runs_along_time(missing: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`find_nan_runs` of a mask with time along axis 0, ``(n_frames, n_columns)``, without transposing it.

    Returns the same ``column, start, stop`` as ``find_nan_runs(missing.T)``. Two passes over the mask mark the
    frames where a run begins (missing, the frame before not) and ends (missing, the frame after not); only those
    boundaries are then ordered by column (a stable sort keeps each column's runs in time order). On the schema's
    time-major arrays this spares the transposed copy of the mask, several times the cost of the passes.
    """
    n, n_col = missing.shape
    if n == 0 or n_col == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    missing = np.ascontiguousarray(missing, dtype=bool)
    begins = np.empty_like(missing)
    begins[0] = missing[0]
    np.greater(missing[1:], missing[:-1], out=begins[1:])  # True > False: missing now, present before
    begin_t, begin_c = np.divmod(np.flatnonzero(begins), n_col)
    ends = begins  # reused: the mark of each run's last frame
    ends[-1] = missing[-1]
    np.greater(missing[:-1], missing[1:], out=ends[:-1])
    end_t, end_c = np.divmod(np.flatnonzero(ends), n_col)
    # stable sorts by column; numpy radix-sorts keys of 16 bits or fewer (several times faster)
    key = np.uint16 if n_col <= np.iinfo(np.uint16).max else np.int64
    by_begin = np.argsort(begin_c.astype(key), kind="stable")
    by_end = np.argsort(end_c.astype(key), kind="stable")
    return begin_c[by_begin], begin_t[by_begin], end_t[by_end] + 1


def expand_runs(start: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every entry of every run: the index of its run and its frame (vectorised ``np.repeat``)."""
    length = stop - start
    run = np.repeat(np.arange(start.size), length)
    offset = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
    return run, start[run] + offset
