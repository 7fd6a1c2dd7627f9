"""Estimator checks for deepof_sk estimators (and for third-party steps that want to join its pipelines)."""

from ._checks import POSES_CHECKS, check_poses_estimator, make_check_recordings, make_check_targets
from ._discovery import all_estimators

__all__ = ["POSES_CHECKS", "all_estimators", "check_poses_estimator", "make_check_recordings", "make_check_targets"]
