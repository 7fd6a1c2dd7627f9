"""Tracking-quality summaries: how much of each keypoint is missing or low-confidence, per recording and animal."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import schema as S
from .utils._warnings import quiet_nan_warnings
from .validation import check_recordings

__all__ = ["tracking_quality"]


def tracking_quality(X, *, confidence_threshold: float = 0.6, recording_ids=None) -> pd.DataFrame:
    """Per recording, animal and keypoint: frames, missing and low-confidence fractions, median confidence.

    Parameters
    ----------
    X : xarray.Dataset or sequence of xarray.Dataset
        Recordings.
    confidence_threshold : float, default 0.6
        Points below this confidence count as low-confidence.
    recording_ids : sequence of str, optional
        Names for the recordings; default ``attrs["recording_id"]``, else the source file, else the position.

    Returns
    -------
    pandas.DataFrame
        Tidy table with columns ``recording, individual, keypoint, n_frames, duration_s, missing_fraction,
        low_confidence_fraction, median_confidence`` (``duration_s`` is NaN without fps; confidence columns are NaN
        when the source has no confidence).

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> q = tracking_quality(make_synthetic_poses(100, n_gaps=1, gap_length=10, random_state=0))
    >>> float(q["missing_fraction"].max())
    0.1
    """
    recordings, _ = check_recordings(X, where="tracking_quality")
    if recording_ids is not None and len(recording_ids) != len(recordings):
        raise ValueError(
            f"tracking_quality: {len(recording_ids)} recording_ids for {len(recordings)} recordings."
        )
    frames = []
    for i, ds in enumerate(recordings):
        rid = (
            recording_ids[i]
            if recording_ids is not None
            else ds.attrs.get("recording_id") or ds.attrs.get(S.SOURCE_FILE) or f"recording_{i}"
        )
        pos = ds[S.POSITION].transpose(S.TIME, S.SPACE, S.KEYPOINT, S.INDIVIDUAL).values
        conf = ds[S.CONFIDENCE].transpose(S.TIME, S.KEYPOINT, S.INDIVIDUAL).values
        missing = np.isnan(pos).any(axis=1)  # (time, keypoint, individual)
        has_conf = ~np.isnan(conf)
        with quiet_nan_warnings():
            low = np.where(has_conf.any(axis=0), ((conf < confidence_threshold) & has_conf).mean(axis=0), np.nan)
            med = np.nanmedian(np.where(has_conf, conf, np.nan), axis=0)
        n_t = ds.sizes[S.TIME]
        fps = ds.attrs.get(S.FPS)
        kp = [str(k) for k in ds[S.KEYPOINT].values]
        ind = [str(k) for k in ds[S.INDIVIDUAL].values]
        kk, ii = np.meshgrid(np.arange(len(kp)), np.arange(len(ind)), indexing="ij")
        frames.append(
            pd.DataFrame(
                {
                    "recording": rid,
                    "individual": np.asarray(ind, dtype=object)[ii.ravel()],
                    "keypoint": np.asarray(kp, dtype=object)[kk.ravel()],
                    "n_frames": n_t,
                    "duration_s": n_t / fps if fps else np.nan,
                    "missing_fraction": missing.mean(axis=0).ravel(),
                    "low_confidence_fraction": low.ravel(),
                    "median_confidence": med.ravel(),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["recording", "individual"], kind="stable").reset_index(drop=True)

