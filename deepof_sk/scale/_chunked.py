"""Long recordings in time chunks with overlap: bounded memory, the unchunked result away from global statistics.

Each chunk ``[a, b)`` is read extended by ``overlap`` frames on both sides, run through the (fitted) steps, trimmed
back to ``[a, b)`` and either written to an output file at once or copied into preallocated arrays, so neither the
intermediate datasets of the whole recording nor a concatenation copy ever exist. ``overlap="auto"`` is the
pipeline's :func:`~deepof_sk.scale.temporal_reach`. Steps with a statistic of the whole recording get a first pass
(see :mod:`deepof_sk.scale._global`).
"""

from __future__ import annotations

import json
import logging
import warnings
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .. import schema as S
from ..base import map_recordings
from ..exceptions import DeepOFSKWarning
from ..validation import append_log
from ._global import CumDistanceCarry, make_accumulator
from ._reach import global_statistics, temporal_reach
from ._sources import IO_LOCK, RecordingSource, open_recording

__all__ = ["ChunkedTransformer", "transform_in_chunks", "ChunkingWarning", "chunk_bounds"]

logger = logging.getLogger(__name__)

#: Overlap (seconds; frames when the frame rate is unknown: 250) used when a step's reach is unknown.
DEFAULT_OVERLAP_SECONDS = 10.0


class ChunkingWarning(DeepOFSKWarning):
    """A chunked transform may differ from the unchunked one (unknown reach, statistic estimated per chunk)."""


def _chunk_frames(chunk_size, fps, where: str) -> int:
    if isinstance(chunk_size, str):
        if not fps:
            raise ValueError(f"{where}: `chunk_size`={chunk_size!r} is a duration but the recording has no frame "
                             "rate; give it in frames (an int) or pass fps=.")
        try:
            seconds = pd.Timedelta(chunk_size).total_seconds()
        except ValueError as exc:
            raise ValueError(f"{where}: `chunk_size`={chunk_size!r} is not a duration such as '1h', '30min', "
                             "'600s'; or give it in frames.") from exc
        n = int(round(seconds * float(fps)))
    elif isinstance(chunk_size, Integral) and not isinstance(chunk_size, bool):
        n = int(chunk_size)
    else:
        raise TypeError(f"{where}: `chunk_size` must be frames (int) or a duration string ('1h'); got "
                        f"{chunk_size!r}.")
    if n < 1:
        raise ValueError(f"{where}: `chunk_size` must be at least one frame; got {chunk_size!r}.")
    return n


def chunk_bounds(n_frames: int, chunk_size: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """``(read_start, read_stop, keep_start, keep_stop)`` of each chunk, in global frame numbers.

    Examples
    --------
    >>> chunk_bounds(10, 4, 1)
    [(0, 5, 0, 4), (3, 9, 4, 8), (7, 10, 8, 10)]
    """
    return [(max(a - overlap, 0), min(a + chunk_size + overlap, n_frames), a, min(a + chunk_size, n_frames))
            for a in range(0, n_frames, chunk_size)]


def _steps_of(estimator) -> list:
    """The steps of a (possibly nested) Pipeline, flattened; ``[estimator]`` for a single step."""
    if isinstance(estimator, Pipeline):
        return [s for _, step in estimator.steps if step not in (None, "passthrough") for s in _steps_of(step)]
    return [estimator]


def _apply(steps, ds):
    for step in steps:
        ds = step.transform(ds)
    return ds


def _is_fitted(estimator) -> bool:
    try:
        check_is_fitted(estimator)
    except Exception:  # NotFittedError, or a step sklearn cannot judge
        return False
    return True


class _Assembler:
    """Copies trimmed chunks into arrays preallocated for the whole recording (no concatenation copy)."""

    def __init__(self, n_frames: int):
        self.n = n_frames
        self.arrays: dict[str, np.ndarray] = {}
        self.template = None

    def append(self, ds: xr.Dataset, start: int) -> None:
        if self.template is None:
            self.template = ds
            for name, var in ds.variables.items():
                if S.TIME in var.dims:
                    axis = var.dims.index(S.TIME)
                    shape = list(var.shape)
                    shape[axis] = self.n
                    self.arrays[name] = np.empty(shape, dtype=var.dtype)
        for name, arr in self.arrays.items():
            var = ds.variables[name]
            idx = [slice(None)] * arr.ndim
            idx[var.dims.index(S.TIME)] = slice(start, start + ds.sizes[S.TIME])
            arr[tuple(idx)] = var.values

    def result(self) -> xr.Dataset:
        tpl = self.template
        coords = {}
        for name, var in tpl.coords.items():
            coords[name] = (var.dims, self.arrays[name] if name in self.arrays else var.values, var.attrs)
        data = {name: (var.dims, self.arrays[name] if name in self.arrays else var.values, var.attrs)
                for name, var in tpl.data_vars.items()}
        return xr.Dataset(data, coords=coords, attrs=dict(tpl.attrs))


def _netcdf_attrs(attrs: dict) -> dict:
    out = {}
    for key, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, (bool, np.bool_)):
            value = int(value)
        elif isinstance(value, (dict, list, tuple)) and not all(isinstance(v, (int, float, str)) for v in value):
            value = json.dumps(value, default=str)
        out[key] = value
    return out


class _FileWriter:
    """Writes trimmed chunks to one netCDF (``.nc``, unlimited ``time``) or zarr (``.zarr``) file as they come."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.kind = "zarr" if self.path.suffix.lower() == ".zarr" else "netcdf"
        self.started = False

    def _clean(self, ds: xr.Dataset) -> xr.Dataset:
        ds = ds.copy(deep=False)
        ds.attrs = _netcdf_attrs(ds.attrs)
        for name in ds.variables:
            ds[name].attrs = _netcdf_attrs(ds[name].attrs)
        return ds

    def append(self, ds: xr.Dataset, start: int) -> None:
        ds = ds.load()  # compute outside the lock
        with IO_LOCK:
            self._append(ds, start)

    def _append(self, ds: xr.Dataset, start: int) -> None:
        if self.kind == "zarr":
            ds = self._clean(ds)
            if not self.started:
                ds.to_zarr(self.path, mode="w", consolidated=False)
            else:
                ds.to_zarr(self.path, append_dim=S.TIME, consolidated=False)
            self.started = True
            return
        if not self.started:
            # HDF5 chunks of 4096 frames: netCDF's default for an unlimited dim is a few frames per chunk, which
            # makes appending tens of thousands of frames many times slower than the transform itself
            encoding = {name: {"chunksizes": tuple(4096 if d == S.TIME else n for d, n in zip(var.dims, var.shape,
                                                                                            strict=True))}
                        for name, var in ds.variables.items() if S.TIME in var.dims and var.dtype.kind in "fiub"}
            self._clean(ds).to_netcdf(self.path, engine="netcdf4", unlimited_dims=[S.TIME], encoding=encoding)
            self.started = True
            return
        import netCDF4

        with netCDF4.Dataset(self.path, "a") as nc:
            for name, var in ds.variables.items():
                if S.TIME not in var.dims:
                    continue
                target = nc.variables[name]
                target.set_auto_mask(False)
                idx = [slice(None)] * var.ndim
                idx[var.dims.index(S.TIME)] = slice(start, start + ds.sizes[S.TIME])
                target[tuple(idx)] = np.asarray(var.values).astype(target.dtype, copy=False)

    def result(self):
        return self.path


def _plan(estimator, source: RecordingSource, chunk: int, overlap: int, verbose: bool):
    """Steps for this recording: global steps replaced by their frozen version after a first pass (none when the
    recording is a single chunk: every step then sees the whole recording)."""
    steps = list(_steps_of(estimator))
    if source.n_frames <= chunk:
        return steps
    for i, step in enumerate(steps):
        acc = make_accumulator(step, source.n_frames, source.fps)
        if acc is None:
            continue
        prefix = steps[:i]
        reach = sum(int(temporal_reach(s, source.fps) or 0) for s in steps[: i + 1])
        ov = max(overlap, reach)
        for lo, hi, a, b in chunk_bounds(source.n_frames, chunk, ov):
            piece, lo, hi = _read_snapped(source, lo, hi, max(ov, 1))
            acc.update(_apply(prefix, piece), lo, a, b)
        steps[i] = acc.finalize()
        if verbose:
            logger.info("%s: first pass of %s done", source.name, type(step).__name__)
    return steps


def _edge_has_nan(ds: xr.Dataset, index: int) -> bool:
    return bool(np.isnan(ds[S.POSITION].isel({S.TIME: index}).values).any())


def _read_snapped(source: RecordingSource, lo: int, hi: int, step: int, max_extra: int = 100_000):
    """Read ``lo .. hi - 1``, widened (by ``step`` frames at a time, at most ``max_extra``) until both edge frames
    have every point tracked or reach the recording's ends: a NaN gap straddling the edge would otherwise be
    bridged differently (gap filling and Savitzky-Golay use the valid values on both sides of a gap)."""
    lo0, hi0 = lo, hi
    while True:
        ds = source.read(lo, hi)
        grow_lo = lo > 0 and lo0 - lo < max_extra and _edge_has_nan(ds, 0)
        grow_hi = hi < source.n_frames and hi - hi0 < max_extra and _edge_has_nan(ds, -1)
        if not (grow_lo or grow_hi):
            return ds, lo, hi
        lo = max(lo - step, 0) if grow_lo else lo
        hi = min(hi + step, source.n_frames) if grow_hi else hi


def _run_one(estimator, source, chunk_size, overlap, output, variables, verbose):
    source = open_recording(source)
    chunk = _chunk_frames(chunk_size, source.fps, "transform_in_chunks")
    ov = _resolve_overlap(estimator, overlap, source.fps)
    steps = _plan(estimator, source, chunk, ov, verbose)
    sink = _FileWriter(output) if output is not None else _Assembler(source.n_frames)
    carry = CumDistanceCarry()
    bounds = chunk_bounds(source.n_frames, chunk, ov)
    iterator = bounds
    if verbose:
        try:
            from tqdm.auto import tqdm

            iterator = tqdm(bounds, desc=source.name, unit="chunk")
        except ImportError:  # progress bars are optional
            pass
    for lo, hi, a, b in iterator:
        piece, lo, hi = _read_snapped(source, lo, hi, max(ov, 1))
        out = _apply(steps, piece)
        del piece
        kept = carry(out.isel({S.TIME: slice(a - lo, b - lo)}))
        if variables is not None:
            kept = kept[list(variables)]
        if a == 0:
            append_log(kept, "transform_in_chunks", chunk_size=chunk, overlap=ov, n_chunks=len(bounds))
        sink.append(kept, a)
        del out, kept
    source.close()
    return sink.result()


def _resolve_overlap(estimator, overlap, fps) -> int:
    if overlap != "auto":
        if not isinstance(overlap, Integral) or overlap < 0:
            raise ValueError(f"transform_in_chunks: `overlap` must be 'auto' or a number of frames >= 0; got "
                             f"{overlap!r}.")
        reach = temporal_reach(estimator, fps)
        if reach is not None and overlap < reach:
            warnings.warn(f"transform_in_chunks: overlap={overlap} frames is shorter than the steps' reach "
                          f"({int(reach)} frames); frames near chunk boundaries will differ from the unchunked "
                          "result. Use overlap='auto'.", ChunkingWarning, stacklevel=4)
        return int(overlap)
    reach = temporal_reach(estimator, fps)
    if reach is None:
        default = int(round(DEFAULT_OVERLAP_SECONDS * fps)) if fps else 250
        unknown = [type(s).__name__ for s in _steps_of(estimator) if temporal_reach(s, fps) is None]
        warnings.warn(
            f"transform_in_chunks: the temporal reach of {unknown} is unknown (no `_temporal_reach(fps)` method, "
            f"or an unbounded window); using overlap={default} frames ({DEFAULT_OVERLAP_SECONDS:g} s). Frames near "
            "chunk boundaries may differ from the unchunked result: pass overlap= in frames, or declare the reach "
            "with deepof_sk.scale.register_temporal_reach.", ChunkingWarning, stacklevel=4)
        return default
    return int(reach)


def _warn_globals(estimator) -> None:
    approx = [(name, text) for name, text in global_statistics(estimator)
              if "approximation" in text or "estimates the arena" in text]
    if approx:
        lines = "\n  - ".join(f"{name}: {text}" for name, text in approx)
        warnings.warn(f"transform_in_chunks: some statistics are taken per chunk, not over the whole recording:\n"
                      f"  - {lines}", ChunkingWarning, stacklevel=3)


def _fit_on_heads(estimator, sources: list[RecordingSource], fit_frames: int | None):
    heads = [src.read(0, src.n_frames if fit_frames is None else min(src.n_frames, fit_frames)) for src in sources]
    return clone(estimator).fit(heads)


def transform_in_chunks(estimator, source, *, chunk_size="1h", overlap="auto", fps=None, output=None,
                        variables=None, fit_frames=1_000, n_jobs=None, verbose=False):
    """Run a (fitted) step or Pipeline over long recordings in time chunks with overlap.

    Parameters
    ----------
    estimator : poses transformer or Pipeline
        Fitted, or unfitted (then a clone is fitted on the first ``fit_frames`` frames of each recording: the
        deepof_sk steps only record the skeleton and check parameters in ``fit``).
    source : Dataset, path, RecordingSource or a list of them
        Recordings: in-memory datasets, netCDF files (read lazily) or DeepLabCut ``.h5`` tables (read with
        PyTables ``start``/``stop``); see :func:`open_recording`.
    chunk_size : int or str, default "1h"
        Frames per chunk, or a duration (``"1h"``, ``"30min"``) converted with the frame rate.
    overlap : "auto" or int, default "auto"
        Frames read on each side of a chunk and dropped after the transform. ``"auto"`` is
        :func:`temporal_reach` of the estimator; when a step's reach is unknown, 10 s of frames with a
        :class:`ChunkingWarning`.
    fps : float, optional
        Frame rate for files that do not store one (DeepLabCut).
    output : path or list of paths, optional
        Write each recording's result to this ``.nc`` (netCDF4, unlimited ``time``) or ``.zarr`` file chunk by
        chunk, so the result never sits in memory; the paths are returned. Default: return datasets.
    variables : list of str, optional
        Keep only these variables of the result (e.g. ``["annotation", "social_annotation"]``).
    fit_frames : int or None, default 1000
        Frames from the start of each recording to fit an unfitted estimator on; None for all.
    n_jobs : int, optional
        Recordings processed in parallel (joblib; the active backend is used, so a dask cluster works too).
    verbose : bool, default False
        Progress bar per recording (tqdm) and log messages.

    Returns
    -------
    xarray.Dataset, Path or list of them
        One per recording, the same kind as ``source`` (a single item for a single source).

    Notes
    -----
    Exactness. Steps whose output at a frame depends only on frames within their reach (smoothers, gap filling
    with ``max_gap``, confidence and presence masks, kinematics, distances, the rule annotators' windows) give the
    unchunked values on every frame, the recording's ends included (the first and last chunks are not extended
    past them). :class:`~deepof_sk.preprocessing.OutlierFilter`'s ``method="deepof"`` threshold is a statistic of
    the whole recording: a first pass over the chunks streams it, and the chunked transform applies it, so the
    masks are the unchunked ones. Likewise climb-arena's body length and stat-lookaround's median nose-ear
    distances: a first pass streams their per-frame values (on the outputs of the steps before the annotator) and
    every chunk is annotated with the statistics of the whole recording. ``cum-distance`` is carried from chunk to
    chunk. Approximations, each announced by a :class:`ChunkingWarning`: an arena estimated from the tracks (attach
    the arena instead), learned imputation and arena detection. Steps that bridge
    NaN gaps with values on both sides (Savitzky-Golay, ``Interpolator(gap_policy="ends")``, the annotators' speed
    interpolation) are exact unless a gap longer than the overlap straddles a chunk boundary.

    Memory: about one chunk of each intermediate dataset plus the result (or nothing, with ``output``).

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> from deepof_sk.preprocessing import SavgolSmoother
    >>> ds = make_synthetic_poses(1000, noise=1.0, random_state=0)
    >>> step = SavgolSmoother(window=11, polyorder=2).fit(ds)
    >>> chunked = transform_in_chunks(step, ds, chunk_size=300)
    >>> bool((chunked.position == step.transform(ds).position).all())
    True
    """
    single = not isinstance(source, (list, tuple))
    items = [source] if single else list(source)
    outputs = [output] if (single or output is None or isinstance(output, (str, Path))) else list(output)
    if output is not None and not single and isinstance(output, (str, Path)):
        raise ValueError("transform_in_chunks: give one output path per recording (a list) for several sources.")
    if output is not None and len(outputs) != len(items):
        raise ValueError(f"transform_in_chunks: {len(outputs)} output paths for {len(items)} recordings.")
    sources = [open_recording(s, fps=fps) for s in items]
    if not _is_fitted(estimator):
        estimator = _fit_on_heads(estimator, sources, fit_frames)
    _warn_globals(estimator)
    outs = outputs if output is not None else [None] * len(sources)
    jobs = list(zip(sources, outs, strict=True))
    results = map_recordings(lambda job: _run_one(estimator, job[0], chunk_size, overlap, job[1], variables,
                                                  verbose), jobs, n_jobs)
    return results[0] if single else results


class ChunkedTransformer(TransformerMixin, BaseEstimator):
    """Meta-estimator: run a poses step or Pipeline in time chunks with overlap, so memory stays bounded.

    Parameters
    ----------
    estimator : poses transformer or Pipeline
        The step(s) to run (cloned in ``fit``).
    chunk_size : int or str, default "1h"
        Frames per chunk, or a duration (``"1h"``).
    overlap : "auto" or int, default "auto"
        Frames added on each side of a chunk; ``"auto"`` is the steps' :func:`temporal_reach`.
    fit_frames : int or None, default 1000
        ``fit`` fits the clone on the first ``fit_frames`` frames of each recording (None: all frames). The
        deepof_sk steps learn no statistic in ``fit``, so this only bounds the memory of fitting a Pipeline.
    variables : list of str, optional
        Keep only these variables of the result.
    n_jobs : int, optional
        Recordings processed in parallel.
    verbose : bool, default False
        Progress bars.

    Attributes
    ----------
    estimator_ : estimator
        The fitted clone.

    Notes
    -----
    See :func:`transform_in_chunks` for exactness and memory. ``transform`` also takes file paths (netCDF, DLC
    ``.h5``), read chunk by chunk.

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> from deepof_sk.preprocessing import make_deepof_preprocessor
    >>> recs = [make_synthetic_poses(2000, noise=0.5, random_state=i) for i in range(2)]
    >>> chunked = ChunkedTransformer(make_deepof_preprocessor(), chunk_size=500).fit(recs)
    >>> out = chunked.transform(recs)
    >>> len(out), out[0].sizes["time"]
    (2, 2000)
    """

    def __init__(self, estimator=None, *, chunk_size="1h", overlap="auto", fit_frames=1_000, variables=None,
                 n_jobs=None, verbose=False):
        self.estimator = estimator
        self.chunk_size = chunk_size
        self.overlap = overlap
        self.fit_frames = fit_frames
        self.variables = variables
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check(self):
        if self.estimator is None or not hasattr(self.estimator, "transform"):
            raise TypeError(f"ChunkedTransformer: `estimator` must be a poses transformer or Pipeline; got "
                            f"{type(self.estimator).__name__}.")

    def fit(self, X, y=None):
        """Fit a clone of ``estimator`` on the first ``fit_frames`` frames of each recording.

        Parameters
        ----------
        X : Dataset, path or sequence of them
            Recordings.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        self._check()
        items = [X] if not isinstance(X, (list, tuple)) else list(X)
        sources = [open_recording(x) for x in items]
        self.estimator_ = _fit_on_heads(self.estimator, sources, self.fit_frames)
        self.n_recordings_ = len(sources)
        return self

    def transform(self, X):
        """Transform each recording chunk by chunk.

        Parameters
        ----------
        X : Dataset, path or sequence of them
            Recordings.

        Returns
        -------
        Dataset or list of Dataset
            The same kind as ``X``.
        """
        check_is_fitted(self)
        return transform_in_chunks(self.estimator_, list(X) if isinstance(X, tuple) else X,
                                   chunk_size=self.chunk_size, overlap=self.overlap, variables=self.variables,
                                   n_jobs=self.n_jobs, verbose=self.verbose)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.requires_fit = True
        return tags
