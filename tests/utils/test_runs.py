"""Run-length helpers: runs found along time in the schema's layout equal the transposed search."""

import numpy as np
import pytest

from deepof_sk.utils import _blocks
from deepof_sk.utils._runs import expand_runs, find_nan_runs, find_runs_along_time, nan_runs_along_time


@pytest.mark.parametrize(("n_frames", "n_columns", "p"), [(1, 1, 0.5), (5, 3, 0.5), (200, 7, 0.3), (1000, 28, 0.02),
                                                          (50, 4, 1.0), (50, 4, 0.0), (3, 70_000, 0.5)])
@pytest.mark.parametrize("block_frames", [None, 1, 2, 7])
def test_runs_along_time_equal_the_transposed_search(n_frames, n_columns, p, block_frames, monkeypatch):
    """Along time, from a mask and from NaN values, in blocks of the default size and in blocks of 1, 2 and 7 frames
    (runs that cross one or many block boundaries, and start or end on one)."""
    if block_frames is not None:
        monkeypatch.setattr(_blocks, "BLOCK_BYTES", 1)
        monkeypatch.setattr(_blocks, "MIN_BLOCK_FRAMES", block_frames)
    rng = np.random.default_rng(n_frames * 31 + n_columns)
    for _ in range(5):
        missing = rng.random((n_frames, n_columns)) < p
        missing[:, 0] = rng.random(n_frames) < 0.9  # long runs, at the start and end of the track too
        expected = find_nan_runs(np.ascontiguousarray(missing.T))
        values = np.where(missing, np.nan, rng.normal(size=missing.shape))
        for got in (find_runs_along_time(missing), nan_runs_along_time(values),
                    nan_runs_along_time(values.astype(np.float32))):
            for name, a, b in zip(("column", "start", "stop"), expected, got, strict=True):
                np.testing.assert_array_equal(b, a, err_msg=name)


def test_runs_along_time_hand_computed():
    missing = np.array([[1, 0], [1, 1], [0, 1], [1, 0], [0, 0], [1, 1]], dtype=bool)  # (time, column)
    column, start, stop = find_runs_along_time(missing)
    np.testing.assert_array_equal(column, [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(start, [0, 3, 5, 1, 5])
    np.testing.assert_array_equal(stop, [2, 4, 6, 3, 6])
    run, frame = expand_runs(start, stop)
    rebuilt = np.zeros_like(missing)
    rebuilt[frame, column[run]] = True
    np.testing.assert_array_equal(rebuilt, missing)


def test_runs_along_time_of_an_empty_mask():
    for shape in [(0, 3), (4, 0)]:
        assert all(a.size == 0 for a in find_runs_along_time(np.zeros(shape, dtype=bool)))
        assert all(a.size == 0 for a in nan_runs_along_time(np.zeros(shape)))


def test_nan_runs_read_the_values_by_blocks(monkeypatch):
    """No NaN mask of the whole array: every isnan call sees one block of frames (plus the next block's first)."""
    monkeypatch.setattr(_blocks, "BLOCK_BYTES", 1)
    monkeypatch.setattr(_blocks, "MIN_BLOCK_FRAMES", 16)
    values = np.zeros((1000, 5))
    values[::3, 1] = np.nan
    seen = []
    real = np.isnan
    monkeypatch.setattr(np, "isnan", lambda a, *args, **kw: seen.append(np.shape(a)[0]) or real(a, *args, **kw))
    column, start, stop = nan_runs_along_time(values)
    assert column.size == 334 and max(seen) == 16
    np.testing.assert_array_equal(start, np.arange(0, 1000, 3))
