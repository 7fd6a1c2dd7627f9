"""Supervised learning on frames of poses recordings: frame classifiers with temporal context, bout filters,
grouped evaluation, pretrained models and recording-level behaviour profiles."""

from ._augment import resample_poses, rescale_poses
from ._classifier import FrameClassifier
from ._context import add_temporal_context, temporal_context_names
from ._evaluation import (
    behavior_report,
    bout_f1_score,
    bout_scores,
    cross_validate_report,
    frame_learning_curve,
    frame_scoring,
    make_bout_scorer,
    split_in_time,
)
from ._framewise import FramewiseEstimator
from ._motion import BodyMotionExtractor
from ._postprocess import BoutFilter, MedianLabelFilter, filter_bouts, median_filter_labels
from ._pretrained import (
    list_pretrained_models,
    load_freezing_model,
    load_pretrained_model,
    make_freezing_classifier,
    pretrained_model_info,
)
from ._profiles import BehaviorProfiler, SeparabilityResult, condition_separability

__all__ = [
    # estimators
    "BehaviorProfiler",
    "BodyMotionExtractor",
    "BoutFilter",
    "FrameClassifier",
    "FramewiseEstimator",
    "MedianLabelFilter",
    # temporal context and post-processing
    "add_temporal_context",
    "temporal_context_names",
    "filter_bouts",
    "median_filter_labels",
    # evaluation
    "behavior_report",
    "bout_f1_score",
    "bout_scores",
    "cross_validate_report",
    "frame_learning_curve",
    "frame_scoring",
    "make_bout_scorer",
    "split_in_time",
    # pretrained models
    "list_pretrained_models",
    "load_freezing_model",
    "load_pretrained_model",
    "make_freezing_classifier",
    "pretrained_model_info",
    # behaviour profiles and conditions
    "SeparabilityResult",
    "condition_separability",
    # augmentation / transfer tests
    "resample_poses",
    "rescale_poses",
]
