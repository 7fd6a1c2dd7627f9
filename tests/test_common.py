"""Every public estimator passes deepof_sk's own checks; 2-D-capable ones also pass sklearn's."""

from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from deepof_sk.testing import POSES_CHECKS, all_estimators, make_check_recordings

# Parameters that keep the checks fast for expensive estimators.
CHECK_PARAMS: dict[str, dict] = {
    "DeepClusterer": {"encoder": "tcn", "units": 4, "epochs": 1, "pretrain_epochs": 1, "window": 9, "latent_dim": 2,
                      "n_clusters": 3, "batch_size": 64, "random_state": 0},
    "ArenaScaler": {"px_per_mm": 2.0},
    "BehaviorProfiler": {"annotator": "__activity__"},
    "ROIMasker": {"rois": {"box": [[-50.0, -50.0], [50.0, -50.0], [50.0, 50.0], [-50.0, 50.0]]}},
}

# Checks an estimator legitimately cannot pass, with the reason.
EXPECTED_SKIPS: dict[str, dict[str, str]] = {}

ESTIMATORS = all_estimators()
RECORDINGS = make_check_recordings()


def _instance(cls):
    params = dict(CHECK_PARAMS.get(cls.__name__, {}))
    if params.get("annotator") == "__activity__":  # a light rule annotator to profile
        from deepof_sk.annotation import ActivityAnnotator

        params["annotator"] = ActivityAnnotator()
    return cls(**params)


def test_estimators_are_discovered():
    names = {name for name, _ in ESTIMATORS}
    assert {"SavgolSmoother", "RollingSmoother", "FeatureTabulator", "FramewiseEstimator"} <= names


@pytest.mark.parametrize("name, cls", ESTIMATORS, ids=[n for n, _ in ESTIMATORS])
@pytest.mark.parametrize("check", POSES_CHECKS, ids=[c.__name__ for c in POSES_CHECKS])
def test_poses_contract(name, cls, check):
    reason = EXPECTED_SKIPS.get(name, {}).get(check.__name__)
    if reason:
        pytest.xfail(reason)
    check(_instance(cls), RECORDINGS)


def _two_d_estimators():
    out = []
    for _, cls in ESTIMATORS:
        est = _instance(cls)
        if est.__sklearn_tags__().input_tags.two_d_array:
            out.append(est)
    return out


def _expected_failed_checks(est):
    return getattr(est, "_sklearn_expected_failed_checks", {})


@parametrize_with_checks(_two_d_estimators(), expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
