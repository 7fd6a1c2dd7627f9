"""The vectorised binary filters against straightforward loop implementations of DeepOF's definitions."""

from __future__ import annotations

import numpy as np
import pytest

from deepof_sk.annotation import (
    find_bouts,
    remove_short_bouts,
    run_lengths,
    smooth_binary_median,
    smooth_paired,
    widen_bouts,
)

RNG = np.random.default_rng(0)


# -- loop references, written from the rules in deepof-inventory.md section 3 ---------------------------------
def ref_median(x, width):
    pad = (width - 1) // 2
    out = np.zeros(len(x), bool)
    for i in range(pad, len(x) - pad):
        out[i] = x[i - pad: i + pad + 1].sum() > pad
    return out


def ref_moving_average(x, lag):
    return np.convolve(x.astype(float), np.ones(lag) / lag, mode="same")


def ref_remove_short(x, min_length):
    out = np.zeros(len(x), bool)
    i = 0
    while i < len(x):
        if x[i]:
            j = i
            while j < len(x) and x[j]:
                j += 1
            if j - i >= min_length:
                out[i:j] = True
            i = j
        else:
            i += 1
    return out


def ref_paired(b, nb, ex, lag):
    b = ref_moving_average(b, lag).astype(bool)
    nb = ref_moving_average(nb, lag).astype(bool)
    ba, nba = ref_moving_average(b, 4 * lag), ref_moving_average(nb, 4 * lag)
    for i in range(len(b)):
        if b[i] and nb[i]:
            if ba[i] >= nba[i]:
                nb[i] = False
            else:
                b[i] = False
    b &= ex
    nb &= ex
    b = ref_median(b, 4 * lag + 1)
    nb[b & nb] = False
    return ref_remove_short(b, lag) & ex, ref_remove_short(nb, lag) & ex


def _random_masks(n=300, p=0.5, k=4):
    # runs of random lengths: realistic bouts rather than coin flips
    return [np.repeat(RNG.random(n) < p, RNG.integers(1, k, n))[:n] for _ in range(3)]


@pytest.mark.parametrize("width", [1, 3, 4, 11, 12, 25])
def test_binary_median_matches_deepof_definition(width):
    for x in _random_masks():
        np.testing.assert_array_equal(smooth_binary_median(x, width), ref_median(x, width))


@pytest.mark.parametrize("lag", [1, 2, 5, 6, 24])
def test_widen_bouts_is_numpy_same_convolution(lag):
    for x in _random_masks(p=0.2):
        np.testing.assert_array_equal(widen_bouts(x, lag), ref_moving_average(x, lag).astype(bool))


@pytest.mark.parametrize("min_length", [1, 2, 6, 25])
def test_remove_short_bouts(min_length):
    for x in _random_masks(k=9):
        np.testing.assert_array_equal(remove_short_bouts(x, min_length), ref_remove_short(x, min_length))


@pytest.mark.parametrize("lag", [3, 6])
def test_paired_smoothing_matches_reference(lag):
    for _ in range(5):
        ex = np.repeat(RNG.random(400) < 0.7, RNG.integers(5, 60, 400))[:400]
        act = np.repeat(RNG.random(400) < 0.4, RNG.integers(1, 8, 400))[:400]
        b, nb = smooth_paired(ex & act, ex & ~act, ex, lag)
        rb, rnb = ref_paired(ex & act, ex & ~act, ex, lag)
        np.testing.assert_array_equal(b, rb)
        np.testing.assert_array_equal(nb, rnb)
        assert not (b & nb).any()


def test_filters_work_column_wise():
    x = np.stack(_random_masks(), axis=1)
    both = smooth_binary_median(x, 5)
    for j in range(x.shape[1]):
        np.testing.assert_array_equal(both[:, j], smooth_binary_median(x[:, j], 5))
    b2, nb2 = smooth_paired(x, None, None, 4)
    b1, nb1 = smooth_paired(x[:, 1], None, None, 4)
    np.testing.assert_array_equal(b2[:, 1], b1)
    np.testing.assert_array_equal(nb2[:, 1], nb1)


def test_run_lengths_and_find_bouts():
    col, start, stop = run_lengths(np.array([[1, 0], [1, 1], [0, 1], [1, 1]], bool))
    assert list(zip(col.tolist(), start.tolist(), stop.tolist(), strict=True)) == [(0, 0, 2), (0, 3, 4), (1, 1, 4)]
    start, stop = find_bouts([np.nan, 1.0, 1.0, 0.0])
    assert start.tolist() == [1] and stop.tolist() == [3]
    with pytest.raises(ValueError, match="1-D"):
        find_bouts(np.zeros((3, 2)))


def test_edge_cases():
    assert smooth_binary_median(np.ones(3, bool), 11).sum() == 0  # window longer than the recording
    assert remove_short_bouts(np.ones(5, bool), 6).sum() == 0
    with pytest.raises(ValueError, match="width"):
        smooth_binary_median(np.ones(3, bool), 0)


def test_long_recordings_count_exactly():
    # running sums pass 2**15 and 2**16 (the counts use wrapping int16 sums)
    x = np.repeat(RNG.random(3000) < 0.8, RNG.integers(20, 60, 3000))[:100_000]
    picks = np.arange(0, len(x), 997)
    got = smooth_binary_median(x, 25)[picks]
    ref = np.array([x[i - 12: i + 13].sum() > 12 if 12 <= i < len(x) - 12 else False for i in picks])
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(remove_short_bouts(x, 30), ref_remove_short(x, 30))


@pytest.mark.parametrize("lag", [8, 24, 25])
def test_average_wins_near_overlaps_equals_whole_column_averages(lag):
    # the conflict rule of smooth_paired averages only around the frames both states claim; the result must be
    # the whole-column numpy convolution bit for bit, also for runs that touch the first and last frames
    from deepof_sk.annotation._filters import _average_wins, _moving_average

    for sparse in (0.002, 0.02, 0.3):  # segment path and whole-column fallback
        b = widen_bouts(RNG.random((6000, 3)) < sparse, 9)
        nb = widen_bouts(RNG.random((6000, 3)) < sparse, 5)
        b[:4], nb[:4], b[-3:], nb[-3:] = True, True, True, True
        both = b & nb
        ref = both & (_moving_average(b, lag) >= _moving_average(nb, lag))
        np.testing.assert_array_equal(_average_wins(b, nb, both, lag), ref)
    empty = np.zeros((100, 2), bool)
    assert not _average_wins(empty, empty, empty, lag).any()
