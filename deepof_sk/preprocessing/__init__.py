"""Preprocessing of poses datasets: cleaning, interpolation, smoothing, alignment, arena and scaling."""

from ._smoothing import RollingSmoother, SavgolSmoother

__all__ = ["RollingSmoother", "SavgolSmoother"]
