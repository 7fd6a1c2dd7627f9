"""Run-length helpers on boolean masks, vectorised (no Python loops over frames)."""

from __future__ import annotations

import numpy as np

from ._blocks import time_blocks

__all__ = ["find_nan_runs", "find_runs_along_time", "nan_runs_along_time", "expand_runs"]


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

    Returns the same ``column, start, stop`` as ``find_nan_runs(missing.T)``. The frames where a run begins
    (missing, the frame before not) and ends (missing, the frame after not) are marked block by block along time
    (temporaries of about a MiB, not a second mask of the whole array); only those boundaries are then ordered by
    column (a stable sort keeps each column's runs in time order). On the schema's time-major arrays this spares
    the transposed copy of the mask, several times the cost of the passes.
    """
    missing = np.asarray(missing, dtype=bool)
    n, n_col = missing.shape
    return _runs_by_blocks(lambda rows: missing[rows], n, n_col, n_col)


def nan_runs_along_time(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``find_runs_along_time(np.isnan(values))`` for a float array ``(n_frames, n_columns)``, without the mask.

    The NaN mask is made one time block at a time (about a MiB of values each), so memory beyond the result is
    a block's, not a boolean array of the whole recording.

    Examples
    --------
    >>> import numpy as np
    >>> nan_runs_along_time(np.array([[0.0, np.nan], [np.nan, np.nan], [np.nan, 1.0], [3.0, 2.0]]))
    (array([0, 1]), array([1, 0]), array([3, 2]))
    """
    n, n_col = values.shape
    return _runs_by_blocks(lambda rows: np.isnan(values[rows]), n, n_col, n_col * values.itemsize)


def _runs_by_blocks(mask_of, n: int, n_col: int, row_bytes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of True along axis 0 of the mask ``mask_of(rows)`` gives for slices of frames (see above)."""
    if n == 0 or n_col == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    begins, ends = [], []
    before = None  # the mask of the frame before the block
    for rows in time_blocks(n, row_bytes):
        m = mask_of(rows)
        mark = np.empty(m.shape, dtype=bool)
        if before is None:
            mark[0] = m[0]
        else:
            np.greater(m[0], before, out=mark[0])  # True > False: missing now, present before
        np.greater(m[1:], m[:-1], out=mark[1:])
        begins.append(np.flatnonzero(mark) + rows.start * n_col)
        # reused: the mark of each run's last frame (missing, and the next frame present or the recording over)
        np.greater(m[:-1], m[1:], out=mark[:-1])
        if rows.stop < n:
            np.greater(m[-1], mask_of(slice(rows.stop, rows.stop + 1))[0], out=mark[-1])
        else:
            mark[-1] = m[-1]
        ends.append(np.flatnonzero(mark) + rows.start * n_col)
        before = np.array(m[-1], copy=True)
    begin_t, begin_c = np.divmod(np.concatenate(begins), n_col)
    end_t, end_c = np.divmod(np.concatenate(ends), n_col)
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
