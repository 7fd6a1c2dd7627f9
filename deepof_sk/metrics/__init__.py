"""Frame-level scoring for per-frame predictions over many recordings."""

from ._frame import make_frame_scorer, pool_frames

__all__ = ["make_frame_scorer", "pool_frames"]
