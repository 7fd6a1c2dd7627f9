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
        after = mask_of(slice(rows.stop, rows.stop + 1))[0] if rows.stop < n else None
        b, e = run_bounds(m, before, after)
        begins.append(b + rows.start * n_col)
        ends.append(e + rows.start * n_col)
        before = np.array(m[-1], copy=True)
    return order_runs(begins, ends, n_col)


def run_bounds(m: np.ndarray, before: np.ndarray | None, after: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Where runs of True along axis 0 of a block ``m`` (frames, columns) begin and end: flat indices into ``m``.

    ``before`` and ``after`` are the mask rows of the frames just before and after the block (None where the block
    starts or ends the recording). A run begins at a True entry whose previous frame is False (or that is the
    recording's first frame) and ends at a True entry whose next frame is False (or the recording's last frame).
    Feed the blocks' bounds, offset to the whole array, to :func:`order_runs`.
    """
    mark = np.empty(m.shape, dtype=bool)
    if before is None:
        mark[0] = m[0]
    else:
        np.greater(m[0], before, out=mark[0])  # True > False: missing now, present before
    np.greater(m[1:], m[:-1], out=mark[1:])
    begins = np.flatnonzero(mark)
    np.greater(m[:-1], m[1:], out=mark[:-1])  # reused for the ends
    if after is None:
        mark[-1] = m[-1]
    else:
        np.greater(m[-1], after, out=mark[-1])
    return begins, np.flatnonzero(mark)


def order_runs(begins: list[np.ndarray], ends: list[np.ndarray], n_col: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``column, start, stop`` (column-major, runs in time order) from run bounds given as flat row-major indices
    into a (frames, ``n_col``) array, in time order (see :func:`run_bounds`)."""
    empty = np.zeros(0, dtype=np.int64)
    begin_t, begin_c = np.divmod(np.concatenate(begins) if begins else empty, max(n_col, 1))
    end_t, end_c = np.divmod(np.concatenate(ends) if ends else empty, max(n_col, 1))
    key = np.uint16 if n_col <= np.iinfo(np.uint16).max else np.int64
    by_begin = np.argsort(begin_c.astype(key), kind="stable")  # stable: each column's runs stay in time order
    by_end = np.argsort(end_c.astype(key), kind="stable")
    return begin_c[by_begin], begin_t[by_begin], end_t[by_end] + 1


def expand_runs(start: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every entry of every run: the index of its run and its frame (vectorised ``np.repeat``)."""
    length = stop - start
    run = np.repeat(np.arange(start.size), length)
    offset = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
    return run, start[run] + offset
