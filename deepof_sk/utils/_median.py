"""NaN-ignoring medians over a short axis without sorting rows: elementwise sorting networks over whole arrays.

``np.nanmedian`` over the last axis of a (frames, ..., k) array sorts every row of ``k`` values, which for millions
of short rows is slow; comparing and swapping whole planes (``np.minimum`` / ``np.maximum``) with a fixed network of
comparators gives the same values bit for bit in a fraction of the time. Used by DeepOF's presence rule (median
keypoint confidence) and its immobility classifier (median keypoint speed).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

__all__ = ["nanmedian_planes"]


@lru_cache(maxsize=64)
def _sorting_network(n: int) -> tuple[tuple[int, int], ...]:
    """Comparators (i, j), i < j, of Batcher's odd-even merge sort for ``n`` inputs: applying ``a[i], a[j] =
    min, max`` in order sorts any ``n`` values (``n = 11``: 41 comparators)."""
    pairs = []
    p = 1
    while p < n:
        k = p
        while k >= 1:
            for j in range(k % p, n - k, 2 * k):
                for i in range(min(k, n - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        pairs.append((i + j, i + j + k))
            k //= 2
        p *= 2
    return tuple(pairs)


def nanmedian_planes(planes: Sequence[np.ndarray]) -> np.ndarray:
    """NaN-ignoring median across same-shaped arrays, ``np.nanmedian(np.stack(planes, -1), -1)`` bit for bit, NaN
    where every value is NaN.

    The planes are sorted elementwise by a sorting network of ``np.minimum`` / ``np.maximum`` (NaN read as +inf),
    whole arrays at a time: no stack, no sort or partition per row. Elements with fewer than ``len(planes)``
    values (some NaN) take their middle values by index afterwards.
    """
    r = len(planes)
    nan = [np.isnan(p) for p in planes]
    s = [np.where(m, np.inf, p) for m, p in zip(nan, planes, strict=True)]  # copies, sorted in place below
    n_nan = np.zeros(planes[0].shape, dtype=np.uint8 if r < 256 else np.int64)
    for m in nan:  # loop over planes
        n_nan += m
    for i, j in _sorting_network(r):  # loop over comparators (tens), vectorised over elements
        lo = np.minimum(s[i], s[j])
        np.maximum(s[i], s[j], out=s[j])
        s[i] = lo
    with np.errstate(invalid="ignore"):  # -inf + inf (NaN read as +inf): such elements are redone below
        out = s[r // 2] if r % 2 else (s[r // 2 - 1] + s[r // 2]) / 2
    some = np.flatnonzero(n_nan)
    if some.size:  # elements with NaN: the middle of their c = r - n_nan values (np.nanmedian's mean of two)
        c = r - n_nan.flat[some].astype(np.int64)
        srt = np.stack([p.flat[some] for p in s])  # (r, n): sorted, NaN last (as +inf)
        cols = np.arange(some.size)
        lo = srt[np.maximum(c - 1, 0) // 2, cols]
        hi = srt[c // 2 - (c == 0), cols]
        with np.errstate(invalid="ignore"):  # -inf + inf is NaN, as in np.nanmedian
            value = np.where(c % 2 == 1, lo, (lo + hi) / 2)
        value[c == 0] = np.nan
        out.flat[some] = value
    return out

