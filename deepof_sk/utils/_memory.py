"""Allocation of the large arrays the steps return (feature arrays, tables, behaviour planes).

numpy asks the kernel for transparent huge pages (``madvise(MADV_HUGEPAGE)``) for every array of 4 MiB or more.
For an array that is written once and handed back, as a feature array is, the request costs more than it saves
wherever a fresh huge page is expensive to come by: with the common ``defrag=madvise`` setting the faulting thread
compacts memory itself, and on virtual machines that hand free memory back to the host (free page reporting) the
host faults each fresh huge page in again. On the 2-core VM the benchmarks run on, the first run of the feature
chain in a fresh process spent 0.3-0.5 s (2 x 90,000 frames) and 2-4 s (2 x 360,000) of kernel time on them, the
small-page faults that replace them a few tens of milliseconds (``benchmarks/bench_pipeline.py``). A process
that runs the chain again and again gets hot huge pages back and is 6-17 % faster with them; that is the trade
made here.

So these arrays are allocated without the request, unless ``NUMPY_MADVISE_HUGEPAGE`` is set in the environment
(numpy's own switch, ``0`` or ``1``): then numpy's setting is followed as it stands. numpy's switch is
process-wide; it is turned off for the allocation itself only (microseconds, under a lock, restored at once), so
an array allocated elsewhere in that instant at most misses the request too.
"""

from __future__ import annotations

import os
import threading

import numpy as np

try:  # numpy >= 2
    from numpy._core.multiarray import _set_madvise_hugepage
except ImportError:  # pragma: no cover - numpy 1.26
    try:
        from numpy.core.multiarray import _set_madvise_hugepage
    except ImportError:
        _set_madvise_hugepage = None

__all__ = ["empty_result", "full_result", "numpy_decides_huge_pages"]

_LOCK = threading.Lock()
#: numpy asks for huge pages from this size on (its own threshold, 4 MiB)
_NUMPY_HUGEPAGE_MIN = 1 << 22


def numpy_decides_huge_pages() -> bool:
    """Whether the returned arrays follow numpy's huge-page setting (``NUMPY_MADVISE_HUGEPAGE`` is set).

    Otherwise (the default) they are allocated without the huge-page request; see the module's notes.
    """
    return "NUMPY_MADVISE_HUGEPAGE" in os.environ or _set_madvise_hugepage is None


def empty_result(shape, dtype=np.float64) -> np.ndarray:
    """``np.empty(shape, dtype)`` for an array a step returns, without numpy's huge-page request (module notes).

    Examples
    --------
    >>> empty_result((3, 2), "float32").shape
    (3, 2)
    """
    dtype = np.dtype(dtype)
    if numpy_decides_huge_pages() or int(np.prod(shape, dtype=np.int64)) * dtype.itemsize < _NUMPY_HUGEPAGE_MIN:
        return np.empty(shape, dtype=dtype)
    with _LOCK:
        previous = _set_madvise_hugepage(False)
        try:
            return np.empty(shape, dtype=dtype)
        finally:
            _set_madvise_hugepage(previous)


def full_result(shape, fill_value, dtype=np.float64) -> np.ndarray:
    """``np.full(shape, fill_value, dtype)`` for an array a step returns (see :func:`empty_result`).

    Examples
    --------
    >>> full_result(2, float("nan"))
    array([nan, nan])
    """
    out = empty_result(shape, dtype)
    out.fill(fill_value)
    return out
