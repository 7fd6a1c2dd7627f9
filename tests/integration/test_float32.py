"""float32 recordings stay float32 through the preprocessing and feature chain, with float64's values to float32
precision (half the memory and bandwidth for users who opt in with ``ds.astype("float32")``)."""

import numpy as np
import pytest

from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.features import AngleExtractor, AreaExtractor, DistanceExtractor, KinematicsExtractor
from deepof_sk.preprocessing import (
    ArenaScaler,
    ConfidenceFilter,
    EgocentricAligner,
    Interpolator,
    OutlierFilter,
    RollingSmoother,
    SavgolSmoother,
)

STEPS = [
    ConfidenceFilter(threshold=0.5),
    OutlierFilter(method="speed", max_speed=1500.0),
    OutlierFilter(),
    Interpolator(max_gap=5),
    SavgolSmoother(window=5, polyorder=2),
    RollingSmoother(statistic="mean"),
    ArenaScaler(px_per_mm=2.0),
    EgocentricAligner(center="Center", align="Spine_1"),
    KinematicsExtractor(order=(1, 2, 3)),
    DistanceExtractor(pairs="skeleton", inter_animal=True),
    AngleExtractor(),
    AreaExtractor(),
]


@pytest.fixture(scope="module")
def chains():
    ds = make_synthetic_poses(1500, scenario="explore", n_individuals=2, noise=0.5, dropout_rate=0.01, n_gaps=4,
                              n_spikes=10, px_per_mm=2.0, random_state=0)
    single, double = ds.astype(np.float32), ds
    for step in STEPS:
        single = step.fit_transform(single)
        double = step.fit_transform(double)
    return single, double


def test_float32_in_float32_out(chains):
    single, double = chains
    assert {str(v.dtype) for v in double.data_vars.values()} == {"float64"}
    assert {name: str(v.dtype) for name, v in single.data_vars.items()} == {name: "float32" for name in single.data_vars}


def test_float32_values_match_float64(chains):
    single, double = chains
    for name in double.data_vars:
        a, b = double[name].values, single[name].values
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=name)
        scale = np.nanmax(np.abs(a))
        # float32 keeps ~7 digits; differences of differences (jerk) lose a few more
        tol = 5e-4 if name in ("acceleration", "jerk") else 5e-6
        assert np.nanmax(np.abs(a - b)) <= tol * scale, name
