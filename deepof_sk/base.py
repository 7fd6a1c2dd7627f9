"""Base classes of the pipeline contract.

A poses transformer takes one :class:`xarray.Dataset` (one recording) or a sequence of them and returns the same
kind, with the ``time`` coordinate unchanged. Recordings are processed independently, in parallel with joblib when
``n_jobs`` asks for it. Subclasses implement :meth:`BasePosesTransformer._transform_recording` (and optionally
:meth:`BasePosesTransformer._fit_recordings`); validation, fitted-schema checks, parallelism, the processing log
and the "same kind out as in" rule live here, once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import xarray as xr
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from . import schema as S
from .utils._memory import settle_allocator
from .validation import append_log, check_recordings, reorder_keypoints, return_like

__all__ = ["BasePosesTransformer", "map_recordings", "check_frame_targets"]


def map_recordings(func: Callable[[xr.Dataset], Any], recordings: Sequence[xr.Dataset], n_jobs: int | None = None):
    """Apply ``func`` to each recording, in parallel when ``n_jobs`` is not None/1.

    Recordings are independent, so this is embarrassingly parallel. The work runs in threads: the heavy numpy
    kernels release the GIL and threads share the recordings instead of pickling them to worker processes
    (benchmarks/bench_pipeline.py on 2 cores, two 90,000-frame recordings: worker processes were 4-7x slower than
    one thread). Unless a joblib backend has been chosen, the calling thread works on recordings itself, next to
    ``n_jobs - 1`` threads from a pool kept for the life of the process: a ``joblib.Parallel`` call builds and tears
    down its thread pool each time, about 13 ms on a 2-core machine, against 20-60 ms for a whole step on two
    90,000-frame recordings. A backend chosen with
    ``joblib.parallel_config`` takes precedence, so ``with joblib.parallel_config(backend="dask", n_jobs=-1):``
    moves the work onto a dask cluster unchanged for the steps given an ``n_jobs``.

    The first call in a process calls :func:`deepof_sk.utils._memory.settle_allocator`, so that glibc keeps the
    steps' temporaries between steps instead of handing them back to the kernel (``DEEPOF_SK_SETTLE_MALLOC=0``
    leaves the allocator alone).
    """
    settle_allocator()  # once per process: glibc keeps the steps' block temporaries (deepof_sk.utils._memory)
    # n_jobs=None stays serial even inside ``joblib.parallel_config(n_jobs=...)``: the steps of a pipeline run inside
    # joblib's (or dask's) workers in nested use, where asking the active backend for more workers deadlocks dask's
    # worker threads; set ``n_jobs`` on the steps that should fan out. Work already running in the shared pool
    # stays serial too (a nested map would wait on the threads it occupies).
    if n_jobs in (None, 1) or len(recordings) <= 1 or getattr(_IN_POOL, "active", False):
        return [func(ds) for ds in recordings]
    if not _joblib_backend_chosen():
        workers = min(effective_n_jobs(n_jobs), len(recordings))
        if workers <= 1:
            return [func(ds) for ds in recordings]
        return _map_in_threads(func, list(recordings), workers)
    return Parallel(n_jobs=n_jobs, prefer="threads")(delayed(func)(ds) for ds in recordings)


_IN_POOL = threading.local()
_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _joblib_backend_chosen() -> bool:
    """Whether a joblib backend was chosen with ``joblib.parallel_config`` (or joblib runs this as a nested task)."""
    try:
        from joblib import parallel as _jp

        config = getattr(_jp._backend, "config", None)
        return config is not None and config.get("backend") is not _jp.default_parallel_config["backend"]
    except (ImportError, AttributeError, KeyError, TypeError):  # joblib internals moved: always ask joblib
        return True


def _thread_pool(workers: int) -> ThreadPoolExecutor:
    with _POOLS_LOCK:
        pool = _POOLS.get(workers)
        if pool is None:
            pool = _POOLS[workers] = ThreadPoolExecutor(workers, thread_name_prefix="deepof_sk")
        return pool


def _map_in_threads(func, recordings: list, workers: int) -> list:
    """``[func(ds) for ds in recordings]`` on ``workers`` threads: the caller and ``workers - 1`` pool threads.

    Each thread takes the next recording not yet taken, so a long recording does not hold up the others. The
    calling thread works instead of waiting for the pool, which spares one hand-over to a sleeping thread (and the
    wake-up of an idle CPU) per step. The first error, in recording order, is raised once every thread has stopped
    (the others take no new recording after it).
    """
    n = len(recordings)
    results: list = [None] * n
    errors: dict[int, BaseException] = {}
    taken = iter(range(n))
    lock = threading.Lock()

    def work() -> None:
        previous = getattr(_IN_POOL, "active", False)
        _IN_POOL.active = True  # nested maps inside func stay serial
        try:
            while True:
                with lock:
                    i = None if errors else next(taken, None)
                if i is None:
                    return
                try:
                    results[i] = func(recordings[i])
                except BaseException as exc:  # noqa: BLE001 - re-raised below, in the caller
                    with lock:
                        errors[i] = exc
        finally:
            _IN_POOL.active = previous

    pool = _thread_pool(workers - 1)
    helpers = [pool.submit(work) for _ in range(workers - 1)]
    work()
    for helper in helpers:
        helper.result()
    if errors:
        raise errors[min(errors)]
    return results


def _forget_pools() -> None:  # a forked child inherits the pools but not their threads
    _POOLS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools)


def _stored_array(da: xr.DataArray):
    """The array a DataArray holds, without loading a lazy (file-backed) one: a peek at xarray's storage."""
    return getattr(da.variable, "_data", None)


class BasePosesTransformer(TransformerMixin, BaseEstimator):
    """Base of every transformer that maps poses datasets to poses datasets.

    Subclasses declare ``_parameter_constraints`` and implement ``_transform_recording(ds) -> ds``; a step that
    learns from data also implements ``_fit_recordings(recordings, y)``. Set ``_requires_fps = True`` when the step
    needs a frame rate.

    Fitted attributes set here: ``keypoints_`` (keypoint names seen in ``fit``), ``individuals_`` (individual names
    of the first fitted recording), ``n_recordings_`` (number of recordings seen in ``fit``).
    """

    _parameter_constraints: dict = {}
    _requires_fps: bool = False
    #: Whether transform() requires the keypoints seen in fit (the default: one pipeline, one skeleton).
    _check_keypoints_on_transform: bool = True

    # -- hooks -------------------------------------------------------------------------------------------------
    def _fit_recordings(self, recordings: list[xr.Dataset], y=None) -> None:  # noqa: B027 - optional hook
        """Learn state from the (validated) training recordings. Default: nothing to learn."""

    def _transform_recording(self, ds: xr.Dataset) -> xr.Dataset:  # pragma: no cover - abstract
        raise NotImplementedError

    def _log_params(self) -> dict:
        return {k: v for k, v in self.get_params(deep=False).items() if k != "n_jobs"}

    # -- public API --------------------------------------------------------------------------------------------
    def fit(self, X, y=None):
        """Validate the recordings, record their schema and learn what the step needs.

        Parameters
        ----------
        X : xarray.Dataset or sequence of xarray.Dataset
            One recording or one dataset per recording, in the poses schema.
        y : ignored
            Present for Pipeline compatibility.

        Returns
        -------
        self
        """
        self._validate_params()
        recordings, _ = check_recordings(X, where=type(self).__name__, require_fps=self._requires_fps)
        self._fit_checked(recordings, y)
        return self

    def _fit_checked(self, recordings: list[xr.Dataset], y) -> None:
        """The part of :meth:`fit` after the recordings were validated."""
        where = type(self).__name__
        first = [str(k) for k in recordings[0][S.KEYPOINT].values]
        for i, ds in enumerate(recordings[1:], start=1):
            other = set(map(str, ds[S.KEYPOINT].values))
            if other != set(first):
                raise ValueError(
                    f"{where}.fit: recording #{i} has keypoints {sorted(other)} but recording #0 has "
                    f"{sorted(first)}. All recordings of one pipeline must share a skeleton; select common "
                    "keypoints with ds.sel(keypoint=[...]) first."
                )
        self.keypoints_ = np.asarray(first, dtype=object)
        self.individuals_ = np.asarray([str(i) for i in recordings[0][S.INDIVIDUAL].values], dtype=object)
        self.n_recordings_ = len(recordings)
        self._fit_recordings(recordings, y)

    def fit_transform(self, X, y=None, **fit_params):
        """Fit to the recordings, then transform them (validated once, not once per method).

        Parameters
        ----------
        X : xarray.Dataset or sequence of xarray.Dataset
            One recording or one dataset per recording, in the poses schema.
        y : ignored
            Present for Pipeline compatibility.
        **fit_params : dict
            Passed to ``fit`` by subclasses that define their own ``fit``.

        Returns
        -------
        xarray.Dataset or list of xarray.Dataset
            The same kind as ``X``.
        """
        cls = type(self)
        if fit_params or cls.fit is not BasePosesTransformer.fit or cls.transform is not BasePosesTransformer.transform:
            return super().fit_transform(X, y, **fit_params)  # a subclass's own fit/transform decide
        self._validate_params()
        recordings, single = check_recordings(X, where=cls.__name__, require_fps=self._requires_fps)
        self._fit_checked(recordings, y)
        if self._check_keypoints_on_transform:  # transform's rule: later recordings take the fitted keypoint order
            recordings = [reorder_keypoints(ds, list(self.keypoints_)) for ds in recordings]
        return return_like(self._map_transform(recordings), single)

    def transform(self, X):
        """Apply the step to each recording independently.

        Parameters
        ----------
        X : xarray.Dataset or sequence of xarray.Dataset
            One recording or one dataset per recording.

        Returns
        -------
        xarray.Dataset or list of xarray.Dataset
            The same kind as ``X``; each dataset keeps its ``time`` coordinate and gains a log entry.
        """
        check_is_fitted(self)
        where = type(self).__name__
        recordings, single = check_recordings(
            X,
            where=where,
            keypoints=list(self.keypoints_) if self._check_keypoints_on_transform else None,
            require_fps=self._requires_fps,
        )
        return return_like(self._map_transform(recordings), single)

    def _map_transform(self, recordings: list[xr.Dataset]) -> list[xr.Dataset]:
        """:meth:`_transform_one` on every (validated) recording, in parallel with ``n_jobs``."""
        return map_recordings(self._transform_one, self._unshared_if_in_place(recordings), getattr(self, "n_jobs", None))

    def _unshared_if_in_place(self, recordings: list[xr.Dataset]) -> list[xr.Dataset]:
        """With ``copy=False``, give a recording whose position memory overlaps an earlier one's its own copy.

        A step working in place on the same list item twice, or on two views of one array (``ds`` and
        ``ds.isel(time=...)``), would apply itself twice to the shared frames (and race in threads).
        """
        if getattr(self, "copy", True) or len(recordings) < 2:
            return recordings
        out, seen = [], []
        for ds in recordings:
            pos = _stored_array(ds[S.POSITION])
            if isinstance(pos, np.ndarray) and any(np.may_share_memory(pos, other) for other in seen):
                ds = ds.copy()
                ds[S.POSITION] = ds[S.POSITION].copy(deep=True)
                pos = _stored_array(ds[S.POSITION])
            if isinstance(pos, np.ndarray):
                seen.append(pos)
            out.append(ds)
        return out

    def _transform_one(self, ds: xr.Dataset) -> xr.Dataset:
        result = self._transform_recording(ds)
        if result is ds:  # never hand back the caller's object
            result = ds.copy()
        if S.TIME in ds.dims and result.sizes.get(S.TIME) != ds.sizes[S.TIME]:
            raise RuntimeError(f"{type(self).__name__} changed the length of `time`; this is a bug.")
        append_log(result, type(self).__name__, **self._log_params())
        return result

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.requires_fit = True
        return tags


def check_frame_targets(y: Any, recordings: Sequence[xr.Dataset], *, where: str) -> list[np.ndarray]:
    """Validate per-frame targets: one array per recording, aligned with its ``time``.

    Each element may have shape ``(n_time,)`` (one label per frame) or ``(n_time, n_individuals)`` (one label per
    frame and animal), or be a :class:`xarray.DataArray` with a ``time`` dim (and optionally ``individual``). NaN
    (or None) marks an unlabelled frame.

    Returns
    -------
    list of ndarray
        One array per recording (1-D or 2-D), in recording order.
    """
    if y is None:
        raise ValueError(f"{where}: per-frame targets `y` are required (one array per recording); got None.")
    if isinstance(y, np.ndarray) and y.dtype != object:
        if len(recordings) == 1 and y.shape[0] == recordings[0].sizes[S.TIME]:
            y = [y]
        else:
            raise TypeError(
                f"{where}: `y` must be a list with one per-frame label array per recording (got one ndarray of "
                f"shape {y.shape} for {len(recordings)} recordings)."
            )
    try:
        ys = list(y)
    except TypeError as exc:
        raise TypeError(f"{where}: `y` must be a sequence of per-frame label arrays; got {type(y).__name__}.") from exc
    if len(ys) != len(recordings):
        raise ValueError(
            f"{where}: got {len(ys)} label arrays for {len(recordings)} recordings; pass one per recording."
        )
    out = []
    problems = []
    for i, (labels, ds) in enumerate(zip(ys, recordings, strict=True)):
        n_time, n_ind = ds.sizes[S.TIME], ds.sizes[S.INDIVIDUAL]
        if isinstance(labels, xr.DataArray):
            if S.TIME not in labels.dims:
                problems.append(f"recording #{i}: labels DataArray has no `time` dim (dims {labels.dims})")
                continue
            order = [S.TIME] + ([S.INDIVIDUAL] if S.INDIVIDUAL in labels.dims else [])
            labels = labels.transpose(*order).values
        arr = np.asarray(labels)
        name = ds.attrs.get(S.SOURCE_FILE) or f"#{i}"
        if arr.ndim not in (1, 2) or arr.shape[0] != n_time or (arr.ndim == 2 and arr.shape[1] != n_ind):
            problems.append(
                f"recording {name}: labels have shape {arr.shape}, expected ({n_time},) or ({n_time}, {n_ind}) "
                "to align with its frames"
            )
            continue
        out.append(arr)
    if problems:
        raise ValueError(f"{where}: per-frame labels are misaligned with the recordings:\n  - " + "\n  - ".join(problems))
    return out
