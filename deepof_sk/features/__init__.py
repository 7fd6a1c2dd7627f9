"""Features from poses: the dataset-to-table bridge (kinematics, distances, angles, areas, windows are added by the
feature estimators of this subpackage)."""

from ._table import FeatureTabulator, RecordingSummarizer, split_individuals

__all__ = ["FeatureTabulator", "RecordingSummarizer", "split_individuals"]
