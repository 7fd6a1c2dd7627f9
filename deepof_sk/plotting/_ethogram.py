"""Ethograms (Gantt charts): when each behaviour or cluster occurs."""

from __future__ import annotations

import numpy as np

from ..stats._occupancy import find_bouts
from ._common import category_label, get_axes, tidy_axes
from ._palette import color_map

__all__ = ["plot_ethogram"]


def plot_ethogram(
    labels,
    *,
    fps=None,
    recording: int = 0,
    individual=None,
    behavior=None,
    states=None,
    recording_ids=None,
    colors=None,
    min_duration: float = 0.0,
    ax=None,
):
    """Ethogram: bouts of every behaviour of one recording, or of one behaviour across all recordings.

    Parameters
    ----------
    labels : sequence
        Per-recording labels (states or behaviour masks; see :func:`deepof_sk.stats.compute_occupancy`).
    fps : float, sequence or mapping, optional
        Frame rate; the x axis is in seconds with it, in frames without.
    recording : int, default 0
        Recording to draw (position in ``labels``) when ``behavior`` is None.
    individual : str, optional
        Animal (or pair) to draw; default the first one.
    behavior : optional
        Draw this behaviour (or cluster) for every recording, one row each, instead.
    states : sequence, optional
        States to show, in order (default all).
    recording_ids : sequence of str, optional
        Row names in the ``behavior`` mode.
    colors : mapping or sequence, optional
        Colours per behaviour (default colour-blind-safe palette).
    min_duration : float, default 0
        Hide bouts shorter than this (seconds with fps, frames otherwise).
    ax : matplotlib Axes, optional
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> ax = plot_ethogram([np.repeat([0, 1, 2, 1], 25)], fps=25)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['cluster 0', 'cluster 1', 'cluster 2']
    """
    where = "plot_ethogram"
    bouts = find_bouts(labels, fps=fps, states=states, min_duration=min_duration, recording_ids=recording_ids)
    use_s = bouts["start_s"].notna().all() and len(bouts) > 0
    start_col, dur_col = ("start_s", "duration_s") if use_s else ("start", "n_frames")
    if behavior is None:
        sel = bouts[bouts["recording"] == recording]
        if sel.empty:
            raise ValueError(f"{where}: recording {recording} has no labelled bout.")
        inds = list(dict.fromkeys(sel["individual"]))
        who = inds[0] if individual is None else str(individual)
        if who not in inds:
            raise ValueError(f"{where}: individual {individual!r} not found (has {inds}).")
        sel = sel[sel["individual"] == who]
        rows = list(states) if states is not None else list(dict.fromkeys(sorted(bouts["behavior"].unique(),
                                                                                 key=_sort_key)))
        key = "behavior"
        row_names = [category_label(r) for r in rows]
        title = f"Ethogram, recording {sel['recording_id'].iloc[0]}" + ("" if who == "all" else f", {who}")
    else:
        sel = bouts[bouts["behavior"] == behavior]
        if individual is not None:
            sel = sel[sel["individual"] == str(individual)]
        rows = list(dict.fromkeys(bouts["recording"]))
        key = "recording"
        ids = bouts.drop_duplicates("recording").set_index("recording")["recording_id"]
        row_names = [str(ids[r]) for r in rows]
        title = f"{category_label(behavior)} across recordings"
    palette = color_map(sorted(bouts["behavior"].unique(), key=_sort_key), colors)
    height = 0.8
    ax = get_axes(ax, where, figsize=(7.0, 0.9 + 0.35 * max(len(rows), 2)))
    for i, r in enumerate(rows):
        part = sel[sel[key] == r]
        if part.empty:
            continue
        color = palette[behavior] if behavior is not None else palette.get(r, "#777777")
        ax.broken_barh(list(zip(part[start_col].to_numpy(float), part[dur_col].to_numpy(float), strict=True)),
                       (i - height / 2, height), facecolors=color, edgecolors="none")
    ax.set_yticks(np.arange(len(rows)), row_names)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    end = float((bouts[start_col] + bouts[dur_col]).max()) if len(bouts) else 1.0
    ax.set_xlim(0, end)
    ax.set_xlabel("time (s)" if use_s else "time (frames)")
    ax.set_title(title)
    tidy_axes(ax)
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    return ax


def _sort_key(v):
    return (str(type(v)), v)
