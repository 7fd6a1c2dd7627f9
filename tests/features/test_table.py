"""The dataset -> table bridge and the recording summariser."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deepof_sk import schema as S
from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.features import FeatureTabulator, RecordingSummarizer, split_individuals


@pytest.fixture
def two_mice():
    return [make_synthetic_poses(30 + 10 * i, scenario="explore", n_individuals=2, keypoints=["Nose", "Center"],
                                 random_state=i) for i in range(2)]


def test_rows_are_frames_and_columns_are_named(two_mice):
    tab = FeatureTabulator(variables="position").fit(two_mice)
    table = tab.transform(two_mice)
    assert table.shape == (30 + 40, 2 * 2 * 2)
    names = list(tab.get_feature_names_out())
    assert names[:3] == ["position[mouse1,Nose,x]", "position[mouse1,Nose,y]", "position[mouse1,Center,x]"]
    col = names.index("position[mouse2,Center,y]")
    np.testing.assert_array_equal(
        table[:30, col], two_mice[0][S.POSITION].sel(individual="mouse2", keypoint="Center", space="y").values
    )


def test_per_individual_rows_are_time_major(two_mice):
    tab = FeatureTabulator(variables=["position", "confidence"], per_individual=True).fit(two_mice)
    table = tab.transform(two_mice[0])
    assert table.shape == (60, 4 + 2)
    names = list(tab.get_feature_names_out())
    assert "position[Nose,x]" in names and "confidence[Center]" in names
    nose_x = two_mice[0][S.POSITION].sel(keypoint="Nose", space="x").values  # (time, individual)
    np.testing.assert_array_equal(table[:, names.index("position[Nose,x]")], nose_x.reshape(-1))


def test_split_rows_inverts_stacking(two_mice):
    tab = FeatureTabulator(per_individual=True).fit(two_mice)
    rows = np.arange(sum(tab.row_counts(two_mice)))
    pieces = tab.split_rows(rows, two_mice)
    assert [p.shape for p in pieces] == [(30, 2), (40, 2)]
    assert pieces[1][0, 0] == 60


def test_set_output_pandas(two_mice):
    tab = FeatureTabulator(variables="position").set_output(transform="pandas").fit(two_mice)
    frame = tab.transform(two_mice)
    assert isinstance(frame, pd.DataFrame) and frame.columns[0] == "position[mouse1,Nose,x]"


def test_mismatched_recordings_are_named(two_mice):
    tab = FeatureTabulator(variables="position").fit(two_mice)
    other = two_mice[0].assign_coords(individual=["B", "W"])
    with pytest.raises(ValueError, match=r"missing \['position\[mouse1"):
        tab.transform(other)
    with pytest.raises(ValueError, match=r"\['speed'\]"):
        FeatureTabulator(variables="speed").fit(two_mice)


def test_summarizer_one_row_per_recording(two_mice):
    summ = RecordingSummarizer(variables="position", statistics=["mean", "max"]).fit(two_mice)
    out = summ.transform(two_mice)
    assert out.shape == (2, 2 * 8)
    names = list(summ.get_feature_names_out())
    i = names.index("max(position[mouse1,Nose,x])")
    assert out[1, i] == two_mice[1][S.POSITION].sel(individual="mouse1", keypoint="Nose", space="x").max()
    with pytest.raises(ValueError, match="unknown statistics"):
        RecordingSummarizer(statistics=["mode"]).fit(two_mice)


def test_split_individuals(two_mice):
    parts, index = split_individuals(two_mice)
    assert index == [(0, "mouse1"), (0, "mouse2"), (1, "mouse1"), (1, "mouse2")]
    assert all(p.sizes[S.INDIVIDUAL] == 1 for p in parts)


@pytest.mark.parametrize("per_individual", [False, True])
def test_parallel_tables_equal_the_serial_one(two_mice, per_individual):
    """n_jobs=2 fills each recording's rows of one table from threads; a chosen joblib backend (worker processes
    here) returns each recording's rows instead: both give the serial table."""
    import joblib

    recordings = two_mice + [make_synthetic_poses(25, scenario="explore", n_individuals=2,
                                                  keypoints=["Nose", "Center"], random_state=7)]
    kwargs = dict(variables=["position", "confidence"], per_individual=per_individual)
    serial = FeatureTabulator(**kwargs).fit(recordings).transform(recordings)
    threads = FeatureTabulator(**kwargs, n_jobs=2).fit(recordings).transform(recordings)
    np.testing.assert_array_equal(threads, serial)
    with joblib.parallel_config(backend="loky", n_jobs=2):
        processes = FeatureTabulator(**kwargs, n_jobs=2).fit(recordings).transform(recordings)
    np.testing.assert_array_equal(processes, serial)
    assert not np.isnan(serial).all(axis=0).any()  # every column filled
