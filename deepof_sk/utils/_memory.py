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

The chain's temporaries: the per-frame kernels work on time blocks (``deepof_sk.utils._blocks``), so each step's
temporaries are a few MiB that are freed when the step ends. glibc's malloc returns free memory at the top of its
heap to the kernel once it exceeds a trim threshold (256 KiB in a fresh process; it grows, to twice the size, when
a block of up to 32 MiB that was mapped on its own is freed, see ``mallopt(3)``). A program that has freed no
mid-sized array yet, as a fresh process running the blocked chain has not, so hands every step's temporaries back,
and the next step faults the same memory in again: 11,000 page faults, a quarter of its kernel time, per
90,000-frame recording. :func:`settle_allocator` (called by every step's transform, once per process) frees one
untouched 8 MiB block, which moves glibc's thresholds to where they would be after any such free (allocations
under 8 MiB from the heap, up to 16 MiB of free heap kept).
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

__all__ = ["empty_result", "full_result", "numpy_decides_huge_pages", "settle_allocator"]

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


#: Size of the block :func:`settle_allocator` frees: glibc then serves allocations below it from its heap and keeps
#: up to twice it of free heap (the chain's largest step keeps about 14 MiB of temporaries live at 90,000 frames).
SETTLE_BYTES = 8 << 20
#: glibc's environment settings of the thresholds; with any of them set, glibc's dynamic thresholds are off and the
#: user's values stand.
_MALLOC_ENV = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")
_SETTLED: list[bool] = []  # non-empty once settle_allocator has run in this process


def _glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (AttributeError, ValueError, OSError, TypeError):  # not glibc (musl, macOS, Windows)
        return False


def settle_allocator() -> bool:
    """Let glibc keep the chain's temporaries between steps (see the module's notes); once per process.

    Frees one untouched :data:`SETTLE_BYTES` array (numpy maps it on its own, no page is touched), which raises
    glibc's dynamic mmap threshold to that size and its trim threshold to twice that, as any program's first free
    of such an array does. Nothing happens when the C library is not glibc, when the environment sets glibc's
    thresholds (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_TOP_PAD_``, ``MALLOC_MMAP_MAX_``,
    or ``glibc.malloc`` tunables in ``GLIBC_TUNABLES``), or when ``DEEPOF_SK_SETTLE_MALLOC=0``. glibc only ever
    raises the thresholds this way (up to 32 MiB), so a process whose thresholds are already higher is unchanged.

    Returns
    -------
    bool
        Whether the block was freed by this call (False on later calls and where nothing is done).
    """
    if _SETTLED:
        return False
    with _LOCK:
        if _SETTLED:
            return False
        _SETTLED.append(True)
        if (os.environ.get("DEEPOF_SK_SETTLE_MALLOC", "1").strip().lower() in ("0", "false", "no", "off")
                or any(name in os.environ for name in _MALLOC_ENV)
                or "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", "") or not _glibc()):
            return False
        np.empty(SETTLE_BYTES, dtype=np.uint8)  # mapped on its own, never written (no page fault), freed at once
        return True
