"""Fixtures of the annotation tests: DeepOF's reference recording and small synthetic scenes with known answers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.validation import make_poses_dataset


def _reference_recording(shared_data, shared_reference, key: str):
    """DeepOF's processed coordinates (mm) of recording ``key``, confidences from the raw DLC file, its arena."""
    from deepof_sk.io import read_poses
    from deepof_sk.preprocessing import Arena, attach_arena

    out = shared_reference / "deepof-outputs"
    info = json.loads((out / "single_project_info.json").read_text())
    # recording test2 is a byte copy of test (only its arena differs), so both use test's processed coordinates
    coords = pd.read_csv(out / "single_test_coords_raw_processed.csv", header=[0, 1], index_col=0)
    kps = list(dict.fromkeys(coords.columns.get_level_values(0)))
    pos = np.stack([coords[k].loc[:, ["x", "y"]].to_numpy() for k in kps], axis=2)[..., None]
    raw = read_poses(shared_data / "deepof" / "testDLC_h5_table.h5", fps=25)
    conf = raw.confidence.sel(keypoint=kps).transpose("time", "keypoint", "individual").values
    ds = make_poses_dataset(pos, conf, keypoints=kps, individuals=[key], fps=info["frame_rate"], space_unit="mm")
    ds = attach_arena(ds, Arena.from_deepof(info["arena_params_mm"][key], unit="mm"))
    reference = pd.read_csv(out / f"single_{key}_supervised.csv", index_col=0)
    return ds, reference, info


@pytest.fixture(scope="session")
def deepof_reference(shared_data, shared_reference):
    """(dataset, DeepOF table, project info) of DeepOF's test recording (elliptical arena)."""
    return _reference_recording(shared_data, shared_reference, "test")


@pytest.fixture(scope="session")
def deepof_reference_polygon(shared_data, shared_reference):
    """The same coordinates with DeepOF's polygonal arena of recording ``test2`` (its table is identical)."""
    return _reference_recording(shared_data, shared_reference, "test2")


def _two_animals(pos_a: np.ndarray, pos_b: np.ndarray, keypoints, *, fps: float = 25.0, names=("a", "b")):
    """A dataset in mm from two (time, 2, keypoint) position arrays (confidence 1)."""
    pos = np.stack([pos_a, pos_b], axis=-1)
    conf = np.ones((pos.shape[0], pos.shape[2], 2))
    return make_poses_dataset(pos, conf, keypoints=list(keypoints), individuals=list(names), fps=fps,
                              space_unit="mm")


@pytest.fixture(scope="session")
def two_animals():
    """Function building a two-animal dataset in mm from two (time, 2, keypoint) position arrays."""
    return _two_animals


@pytest.fixture(scope="session")
def leader_follower():
    """Two mice walking the same straight line at 100 mm/s, the follower 100 mm (1 s) behind the leader."""
    walk = make_synthetic_poses(250, speed=100.0, random_state=0)
    pos = walk.position.values[..., 0]
    return _two_animals(pos, pos - np.array([100.0, 0.0])[:, None], walk.keypoint.values,
                       names=("leader", "follower"))
