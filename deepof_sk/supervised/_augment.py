"""Recordings as another rig would have produced them: other frame rates, pixel scales, orientations, skeletons.

Used to train classifiers that transfer across rigs (augmentation) and to test that they do (transfer tests):
a model that only ever saw one 30 fps, 23 px/cm recording is checked on the same animal seen at 15 or 60 fps, at
half or three times the resolution, rotated, or tracked with fewer keypoints.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from sklearn.utils import check_random_state

from .. import schema as S
from ..validation import append_log, check_recordings, get_fps

__all__ = ["resample_poses", "rescale_poses"]


def _interp_time(values: np.ndarray, t_old: np.ndarray, t_new: np.ndarray) -> np.ndarray:
    """Linear interpolation along axis 0; a value next to a NaN frame is NaN."""
    pos = np.interp(t_new, t_old, np.arange(t_old.size))
    lo = np.clip(np.floor(pos).astype(int), 0, t_old.size - 1)
    hi = np.clip(lo + 1, 0, t_old.size - 1)
    w = (pos - lo).reshape((-1,) + (1,) * (values.ndim - 1))
    out = values[lo] * (1 - w) + values[hi] * w
    exact = w.reshape(-1) == 0
    out[exact] = values[lo[exact]]  # keep frames that coincide with old ones bit for bit (and NaN-safe)
    return out


def resample_poses(ds: xr.Dataset, fps: float, *, labels=None, noise: float = 0.0, random_state=None):
    """Resample a recording to another frame rate.

    Parameters
    ----------
    ds : xarray.Dataset
        One poses recording with ``attrs['fps']``.
    fps : float
        New frame rate. Frames that fall on old frames keep their values; others are linearly interpolated.
    labels : array-like, optional
        Per-frame labels (time along axis 0), resampled by taking the label of the nearest old frame.
    noise : float, default 0
        Standard deviation (position units) of Gaussian jitter added to interpolated frames only, so upsampled
        recordings keep per-frame tracking noise instead of being unrealistically smooth.
    random_state : int, RandomState or None
        Seed of the jitter.

    Returns
    -------
    xarray.Dataset, or (xarray.Dataset, ndarray) when ``labels`` is given
        The recording at ``fps`` (same duration, time in seconds); confidence follows the nearest old frame.

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> ds = make_synthetic_poses(100, fps=30, random_state=0)
    >>> resample_poses(ds, 15).sizes["time"]
    50
    """
    (ds,), _ = check_recordings([ds], where="resample_poses", require_fps=True)
    old = get_fps(ds, where="resample_poses")
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"resample_poses: `fps` must be a positive number; got {fps!r}.")
    n_old = ds.sizes[S.TIME]
    t_old = np.arange(n_old) / old
    n_new = max(int(np.floor((n_old - 1) * fps / old + 1e-9)) + 1, 1)
    t_new = np.arange(n_new) / float(fps)
    nearest = np.clip(np.rint(t_new * old).astype(int), 0, n_old - 1)
    pos = ds[S.POSITION].transpose(*S.POSITION_DIMS).values
    new_pos = _interp_time(pos, t_old, t_new)
    if noise:
        rng = check_random_state(random_state)
        between = np.abs(t_new * old - np.rint(t_new * old)) > 1e-9
        new_pos[between] += rng.normal(0.0, float(noise), size=new_pos[between].shape)
    conf = ds[S.CONFIDENCE].transpose(*S.CONFIDENCE_DIMS).values[nearest]
    out = xr.Dataset(
        {S.POSITION: (S.POSITION_DIMS, new_pos, ds[S.POSITION].attrs),
         S.CONFIDENCE: (S.CONFIDENCE_DIMS, conf, ds[S.CONFIDENCE].attrs)},
        coords={S.TIME: t_new, S.SPACE: ds[S.SPACE].values, S.KEYPOINT: ds[S.KEYPOINT].values,
                S.INDIVIDUAL: ds[S.INDIVIDUAL].values},
        attrs=dict(ds.attrs),
    )
    out.attrs[S.FPS] = float(fps)
    out.attrs[S.TIME_UNIT] = "seconds"
    append_log(out, "resample_poses", fps=float(fps), from_fps=old, noise=noise)
    if labels is None:
        return out
    lab = np.asarray(labels)
    if lab.shape[0] != n_old:
        raise ValueError(f"resample_poses: labels have {lab.shape[0]} frames, the recording {n_old}.")
    return out, lab[nearest]


def rescale_poses(ds: xr.Dataset, scale: float = 1.0, *, rotation: float = 0.0, offset=(0.0, 0.0)) -> xr.Dataset:
    """Scale, rotate (radians, about the origin) and shift the x/y positions of a recording.

    Parameters
    ----------
    ds : xarray.Dataset
        One poses recording.
    scale : float, default 1
        Factor applied to positions (e.g. 2 for a camera with twice the resolution).
    rotation : float, default 0
        Counter-clockwise rotation in radians.
    offset : tuple of float, default (0, 0)
        Added to x and y after scaling and rotation.

    Returns
    -------
    xarray.Dataset
        A new recording; confidence, time and attrs are kept.

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> ds = make_synthetic_poses(10, random_state=0)
    >>> float(rescale_poses(ds, 2.0).position.max() / ds.position.max())
    2.0
    """
    (ds,), _ = check_recordings([ds], where="rescale_poses")
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"rescale_poses: `scale` must be a positive number; got {scale!r}.")
    pos = ds[S.POSITION]
    x, y = pos.sel({S.SPACE: "x"}), pos.sel({S.SPACE: "y"})
    c, s = np.cos(rotation), np.sin(rotation)
    new_x = scale * (c * x - s * y) + offset[0]
    new_y = scale * (s * x + c * y) + offset[1]
    out = ds.copy()
    new = pos.copy(data=pos.values.copy())
    new.loc[{S.SPACE: "x"}] = new_x
    new.loc[{S.SPACE: "y"}] = new_y
    out[S.POSITION] = new
    append_log(out, "rescale_poses", scale=float(scale), rotation=float(rotation), offset=list(offset))
    return out
