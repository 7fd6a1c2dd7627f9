"""Per-frame feature sequences and frame-centred sliding windows, built per recording and per animal.

Pure numpy (no keras): the estimator builds a :class:`WindowData` and the training code draws batches of windows
from it by index, so the windows are never all materialised (memory stays proportional to the number of frames,
not frames x window).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..utils._params import fill_nan_linear

__all__ = ["FeatureScaler", "WindowData", "build_window_data", "pad_amounts"]

#: Standardised values are clipped to this many standard deviations (DeepOF treats |z| > 10 as outliers).
CLIP = 10.0


def pad_amounts(window: int) -> tuple[int, int]:
    """Frames added before and after a sequence so that one window is centred on every frame."""
    before = (window - 1) // 2
    return before, window - 1 - before


@dataclass
class FeatureScaler:
    """Per-feature standardisation fitted on training sequences only."""

    mean_: np.ndarray
    scale_: np.ndarray

    @classmethod
    def fit(cls, sequences: list[np.ndarray]) -> FeatureScaler:
        stacked = np.concatenate(sequences, axis=0)
        with np.errstate(all="ignore"):
            count = np.sum(~np.isnan(stacked), axis=0)
            mean = np.where(count > 0, np.nansum(stacked, axis=0) / np.maximum(count, 1), 0.0)
            var = np.where(count > 0, np.nansum((stacked - mean) ** 2, axis=0) / np.maximum(count, 1), 1.0)
        scale = np.sqrt(var)
        scale[~np.isfinite(scale) | (scale < 1e-8)] = 1.0
        return cls(mean_=mean, scale_=scale)

    def transform(self, seq: np.ndarray) -> np.ndarray:
        out = (seq - self.mean_) / self.scale_
        out = np.clip(out, -CLIP, CLIP)
        out[np.isnan(out)] = 0.0  # features missing throughout a sequence take the training mean
        return out.astype(np.float32)


def clean_sequence(seq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Interpolate NaNs along time; return (filled sequence, mask of frames with no valid feature)."""
    missing = np.isnan(seq).all(axis=1)
    return fill_nan_linear(seq, axis=0), missing


@dataclass
class WindowData:
    """Scaled, padded sequences laid end to end, and where the window of each frame starts.

    Attributes
    ----------
    data : ndarray (n_rows, n_features), float32
        All padded sequences, concatenated.
    starts : ndarray (n_frames_total,) of int
        Row in ``data`` where the window centred on each frame starts (frames in sequence order).
    valid : ndarray (n_frames_total,) of bool
        Frames with at least one tracked feature (the others get no embedding and cluster -1).
    lengths : list of int
        Frames of each sequence.
    window : int
        Window length in frames.
    """

    data: np.ndarray
    starts: np.ndarray
    valid: np.ndarray
    lengths: list[int]
    window: int

    @property
    def n_features(self) -> int:
        return int(self.data.shape[1])

    def sequence_of_frame(self) -> np.ndarray:
        """Index of the sequence each frame belongs to."""
        return np.repeat(np.arange(len(self.lengths)), self.lengths)

    def gather(self, index: np.ndarray) -> np.ndarray:
        """Windows (len(index), window, n_features) of the frames ``index``."""
        rows = self.starts[np.asarray(index)][:, None] + np.arange(self.window)[None, :]
        return self.data[rows]


def build_window_data(sequences: list[np.ndarray], scaler: FeatureScaler, window: int) -> WindowData:
    """Scale each (n_time, n_features) sequence, pad its ends and index one centred window per frame.

    Ends are padded by reflection (edge repetition for sequences shorter than half a window), so edge frames get a
    window of the same length whose centre is the frame itself.
    """
    before, after = pad_amounts(window)
    blocks, starts, valid, lengths = [], [], [], []
    offset = 0
    for seq in sequences:
        filled, missing = clean_sequence(np.asarray(seq, dtype=float))
        scaled = scaler.transform(filled)
        n = scaled.shape[0]
        mode = "reflect" if n > max(before, after) else "edge"
        padded = np.pad(scaled, ((before, after), (0, 0)), mode=mode)
        blocks.append(padded)
        starts.append(offset + np.arange(n))
        valid.append(~missing)
        lengths.append(n)
        offset += padded.shape[0]
    return WindowData(
        data=np.ascontiguousarray(np.concatenate(blocks, axis=0), dtype=np.float32),
        starts=np.concatenate(starts),
        valid=np.concatenate(valid),
        lengths=lengths,
        window=window,
    )
