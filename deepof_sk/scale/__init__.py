"""Scale-out: recordings in parallel (joblib, dask) and long recordings in time chunks with overlap.

* :func:`transform_in_chunks` / :class:`ChunkedTransformer`: run any poses step or Pipeline over long recordings
  chunk by chunk (in memory, or from netCDF / DeepLabCut .h5 files read lazily, optionally writing the result to a
  netCDF or zarr file as it goes), with the overlap each step needs and a first pass for whole-recording statistics.
* :func:`temporal_reach` / :func:`global_statistics`: how far along time each step looks, and what it takes from
  the whole recording.
* :func:`open_recording`: a recording read a slice of frames at a time.

dask is imported only by joblib's dask backend, when you use it (see docs/scale-out.md).
"""

from ._chunked import ChunkedTransformer, ChunkingWarning, chunk_bounds, transform_in_chunks
from ._global import FrozenOutlierFilter
from ._reach import TemporalReach, global_statistics, register_temporal_reach, temporal_reach
from ._sources import RecordingSource, open_recording

__all__ = [
    "ChunkedTransformer",
    "ChunkingWarning",
    "FrozenOutlierFilter",
    "RecordingSource",
    "TemporalReach",
    "chunk_bounds",
    "global_statistics",
    "open_recording",
    "register_temporal_reach",
    "temporal_reach",
    "transform_in_chunks",
]
