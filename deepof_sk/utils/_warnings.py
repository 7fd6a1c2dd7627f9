"""Warning helpers."""

from __future__ import annotations

import warnings
from contextlib import contextmanager

__all__ = ["quiet_nan_warnings"]


@contextmanager
def quiet_nan_warnings():
    """Silence numpy's RuntimeWarnings for empty / all-NaN slices where NaN is the documented result."""
    with warnings.catch_warnings(), __import__("numpy").errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
