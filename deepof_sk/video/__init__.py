"""Annotated videos (skeleton, arena, current behaviours or cluster, time) and compilations of bouts.

OpenCV is an optional dependency (``pip install "deepof-sk[video]"``), imported only when a video is written.
"""

from ._export import export_annotated_video, export_bout_compilations

__all__ = ["export_annotated_video", "export_bout_compilations"]
