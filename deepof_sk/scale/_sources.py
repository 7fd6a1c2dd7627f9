"""Recordings read chunk by chunk: an in-memory dataset, a netCDF file (lazy xarray) or a DeepLabCut .h5 table."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import xarray as xr

from .. import schema as S
from ..validation import check_recordings, normalize_poses

__all__ = ["RecordingSource", "open_recording"]

logger = logging.getLogger(__name__)

#: HDF5 (PyTables, h5py, netCDF4) is not thread-safe: every file read and write of this subpackage holds this lock,
#: so recordings processed in threads (n_jobs, dask threads) never enter the library at the same time.
IO_LOCK = threading.RLock()


class RecordingSource:
    """One recording that can be read a slice of frames at a time.

    Use :func:`open_recording` to make one. ``read(start, stop)`` returns a poses dataset holding frames
    ``start .. stop - 1`` with their global ``time`` coordinate; ``n_frames``, ``fps`` and ``name`` describe the
    recording.
    """

    def __init__(self, n_frames: int, fps: float | None, name: str, reader):
        self.n_frames = int(n_frames)
        self.fps = fps
        self.name = name
        self._reader = reader

    def read(self, start: int, stop: int) -> xr.Dataset:
        """Frames ``start .. stop - 1`` as a poses dataset (loaded into memory)."""
        start, stop = max(int(start), 0), min(int(stop), self.n_frames)
        return self._reader(start, stop)

    def close(self) -> None:
        """Release the file handle (if any)."""
        closer = getattr(self._reader, "close", None)
        if callable(closer):
            closer()

    def __repr__(self) -> str:
        return f"RecordingSource({self.name!r}, n_frames={self.n_frames}, fps={self.fps})"


class _NetCDFReader:
    def __init__(self, path: Path, fps):
        from ..io._netcdf import _restore_attrs

        with IO_LOCK:
            engine = "h5netcdf" if h5py.is_hdf5(path) else None
            self.ds = xr.open_dataset(path, engine=engine)  # lazy: backend arrays, nothing read yet
        self.attrs = _restore_attrs(dict(self.ds.attrs))
        if fps is not None and self.attrs.get(S.FPS) is None:
            self.attrs[S.FPS] = float(fps)
        self.path = path

    def __call__(self, start, stop):
        with IO_LOCK:
            ds = normalize_poses(self.ds.isel({S.TIME: slice(start, stop)}).load())
        ds.attrs = {**self.attrs, S.SOURCE_FILE: str(self.path)}
        fps = ds.attrs.get(S.FPS)
        if fps and not np.issubdtype(ds[S.TIME].dtype, np.floating):
            ds = ds.assign_coords({S.TIME: np.arange(start, stop) / float(fps)})
        for var in (S.POSITION, S.CONFIDENCE):
            if var in ds and ds[var].dtype != np.float64:
                ds[var] = ds[var].astype(float)
        return ds

    def close(self):
        with IO_LOCK:
            self.ds.close()


class _DLCReader:
    """A DeepLabCut table in PyTables "table" format, read with ``start``/``stop`` (only those rows are loaded)."""

    def __init__(self, path: Path, fps, key, animal_ids):
        with IO_LOCK, pd.HDFStore(path, mode="r") as store:
            keys = store.keys()
            if key is None:
                preferred = [k for k in ("/df_with_missing", "/tracks", "/df") if k in keys]
                key = preferred[0] if preferred else (keys[0] if keys else None)
            storer = store.get_storer(key) if key is not None else None
            self.table = storer is not None and storer.is_table
            self.n_frames = int(storer.nrows) if self.table else None
        self.path, self.key, self.fps, self.animal_ids = path, key, fps, animal_ids

    def __call__(self, start, stop):
        from ..io._common import build_dataset, resolve_fps, zeros_to_nan
        from ..io._dlc import _assemble

        with IO_LOCK:
            df = pd.read_hdf(self.path, key=self.key, start=start, stop=stop)
        cols = df.columns
        header = {"bodyparts": [str(v) for v in cols.get_level_values(-2)],
                  "coords": [str(v) for v in cols.get_level_values(-1)]}
        if cols.nlevels == 4:
            header["individuals"] = [str(v) for v in cols.get_level_values(-3)]
        data = df.to_numpy(dtype=float)
        del df
        position, confidence, keypoints, individuals = _assemble(header, data, self.path, self.animal_ids)
        zeros_to_nan(position)
        fps = resolve_fps(self.fps, None, self.path)
        ds = build_dataset(position, confidence, path=self.path, keypoints=keypoints, individuals=individuals,
                           fps=fps, source_software="DeepLabCut", reader="read_dlc", attrs={})
        if fps:
            ds = ds.assign_coords({S.TIME: np.arange(start, stop) / float(fps)})
        else:
            ds = ds.assign_coords({S.TIME: np.arange(start, stop)})
        return ds


class _DatasetReader:
    def __init__(self, ds: xr.Dataset):
        self.ds = ds

    def __call__(self, start, stop):
        # a chunk of its own: overlapping chunks would otherwise be views of the same memory, and a step that works
        # in place (copy=False) would change the frames the next chunk reads, and the caller's recording
        return self.ds.isel({S.TIME: slice(start, stop)}).copy(deep=True)


def _from_dataset(ds: xr.Dataset, name: str) -> RecordingSource:
    return RecordingSource(ds.sizes[S.TIME], ds.attrs.get(S.FPS), name, _DatasetReader(ds))


def open_recording(source, *, fps: float | None = None, key: str | None = None, animal_ids="auto") -> RecordingSource:
    """Open one recording for reading in chunks, without loading it.

    Parameters
    ----------
    source : xarray.Dataset, RecordingSource or path
        An in-memory poses dataset; a netCDF file (``.nc``, opened lazily with xarray: only the frames asked for
        are read); a DeepLabCut ``.h5`` in PyTables table format (what DeepLabCut and :func:`deepof_sk.io.write_dlc`
        write; rows read with ``start``/``stop``); any other file is read whole with
        :func:`deepof_sk.io.read_poses`.
    fps : float, optional
        Frame rate, for files that do not store one (DeepLabCut).
    key : str, optional
        HDF5 key of a DeepLabCut table.
    animal_ids : "auto", sequence of str or None, default "auto"
        As for :func:`deepof_sk.io.read_dlc`.

    Returns
    -------
    RecordingSource

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> src = open_recording(make_synthetic_poses(100, random_state=0))
    >>> src.n_frames, src.read(10, 20).sizes["time"]
    (100, 10)
    """
    if isinstance(source, RecordingSource):
        return source
    if isinstance(source, xr.Dataset):
        (ds,), _ = check_recordings(source, where="open_recording")
        return _from_dataset(ds, str(ds.attrs.get("recording_id") or ds.attrs.get(S.SOURCE_FILE) or "<dataset>"))
    if not isinstance(source, (str, Path)):
        raise TypeError(f"open_recording: `source` must be a poses xarray.Dataset or a file path; got "
                        f"{type(source).__name__}.")
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"open_recording: {str(path)!r} does not exist.")
    suffix = path.suffix.lower()
    name = path.stem
    if suffix == ".nc":
        reader = _NetCDFReader(path, fps)
        return RecordingSource(reader.ds.sizes[S.TIME], reader.attrs.get(S.FPS), name, reader)
    if suffix in (".h5", ".hdf5") and h5py.is_hdf5(path):
        with IO_LOCK, h5py.File(path, "r") as h5:
            is_pandas = any("pandas_type" in h5[k].attrs for k in h5.keys())
        if is_pandas:
            reader = _DLCReader(path, fps, key, animal_ids)
            if reader.table:
                return RecordingSource(reader.n_frames, fps, name, reader)
            logger.info("open_recording: %s is not in PyTables table format; it is read whole", path)
    from ..io import read_poses

    with IO_LOCK:
        ds = read_poses(path, fps=fps)
    return _from_dataset(ds, name)
