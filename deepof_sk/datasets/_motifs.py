"""Synthetic recordings made of planted movement motifs with known per-frame labels.

A recording is a sequence of segments; each segment plays one motif (still, walk, turning left, turning right,
fast run, rear-like body stretch) with slightly varied speed, stride and posture. The skeleton is DeepOF's 14
keypoints (:data:`~deepof_sk.datasets.DEEPOF_14_BODY`), bent, stretched and given a gait oscillation per motif, and
moved through a circular arena. The label of every frame is returned, which is what unsupervised methods are scored
against (adjusted Rand index).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from sklearn.utils import check_random_state

from ..validation import make_poses_dataset
from ._synthetic import DEEPOF_14_BODY

__all__ = ["make_motif_poses", "MOTIFS"]

#: Motif names, in the order used by ``n_motifs`` (the first ``n_motifs`` are planted).
MOTIFS = ("still", "walk", "turn_left", "turn_right", "run", "rear")

# per motif: centre speed (mm/s), turning rate (rad/s), body bend (rad per 100 mm of spine), stride amplitude (mm),
# stride frequency (Hz), length scale of the body along its axis, head sway amplitude (mm)
_MOTIF_PARAMS = {
    "still": dict(speed=0.0, turn=0.0, bend=0.0, stride=0.0, freq=0.0, stretch=1.0, sway=0.0),
    "walk": dict(speed=90.0, turn=0.0, bend=0.0, stride=5.0, freq=3.0, stretch=1.0, sway=0.0),
    "turn_left": dict(speed=60.0, turn=1.6, bend=0.5, stride=3.0, freq=2.5, stretch=0.95, sway=0.0),
    "turn_right": dict(speed=60.0, turn=-1.6, bend=-0.5, stride=3.0, freq=2.5, stretch=0.95, sway=0.0),
    "run": dict(speed=260.0, turn=0.0, bend=0.0, stride=10.0, freq=6.0, stretch=1.15, sway=0.0),
    "rear": dict(speed=0.0, turn=0.0, bend=0.0, stride=0.0, freq=0.0, stretch=0.6, sway=6.0),
}

_LIMBS = ("Left_fhip", "Right_fhip", "Left_bhip", "Right_bhip")


def _segments(n_frames: int, n_motifs: int, segment_length, rng) -> np.ndarray:
    """Per-frame motif index: segments of random length, consecutive segments always differ."""
    lo, hi = (segment_length, segment_length) if np.isscalar(segment_length) else segment_length
    lo, hi = int(lo), int(hi)
    if lo < 1 or hi < lo:
        raise ValueError(
            f"make_motif_poses: `segment_length` must be a positive int or a (min, max) pair; got {segment_length!r}."
        )
    labels = np.empty(n_frames, dtype=int)
    start, previous = 0, -1
    # balanced order: every motif once per round, shuffled, no motif twice in a row
    order: list[int] = []
    while start < n_frames:
        if not order:
            order = list(rng.permutation(n_motifs))
            if n_motifs > 1 and order[0] == previous:
                order[0], order[-1] = order[-1], order[0]
        motif = order.pop(0)
        length = int(rng.randint(lo, hi + 1))
        labels[start : start + length] = motif
        start += length
        previous = motif
    return labels


def make_motif_poses(
    n_frames: int = 3000,
    *,
    n_motifs: int = 5,
    segment_length: int | tuple[int, int] = (50, 150),
    fps: float = 25.0,
    noise: float = 1.0,
    variability: float = 0.15,
    arena_radius: float = 190.0,
    keypoints: list[str] | None = None,
    random_state=None,
) -> tuple[xr.Dataset, np.ndarray]:
    """Make one recording whose frames follow planted movement motifs, with the motif label of every frame.

    Parameters
    ----------
    n_frames : int, default 3000
        Number of frames.
    n_motifs : int, default 5
        Number of distinct motifs planted (1 to 6), the first ``n_motifs`` of :data:`MOTIFS`: ``still`` (no motion),
        ``walk`` (90 mm/s, 3 Hz stride), ``turn_left`` / ``turn_right`` (curved body, 1.6 rad/s), ``run``
        (260 mm/s, long body, 6 Hz stride), ``rear`` (body shortened to 60 % as when standing up, head sway).
    segment_length : int or (int, int), default (50, 150)
        Length of each segment in frames, or the range it is drawn from uniformly.
    fps : float, default 25
        Frame rate.
    noise : float, default 1
        Standard deviation in mm of Gaussian tracking jitter.
    variability : float, default 0.15
        Relative spread of each segment's speed, stride and posture around the motif's values.
    arena_radius : float, default 190
        The animal turns back towards the centre when it reaches this radius (mm).
    keypoints : list of str, optional
        Subset of DeepOF's 14 keypoint names.
    random_state : int, RandomState or None
        Seed.

    Returns
    -------
    ds : xarray.Dataset
        Poses dataset in mm (``space_unit="mm"``), one individual ``mouse1``; ``attrs["motifs"]`` lists the motif
        names in label order.
    labels : ndarray of int, shape (n_frames,)
        Motif index of each frame (into ``MOTIFS``).

    Notes
    -----
    Frames near a segment boundary mix two motifs in any window around them, so even a perfect clustering of
    windows cannot reach an adjusted Rand index of exactly 1.

    Examples
    --------
    >>> ds, labels = make_motif_poses(500, n_motifs=4, random_state=0)
    >>> ds.sizes["time"], sorted(set(labels.tolist()))
    (500, [0, 1, 2, 3])
    """
    if not 1 <= int(n_motifs) <= len(MOTIFS):
        raise ValueError(
            f"make_motif_poses: `n_motifs` must be between 1 and {len(MOTIFS)}; got {n_motifs!r}."
        )
    if n_frames < 2:
        raise ValueError(f"make_motif_poses: `n_frames` must be >= 2; got {n_frames}.")
    rng = check_random_state(random_state)
    names = list(DEEPOF_14_BODY)
    if keypoints is not None:
        unknown = sorted(set(keypoints) - set(names))
        if unknown:
            raise ValueError(f"make_motif_poses: unknown keypoints {unknown}; choose from {names}.")
        names = [k for k in names if k in set(keypoints)]
    labels = _segments(n_frames, int(n_motifs), segment_length, rng)
    motifs = MOTIFS[: int(n_motifs)]

    # per-segment parameters, jittered, then spread to frames
    keys = ("speed", "turn", "bend", "stride", "freq", "stretch", "sway")
    per_frame = {k: np.empty(n_frames) for k in keys}
    boundaries = np.flatnonzero(np.diff(labels)) + 1
    for seg in np.split(np.arange(n_frames), boundaries):
        params = _MOTIF_PARAMS[motifs[labels[seg[0]]]]
        for k in keys:
            value = params[k]
            scale = 1.0 + variability * rng.uniform(-1, 1)
            per_frame[k][seg] = 1.0 + (value - 1.0) * scale if k == "stretch" else value * scale
    # a short ramp (0.2 s) between segments so that speed and posture do not jump
    ramp = max(1, int(round(0.2 * fps)))
    kernel = np.ones(ramp) / ramp
    for k in ("speed", "bend", "stretch"):
        padded = np.pad(per_frame[k], (ramp // 2, ramp - 1 - ramp // 2), mode="edge")
        per_frame[k] = np.convolve(padded, kernel, mode="valid")

    t = np.arange(n_frames) / fps
    dt = 1.0 / fps
    # heading and centre path, steering back to the arena centre at the wall (sequential by nature)
    heading = np.empty(n_frames)
    center = np.empty((n_frames, 2))
    h, pos = rng.uniform(0, 2 * np.pi), rng.uniform(-0.3, 0.3, size=2) * arena_radius
    for i in range(n_frames):
        step = per_frame["speed"][i] * dt
        h += per_frame["turn"][i] * dt
        ahead = pos + step * np.array([np.cos(h), np.sin(h)])
        if np.hypot(*ahead) > arena_radius * 0.85:
            h = np.arctan2(-pos[1], -pos[0]) + rng.uniform(-0.5, 0.5)
            ahead = pos + step * np.array([np.cos(h), np.sin(h)])
        pos = ahead
        heading[i], center[i] = h, pos

    # body-frame offsets (K, 2): +y to the nose; stretch, gait, bend, sway
    offsets = np.array([DEEPOF_14_BODY[k] for k in names], dtype=float)
    body = np.broadcast_to(offsets, (n_frames, *offsets.shape)).copy()  # (T, K, 2)
    body[:, :, 1] *= per_frame["stretch"][:, None]
    phase = 2 * np.pi * np.cumsum(per_frame["freq"]) * dt
    for j, limb in enumerate(_LIMBS):
        if limb in names:
            k = names.index(limb)
            sign = 1.0 if j in (0, 3) else -1.0  # diagonal pairs move together (trot)
            body[:, k, 1] += sign * per_frame["stride"] * np.sin(phase)
            body[:, k, 0] += 0.3 * sign * per_frame["stride"] * np.cos(phase)
    head = [names.index(k) for k in ("Nose", "Left_ear", "Right_ear") if k in names]
    body[:, head, 0] += (per_frame["sway"] * np.sin(2 * np.pi * 1.2 * t))[:, None]
    # bending: each point rotates about the centre by an angle proportional to its distance along the spine
    angle = per_frame["bend"][:, None] * body[:, :, 1] / 100.0
    bx = body[:, :, 0] * np.cos(angle) - body[:, :, 1] * np.sin(angle)
    by = body[:, :, 0] * np.sin(angle) + body[:, :, 1] * np.cos(angle)
    # body +y maps to the heading direction, body +x to the animal's right
    s, c = np.sin(heading)[:, None], np.cos(heading)[:, None]
    wx = bx * s + by * c + center[:, :1]
    wy = -bx * c + by * s + center[:, 1:]
    position = np.stack([wx, wy], axis=1)[..., None]  # (T, 2, K, 1)
    if noise > 0:
        position = position + rng.normal(0.0, noise, size=position.shape)
    confidence = rng.uniform(0.95, 1.0, size=(n_frames, len(names), 1))
    ds = make_poses_dataset(
        position,
        confidence,
        keypoints=names,
        individuals=["mouse1"],
        fps=fps,
        source_software="deepof_sk.synthetic",
        space_unit="mm",
    )
    ds.attrs["motifs"] = list(motifs)
    return ds, labels
