"""NaN-ignoring medians by sorting networks, against numpy's definitions."""

import numpy as np
import pytest

from deepof_sk.utils._median import _sorting_network, nanmedian_planes

RNG = np.random.default_rng(0)


def test_nanmedian_matches_numpy():
    v = RNG.random((400, 2, 11))
    v[:4] = np.nan
    gappy = v.copy()
    gappy[RNG.random(gappy.shape) < 0.3] = np.nan
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        for arr in (v, gappy):
            planes = [arr[..., j] for j in range(arr.shape[-1])]
            np.testing.assert_array_equal(nanmedian_planes(planes), np.nanmedian(arr, axis=-1))


def test_sorting_network_sorts_every_input():
    import itertools

    for n in range(1, 13):  # 0-1 principle: a network that sorts every 0/1 input sorts everything
        planes = list(np.array(list(itertools.product([0.0, 1.0], repeat=n))).T)
        for i, j in _sorting_network(n):
            planes[i], planes[j] = np.minimum(planes[i], planes[j]), np.maximum(planes[i], planes[j])
        assert (np.diff(np.array(planes), axis=0) >= 0).all(), n


def test_nanmedian_planes_with_ties_infinities_and_empty_rows():
    for r in (1, 2, 5, 11, 12):
        v = np.round(RNG.random((300, 2, r)) * 10, 0)  # many ties
        v[RNG.random(v.shape) < 0.25] = np.nan
        v[:3] = np.nan
        v[5, 0] = np.inf
        v[6, 1, 0] = -np.inf
        with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
            ref = np.nanmedian(v, axis=-1)
        np.testing.assert_array_equal(nanmedian_planes([v[..., j] for j in range(r)]), ref)
