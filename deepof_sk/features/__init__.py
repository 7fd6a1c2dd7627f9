"""Features from poses: the dataset-to-table bridge (kinematics, distances, angles, areas, windows are added by the
feature estimators of this subpackage)."""

from ._geometry import AngleExtractor, AreaExtractor, DistanceExtractor
from ._kinematics import KinematicsExtractor
from ._skeleton import SKELETON_PRESETS, Skeleton
from ._table import FeatureTabulator, RecordingSummarizer, split_individuals
from ._windows import LagFeaturizer, WindowFeaturizer

__all__ = [
    "FeatureTabulator",
    "RecordingSummarizer",
    "split_individuals",
    "Skeleton",
    "SKELETON_PRESETS",
    "KinematicsExtractor",
    "DistanceExtractor",
    "AngleExtractor",
    "AreaExtractor",
    "WindowFeaturizer",
    "LagFeaturizer",
]
