"""Time blocks: coverage, halos, and every blocked kernel giving the whole-recording result."""

import numpy as np
import pytest

from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.features import AngleExtractor, AreaExtractor, DistanceExtractor, KinematicsExtractor
from deepof_sk.preprocessing import EgocentricAligner, Interpolator, OutlierFilter, SavgolSmoother
from deepof_sk.preprocessing._cleaning import _jump_mask
from deepof_sk.preprocessing._smoothing import savgol_along_time
from deepof_sk.utils import _blocks
from deepof_sk.utils._blocks import block_frames, halo_blocks, time_blocks


@pytest.mark.parametrize("n_frames", [0, 1, 6, 7, 8, 100])
def test_time_blocks_cover_the_recording_once_in_order(n_frames):
    blocks = time_blocks(n_frames, row_bytes=8, target=56, minimum=1)  # 7 frames per block
    covered = np.concatenate([np.arange(b.start, b.stop) for b in blocks]) if blocks else np.array([], int)
    np.testing.assert_array_equal(covered, np.arange(n_frames))
    assert all(b.stop - b.start <= 7 for b in blocks)


def test_block_frames_respects_target_and_minimum():
    assert block_frames(100, target=10_000, minimum=1) == 100
    assert block_frames(100, target=10, minimum=16) == 16
    assert block_frames(0, target=10, minimum=1) == 10


def test_halo_blocks_reproduce_a_stencil_on_the_whole_array():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(103, 3))

    def stencil(a):  # centred 5-point sum with edge rules on the first/last 2 rows
        out = np.empty_like(a)
        out[2:-2] = a[:-4] + a[1:-3] + a[2:-2] + a[3:-1] + a[4:]
        out[:2], out[-2:] = a[:2] * 5, a[-2:] * 5
        return out

    whole = stencil(x)
    pieces = np.empty_like(x)
    for kept, extended, inner in halo_blocks(len(x), x[:1].nbytes, halo=2, target=x[:1].nbytes * 9, minimum=1):
        pieces[kept] = stencil(x[extended])[inner]
    np.testing.assert_array_equal(pieces, whole)


@pytest.fixture
def gappy():
    ds = make_synthetic_poses(997, scenario="explore", n_individuals=3, noise=0.5, dropout_rate=0.05, n_gaps=20,
                              n_spikes=30, random_state=3)
    return Interpolator(max_gap=3).fit_transform(ds)


@pytest.mark.parametrize(
    "est",
    [
        AngleExtractor(signed=True),
        AreaExtractor(),
        AreaExtractor(min_vertices={"full": 3}),
        DistanceExtractor(pairs="all", inter_animal="all"),
        EgocentricAligner(center="Center", align="Spine_1", polar=True),
        KinematicsExtractor(order=(1, 2, 3), velocity=True),
        KinematicsExtractor(order=(2, 3), keypoints=["Nose", "Center"]),
        OutlierFilter(method="speed", max_speed=40.0, speed_unit="per_frame"),
        SavgolSmoother(window=7, polyorder=3),
    ],
    ids=lambda e: type(e).__name__,
)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_blocked_kernels_equal_one_block(est, dtype, gappy, monkeypatch):
    """Blocks of 7 frames (many block edges, gaps across them) give the one-block values bit for bit."""
    ds = gappy.astype(dtype)
    monkeypatch.setattr(_blocks, "BLOCK_BYTES", 1 << 40)  # one block
    whole = est.fit_transform(ds)
    monkeypatch.setattr(_blocks, "BLOCK_BYTES", 1)
    monkeypatch.setattr(_blocks, "MIN_BLOCK_FRAMES", 7)
    small = est.fit_transform(ds)
    assert set(small.data_vars) == set(whole.data_vars)
    for name in whole.data_vars:
        assert small[name].dtype == whole[name].dtype == np.dtype(dtype), name
        np.testing.assert_array_equal(small[name].values, whole[name].values, err_msg=name)


def _jump_reference(pos, max_speed, frames_per_unit):
    """The speed rule written plainly, one track at a time (test reference)."""
    T = pos.shape[0]
    p = pos.reshape(T, pos.shape[1], -1)
    flagged = np.zeros((T, p.shape[2]), dtype=bool)
    for c in range(p.shape[2]):
        valid = np.flatnonzero(np.isfinite(p[:, :, c]).all(axis=1))
        for j, t in enumerate(valid):
            before, after = valid[:j][::-1], valid[j + 1:]
            if len(before) and len(after):
                refs = [before[0], after[0]]
            elif len(after):
                refs = list(after[:2])
            else:
                refs = list(before[:2])
            if len(refs) < 2:
                continue
            speeds = [np.linalg.norm(p[t, :, c] - p[r, :, c]) / abs(r - t) * frames_per_unit for r in refs]
            flagged[t, c] = all(s > max_speed for s in speeds)
    return flagged.reshape(T, *pos.shape[2:])


@pytest.mark.parametrize(("max_speed", "frames_per_unit"), [(10.0, 1.0), (120.0, 12.5)])
def test_jump_mask_matches_a_plain_reference_across_block_edges(monkeypatch, max_speed, frames_per_unit):
    rng = np.random.default_rng(1)
    pos = np.cumsum(rng.normal(size=(400, 2, 3, 2)), axis=0)
    gaps = rng.random((400, 3, 2)) < 0.15  # isolated and consecutive gaps
    pos = np.where(gaps[:, None], np.nan, pos)
    pos += 30 * (rng.random((400, 3, 2)) < 0.05)[:, None]  # spikes
    pos[:3, :, 0, 0] = [[0, 0], [30, 30], [0.5, 0.5]]  # track start: next valid point a spike, the one after not
    pos[-3:, :, 0, 1] = [[0, 0], [-30, 30], [0.5, 0.5]]  # track end: previous valid point a spike
    pos[:, :, 2, 1] = np.nan  # an empty track
    pos[:398, :, 1, 0] = np.nan  # a track with two points
    monkeypatch.setattr(_blocks, "BLOCK_BYTES", 1)
    monkeypatch.setattr(_blocks, "MIN_BLOCK_FRAMES", 5)
    got = _jump_mask(pos, max_speed, frames_per_unit)
    np.testing.assert_array_equal(got, _jump_reference(pos, max_speed, frames_per_unit))
    assert got.sum() > 10
    assert got[1, 0, 0] and not got[0, 0, 0] and got[-2, 0, 1] and not got[-1, 0, 1]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n_frames", [2, 3, 4, 9, 60])
def test_jump_hits_match_the_reference_on_short_and_random_tracks(monkeypatch, seed, n_frames):
    """Every pattern of gaps (runs touching each other, the track's ends, single valid points between runs) on
    short recordings, with blocks of 2-3 frames: the flagged points equal the plain per-track rule."""
    from deepof_sk.preprocessing._cleaning import _jump_hits

    rng = np.random.default_rng(seed)
    pos = rng.normal(size=(n_frames, 2, 5, 2)) * rng.choice([0.5, 50.0], size=(n_frames, 1, 5, 2))
    pos = np.where((rng.random((n_frames, 5, 2)) < rng.choice([0.1, 0.4]))[:, None], np.nan, pos)
    pos[:, 1, 4, 1] = np.nan  # one coordinate missing: the point is invalid
    monkeypatch.setattr(_blocks, "BLOCK_BYTES", 1)
    monkeypatch.setattr(_blocks, "MIN_BLOCK_FRAMES", 2 + seed % 2)
    expected = _jump_reference(pos, 1.5, 1.0)
    np.testing.assert_array_equal(_jump_mask(pos, 1.5, 1.0), expected)
    np.testing.assert_array_equal(_jump_hits(pos, 1.5, 1.0), np.flatnonzero(expected))


@pytest.mark.parametrize(("window", "polyorder", "n_frames"),
                         [(5, 2, 11), (7, 3, 200), (15, 12, 64), (15, 14, 64), (3, 0, 9)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_savgol_along_time_equals_scipy(window, polyorder, n_frames, dtype):
    from scipy.signal import savgol_filter

    rng = np.random.default_rng(window)
    x = np.cumsum(rng.normal(size=(n_frames, 2, 4)), axis=0).astype(dtype)
    got = savgol_along_time(x, window, polyorder)
    assert got.dtype == x.dtype and got.shape == x.shape
    rtol = 1e-12 if dtype == "float64" else 1e-6
    if polyorder == window - 1:  # an exact fit of every window: the identity, which scipy evaluates with round-off
        np.testing.assert_array_equal(got, x)
        assert not np.shares_memory(got, x)
        rtol = 1e-4
    # the reference in float64: scipy's edge fit (np.polyfit) in float32 is itself inaccurate for high orders
    expected = savgol_filter(x.astype(np.float64), window, polyorder, axis=0, mode="interp")
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * np.abs(x).max())


@pytest.mark.parametrize(("window", "polyorder"), [(5, 2), (15, 14), (15, 3), (3, 0)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_savgol_in_place_equals_out_of_place_across_small_blocks(window, polyorder, dtype, monkeypatch):
    """In place, each block reads the saved originals of the frames before it: blocks shorter than the half-window
    (5 frames here, half-window 7) must still see unfiltered values."""
    rng = np.random.default_rng(window + polyorder)
    x = np.cumsum(rng.normal(size=(203, 2, 3)), axis=0).astype(dtype)
    monkeypatch.setattr(_blocks, "BLOCK_BYTES", 1)
    monkeypatch.setattr(_blocks, "MIN_BLOCK_FRAMES", 5)
    expected = savgol_along_time(x, window, polyorder)
    work = x.copy()
    got = savgol_along_time(work, window, polyorder, inplace=True)
    assert np.shares_memory(got, work)
    np.testing.assert_array_equal(got, expected)
    with pytest.raises(ValueError, match="C-ordered"):
        savgol_along_time(np.asfortranarray(x), window, polyorder, inplace=True)


def test_scratch_hands_back_the_same_memory_for_each_block():
    sc = _blocks.Scratch(10)
    a = sc.get("tmp", 10, (3, 2), np.float32)
    b = sc.get("tmp", 4, (3, 2), np.float32)  # a shorter last block: a view of the same buffer
    assert b.shape == (4, 3, 2) and np.shares_memory(a, b)
    c = sc.get("tmp", 10, (3, 2), np.float64)  # another dtype: a new buffer under the same name
    assert c.dtype == np.float64 and not np.shares_memory(a, c)
    assert not np.shares_memory(sc.get("other", 10, (3, 2), np.float64), c)
