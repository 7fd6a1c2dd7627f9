"""Time bins: sizes, counts, start markers and bin selection."""

from __future__ import annotations

import numpy as np
import pytest

from deepof_sk.stats import make_time_bins, parse_time


@pytest.mark.parametrize("text, seconds", [("00:01:30.5", 90.5), ("02:00", 120.0), ("1:00:00", 3600.0), (12, 12.0),
                                           ("7.5", 7.5)])
def test_parse_time(text, seconds):
    assert parse_time(text) == seconds


def test_parse_time_rejects_garbage():
    with pytest.raises(ValueError, match="HH:MM:SS"):
        parse_time("ten minutes")


def test_bin_size_and_partial_last_bin():
    bins = make_time_bins([25, 30], fps=10, bin_size="00:00:01")
    assert bins.n_bins == 3
    assert bins[0].tolist() == [0] * 10 + [1] * 10 + [2] * 5
    assert bins.stops.tolist() == [1.0, 2.0, 3.0]


def test_start_markers_per_recording_and_n_bins():
    bins = make_time_bins([100, 100], fps=10, n_bins=2, start={"a": 1.0, "b": "00:00:03"}, recording_ids=["a", "b"])
    # common span = 10 s - 3 s = 7 s, split into two 3.5 s bins after each marker
    assert bins[0][:10].tolist() == [-1] * 10 and bins[0][10] == 0 and bins[0][45] == 1
    assert bins[0][80:].max() == -1
    assert bins[1][29] == -1 and bins[1][30] == 0
    assert bins.start_markers == [1.0, 3.0]


def test_bin_index_selects_one_bin():
    bins = make_time_bins([60], fps=1, bin_size=20, bin_index="00:00:25")
    assert set(bins[0].tolist()) == {-1, 1} and (bins[0] == 1).sum() == 20


def test_errors():
    with pytest.raises(ValueError, match="exactly one"):
        make_time_bins([10], fps=1)
    with pytest.raises(ValueError, match="after the end"):
        make_time_bins([10], fps=1, bin_size=2, start=20)
    with pytest.raises(ValueError, match="bin_index"):
        make_time_bins([10], fps=1, bin_size=2, bin_index=9)
    with pytest.raises(ValueError, match="frame rate"):
        make_time_bins([10], fps=None, bin_size=2)
    assert np.all(make_time_bins([np.zeros(4)], fps=1, bin_size=2)[0] == [0, 0, 1, 1])
