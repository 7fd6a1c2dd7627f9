"""copy=False: the cleaning, smoothing, scaling and alignment steps work in the input's own position array.

Same values as copy=True, bit for bit; the input is modified only with copy=False, and only where its array can be
written; copy=True always returns new arrays (a later in-place step must not reach the caller's data).
"""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.io import read_poses
from deepof_sk.preprocessing import (
    ArenaScaler,
    ConfidenceFilter,
    EgocentricAligner,
    Interpolator,
    OutlierFilter,
    SavgolSmoother,
)

STEPS = [
    ConfidenceFilter(threshold=0.5),
    OutlierFilter(method="speed", max_speed=40.0, speed_unit="per_frame"),
    OutlierFilter(method="deepof", likelihood_tol=0.5),
    Interpolator(max_gap=4),
    Interpolator(method="pchip", max_gap=4),
    Interpolator(method="cubic", max_gap=4),
    SavgolSmoother(window=7, polyorder=3),
    ArenaScaler(px_per_mm=2.5),
    EgocentricAligner(center="Center", align="Spine_1"),
]
IDS = ["confidence", "speed", "residual", "linear", "pchip", "cubic", "savgol", "scaler", "aligner"]


@pytest.fixture(params=["float64", "float32"])
def gappy(request):
    ds = make_synthetic_poses(600, scenario="explore", n_individuals=2, noise=0.5, dropout_rate=0.05, n_gaps=10,
                              n_spikes=20, random_state=4)
    return ds.astype(request.param)


def _fresh(ds):
    return ds.copy(deep=True)


@pytest.mark.parametrize("step", STEPS, ids=IDS)
def test_copy_false_gives_the_same_values_in_the_input_array(step, gappy):
    expected = clone(step).fit_transform(_fresh(gappy))
    data = _fresh(gappy)
    original = data.position.values
    got = clone(step).set_params(copy=False).fit_transform(data)
    np.testing.assert_array_equal(got.position.values, expected.position.values)
    assert got.position.dtype == expected.position.dtype == gappy.position.dtype
    assert np.shares_memory(got.position.values, original)  # worked in place: no new array of the recording
    np.testing.assert_array_equal(original, expected.position.values)  # the input was modified


@pytest.mark.parametrize("step", STEPS, ids=IDS)
def test_copy_true_never_shares_or_modifies_the_input(step, gappy):
    data = _fresh(gappy)
    before = data.position.values.copy()
    got = clone(step).fit_transform(data)
    np.testing.assert_array_equal(data.position.values, before)
    assert not np.shares_memory(got.position.values, data.position.values)


def test_interpolator_without_gaps_still_returns_a_new_array():
    ds = make_synthetic_poses(50, random_state=0)
    out = Interpolator().fit_transform(ds)
    assert not np.shares_memory(out.position.values, ds.position.values)
    # so an in-place step after it leaves the caller's data alone
    ArenaScaler(px_per_mm=2.0, copy=False).fit_transform(out)
    np.testing.assert_array_equal(ds.position.values, make_synthetic_poses(50, random_state=0).position.values)


@pytest.mark.parametrize("step", STEPS, ids=IDS)
def test_read_only_input_falls_back_to_a_copy(step, gappy):
    data = _fresh(gappy)
    data.position.values.flags.writeable = False
    expected = clone(step).fit_transform(_fresh(gappy))
    got = clone(step).set_params(copy=False).fit_transform(data)
    np.testing.assert_array_equal(got.position.values, expected.position.values)
    np.testing.assert_array_equal(data.position.values, gappy.position.values)


def _chain(copy):
    return make_pipeline(
        ConfidenceFilter(threshold=0.6, copy=copy), OutlierFilter(likelihood_tol=0.6, copy=copy),
        Interpolator(max_gap=5, copy=copy), SavgolSmoother(window=5, polyorder=2, copy=copy),
        ArenaScaler(px_per_mm=3.0, copy=copy), EgocentricAligner(center="Center", align="Spine_1", copy=copy),
    )


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_in_place_chain_equals_copying_chain_on_real_two_mouse_tracks(shared_data, dtype):
    path = shared_data / "deepof" / "testDLC_h5_table_madlc.h5"  # two mice, a quarter of the points missing
    expected = _chain(True).fit_transform(read_poses(path, dtype=dtype))
    data = read_poses(path, dtype=dtype)
    got = _chain(False).fit_transform(data)
    for name in expected.data_vars:
        np.testing.assert_array_equal(got[name].values, expected[name].values, err_msg=name)
    assert np.shares_memory(got.position.values, data.position.values)


def test_in_place_chain_on_a_real_dlc_csv(shared_data):
    path = shared_data / "dlcanalyzer" / "EPM_15DeepCut_resnet50_epmMay17shuffle1_1030000.csv"
    chain = [ConfidenceFilter(threshold=0.9, warn_fraction=None), Interpolator(max_gap=10), SavgolSmoother(window=9, polyorder=3)]
    expected = make_pipeline(*[clone(s) for s in chain]).fit_transform(read_poses(path))
    got = make_pipeline(*[clone(s).set_params(copy=False) for s in chain]).fit_transform(read_poses(path))
    np.testing.assert_array_equal(got.position.values, expected.position.values)
    assert np.isnan(got.position.values).any() and np.isfinite(got.position.values).any()


def test_float32_scores_compare_with_the_threshold_in_double_precision():
    """0.7 rounds down in float32: a float32 score equal to float32(0.7) is below the float64 threshold 0.7."""
    ds = make_synthetic_poses(20, random_state=0).astype("float32")
    ds["confidence"][:] = np.float32(0.7)
    assert ConfidenceFilter(threshold=0.7, warn_fraction=None).fit_transform(ds).position.isnull().all()
    ds64 = ds.astype("float64")
    assert ConfidenceFilter(threshold=0.7, warn_fraction=None).fit_transform(ds64).position.isnull().all()


@pytest.mark.filterwarnings("ignore::deepof_sk.exceptions.MissingDataWarning")  # a noisy hip on this table
def test_deepof_preprocessor_in_place_equals_copying_on_deepofs_test_table(shared_data):
    from deepof_sk.preprocessing import PresenceMasker, make_deepof_preprocessor

    path = shared_data / "deepof" / "testDLC_h5_table_madlc.h5"
    pipe = make_deepof_preprocessor(copy=False)
    assert all(step.get_params()["copy"] is False for _, step in pipe.steps)
    expected = make_deepof_preprocessor().fit_transform(read_poses(path))
    data = read_poses(path)
    got = pipe.fit_transform(data)
    np.testing.assert_array_equal(got.position.values, expected.position.values)
    assert np.shares_memory(got.position.values, data.position.values)
    # the presence mask alone, in place, on a recording with an absent animal
    ds = make_synthetic_poses(40, n_individuals=2, random_state=0)
    ds["confidence"][:10, :, 1] = 0.1
    ref = PresenceMasker(warn_fraction=None).fit_transform(ds.copy(deep=True))
    work = ds.copy(deep=True)
    got = PresenceMasker(warn_fraction=None, copy=False).fit_transform(work)
    np.testing.assert_array_equal(got.position.values, ref.position.values)
    assert np.isnan(work.position.values[:10, :, :, 1]).all()


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_in_place_on_shared_memory_applies_once_per_recording(n_jobs):
    """The same dataset twice in the list, or two overlapping views of one array: each recording still gets the
    step once (the later one is given its own copy), never twice on the shared frames."""
    fresh = make_synthetic_poses(100, random_state=0)
    ref = fresh.position.values / 2.0
    ds = fresh.copy(deep=True)
    a, b = ArenaScaler(px_per_mm=2.0, copy=False, n_jobs=n_jobs).fit_transform([ds, ds])
    np.testing.assert_array_equal(a.position.values, ref)
    np.testing.assert_array_equal(b.position.values, ref)
    ds = fresh.copy(deep=True)
    first, second = ds.isel(time=slice(0, 60)), ds.isel(time=slice(40, 100))
    a, b = ArenaScaler(px_per_mm=2.0, copy=False, n_jobs=n_jobs).fit_transform([first, second])
    np.testing.assert_array_equal(a.position.values, ref[:60])
    np.testing.assert_array_equal(b.position.values, ref[40:])
    # transform (not fit_transform) takes the same care
    ds = fresh.copy(deep=True)
    scaler = ArenaScaler(px_per_mm=2.0, copy=False).fit(fresh)
    a, b = scaler.transform([ds, ds])
    np.testing.assert_array_equal(b.position.values, ref)
