"""Frame-centred windows, per-recording padding and training-only scaling (pure numpy)."""

import numpy as np
import pytest

from deepof_sk.clustering._windows import FeatureScaler, build_window_data, pad_amounts


@pytest.mark.parametrize(("window", "expected"), [(5, (2, 2)), (4, (1, 2)), (1, (0, 0))])
def test_pad_amounts(window, expected):
    assert pad_amounts(window) == expected


def test_each_window_is_centred_on_its_frame():
    seq = np.arange(10, dtype=float)[:, None] * np.array([[1.0, -0.5]])
    scaler = FeatureScaler(mean_=np.zeros(2), scale_=np.ones(2))
    data = build_window_data([seq], scaler, window=5)
    windows = data.gather(np.arange(10))
    assert windows.shape == (10, 5, 2)
    np.testing.assert_allclose(windows[:, 2], seq)  # the centre of window t is frame t
    np.testing.assert_allclose(windows[4, :, 0], [2, 3, 4, 5, 6])
    np.testing.assert_allclose(windows[0, :, 0], [2, 1, 0, 1, 2])  # reflection at the start


def test_windows_never_cross_recordings():
    a = np.zeros((6, 1))
    b = np.full((6, 1), 7.0)
    data = build_window_data([a, b], FeatureScaler(np.zeros(1), np.ones(1)), window=5)
    windows = data.gather(np.arange(12))
    assert np.all(windows[:6] == 0) and np.all(windows[6:] == 7)
    np.testing.assert_array_equal(data.sequence_of_frame(), [0] * 6 + [1] * 6)


def test_scaler_uses_training_sequences_only_and_handles_nan():
    train = [np.array([[0.0, 5.0], [2.0, 5.0], [np.nan, 5.0]])]
    scaler = FeatureScaler.fit(train)
    np.testing.assert_allclose(scaler.mean_, [1.0, 5.0])
    np.testing.assert_allclose(scaler.scale_, [1.0, 1.0])  # constant column keeps scale 1
    other = np.array([[3.0, np.nan], [np.nan, np.nan], [5.0, np.nan]])
    data = build_window_data([other], scaler, window=3)
    np.testing.assert_array_equal(data.valid, [True, False, True])  # a frame with no feature at all
    centre = data.gather(np.arange(3))[:, 1]
    np.testing.assert_allclose(centre[:, 0], [2.0, 3.0, 4.0])  # interpolated, then scaled
    np.testing.assert_allclose(centre[:, 1], 0.0)  # missing throughout: the training mean


def test_values_are_clipped():
    scaler = FeatureScaler(np.zeros(1), np.ones(1))
    data = build_window_data([np.array([[1e6], [0.0], [-1e6]])], scaler, window=1)
    np.testing.assert_allclose(data.data[:, 0], [10.0, 0.0, -10.0])
