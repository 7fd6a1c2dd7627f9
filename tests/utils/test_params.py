"""fill_nan_linear: the gap filler the smoothers and annotators run over."""

import numpy as np
import pytest

from deepof_sk.utils._params import fill_nan_linear


def _reference(column: np.ndarray) -> np.ndarray:
    """Per-track np.interp (edges take the nearest valid value; all-NaN stays NaN)."""
    valid = np.isfinite(column)
    if not valid.any():
        return column.copy()
    t = np.arange(column.size)
    return np.interp(t, t[valid], column[valid])


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_fill_nan_linear_matches_per_track_interp(axis):
    rng = np.random.default_rng(axis)
    values = rng.normal(size=(40, 6, 3)).cumsum(axis=axis)
    values[rng.random(values.shape) < 0.3] = np.nan
    np.moveaxis(values, axis, 0)[:, 0, 0] = np.nan  # one all-NaN track
    filled = fill_nan_linear(values, axis=axis)
    moved_in, moved_out = np.moveaxis(values, axis, -1), np.moveaxis(filled, axis, -1)
    expected = np.apply_along_axis(_reference, -1, moved_in)
    np.testing.assert_allclose(moved_out, expected, rtol=0, atol=1e-12)
    assert np.isnan(np.moveaxis(filled, axis, 0)[:, 0, 0]).all()
    assert not np.isnan(values).all() and np.isnan(values).any()  # input untouched (still has its NaNs)


def test_fill_nan_linear_without_nan_is_a_copy():
    values = np.arange(12.0).reshape(4, 3)
    filled = fill_nan_linear(values)
    np.testing.assert_array_equal(filled, values)
    filled[0, 0] = -1
    assert values[0, 0] == 0
