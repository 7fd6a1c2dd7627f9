"""Helpers for per-frame label arrays."""

from __future__ import annotations

import numpy as np

__all__ = ["labelled_mask"]


def labelled_mask(y: np.ndarray) -> np.ndarray:
    """Mask of frames that carry a label (NaN / None mark unlabelled frames)."""
    if y.dtype.kind in "fc":
        return ~np.isnan(y)
    if y.dtype == object:
        return np.array([v is not None and not (isinstance(v, float) and np.isnan(v)) for v in y])
    return np.ones(y.shape, dtype=bool)
