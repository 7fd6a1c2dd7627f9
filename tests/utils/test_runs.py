"""Run-length helpers: runs found along time in the schema's layout equal the transposed search."""

import numpy as np
import pytest

from deepof_sk.utils._runs import expand_runs, find_nan_runs, find_runs_along_time


@pytest.mark.parametrize(("n_frames", "n_columns", "p"), [(1, 1, 0.5), (5, 3, 0.5), (200, 7, 0.3), (1000, 28, 0.02),
                                                          (50, 4, 1.0), (50, 4, 0.0), (3, 70_000, 0.5)])
def test_runs_along_time_equal_the_transposed_search(n_frames, n_columns, p):
    rng = np.random.default_rng(n_frames * 31 + n_columns)
    for _ in range(5):
        missing = rng.random((n_frames, n_columns)) < p
        missing[:, 0] = rng.random(n_frames) < 0.9  # long runs, at the start and end of the track too
        expected = find_nan_runs(np.ascontiguousarray(missing.T))
        got = find_runs_along_time(missing)
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
