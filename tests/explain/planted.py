"""Recordings whose cluster labels depend on two known features among many (a planted explanation)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from deepof_sk.datasets import make_synthetic_poses

FEATURES = [f"f{i:02d}" for i in range(12)]
#: Features the clusters are defined from (cluster 0: f03 high; 1: f03 low and f07 high; 2: both low).
PLANTED = ("f03", "f07")


def _smooth_noise(rng, n_frames: int, n_features: int, rho: float = 0.98) -> np.ndarray:
    """AR(1) noise per feature (unit variance), smooth over a few dozen frames."""
    eps = rng.normal(size=(n_frames, n_features)) * np.sqrt(1 - rho**2)
    out = np.empty_like(eps)
    out[0] = rng.normal(size=n_features)
    for t in range(1, n_frames):  # sequential by nature; n_frames is small in tests
        out[t] = rho * out[t - 1] + eps[t]
    return out


def make_planted_recordings(n_recordings: int = 4, n_frames: int = 1500, random_state=0):
    """(recordings, labels): poses recordings carrying a ``signal`` variable (time, feature) and cluster labels."""
    rng = np.random.default_rng(random_state)
    recordings, labels = [], []
    for r in range(n_recordings):
        ds = make_synthetic_poses(n_frames, keypoints=["Nose", "Center", "Tail_base"], random_state=r)
        sig = _smooth_noise(rng, n_frames, len(FEATURES))
        ds["signal"] = xr.DataArray(sig, dims=("time", "feature"), coords={"feature": FEATURES},
                                    attrs={"units": "a.u.", "long_name": "planted signal"})
        a, b = sig[:, FEATURES.index(PLANTED[0])], sig[:, FEATURES.index(PLANTED[1])]
        lab = np.where(a > 0.3, 0, np.where(b > 0.0, 1, 2))
        recordings.append(ds)
        labels.append(lab)
    return recordings, labels
