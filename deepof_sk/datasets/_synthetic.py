"""Synthetic poses with analytically known answers, at any size.

The generator places a rigid rodent skeleton (DeepOF's 14 keypoint names by default) on a centre trajectory whose
speed, heading and inter-animal distances are known in closed form, then optionally adds tracking noise, low
confidence dropouts, NaN gaps and outlier spikes at recorded places. Everything is vectorised over frames, so a
million-frame, multi-animal recording takes well under a second to build.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import xarray as xr
from sklearn.utils import check_random_state

from ..validation import make_poses_dataset

__all__ = ["make_synthetic_poses", "SyntheticTruth", "DEEPOF_14_BODY", "SCENARIOS"]

#: Body-frame offsets (mm) of DeepOF's 14 keypoints relative to ``Center``: +y points from tail to nose, +x to the
#: animal's right. Nose to tail base is 85 mm and the backbone Nose-Spine_1-Center-Spine_2-Tail_base is straight,
#: roughly an adult C57BL/6 mouse seen from above.
DEEPOF_14_BODY: dict[str, tuple[float, float]] = {
    "Nose": (0.0, 45.0),
    "Left_ear": (-10.0, 32.0),
    "Right_ear": (10.0, 32.0),
    "Spine_1": (0.0, 22.0),
    "Center": (0.0, 0.0),
    "Left_fhip": (-14.0, 12.0),
    "Right_fhip": (14.0, 12.0),
    "Spine_2": (0.0, -18.0),
    "Left_bhip": (-14.0, -24.0),
    "Right_bhip": (14.0, -24.0),
    "Tail_base": (0.0, -40.0),
    "Tail_1": (0.0, -60.0),
    "Tail_2": (0.0, -80.0),
    "Tail_tip": (0.0, -100.0),
}

SCENARIOS = ("walk", "turn", "still", "nose_to_nose", "follow", "explore")

_NOSE_Y = DEEPOF_14_BODY["Nose"][1]


@dataclass
class SyntheticTruth:
    """Ground truth returned by :func:`make_synthetic_poses` with ``return_truth=True``.

    All lengths are in mm and speeds in mm/s, whatever ``px_per_mm`` was (positions in the dataset are
    multiplied by ``px_per_mm``).

    Attributes
    ----------
    position : ndarray (time, space, keypoint, individual)
        Clean positions in mm, before noise, gaps, dropouts and spikes.
    center_speed : ndarray (time, individual)
        Speed of ``Center`` in mm/s.
    heading : ndarray (time, individual)
        Direction of the body axis (tail to nose) in radians, counter-clockwise from +x.
    gap_mask, dropout_mask, spike_mask : ndarray of bool (time, keypoint, individual)
        Where NaN gaps, low-confidence dropouts and outlier spikes were planted.
    nose_distance : ndarray (time,) or None
        Nose-to-nose distance between individuals 0 and 1 (two-animal scenarios).
    labels : dict of str to ndarray of bool
        Per-frame scenario labels (``"contact"`` for nose_to_nose, ``"moving"`` per individual, ...).
    """

    position: np.ndarray
    center_speed: np.ndarray
    heading: np.ndarray
    gap_mask: np.ndarray
    dropout_mask: np.ndarray
    spike_mask: np.ndarray
    nose_distance: np.ndarray | None = None
    labels: dict = field(default_factory=dict)


def _rotate_body(offsets: np.ndarray, heading: np.ndarray) -> np.ndarray:
    """World-frame offsets (time, 2, keypoint, individual) of body offsets (keypoint, 2) at headings (time, ind)."""
    s, c = np.sin(heading), np.cos(heading)  # (T, n_ind)
    ox, oy = offsets[:, 0], offsets[:, 1]  # (K,)
    # Body +y maps to (cos h, sin h); body +x (animal's right) maps to (sin h, -cos h).
    wx = ox[None, :, None] * s[:, None, :] + oy[None, :, None] * c[:, None, :]
    wy = -ox[None, :, None] * c[:, None, :] + oy[None, :, None] * s[:, None, :]
    return np.stack([wx, wy], axis=1)


def _fold(x: np.ndarray, half: float) -> np.ndarray:
    """Reflect an unbounded coordinate into [-half, half] (a triangle wave), vectorised."""
    period = 4 * half
    y = np.mod(x + half, period)
    return np.where(y < 2 * half, y - half, 3 * half - y)


def _moving_mean(x: np.ndarray, n: int) -> np.ndarray:
    """Centred moving mean along axis 0 (window ``n`` frames, truncated at the edges), via cumulative sums."""
    if n <= 1:
        return x
    half = n // 2
    c = np.concatenate([np.zeros((1,) + x.shape[1:]), np.cumsum(x, axis=0)])
    idx = np.arange(x.shape[0])
    lo, hi = np.clip(idx - half, 0, x.shape[0]), np.clip(idx + half + 1, 0, x.shape[0])
    shape = (-1,) + (1,) * (x.ndim - 1)
    return (c[hi] - c[lo]) / (hi - lo).reshape(shape)


def _trajectories(scenario, n_frames, n_individuals, fps, speed, angular_speed, heading0, arena_radius, rng,
                  contact_start, contact_duration, follow_lag):
    t = np.arange(n_frames) / fps
    T, n_ind = n_frames, n_individuals
    labels: dict[str, np.ndarray] = {}
    if scenario in ("walk", "still"):
        v = 0.0 if scenario == "still" else speed
        heading = np.full((T, n_ind), heading0)
        spacing = 150.0 * (np.arange(n_ind) - (n_ind - 1) / 2)
        start = np.stack([np.full(n_ind, -v * t[-1] / 2 * np.cos(heading0)),
                          spacing - v * t[-1] / 2 * np.sin(heading0)], axis=0)  # (2, n_ind)
        center = start[None] + v * t[:, None, None] * np.array([np.cos(heading0), np.sin(heading0)])[None, :, None]
        center_speed = np.full((T, n_ind), v)
    elif scenario == "turn":
        # constant speed along a circular arc; the heading turns at `angular_speed` rad/s.
        heading = heading0 + angular_speed * t[:, None] * np.ones(n_ind)
        if abs(angular_speed) < 1e-12:
            raise ValueError("make_synthetic_poses: scenario='turn' needs a non-zero `angular_speed`.")
        r = speed / angular_speed
        offsets = 150.0 * (np.arange(n_ind) - (n_ind - 1) / 2)
        cx = r * np.sin(heading) - r * np.sin(heading0)
        cy = -r * np.cos(heading) + r * np.cos(heading0) + offsets
        center = np.stack([cx, cy], axis=1)
        center_speed = np.full((T, n_ind), abs(speed))
    elif scenario == "nose_to_nose":
        if n_ind != 2:
            raise ValueError("make_synthetic_poses: scenario='nose_to_nose' needs n_individuals=2.")
        # Two animals face each other on the x axis, approach at `speed` each, keep a 5 mm nose gap during contact,
        # then back away. Centre separation is piecewise linear in t.
        gap = 5.0
        sep_contact = 2 * _NOSE_Y + gap
        t_meet = contact_start
        t_leave = contact_start + contact_duration
        sep = sep_contact + 2 * speed * np.clip(t_meet - t, 0, None) + 2 * speed * np.clip(t - t_leave, 0, None)
        center = np.zeros((T, 2, 2))
        center[:, 0, 0] = -sep / 2
        center[:, 0, 1] = sep / 2
        heading = np.zeros((T, 2))
        heading[:, 1] = np.pi
        moving = (t < t_meet) | (t > t_leave)
        center_speed = np.where(moving, speed, 0.0)[:, None] * np.ones(2)
        labels["contact"] = (t >= t_meet) & (t <= t_leave)
    elif scenario in ("explore", "follow"):
        # smooth correlated random walk: folded into a square, mapped onto the disc of the arena (so the animal
        # visits the whole floor up to the wall), heading = direction of the smoothed velocity (no instant flips)
        n_paths = 1 if scenario == "follow" else n_ind
        ang_noise = rng.normal(0.0, 1.0, size=(T, n_paths)) * np.sqrt(1.0 / fps) * 1.5
        heading_free = heading0 + np.cumsum(ang_noise, axis=0)
        spd = speed * (0.6 + 0.4 * np.sin(2 * np.pi * t[:, None] / 7.0 + rng.uniform(0, 2 * np.pi, n_paths)) ** 2)
        reach = arena_radius - _NOSE_Y  # the centre stays one head length from the wall
        step = spd / fps / reach
        free = np.cumsum(np.stack([step * np.cos(heading_free), step * np.sin(heading_free)], axis=1), axis=0)
        free += rng.uniform(-0.5, 0.5, size=(1, 2, n_paths))
        sq = _fold(free, 1.0)
        u, v = sq[:, 0], sq[:, 1]
        path = np.stack([u * np.sqrt(1 - v**2 / 2), v * np.sqrt(1 - u**2 / 2)], axis=1) * reach
        vel = np.gradient(path, axis=0) * fps
        speed_path = np.hypot(vel[:, 0], vel[:, 1])
        raw = np.unwrap(np.arctan2(vel[:, 1], vel[:, 0]), axis=0)
        heading_path = _moving_mean(raw, max(1, int(round(0.3 * fps))))  # U-turns at the wall take ~0.3 s
        if scenario == "explore":
            center, heading, center_speed = path, heading_path, speed_path
        else:
            lag = max(1, int(round(follow_lag * fps)))
            idx = np.clip(np.arange(T)[:, None] - lag * np.arange(n_ind)[None, :], 0, None)  # (T, n_ind)
            center = path[idx, :, 0].transpose(0, 2, 1)
            heading = heading_path[idx, 0]
            center_speed = speed_path[idx, 0]
            labels["following"] = np.arange(T) >= lag
    else:
        raise ValueError(f"make_synthetic_poses: unknown scenario {scenario!r}; choose one of {list(SCENARIOS)}.")
    return center, heading, center_speed, labels


def make_synthetic_poses(
    n_frames: int = 1000,
    *,
    scenario: str = "walk",
    n_individuals: int | None = None,
    fps: float | None = 25.0,
    speed: float = 100.0,
    angular_speed: float = np.pi / 8,
    heading: float = 0.0,
    px_per_mm: float = 1.0,
    arena_radius: float = 190.0,
    contact_start: float = 2.0,
    contact_duration: float = 2.0,
    follow_lag: float = 0.4,
    noise: float = 0.0,
    dropout_rate: float = 0.0,
    n_gaps: int = 0,
    gap_length: int = 5,
    n_spikes: int = 0,
    spike_size: float = 80.0,
    keypoints: list[str] | None = None,
    random_state=None,
    return_truth: bool = False,
) -> xr.Dataset | tuple[xr.Dataset, SyntheticTruth]:
    """Make a poses dataset whose motion is known analytically.

    Parameters
    ----------
    n_frames : int, default 1000
        Number of frames (1e3 .. 1e6 and beyond; memory is about 0.5 KB per frame and animal).
    scenario : {"walk", "turn", "still", "nose_to_nose", "follow", "explore"}, default "walk"
        ``walk``: straight line at ``speed`` along ``heading``; ``turn``: constant ``speed`` on a circle, heading
        changing at ``angular_speed`` rad/s; ``still``: no motion; ``nose_to_nose``: two animals approach each other
        at ``speed``, keep their noses 5 mm apart from ``contact_start`` for ``contact_duration`` seconds, then back
        off; ``follow``: animal k walks the path of animal 0 ``k * follow_lag`` seconds later; ``explore``: smooth
        random walk over the whole arena floor, the body turning gradually (realistic-looking, for benchmarks).
    n_individuals : int, optional
        Number of animals (default 2 for the social scenarios, 1 otherwise).
    fps : float or None, default 25
        Frame rate. None leaves the dataset without fps (time in frames); motion is then generated at 25 fps.
    speed : float, default 100
        Centre speed in mm/s.
    angular_speed : float, default pi/8
        Turning rate in rad/s for ``scenario="turn"``.
    heading : float, default 0
        Initial direction of travel in radians (counter-clockwise from +x).
    px_per_mm : float, default 1
        Pixel scale: positions are written in pixels = mm * px_per_mm.
    arena_radius : float, default 190
        Radius in mm of the circular arena used by ``explore``/``follow`` (DeepOF's 380 mm arena).
    contact_start, contact_duration : float
        Timing in seconds of the nose-to-nose contact.
    follow_lag : float, default 0.4
        Delay in seconds between leader and follower.
    noise : float, default 0
        Standard deviation in mm of Gaussian tracking jitter.
    dropout_rate : float, default 0
        Fraction of points given low confidence (0.01-0.3) and a position displaced by up to 50 mm, like a
        tracker's bad guess.
    n_gaps, gap_length : int
        Number and length (frames) of NaN gaps planted in random keypoints.
    n_spikes : int, default 0
        Number of single-frame outlier spikes (confidence kept high).
    spike_size : float, default 80
        Displacement of each spike in mm.
    keypoints : list of str, optional
        Subset of DeepOF's 14 keypoint names to keep.
    random_state : int, RandomState or None
        Seed for everything random.
    return_truth : bool, default False
        Also return a :class:`SyntheticTruth`.

    Returns
    -------
    ds : xarray.Dataset
        Poses dataset (``source_software="deepof_sk.synthetic"``).
    truth : SyntheticTruth
        Only with ``return_truth=True``.

    Examples
    --------
    >>> ds = make_synthetic_poses(250, scenario="walk", speed=120.0, fps=25, random_state=0)
    >>> float(abs(ds.position.sel(keypoint="Center").diff("time")).sum("space").max()) * 25  # 120 mm/s along x
    120.0...
    """
    if n_frames < 2:
        raise ValueError(f"make_synthetic_poses: n_frames must be >= 2; got {n_frames}.")
    rng = check_random_state(random_state)
    if n_individuals is None:
        n_individuals = 2 if scenario in ("nose_to_nose", "follow") else 1
    gen_fps = 25.0 if fps is None else float(fps)
    body_names = list(DEEPOF_14_BODY)
    if keypoints is not None:
        unknown = sorted(set(keypoints) - set(body_names))
        if unknown:
            raise ValueError(f"make_synthetic_poses: unknown keypoints {unknown}; choose from {body_names}.")
        body_names = [k for k in body_names if k in set(keypoints)]
    offsets = np.array([DEEPOF_14_BODY[k] for k in body_names])
    center, head, center_speed, labels = _trajectories(
        scenario, n_frames, n_individuals, gen_fps, speed, angular_speed, heading, arena_radius, rng,
        contact_start, contact_duration, follow_lag,
    )
    clean = center[:, :, None, :] + _rotate_body(offsets, head)  # (T, 2, K, n_ind), mm
    T, _, K, n_ind = clean.shape
    pos = clean.copy()
    if noise > 0:
        pos += rng.normal(0.0, noise, size=pos.shape)
    conf = rng.uniform(0.95, 1.0, size=(T, K, n_ind))
    dropout = rng.random_sample((T, K, n_ind)) < dropout_rate if dropout_rate > 0 else np.zeros((T, K, n_ind), bool)
    if dropout.any():
        conf[dropout] = rng.uniform(0.01, 0.3, size=int(dropout.sum()))
        displacement = rng.uniform(-50, 50, size=(T, 2, K, n_ind))
        pos += displacement * dropout[:, None]
    spikes = np.zeros((T, K, n_ind), bool)
    if n_spikes:
        flat = rng.choice(T * K * n_ind, size=min(n_spikes, T * K * n_ind), replace=False)
        spikes.flat[flat] = True
        angle = rng.uniform(0, 2 * np.pi, size=(T, K, n_ind))
        pos[:, 0] += spikes * spike_size * np.cos(angle)
        pos[:, 1] += spikes * spike_size * np.sin(angle)
    gaps = np.zeros((T, K, n_ind), bool)
    if n_gaps:
        starts = rng.randint(0, max(1, T - gap_length), size=n_gaps)
        kps = rng.randint(0, K, size=n_gaps)
        inds = rng.randint(0, n_ind, size=n_gaps)
        frame = np.arange(T)[:, None]
        hit = (frame >= starts) & (frame < starts + gap_length)  # (T, n_gaps)
        for g in range(n_gaps):  # loop over planted gaps (few), not frames
            gaps[hit[:, g], kps[g], inds[g]] = True
        pos[np.broadcast_to(gaps[:, None], pos.shape)] = np.nan
        conf[gaps] = np.nan
    ds = make_poses_dataset(
        pos * px_per_mm,
        conf,
        keypoints=body_names,
        individuals=[f"mouse{i + 1}" for i in range(n_ind)] if n_ind > 1 else ["mouse1"],
        fps=fps,
        source_software="deepof_sk.synthetic",
        source_file=None,
    )
    ds.attrs["synthetic_scenario"] = scenario
    ds.attrs["px_per_mm"] = float(px_per_mm)
    if not return_truth:
        return ds
    nose_distance = None
    if n_ind >= 2 and "Nose" in body_names:
        k = body_names.index("Nose")
        nose_distance = np.hypot(*(clean[:, :, k, 0] - clean[:, :, k, 1]).T)
    labels["moving"] = center_speed > 1e-9
    truth = SyntheticTruth(
        position=clean,
        center_speed=center_speed,
        heading=head,
        gap_mask=gaps,
        dropout_mask=dropout,
        spike_mask=spikes,
        nose_distance=nose_distance,
        labels=labels,
    )
    return ds, truth
