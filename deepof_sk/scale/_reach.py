"""How far along time each step looks: the overlap a chunked transform needs, and which steps use global statistics.

A step's *temporal reach* is the number of frames on each side of a frame that its output at that frame depends on.
A chunk extended by at least the total reach of a pipeline on both sides gives, on its central part, the values of
the unchunked run. Steps that use a statistic of the whole recording (a mean, a percentile) have no finite reach:
they are *global* and need a first pass (see :mod:`deepof_sk.scale._global`) or are approximated per chunk.

Resolution order for an estimator: its own ``_temporal_reach(fps)`` method (third-party steps and future deepof_sk
steps declare it there); then the table below for the deepof_sk steps that do not declare it yet; then unknown
(``None``), for which the caller warns and uses its default overlap.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["temporal_reach", "global_statistics", "register_temporal_reach", "TemporalReach"]


class TemporalReach(int):
    """A reach in frames (an ``int``) with the notes that qualify it (``notes``: tuple of str)."""

    notes: tuple[str, ...]

    def __new__(cls, frames: int, notes: tuple[str, ...] = ()):
        obj = super().__new__(cls, int(frames))
        obj.notes = tuple(notes)
        return obj


def _frames(value, unit: str, fps: float | None) -> int | None:
    """A duration as frames, rounded up; None when it is in seconds and the frame rate is unknown."""
    if value is None:
        return None
    if unit == "frames":
        return int(math.ceil(float(value)))
    if fps is None:
        return None
    return int(math.ceil(float(value) * float(fps)))


_GAP_NOTE = ("exact unless a NaN gap longer than the overlap straddles a chunk boundary (the step bridges gaps "
             "with the values on both sides, however far)")


def _smoother(est, fps):
    n = _frames(est.window, est.window_unit, fps)
    return None if n is None else TemporalReach(n // 2 + 1, (_GAP_NOTE,) if type(est).__name__ == "SavgolSmoother"
                                                else ())


def _outlier(est, fps):
    if est.method == "speed":
        return TemporalReach(2, (_GAP_NOTE,))
    n = _frames(est.window, est.window_unit, fps)
    return None if n is None else TemporalReach(n // 2 + 1)


def _interpolator(est, fps):
    n = _frames(est.max_gap, est.gap_unit, fps) if est.max_gap is not None else None
    if n is None:
        return None
    notes = (_GAP_NOTE,) if est.gap_policy == "ends" else ()
    return TemporalReach(n + 1, notes)


def _kinematics(est, fps):
    orders = est.order if isinstance(est.order, (list, tuple)) else (est.order,)
    return TemporalReach(2 * max(int(o) for o in orders) + 4)


def _annotator(est, fps):
    """Sum of every window a rule annotator uses (speeds read 4 frames back), doubled: a generous bound."""
    if fps is None:
        return None
    seconds = [getattr(est, name, 0.0) or 0.0 for name in (
        "median_window", "follow_window", "min_follow_duration", "min_immobility_duration", "smoothing_window",
        "min_bout_duration")]
    total = 4 + sum(int(math.ceil(float(s) * float(fps))) for s in seconds)
    for rule in getattr(est, "custom_rules", None) or ():
        total += int(temporal_reach(rule, fps) or 0)
    return TemporalReach(2 * total + 2, (
        "speeds are interpolated across NaN gaps (pandas' interpolate) as in DeepOF: a gap longer than the overlap "
        "that straddles a chunk boundary changes the interpolated speeds next to it",))


def _zero(est, fps):
    return TemporalReach(0)


# deepof_sk steps that do not declare ``_temporal_reach`` themselves (class name -> rule)
_REACH: dict[str, Callable] = {
    "ConfidenceFilter": _zero,
    "PresenceMasker": _zero,
    "ArenaScaler": _zero,
    "ROIMasker": _zero,
    "EgocentricAligner": _zero,
    "DistanceExtractor": _zero,
    "AngleExtractor": _zero,
    "AreaExtractor": _zero,
    "MissingAnnotator": _zero,
    "SavgolSmoother": _smoother,
    "RollingSmoother": _smoother,
    "OutlierFilter": _outlier,
    "Interpolator": _interpolator,
    "KinematicsExtractor": _kinematics,
}

_ANNOTATORS = ("DeepOFAnnotator", "RuleAnnotator", "SocialContactAnnotator", "FollowingAnnotator",
               "ClimbingAnnotator", "ArenaSniffingAnnotator", "ImmobilityAnnotator", "LookaroundAnnotator",
               "ActivityAnnotator", "SniffingAnnotator", "LocomotionAnnotator")
_REACH.update({name: _annotator for name in _ANNOTATORS})

# steps whose output depends on a statistic of the whole recording: name -> (what, how chunking handles it)
_GLOBAL: dict[str, Callable] = {}


def _global_outlier(est):
    if est.method != "deepof":
        return []
    return ["threshold = mean + n_std * std of the residuals of the whole recording: computed in a first pass over "
            "the chunks (streamed statistics), then applied chunk by chunk (exact)"]


def _global_annotator(est):
    out = []
    names = set(est._selected()) if hasattr(est, "_selected") else set()
    if type(est).__name__ == "DeepOFAnnotator":
        if names & {"climb-arena", "sniff-arena"} and isinstance(est.arena, str) and est.arena == "auto":
            out.append("arena='auto' without attrs['arena'] estimates the arena from the tracks of each chunk: "
                       "attach the arena (ArenaDetector / attach_arena) or pass arena=Arena(...)")
        if "climb-arena" in names and est.body_length is None:
            out.append("climb-arena's body length (80th percentile of the backbone length over 5,000 frames): the "
                       "per-frame lengths are streamed in a first pass, the percentile is given to every chunk "
                       "(exact)")
        if "stat-lookaround" in names:
            out.append("stat-lookaround's median nose-ear distances over the recording: the per-frame distances are "
                       "streamed in a first pass, the medians are given to every chunk (exact)")
        if "cum-distance" in names:
            out.append("cum-distance: the running sum is carried from chunk to chunk (exact)")
    return out


def _global_kind(name):
    def rule(est):
        return [f"{name} learns or detects from the whole recording; chunks see part of it (approximation)"]
    return rule


_GLOBAL.update({"OutlierFilter": _global_outlier, "DeepOFAnnotator": _global_annotator,
                "KeypointImputer": _global_kind("KeypointImputer"), "ArenaDetector": _global_kind("ArenaDetector")})


def register_temporal_reach(cls_name: str, rule: Callable) -> None:
    """Declare the reach of a step class that has no ``_temporal_reach`` method.

    Parameters
    ----------
    cls_name : str
        The class name (``type(est).__name__``).
    rule : callable
        ``rule(estimator, fps) -> int or None``: frames on each side, None when unknown.

    Examples
    --------
    >>> register_temporal_reach("MyFilter", lambda est, fps: est.width // 2)
    """
    _REACH[str(cls_name)] = rule


def _steps(estimator):
    steps = getattr(estimator, "steps", None)
    if steps is not None:  # sklearn Pipeline
        return [s for _, s in steps if s not in (None, "passthrough")]
    return None


def temporal_reach(estimator, fps: float | None = None) -> int | None:
    """Frames on each side of a frame that the output of ``estimator`` at that frame depends on.

    Parameters
    ----------
    estimator : estimator or Pipeline
        A poses transformer, a scikit-learn Pipeline of them, or any estimator with a ``_temporal_reach(fps)``
        method.
    fps : float, optional
        Frame rate, to convert windows given in seconds.

    Returns
    -------
    int or None
        The reach (a :class:`TemporalReach`, an ``int`` whose ``notes`` say when it is not exact); for a Pipeline
        the sum over its steps; None when a step's reach is unknown (or unbounded, such as ``Interpolator(
        max_gap=None)``).

    Examples
    --------
    >>> from deepof_sk.preprocessing import SavgolSmoother, make_deepof_preprocessor
    >>> temporal_reach(SavgolSmoother(window=15, polyorder=2))
    8
    >>> temporal_reach(make_deepof_preprocessor(), fps=25)
    15
    """
    steps = _steps(estimator)
    if steps is not None:
        total, notes = 0, []
        for step in steps:
            r = temporal_reach(step, fps)
            if r is None:
                return None
            total += int(r)
            notes += list(getattr(r, "notes", ()))
        return TemporalReach(total, tuple(dict.fromkeys(notes)))
    declared = getattr(estimator, "_temporal_reach", None)
    if callable(declared):
        r = declared(fps)
        return None if r is None else (r if isinstance(r, TemporalReach) else TemporalReach(int(r)))
    rule = _REACH.get(type(estimator).__name__)
    return None if rule is None else rule(estimator, fps)


def global_statistics(estimator) -> list[tuple[str, str]]:
    """The whole-recording statistics ``estimator`` (or a Pipeline's steps) uses, and how chunking treats them.

    Parameters
    ----------
    estimator : estimator or Pipeline
        A poses step or a (possibly nested) Pipeline of them.

    Returns
    -------
    list of (str, str)
        ``(step class name, explanation)`` for every global statistic; empty when every step is local.

    Examples
    --------
    >>> from deepof_sk.preprocessing import make_deepof_preprocessor
    >>> [name for name, _ in global_statistics(make_deepof_preprocessor())]
    ['OutlierFilter']
    """
    steps = _steps(estimator)
    if steps is not None:
        return [item for step in steps for item in global_statistics(step)]
    declared = getattr(estimator, "_global_statistics", None)
    if callable(declared):
        return [(type(estimator).__name__, str(text)) for text in declared()]
    rule = _GLOBAL.get(type(estimator).__name__)
    return [(type(estimator).__name__, text) for text in (rule(estimator) if rule else [])]
