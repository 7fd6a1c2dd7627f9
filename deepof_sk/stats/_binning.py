"""Time bins: cut every recording into bins of equal duration, aligned on a per-recording start marker."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["TimeBins", "make_time_bins", "parse_time"]

_HMS = re.compile(r"^\s*(?:(\d+):)?(\d+):(\d+(?:\.\d*)?)\s*$")


def parse_time(value, *, param: str = "time") -> float:
    """Seconds from a number of seconds or a ``"HH:MM:SS(.sss)"`` / ``"MM:SS"`` string.

    Parameters
    ----------
    value : float, int or str
        Seconds, or a clock string.
    param : str
        Parameter name used in the error message.

    Returns
    -------
    float
        Seconds.

    Examples
    --------
    >>> parse_time("00:01:30.5"), parse_time("02:00"), parse_time(12)
    (90.5, 120.0, 12.0)
    """
    if isinstance(value, str):
        m = _HMS.match(value)
        if not m:
            try:
                return float(value)
            except ValueError:
                raise ValueError(
                    f"`{param}`={value!r} is not a time; give seconds (90.5) or a clock string 'HH:MM:SS.sss'."
                ) from None
        h, mnt, sec = m.groups()
        return int(h or 0) * 3600.0 + int(mnt) * 60.0 + float(sec)
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"`{param}` must be seconds or an 'HH:MM:SS' string; got {type(value).__name__}.") from None
    if not math.isfinite(out):
        raise ValueError(f"`{param}` must be finite; got {value!r}.")
    return out


@dataclass
class TimeBins:
    """Per-frame bin indices of every recording, and where each bin starts and stops.

    Attributes
    ----------
    index : list of ndarray of int
        One array per recording, one entry per frame: the bin of that frame, or -1 for frames outside every bin
        (before the start marker, after ``stop``, or not the selected ``bin_index``).
    starts, stops : ndarray of float
        Start and stop of bin ``k`` in seconds after the start marker.
    fps : list of float
        Frame rate of each recording.
    start_markers : list of float
        Start marker of each recording, in seconds from its first frame.
    """

    index: list = field(repr=False)
    starts: np.ndarray
    stops: np.ndarray
    fps: list
    start_markers: list

    @property
    def n_bins(self) -> int:
        return len(self.starts)

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i):
        return self.index[i]


def _n_frames(item) -> int:
    if isinstance(item, (int, np.integer)):
        return int(item)
    if hasattr(item, "sizes") and "time" in getattr(item, "sizes", {}):
        return int(item.sizes["time"])
    return int(np.shape(item)[0])


def _per_recording(value, n: int, ids: list[str] | None, param: str) -> list:
    if value is None or isinstance(value, (str, int, float, np.number)):
        return [value] * n
    if isinstance(value, Mapping):
        if ids is None:
            raise ValueError(f"`{param}` is a mapping by recording id; give `recording_ids` too.")
        missing = sorted(set(ids) - set(map(str, value)))
        if missing:
            raise ValueError(f"`{param}` has no entry for recordings {missing}.")
        return [value[k] if k in value else value[str(k)] for k in ids]
    values = list(value)
    if len(values) != n:
        raise ValueError(f"`{param}` has {len(values)} entries for {n} recordings; give one per recording.")
    return values


def make_time_bins(
    recordings: Sequence,
    *,
    fps,
    bin_size=None,
    n_bins: int | None = None,
    start=None,
    stop=None,
    bin_index=None,
    recording_ids: Sequence[str] | None = None,
) -> TimeBins:
    """Assign every frame of every recording to a time bin.

    Parameters
    ----------
    recordings : sequence
        One item per recording: its number of frames, a label array (its first axis is time), or a Dataset.
    fps : float, sequence of float or mapping
        Frame rate of every recording (or one per recording, or ``{recording_id: fps}``).
    bin_size : float or str, optional
        Bin duration in seconds or ``"HH:MM:SS"``. Bins then run to the end of each recording; the last one may be
        partial (its frames still count; use fractions to compare it).
    n_bins : int, optional
        Instead of ``bin_size``: split the time every recording has in common (from its start marker to ``stop``
        or to the end of the shortest recording) into ``n_bins`` equal bins; frames after it get -1.
    start : float, str, sequence or mapping, optional
        Start marker: the time, in seconds (or "HH:MM:SS") from the first frame, at which bin 0 begins, for every
        recording or one per recording (the onset of an event, such as the second animal entering the arena).
        Frames before it get -1. Default 0.
    stop : float or str, optional
        Duration after the start marker beyond which frames get -1.
    bin_index : int or str, optional
        Keep only this bin (an index, or a start time such as "00:05:00" that selects the bin containing it);
        every other frame gets -1.
    recording_ids : sequence of str, optional
        Needed when ``fps`` or ``start`` is a mapping.

    Returns
    -------
    TimeBins
        ``index[r][t]`` is the bin of frame ``t`` of recording ``r`` (-1 outside); pass it as ``time_bins=`` to
        :func:`compute_occupancy`.

    Notes
    -----
    A frame at time ``t`` (``t = frame / fps``) belongs to bin ``floor((t - start) / bin_size)``, so bins start at
    the same time after the marker in every recording whatever its frame rate.

    Examples
    --------
    >>> bins = make_time_bins([100, 120], fps=10, bin_size=5)
    >>> bins.n_bins, bins.index[0][[0, 49, 50, 99]].tolist(), int(bins.index[1].max())
    (3, [0, 0, 1, 1], 2)
    >>> make_time_bins([100], fps=10, bin_size=2, start=3.0).index[0][[29, 30]].tolist()
    [-1, 0]
    """
    if (bin_size is None) == (n_bins is None):
        raise ValueError("make_time_bins: give exactly one of `bin_size` (seconds) and `n_bins`.")
    lengths = [_n_frames(r) for r in recordings]
    n = len(lengths)
    if n == 0:
        raise ValueError("make_time_bins: no recordings.")
    ids = [str(r) for r in recording_ids] if recording_ids is not None else None
    rates = [float(f) if f is not None else None for f in _per_recording(fps, n, ids, "fps")]
    if any(f is None or f <= 0 for f in rates):
        raise ValueError("make_time_bins: every recording needs a positive frame rate (`fps`).")
    markers = [parse_time(s, param="start") if s is not None else 0.0 for s in _per_recording(start, n, ids, "start")]
    span = [(lengths[i] / rates[i]) - markers[i] for i in range(n)]
    if min(span) <= 0:
        bad = [ids[i] if ids else i for i in range(n) if span[i] <= 0]
        raise ValueError(f"make_time_bins: the start marker is after the end of recordings {bad}.")
    horizon = parse_time(stop, param="stop") if stop is not None else None
    if n_bins is not None:
        if int(n_bins) < 1:
            raise ValueError(f"make_time_bins: `n_bins` must be >= 1; got {n_bins}.")
        total = min(span) if horizon is None else min(horizon, min(span))
        size = total / int(n_bins)
        count = int(n_bins)
    else:
        size = parse_time(bin_size, param="bin_size")
        if size <= 0:
            raise ValueError(f"make_time_bins: `bin_size` must be positive; got {bin_size!r}.")
        longest = max(span) if horizon is None else min(horizon, max(span))
        count = max(1, math.ceil(longest / size - 1e-9))
        total = count * size if horizon is None else horizon
    eps = 1e-9
    index = []
    for i in range(n):
        t = np.arange(lengths[i]) / rates[i] - markers[i]
        k = np.floor((t + eps) / size).astype(np.int64)
        out = (t < -eps) | (k >= count) | (t >= total - eps)
        k[out] = -1
        index.append(k)
    starts = np.arange(count) * size
    stops = np.minimum(starts + size, total)
    if bin_index is not None:
        if isinstance(bin_index, str):
            chosen = int(np.floor(parse_time(bin_index, param="bin_index") / size + eps))
        else:
            chosen = int(bin_index)
        if not 0 <= chosen < count:
            raise ValueError(f"make_time_bins: `bin_index`={bin_index!r} selects bin {chosen}; there are {count}.")
        index = [np.where(k == chosen, k, -1) for k in index]
    return TimeBins(index, starts, stops, rates, markers)
