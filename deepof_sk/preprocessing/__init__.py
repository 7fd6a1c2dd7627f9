"""Preprocessing of poses datasets: cleaning, interpolation, smoothing, alignment, arena and scaling."""

from ._alignment import EgocentricAligner
from ._arena import (
    Arena,
    ArenaDetector,
    ArenaScaler,
    attach_arena,
    detect_arena_from_tracks,
    detect_arena_from_video,
    get_arena,
    parse_length,
)
from ._cleaning import ConfidenceFilter, OutlierFilter, PresenceMasker
from ._deepof import make_deepof_preprocessor
from ._imputation import KeypointImputer
from ._interpolation import Interpolator
from ._roi import ROIMasker, attach_rois, compute_roi_mask, get_rois, make_inner_roi
from ._smoothing import RollingSmoother, SavgolSmoother

__all__ = [
    "Arena",
    "ArenaDetector",
    "ArenaScaler",
    "EgocentricAligner",
    "ROIMasker",
    "attach_arena",
    "attach_rois",
    "compute_roi_mask",
    "detect_arena_from_tracks",
    "detect_arena_from_video",
    "get_arena",
    "get_rois",
    "make_inner_roi",
    "parse_length",
    "ConfidenceFilter",
    "Interpolator",
    "KeypointImputer",
    "OutlierFilter",
    "PresenceMasker",
    "RollingSmoother",
    "SavgolSmoother",
    "make_deepof_preprocessor",
]
