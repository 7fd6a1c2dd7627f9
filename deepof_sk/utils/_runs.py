"""Run-length helpers on boolean masks, vectorised (no Python loops over frames)."""

from __future__ import annotations

import numpy as np

__all__ = ["find_nan_runs", "expand_runs"]


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


def expand_runs(start: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every entry of every run: the index of its run and its frame (vectorised ``np.repeat``)."""
    length = stop - start
    run = np.repeat(np.arange(start.size), length)
    offset = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
    return run, start[run] + offset
