"""DeepOF's full rule set in one estimator, custom rules, and exports (DeepOF's table layout, tidy long format).

* :class:`DeepOFAnnotator` runs every behaviour DeepOF 0.9.0 tags (or a chosen subset) plus user rules, on one
  shared :class:`~deepof_sk.annotation.AnnotationContext` per recording, so speeds and positions are computed once.
* :class:`RuleAnnotator` turns a small function into an annotator (DeepOF's ``DeepOF_behavior`` plug-in): alone, in
  a Pipeline, or in ``DeepOFAnnotator(custom_rules=[...])``. A subclass of :class:`BaseAnnotator` works too.
* :func:`to_deepof_table` writes the columns, order, index and NaN rules of DeepOF's ``supervised_annotation()``
  table (pandas, optionally CSV); :func:`to_long_format` gives one row per frame, animal (or pair) and behaviour.
"""

from __future__ import annotations

from itertools import combinations
from numbers import Integral, Real

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.base import clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from .. import schema as S
from ..utils._warnings import quiet_nan_warnings
from ..validation import check_recordings
from ._activity import ActivityAnnotator, LookaroundAnnotator, SniffingAnnotator
from ._base import (
    ANNOTATION,
    INDIVIDUAL_PAIR,
    KIND_COORD,
    SOCIAL_ANNOTATION,
    SOCIAL_BEHAVIOR,
    AnnotationContext,
    BaseAnnotator,
    BehaviorInfo,
)
from ._filters import remove_short_bouts, smooth_binary_median
from ._individual import (
    INDIVIDUAL_BEHAVIORS,
    ArenaSniffingAnnotator,
    ClimbingAnnotator,
    ImmobilityAnnotator,
    LocomotionAnnotator,
    MissingAnnotator,
    _check_arena,
)
from ._output import store_annotations
from ._roles import resolve_roles
from ._social import CONTACT_BEHAVIORS, FollowingAnnotator, SocialContactAnnotator

__all__ = ["DeepOFAnnotator", "RuleAnnotator", "to_deepof_table", "to_long_format", "DEEPOF_BEHAVIORS"]

#: Every behaviour DeepOF 0.9.0 tags: pair behaviours first, then individual ones, in its column order.
DEEPOF_BEHAVIORS = (*CONTACT_BEHAVIORS, "following", *INDIVIDUAL_BEHAVIORS)

_COMMON = {"roles": [dict, None], "mask_missing": ["boolean"], "n_jobs": [Integral, None]}
_NONNEG = [Interval(Real, 0, None, closed="left")]

# DeepOF parameter key -> (DeepOFAnnotator parameter, given in frames?)
_DEEPOF_KEYS = {
    "close_contact_tol": ("close_contact_tol", False),
    "side_contact_tol": ("side_contact_tol", False),
    "median_filter_width": ("median_window", True),
    "follow_frames": ("follow_window", True),
    "min_follow_frames": ("min_follow_duration", True),
    "follow_tol": ("follow_tol", False),
    "climb_tol": ("climb_tol", False),
    "sniff_arena_tol": ("sniff_arena_tol", False),
    "min_immobility": ("min_immobility_duration", True),
    "stationary_threshold": ("stationary_threshold", False),
    "nose_likelihood": ("nose_likelihood", False),
}


class RuleAnnotator(BaseAnnotator):
    """A custom behaviour from a small function (DeepOF's custom-behaviour API, as an estimator).

    Parameters
    ----------
    rule : callable, optional
        ``rule(ctx, individual) -> (n_time,)`` for ``scope="individual"``, ``rule(ctx, actor, partner) ->
        (n_time,)`` for pair scopes; ``ctx`` is an :class:`~deepof_sk.annotation.AnnotationContext` (positions in
        mm by role, DeepOF speeds in mm/s, confidences, the arena, ``ctx.extra``). Use a module-level function so
        the estimator pickles. None makes the annotator a no-op (like ``FunctionTransformer(func=None)``).
    name : str, default "custom"
        Behaviour name (DeepOF forbids ``_`` in names; so does this class, to keep DeepOF's table readable).
    scope : {"individual", "pair", "symmetric_pair"}, default "individual"
        ``"pair"``: directional, computed for every ordered pair; ``"symmetric_pair"``: computed once per pair
        and mirrored (DeepOF's non-directional behaviours).
    kind : {"binary", "continuous"}, default "binary"
        Binary values are smoothed by ``postprocess``; continuous values are stored as returned.
    postprocess : {"median"} or callable or None, default "median"
        Binary only: DeepOF's binary median filter over ``median_window``; a callable ``f(values, ctx)`` on the
        ``(n_time, n_series)`` array; None for raw values. ``min_bout_duration`` applies afterwards.
    required_roles : tuple of str, default ()
        Roles the rule reads (resolved in ``fit`` so a missing keypoint is reported early).
    median_window : float, default 0.5
        Median filter width, seconds.
    min_bout_duration : float, default 0
        Binary bouts shorter than this are dropped, seconds.
    unit : str, default ""
        Unit of a continuous behaviour.
    extra : dict, optional
        Passed to the rule as ``ctx.extra`` (DeepOF's ``custom_behavior_context``).
    roles, mask_missing, n_jobs
        As for every annotator.

    Attributes
    ----------
    roles_ : dict
        Resolved role -> keypoint mapping.
    behaviors_ : list of str
        ``[name]`` (empty for ``rule=None``).

    Examples
    --------
    >>> import numpy as np
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> def rearing(ctx, individual):  # DeepOF's disabled rearing rule
    ...     close = ctx.distance("nose", "tail_base", individual) < 50
    ...     return close & (ctx.speed("tail_base", individual) < 40)
    >>> ann = RuleAnnotator(rule=rearing, name="rearing", required_roles=("nose", "tail_base"))
    >>> out = ann.fit_transform(make_synthetic_poses(100, scenario="still", random_state=0))
    >>> out.annotation.sel(behavior="rearing").shape
    (100, 1)
    """

    _parameter_constraints = {
        **_COMMON, "rule": [callable, None], "name": [str], "scope": [StrOptions({"individual", "pair",
                                                                                  "symmetric_pair"})],
        "kind": [StrOptions({"binary", "continuous"})], "postprocess": [StrOptions({"median"}), callable, None],
        "required_roles": [list, tuple], "median_window": _NONNEG, "min_bout_duration": _NONNEG, "unit": [str],
        "extra": [dict, None],
    }

    def __init__(self, *, rule=None, name="custom", scope="individual", kind="binary", postprocess="median",
                 required_roles=(), median_window=0.5, min_bout_duration=0.0, unit="", extra=None, roles=None,
                 mask_missing=True, n_jobs=None):
        self.rule = rule
        self.name = name
        self.scope = scope
        self.kind = kind
        self.postprocess = postprocess
        self.required_roles = required_roles
        self.median_window = median_window
        self.min_bout_duration = min_bout_duration
        self.unit = unit
        self.extra = extra
        self.roles = roles
        self.mask_missing = mask_missing
        self.n_jobs = n_jobs

    @property
    def _scope(self):
        return "individual" if self.scope == "individual" else "pair"

    def _check_params(self):
        if not self.name or "_" in self.name:
            raise ValueError(
                f"RuleAnnotator: `name`={self.name!r} must be non-empty and without '_' (DeepOF's table joins "
                "animal ids and names with '_'); use '-' instead."
            )

    def _required_roles(self):
        return tuple(self.required_roles)

    def _behavior_info(self):
        if self.rule is None:
            return {}
        return {self.name: BehaviorInfo(self.kind, self.unit, directional=self.scope == "pair")}

    def _call(self, ctx, *ids) -> np.ndarray:
        value = np.asarray(self.rule(ctx, *ids))
        if value.shape != (ctx.n_frames,):
            raise ValueError(
                f"RuleAnnotator({self.name!r}): the rule returned shape {value.shape} for {ids}; it must return one "
                f"value per frame, shape ({ctx.n_frames},)."
            )
        return value

    def annotate(self, ctx: AnnotationContext) -> dict[str, np.ndarray]:
        if self.rule is None or (self.scope != "individual" and len(ctx.individuals) < 2):
            return {}
        if self.scope == "individual":
            columns = [self._call(ctx, ind) for ind in ctx.individuals]
        elif self.scope == "pair":
            columns = [self._call(ctx, a, b) for a, b in ctx.pairs]
        else:  # computed for (A, B), mirrored to (B, A)
            columns = []
            for i in range(0, len(ctx.pairs), 2):
                value = self._call(ctx, *ctx.pairs[i])
                columns += [value, value]
        values = np.stack(columns, axis=1)
        if self.kind == "continuous":
            return {self.name: values.astype(float)}
        binary = np.nan_to_num(values.astype(float), nan=0.0) != 0
        if self.postprocess == "median":
            binary = smooth_binary_median(binary, ctx.frames(self.median_window))
        elif callable(self.postprocess):
            binary = np.asarray(self.postprocess(binary, ctx), dtype=bool)
        if self.min_bout_duration > 0:
            binary = remove_short_bouts(binary, ctx.frames(self.min_bout_duration))
        return {self.name: binary}


class DeepOFAnnotator(BaseAnnotator):
    """Every behaviour DeepOF 0.9.0 tags, in one call, with its defaults; plus custom rules.

    Parameters
    ----------
    behaviors : list of str, optional
        Subset of :data:`DEEPOF_BEHAVIORS` (names as in DeepOF's table); default all.
    arena : "auto", "from_attrs", Arena or dict, default "auto"
        Arena for climb-arena and sniff-arena (see :class:`ClimbingAnnotator`).
    close_contact_tol, side_contact_tol, follow_tol, climb_tol, sniff_arena_tol, stationary_threshold, \
nose_likelihood : float
        DeepOF's supervised parameters (mm, mm/s, fraction of body length, likelihood): 25, 50, 25, 0.15, 12.5,
        40, 0.85.
    median_window : float, default 0.5
        Binary median filter, seconds (DeepOF's ``median_filter_width`` = fps / 2 frames).
    follow_window : float, default 0.5
        Tail-base history of following, seconds (``follow_frames``).
    min_follow_duration : float, default 0.25
        Minimum following bout and smoothing length of the activity states, seconds (``min_follow_frames``).
    min_immobility_duration : float, default 1.0
        Minimum immobility bout, seconds (``min_immobility``).
    immobility_threshold : float, default 20
        Speed threshold of the rule-based immobility (mm/s), used without ``immobility_classifier``.
    immobility_classifier : "freezing" or fitted estimator, optional
        ``"freezing"``: the shipped freezing/immobility model (see :class:`ImmobilityAnnotator`).
        Frame classifier for immobility (see :class:`ImmobilityAnnotator`).
    body_length : float, optional
        Body length in mm for climb-arena; default ``attrs["deepof_sk_body_length"]`` when the dataset has it, else
        DeepOF's estimate (see Notes).
    custom_rules : list of annotators, optional
        :class:`RuleAnnotator` instances or other :class:`BaseAnnotator` subclasses; their behaviours come first,
        as in DeepOF. They share this annotator's roles and context (``extra``).
    extra : dict, optional
        ``ctx.extra`` for the custom rules.
    presence_threshold : float, default 0.5
        An animal is missing where the median confidence of its keypoints is at or below this.
    roles, mask_missing, n_jobs
        As for every annotator.

    Attributes
    ----------
    annotators_ : list of BaseAnnotator
        The configured rule annotators, custom ones first.
    roles_ : dict
        Resolved role -> keypoint mapping (union of what the selected behaviours need).
    behaviors_ : list of str
        Behaviours added, individual then pair.

    Notes
    -----
    Output: ``annotation`` (time, individual, behavior) and, with two or more animals, ``social_annotation``
    (time, individual_pair, social_behavior); NaN where an animal is missing (``missing`` itself is never masked).
    :func:`to_deepof_table` turns a result into DeepOF's table. Use :meth:`from_deepof_parameters` to start from
    DeepOF's parameter dict (frames). Differences from DeepOF are listed in ``docs/annotation.md``.

    Two rules use a statistic of the whole recording, which a dataset can carry instead (in mm; JSON strings or
    dicts): ``attrs["deepof_sk_body_length"] = {individual: length}`` for climb-arena's body length (a given
    ``body_length=`` wins), and ``attrs["deepof_sk_lookaround_nose_ear"] = {individual: {"left_ear": d,
    "right_ear": d}}`` for stat-lookaround's median nose-ear distances. :func:`~deepof_sk.scale.transform_in_chunks`
    sets them from a first pass over the chunks, so chunked annotations equal the unchunked ones.

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> ds = make_synthetic_poses(200, scenario="follow", random_state=0)
    >>> out = DeepOFAnnotator().fit_transform(ds)
    >>> out.annotation.sizes["behavior"], out.social_annotation.sizes["social_behavior"]
    (12, 6)
    """

    _parameter_constraints = {
        **_COMMON, "behaviors": [list, tuple, None], "arena": "no_validation",
        "close_contact_tol": _NONNEG, "side_contact_tol": _NONNEG, "follow_tol": _NONNEG, "climb_tol": _NONNEG,
        "sniff_arena_tol": _NONNEG, "stationary_threshold": _NONNEG,
        "nose_likelihood": [Interval(Real, 0, 1, closed="both")], "median_window": _NONNEG,
        "follow_window": _NONNEG, "min_follow_duration": _NONNEG, "min_immobility_duration": _NONNEG,
        "immobility_threshold": _NONNEG, "immobility_classifier": [HasMethods(["predict"]), StrOptions({"freezing"}), None],
        "body_length": [Interval(Real, 0, None, closed="neither"), None], "custom_rules": [list, tuple, None],
        "extra": [dict, None], "presence_threshold": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(self, *, behaviors=None, arena="auto", close_contact_tol=25.0, side_contact_tol=50.0,
                 follow_tol=25.0, climb_tol=0.15, sniff_arena_tol=12.5, stationary_threshold=40.0,
                 nose_likelihood=0.85, median_window=0.5, follow_window=0.5, min_follow_duration=0.25,
                 min_immobility_duration=1.0, immobility_threshold=20.0, immobility_classifier=None,
                 body_length=None, custom_rules=None, extra=None, presence_threshold=0.5, roles=None,
                 mask_missing=True, n_jobs=None):
        self.behaviors = behaviors
        self.arena = arena
        self.close_contact_tol = close_contact_tol
        self.side_contact_tol = side_contact_tol
        self.follow_tol = follow_tol
        self.climb_tol = climb_tol
        self.sniff_arena_tol = sniff_arena_tol
        self.stationary_threshold = stationary_threshold
        self.nose_likelihood = nose_likelihood
        self.median_window = median_window
        self.follow_window = follow_window
        self.min_follow_duration = min_follow_duration
        self.min_immobility_duration = min_immobility_duration
        self.immobility_threshold = immobility_threshold
        self.immobility_classifier = immobility_classifier
        self.body_length = body_length
        self.custom_rules = custom_rules
        self.extra = extra
        self.presence_threshold = presence_threshold
        self.roles = roles
        self.mask_missing = mask_missing
        self.n_jobs = n_jobs

    @classmethod
    def from_deepof_parameters(cls, params: dict, *, fps: float, **kwargs) -> DeepOFAnnotator:
        """Build from DeepOF's ``get_supervised_parameters()`` dict (widths in frames at ``fps``).

        Examples
        --------
        >>> DeepOFAnnotator.from_deepof_parameters({"median_filter_width": 12}, fps=25).median_window
        0.48
        """
        unknown = sorted(set(params) - set(_DEEPOF_KEYS))
        if unknown:
            raise ValueError(
                f"DeepOFAnnotator.from_deepof_parameters: unknown DeepOF parameters {unknown}; known: "
                f"{sorted(_DEEPOF_KEYS)}."
            )
        for key, value in params.items():
            name, in_frames = _DEEPOF_KEYS[key]
            kwargs[name] = float(value) / float(fps) if in_frames else value
        return cls(**kwargs)

    # -- configuration -----------------------------------------------------------------------------------------
    def _selected(self) -> list[str]:
        return list(DEEPOF_BEHAVIORS) if self.behaviors is None else [str(b) for b in self.behaviors]

    def _builtin(self) -> list[BaseAnnotator]:
        chosen = set(self._selected())
        common = {"roles": self.roles, "mask_missing": self.mask_missing}
        candidates = [
            (set(CONTACT_BEHAVIORS), lambda: SocialContactAnnotator(
                behaviors=[b for b in CONTACT_BEHAVIORS if b in chosen], close_contact_tol=self.close_contact_tol,
                side_contact_tol=self.side_contact_tol, median_window=self.median_window, **common)),
            ({"following"}, lambda: FollowingAnnotator(
                follow_window=self.follow_window, follow_tol=self.follow_tol,
                stationary_threshold=self.stationary_threshold, median_window=self.median_window,
                min_bout_duration=self.min_follow_duration, **common)),
            ({"climb-arena"}, lambda: ClimbingAnnotator(
                arena=self.arena, climb_tol=self.climb_tol, body_length=self.body_length,
                median_window=self.median_window, **common)),
            ({"sniff-arena"}, lambda: ArenaSniffingAnnotator(
                arena=self.arena, sniff_arena_tol=self.sniff_arena_tol,
                stationary_threshold=self.stationary_threshold, median_window=self.median_window, **common)),
            ({"immobility"}, lambda: ImmobilityAnnotator(
                classifier=self.immobility_classifier, speed_threshold=self.immobility_threshold,
                median_window=self.median_window, min_bout_duration=self.min_immobility_duration, **common)),
            ({"stat-lookaround"}, lambda: LookaroundAnnotator(
                stationary_threshold=self.stationary_threshold, nose_likelihood=self.nose_likelihood,
                side_contact_tol=self.side_contact_tol, smoothing_window=self.min_follow_duration, **common)),
            ({"stat-active", "stat-passive", "moving"}, lambda: ActivityAnnotator(
                stationary_threshold=self.stationary_threshold, nose_likelihood=self.nose_likelihood,
                smoothing_window=self.min_follow_duration, **common)),
            ({"sniffing"}, lambda: SniffingAnnotator(
                stationary_threshold=self.stationary_threshold, nose_likelihood=self.nose_likelihood, **common)),
            ({"distance", "cum-distance", "speed"}, lambda: LocomotionAnnotator(**common)),
            ({"missing"}, lambda: MissingAnnotator(presence_threshold=self.presence_threshold)),
        ]
        return [make() for names, make in candidates if names & chosen]

    def _check_params(self):
        where = type(self).__name__
        unknown = sorted(set(self._selected()) - set(DEEPOF_BEHAVIORS))
        if unknown or (self.behaviors is not None and not self.behaviors):
            raise ValueError(
                f"{where}: `behaviors` must be a non-empty subset of {list(DEEPOF_BEHAVIORS)}; unknown: {unknown}. "
                "Add your own behaviours with custom_rules=[RuleAnnotator(...)]."
            )
        if {"climb-arena", "sniff-arena"} & set(self._selected()):
            _check_arena(self.arena, where)
        customs = []
        for rule in self.custom_rules or ():
            if not isinstance(rule, BaseAnnotator):
                raise TypeError(
                    f"{where}: every element of `custom_rules` must be an annotator (RuleAnnotator(rule=f, name=...) "
                    f"or a BaseAnnotator subclass); got {type(rule).__name__}. Wrap a function in RuleAnnotator."
                )
            customs.append(clone(rule))
        builtin = self._builtin()
        for ann in [*customs, *builtin]:
            ann._validate_params()
            ann._check_params()
        names = [n for ann in customs for n in ann._behavior_info()]
        clash = sorted({n for n in names if n in DEEPOF_BEHAVIORS or names.count(n) > 1})
        if clash:
            raise ValueError(f"{where}: custom behaviour names {clash} are DeepOF's or repeated; rename them.")
        self.annotators_ = [*customs, *builtin]

    def _roles_needed(self) -> tuple[tuple, tuple]:
        required, optional = [], []
        for ann in self.annotators_:
            required += ann._required_roles()
            optional += ann._optional_roles()
        return tuple(dict.fromkeys(required)), tuple(dict.fromkeys(optional))

    def _fit_recordings(self, recordings, y=None):
        where = type(self).__name__
        self._check_params()
        required, optional = self._roles_needed()
        found = resolve_roles(self.keypoints_, self.roles, optional=(*required, *optional), where=where)
        missing = {}
        for ann in self.annotators_:
            for role in ann._required_roles():
                if role not in found:
                    missing.setdefault(role, []).extend(ann._behavior_info())
        if missing:
            detail = "; ".join(f"{r} (needed by {sorted(set(b))})" for r, b in sorted(missing.items()))
            raise ValueError(
                f"{where}: cannot map the keypoint roles {sorted(missing)} to this skeleton (keypoints: "
                f"{sorted(map(str, self.keypoints_))}): {detail}. Pass roles={{'<role>': '<keypoint>'}}, or leave "
                "those behaviours out with behaviors=[...]."
            )
        self.roles_ = found
        self.behaviors_ = [n for ann in self.annotators_ for n in ann._behavior_info()
                           if ann._scope == "individual" and self._keep(ann, n)]
        self.behaviors_ += [n for ann in self.annotators_ for n in ann._behavior_info()
                            if ann._scope == "pair" and self._keep(ann, n)]

    def _keep(self, ann, name: str) -> bool:
        """Custom behaviours are always kept; DeepOF's only when selected (an annotator may compute more)."""
        return name not in DEEPOF_BEHAVIORS or name in self._selected()

    def _behavior_info(self):
        info = {}
        for ann in self.annotators_:
            info.update(ann._behavior_info())
        return info

    def _transform_recording(self, ds: xr.Dataset) -> xr.Dataset:
        where = type(self).__name__
        ctx = AnnotationContext(ds, self.roles_, where=where, presence_threshold=self.presence_threshold,
                                extra=self.extra)
        if {"climb-arena", "sniff-arena"} & set(self._selected()):
            ctx.arena(self.arena)  # first: an arena estimated from the tracks frees its temporaries before the rest
        ctx.speeds(ctx.available("locomotion"))  # one pass for every rule
        results = {"individual": {}, "pair": {}}
        info = {}
        with quiet_nan_warnings():
            for ann in self.annotators_:
                out = ann.annotate(ctx)
                meta = ann._behavior_info()
                for name, values in out.items():
                    if self._keep(ann, name):
                        results[ann._scope][name] = values
                        info[name] = meta[name]
        ctx.presence  # noqa: B018 - computed now, kept by _release
        ctx._release()  # free the context's caches before the results are stored (lower peak memory)
        individual = results["individual"]
        if "missing" in individual:  # DeepOF puts it last
            individual["missing"] = individual.pop("missing")
        out = store_annotations(ds, ctx, individual, info, scope="individual", mask_missing=self.mask_missing,
                                where=where)
        return store_annotations(out, ctx, results["pair"], info, scope="pair", mask_missing=self.mask_missing,
                                 where=where)


# -- exports ---------------------------------------------------------------------------------------------------
def _time_index(ds: xr.Dataset) -> list[str]:
    """DeepOF's index: timedelta strings at 1 / fps, rounded to ms, without the "0 days " prefix."""
    fps = ds.attrs.get(S.FPS)
    seconds = np.arange(ds.sizes[S.TIME]) / float(fps) if fps else np.asarray(ds[S.TIME].values, dtype=float)
    td = pd.to_timedelta(seconds, unit="s").round("ms")
    return [str(t).replace("0 days ", "", 1) if t.days == 0 else str(t) for t in td]


def _presence(ds: xr.Dataset) -> np.ndarray:
    if ANNOTATION in ds and "missing" in [str(b) for b in ds[ANNOTATION][S.BEHAVIOR].values]:
        missing = ds[ANNOTATION].sel({S.BEHAVIOR: "missing"}).transpose(S.TIME, S.INDIVIDUAL).values
        return ~(np.nan_to_num(missing) > 0)
    ctx = AnnotationContext(ds, {}, where="to_deepof_table") if ds.attrs.get(S.FPS) else None
    if ctx is None:
        return np.ones((ds.sizes[S.TIME], ds.sizes[S.INDIVIDUAL]), dtype=bool)
    return ctx.presence


def to_deepof_table(ds: xr.Dataset, path=None) -> pd.DataFrame:
    """DeepOF's ``supervised_annotation()`` table for one annotated recording.

    Columns: for every animal pair (A, B) in order, ``A_B_<behaviour>`` (directional behaviours also ``B_A_...``),
    then for every animal ``[A_]<behaviour>`` (no prefix with a single animal), then ``[A_]missing`` last; index:
    timedelta strings (``"00:00:00.040000"``). Values are floats, undefined values (the first frames of speed)
    become 0 and every column of a missing animal is NaN, as in DeepOF; ``missing`` is an integer column.

    Parameters
    ----------
    ds : xarray.Dataset
        Output of the annotators (``annotation`` and/or ``social_annotation``).
    path : str or path-like, optional
        Also write the table to this CSV file.

    Returns
    -------
    pandas.DataFrame
    """
    if ANNOTATION not in ds and SOCIAL_ANNOTATION not in ds:
        raise ValueError("to_deepof_table: the dataset has no `annotation` / `social_annotation`; annotate it first.")
    ids = [str(i) for i in ds[S.INDIVIDUAL].values]
    present = _presence(ds)
    prefix = (lambda a: f"{a}_") if len(ids) > 1 else (lambda a: "")
    cols: dict[str, np.ndarray] = {}
    if SOCIAL_ANNOTATION in ds:
        soc = ds[SOCIAL_ANNOTATION].transpose(S.TIME, INDIVIDUAL_PAIR, SOCIAL_BEHAVIOR)
        pairs = {(str(a), str(b)): j for j, (a, b) in enumerate(zip(soc["actor"].values, soc["partner"].values,
                                                                    strict=True))}
        values = np.nan_to_num(soc.values)
        for a, b in combinations(ids, 2):
            ia, ib = ids.index(a), ids.index(b)
            both = present[:, ia] & present[:, ib]
            for k, beh in enumerate(soc[SOCIAL_BEHAVIOR].values):
                orders = [(a, b), (b, a)] if bool(soc["directional"].values[k]) else [(a, b)]
                for p, q in orders:
                    cols[f"{p}_{q}_{beh}"] = np.where(both, values[:, pairs[(p, q)], k], np.nan)
    if ANNOTATION in ds:
        ann = ds[ANNOTATION].transpose(S.TIME, S.INDIVIDUAL, S.BEHAVIOR)
        names = [str(b) for b in ann[S.BEHAVIOR].values]
        values = np.nan_to_num(ann.values)
        for i, a in enumerate(ids):
            for k, beh in enumerate(names):
                if beh != "missing":
                    cols[f"{prefix(a)}{beh}"] = np.where(present[:, i], values[:, i, k], np.nan)
    table = pd.DataFrame(cols, index=_time_index(ds))
    for i, a in enumerate(ids):
        table[f"{prefix(a)}missing"] = (~present[:, i]).astype(int)
    if path is not None:
        table.to_csv(path)
    return table


def _recording_name(ds: xr.Dataset, index: int) -> str:
    return str(ds.attrs.get("recording_id") or ds.attrs.get(S.SOURCE_FILE) or f"recording_{index}")


def to_long_format(X, *, dropna: bool = False) -> pd.DataFrame:
    """Tidy table: one row per recording, frame, animal (or pair) and behaviour.

    Columns ``recording, frame, time, individual, partner, behavior, kind, value``; ``partner`` is empty for
    individual behaviours, and non-directional pair behaviours appear once per pair (first animal first).

    Parameters
    ----------
    X : xarray.Dataset or sequence of xarray.Dataset
        Annotated recordings.
    dropna : bool, default False
        Drop rows whose value is NaN (missing animals).

    Returns
    -------
    pandas.DataFrame
    """
    recordings, _ = check_recordings(X, where="to_long_format")
    parts = []
    for r, ds in enumerate(recordings):
        name = _recording_name(ds, r)
        time = np.asarray(ds[S.TIME].values)
        for var, entity, bdim in ((ANNOTATION, S.INDIVIDUAL, S.BEHAVIOR),
                                  (SOCIAL_ANNOTATION, INDIVIDUAL_PAIR, SOCIAL_BEHAVIOR)):
            if var not in ds:
                continue
            da = ds[var].transpose(S.TIME, entity, bdim)
            behaviors = [str(b) for b in da[bdim].values]
            kinds = [str(k) for k in da[KIND_COORD[bdim]].values] if KIND_COORD[bdim] in da.coords else \
                ["binary"] * len(behaviors)
            if var == ANNOTATION:
                actors = [str(i) for i in da[entity].values]
                partners = [""] * len(actors)
            else:
                actors = [str(a) for a in da["actor"].values]
                partners = [str(p) for p in da["partner"].values]
            order = [str(i) for i in ds[S.INDIVIDUAL].values]
            n_t, n_e, n_b = da.shape
            for k, beh in enumerate(behaviors):
                directional = bool(da["directional"].values[k]) if "directional" in da.coords else True
                keep = [e for e in range(n_e) if directional or order.index(actors[e]) < order.index(partners[e])]
                block = da.values[:, keep, k]
                parts.append(pd.DataFrame({
                    "recording": name,
                    "frame": np.repeat(np.arange(n_t), len(keep)),
                    "time": np.repeat(time, len(keep)),
                    "individual": np.tile(np.asarray(actors, dtype=object)[keep], n_t),
                    "partner": np.tile(np.asarray(partners, dtype=object)[keep], n_t),
                    "behavior": beh,
                    "kind": kinds[k],
                    "value": block.reshape(-1),
                }))
    if not parts:
        raise ValueError("to_long_format: no `annotation` / `social_annotation` variable; annotate first.")
    out = pd.concat(parts, ignore_index=True)
    return out.dropna(subset=["value"]).reset_index(drop=True) if dropna else out

