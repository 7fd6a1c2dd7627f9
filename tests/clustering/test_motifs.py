"""The planted-motif generator: labels, determinism, distinct motifs."""

import numpy as np
import pytest

from deepof_sk.datasets import MOTIFS, make_motif_poses
from deepof_sk.validation import validate_poses


def test_shapes_labels_and_schema():
    ds, labels = make_motif_poses(600, n_motifs=4, segment_length=50, random_state=0)
    validate_poses(ds)
    assert ds.sizes["time"] == 600 and labels.shape == (600,)
    assert sorted(np.unique(labels)) == [0, 1, 2, 3]
    assert ds.attrs["motifs"] == list(MOTIFS[:4])
    # fixed-length segments, consecutive segments differ
    change = np.flatnonzero(np.diff(labels)) + 1
    assert np.all(np.diff(change) == 50)


def test_same_seed_same_recording():
    a, la = make_motif_poses(300, random_state=3)
    b, lb = make_motif_poses(300, random_state=3)
    np.testing.assert_array_equal(la, lb)
    np.testing.assert_array_equal(a.position.values, b.position.values)


def test_motifs_differ_in_speed_and_posture():
    ds, labels = make_motif_poses(3000, n_motifs=6, noise=0.0, random_state=1)
    center = ds.position.sel(keypoint="Center", individual="mouse1").values  # (time, space)
    speed = np.r_[0.0, np.hypot(*np.diff(center, axis=0).T)] * ds.attrs["fps"]
    body = ds.position.sel(keypoint="Nose") - ds.position.sel(keypoint="Tail_base")
    length = np.hypot(body.sel(space="x"), body.sel(space="y")).values[:, 0]
    inner = np.r_[False, labels[1:] == labels[:-1]] & np.r_[labels[:-1] == labels[1:], False]
    med_speed = [np.median(speed[inner & (labels == k)]) for k in range(6)]
    med_length = [np.median(length[labels == k]) for k in range(6)]
    assert med_speed[0] < 5 < med_speed[1] < med_speed[4]  # still < walk < run
    assert med_length[5] < 0.75 * med_length[0]  # rear: shortened body


def test_invalid_arguments():
    with pytest.raises(ValueError, match="n_motifs"):
        make_motif_poses(100, n_motifs=7)
    with pytest.raises(ValueError, match="segment_length"):
        make_motif_poses(100, segment_length=(10, 5))
