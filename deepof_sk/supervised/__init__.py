"""Supervised learning on frames of poses recordings."""

from ._framewise import FramewiseEstimator

__all__ = ["FramewiseEstimator"]
