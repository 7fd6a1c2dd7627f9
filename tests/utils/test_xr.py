"""with_variables: the dataset xarray's update gives, built without its merge where nothing needs aligning."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.utils import _xr
from deepof_sk.utils._xr import with_variables


def _public(ds, variables, new_dims=None):
    out = ds.copy()
    update = {dim: xr.Variable(dim, np.asarray(labels)) for dim, labels in (new_dims or {}).items()}
    update.update(variables)
    out.update(update)
    return out


@pytest.fixture
def ds():
    return make_synthetic_poses(40, n_individuals=2, random_state=0)


def _cases(ds):
    n_t, n_i = ds.sizes["time"], ds.sizes["individual"]
    pos = ds.position.variable
    return {
        "new variable on a new dim": ({"distance": xr.Variable(("time", "pair", "individual"),
                                                                 np.ones((n_t, 3, n_i)), attrs={"units": "mm"})},
                                      {"pair": ["a-b", "b-c", "c-d"]}),
        "replaced position": ({"position": pos.copy(deep=False, data=pos.values * 2)}, None),
        "replaced position, other dim order": ({"position": pos.transpose("individual", "space", "keypoint",
                                                                          "time").copy(deep=True)}, None),
        "new variables on existing dims": ({"angle": xr.Variable(("time", "individual"), np.zeros((n_t, n_i))),
                                            "centre": xr.Variable(("time", "space", "individual"),
                                                                  np.zeros((n_t, 2, n_i)))}, None),
        "a dim without coordinate": ({"window": xr.Variable(("time", "lag"), np.zeros((n_t, 4)))}, None),
    }


@pytest.mark.parametrize("case", ["new variable on a new dim", "replaced position",
                                  "replaced position, other dim order", "new variables on existing dims",
                                  "a dim without coordinate"])
def test_direct_result_is_identical_to_xarrays_update(ds, case):
    variables, new_dims = _cases(ds)[case]
    assert _xr._direct(ds, variables, dict(new_dims or {})) is not None  # the fast path was taken
    got = with_variables(ds, variables, new_dims)
    expected = _public(ds, variables, new_dims)
    xr.testing.assert_identical(got, expected)
    assert list(got.variables) == list(expected.variables)  # same order (a replaced variable keeps its place)
    assert {k: type(v) for k, v in got.xindexes.items()} == {k: type(v) for k, v in expected.xindexes.items()}
    for dim in new_dims or {}:
        assert got[dim].dtype == expected[dim].dtype and got.indexes[dim].equals(expected.indexes[dim])
        assert got.sel({dim: new_dims[dim][1]}).sizes == expected.sel({dim: new_dims[dim][1]}).sizes


def test_input_is_left_alone(ds):
    before = ds.copy(deep=True)
    variables, new_dims = _cases(ds)["new variable on a new dim"]
    out = with_variables(ds, variables, new_dims)
    out.attrs["log"] = "changed"
    out.encoding["x"] = 1
    xr.testing.assert_identical(ds, before)
    assert ds.attrs == before.attrs and "x" not in ds.encoding


def test_merge_work_falls_back_to_xarray(ds):
    """An existing dim given new labels, or a size conflict: xarray's own result or error."""
    n_t = ds.sizes["time"]
    relabel = {"keypoint": [f"k{i}" for i in range(ds.sizes["keypoint"])]}
    assert _xr._direct(ds, {}, relabel) is None
    bad = {"speed": xr.Variable(("time",), np.zeros(n_t + 1))}
    assert _xr._direct(ds, bad, {}) is None
    with pytest.raises(ValueError):
        with_variables(ds, bad)
    coord = {"time": xr.Variable(("time",), np.arange(n_t) * 2.0)}  # a coordinate: aligned by xarray
    assert _xr._direct(ds, coord, {}) is None


def test_other_xarray_internals_take_the_public_path(ds, monkeypatch):
    """An xarray whose internals differ (here: an index class that takes other arguments) is not a failure."""
    variables, new_dims = _cases(ds)["new variable on a new dim"]

    def other_index(*args, **kwargs):
        raise TypeError("another signature")

    monkeypatch.setattr(xr.indexes, "PandasIndex", other_index)  # xarray's own code imports it elsewhere
    assert _xr._direct(ds, variables, new_dims) is None
    xr.testing.assert_identical(with_variables(ds, variables, new_dims), _public(ds, variables, new_dims))
