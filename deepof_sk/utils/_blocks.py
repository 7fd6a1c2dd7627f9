"""Time blocks for per-frame kernels: small temporaries that stay in cache and are reused by the allocator.

A kernel that evaluates a formula over a whole recording at once allocates every intermediate array at full length
(tens of MB each for an hour of tracking). Fresh memory of that size comes from the operating system page by page
(mmap + page faults, which on some virtual machines cost seconds per GiB) and does not fit in the CPU cache. The
same formula evaluated on blocks of a few thousand frames writes straight into the preallocated output and keeps
every temporary at about a MiB, in L2/L3. Kernels that take their temporaries from a :class:`Scratch` reuse the same
buffers block after block (the allocator alone does not reliably do so).

Results are bit-identical to the whole-array evaluation for per-frame formulas (each frame's value depends on that
frame only). Temporal stencils (derivatives, filters) use :func:`halo_blocks`, which extends each block by the
stencil's reach and keeps only the block's own frames.
"""

from __future__ import annotations

import numpy as np

#: Target size in bytes of one temporary array of a block. 1 MiB: the temporaries of a block stay in L2/L3, and each
#: numpy call is long enough that two threads (``n_jobs=2``) rarely wait for the GIL (256 KiB blocks ran as fast on
#: one thread but scaled worse on two; benchmarks/bench_pipeline.py).
BLOCK_BYTES = 1 << 20
#: Fewest frames in a block (keeps per-block Python overhead negligible for wide rows).
MIN_BLOCK_FRAMES = 512


def block_frames(row_bytes: int, *, target: int | None = None, minimum: int | None = None) -> int:
    """Frames per block so that one temporary of ``row_bytes`` per frame is about ``target`` bytes.

    ``target`` and ``minimum`` default to the module's :data:`BLOCK_BYTES` and :data:`MIN_BLOCK_FRAMES` (read at
    call time, so tests can shrink the blocks).
    """
    target = BLOCK_BYTES if target is None else target
    minimum = MIN_BLOCK_FRAMES if minimum is None else minimum
    return max(int(minimum), 1, int(target) // max(int(row_bytes), 1))


def time_blocks(n_frames: int, row_bytes: int, **kwargs) -> list[slice]:
    """Consecutive slices covering ``range(n_frames)``, each :func:`block_frames` long (the last may be shorter).

    Examples
    --------
    >>> time_blocks(10, row_bytes=1, target=4, minimum=1)
    [slice(0, 4, None), slice(4, 8, None), slice(8, 10, None)]
    """
    step = block_frames(row_bytes, **kwargs)
    return [slice(lo, min(lo + step, n_frames)) for lo in range(0, max(int(n_frames), 0), step)]


def halo_blocks(n_frames: int, row_bytes: int, halo: int, **kwargs) -> list[tuple[slice, slice, slice]]:
    """Blocks for a stencil that reads ``halo`` frames on each side.

    Returns ``(kept, extended, inner)`` per block: ``kept`` the block's own frames in the recording, ``extended``
    those frames plus up to ``halo`` neighbours on each side (clipped to the recording), and ``inner`` where the
    kept frames lie inside the extended block. A stencil evaluated on ``extended`` gives, at ``inner``, what it
    gives on the whole recording, provided it reads no further than ``halo`` frames and applies its edge rules only
    within ``halo`` frames of the extended block's ends.

    Examples
    --------
    >>> [(k.start, k.stop, e.start, e.stop, i.start, i.stop) for k, e, i in halo_blocks(10, 1, 2, target=4, minimum=1)]
    [(0, 4, 0, 6, 0, 4), (4, 8, 2, 10, 2, 6), (8, 10, 6, 10, 2, 4)]
    """
    out = []
    for kept in time_blocks(n_frames, row_bytes, **kwargs):
        lo, hi = max(kept.start - halo, 0), min(kept.stop + halo, n_frames)
        out.append((kept, slice(lo, hi), slice(kept.start - lo, kept.stop - lo)))
    return out


class Scratch:
    """Temporaries of one time block, allocated once and reused block after block.

    A kernel that allocates its temporaries anew in every block relies on the allocator to hand back the memory
    freed by the previous block. glibc does not always: freed chunks of about a MiB at the top of the heap are
    returned to the kernel (its trim threshold), and the next block faults the same amount in again, which on some
    virtual machines costs more than the arithmetic (``benchmarks/bench_memory_floor.py``). A kernel that takes its
    temporaries from a ``Scratch`` touches that memory once per call.

    Parameters
    ----------
    rows : int
        Frames of the longest block; :meth:`get` returns views of the first ``m`` rows.
    """

    def __init__(self, rows: int):
        self.rows = int(rows)
        self._buffers: dict = {}

    def get(self, name: str, m: int, tail: tuple = (), dtype=float) -> np.ndarray:
        """Buffer ``name`` of shape ``(m, *tail)`` (uninitialised), the same memory on every call."""
        dtype = np.dtype(dtype)
        buf = self._buffers.get(name)
        if buf is None or buf.shape[1:] != tuple(tail) or buf.dtype != dtype:
            buf = self._buffers[name] = np.empty((self.rows, *tail), dtype=dtype)
        return buf[:m]
