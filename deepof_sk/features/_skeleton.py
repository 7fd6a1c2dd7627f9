"""Body-part graphs: which keypoints are joined, which 3-node paths make angles, which polygons make areas.

:class:`Skeleton` is an immutable value object. Presets reproduce DeepOF's ``deepof_14``, ``deepof_11`` and
``deepof_8`` graphs (their edges, DeepOF's head/torso/back/full polygons and its inter-animal edges); any other
skeleton is built from an edge list or an adjacency dict, so no body-part name is hard-coded in the feature
estimators.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations

import numpy as np
import xarray as xr

from .. import schema as S

__all__ = ["Skeleton", "SKELETON_PRESETS", "check_skeleton"]

_DEEPOF_14 = (
    "Nose", "Left_ear", "Right_ear", "Spine_1", "Center", "Left_fhip", "Right_fhip", "Spine_2", "Left_bhip",
    "Right_bhip", "Tail_base", "Tail_1", "Tail_2", "Tail_tip",
)
_DEEPOF_11_ADJACENCY = {
    "Nose": ("Left_ear", "Right_ear"),
    "Spine_1": ("Center", "Left_ear", "Right_ear"),
    "Center": ("Left_fhip", "Right_fhip", "Spine_2"),
    "Spine_2": ("Left_bhip", "Right_bhip", "Tail_base"),
}
_TAIL_ADJACENCY = {"Tail_base": ("Tail_1",), "Tail_1": ("Tail_2",), "Tail_2": ("Tail_tip",)}
_DEEPOF_8_ADJACENCY = {
    "Nose": ("Left_ear", "Right_ear"),
    "Center": ("Left_fhip", "Right_fhip", "Tail_base", "Left_ear", "Right_ear"),
    "Tail_base": ("Tail_tip",),
}
_DEEPOF_AREAS = {
    "head": ("Nose", "Left_ear", "Left_fhip", "Spine_1"),
    "torso": ("Spine_1", "Right_fhip", "Spine_2", "Left_fhip"),
    "back": ("Spine_1", "Right_bhip", "Spine_2", "Left_bhip"),
    "full": ("Nose", "Left_ear", "Left_fhip", "Left_bhip", "Tail_base", "Right_bhip", "Right_fhip", "Right_ear"),
}
_DEEPOF_INTER = (("Nose", "Nose"), ("Tail_base", "Tail_base"), ("Nose", "Tail_base"))


def _edges_of(adjacency: Mapping[str, Iterable[str]]) -> list[tuple[str, str]]:
    return [(str(a), str(b)) for a, nbrs in adjacency.items() for b in nbrs]


def _preset_definitions() -> dict[str, dict]:
    deepof_11 = [k for k in _DEEPOF_14 if not k.startswith("Tail_") or k == "Tail_base"]
    deepof_8 = ["Nose", "Left_ear", "Right_ear", "Center", "Left_fhip", "Right_fhip", "Tail_base", "Tail_tip"]
    full_8 = tuple(k for k in _DEEPOF_AREAS["full"] if k in deepof_8)
    return {
        "deepof_14": dict(
            keypoints=_DEEPOF_14,
            edges=_edges_of(_DEEPOF_11_ADJACENCY) + _edges_of(_TAIL_ADJACENCY),
            areas=_DEEPOF_AREAS,
            inter_animal_edges=_DEEPOF_INTER,
        ),
        "deepof_11": dict(
            keypoints=deepof_11,
            edges=_edges_of(_DEEPOF_11_ADJACENCY),
            areas=_DEEPOF_AREAS,
            inter_animal_edges=_DEEPOF_INTER,
        ),
        # DeepOF computes only the "full" polygon for this scheme, through the parts it has.
        "deepof_8": dict(
            keypoints=deepof_8,
            edges=_edges_of(_DEEPOF_8_ADJACENCY),
            areas={"full": full_8},
            inter_animal_edges=_DEEPOF_INTER,
        ),
    }


#: Names accepted by :meth:`Skeleton.from_preset`.
SKELETON_PRESETS: tuple[str, ...] = ("deepof_14", "deepof_11", "deepof_8")


def _names(values, what: str, where: str) -> tuple[str, ...]:
    if isinstance(values, str):
        raise TypeError(f"{where}: `{what}` must be a sequence of names, not the single string {values!r}.")
    return tuple(str(v) for v in values)


class Skeleton:
    """An undirected body-part graph with named polygons, for distances, angles and areas.

    Parameters
    ----------
    keypoints : sequence of str, optional
        Node names, in the order features are produced. Default: the nodes of ``edges`` in order of appearance.
    edges : sequence of (str, str), default ()
        Undirected edges; duplicates (in either direction) are dropped, self-loops are an error.
    areas : mapping of str to sequence of str, optional
        Named polygons, each an ordered ring of at least 3 keypoints (e.g. DeepOF's ``head``, ``torso``,
        ``back``, ``full``).
    inter_animal_edges : sequence of (str, str), default ()
        Keypoint pairs joined between every two animals. ``(u, v)`` with ``u != v`` stands for both
        directions (animal i's ``u`` to animal j's ``v`` and animal j's ``u`` to animal i's ``v``).
    name : str, optional
        A label (the preset name for presets).

    Attributes
    ----------
    keypoints : tuple of str
    edges : tuple of (str, str)
    areas : dict of str to tuple of str
    inter_animal_edges : tuple of (str, str)
    name : str or None

    Raises
    ------
    ValueError
        An edge, area or inter-animal edge names keypoints that are not nodes (all listed), an edge is a
        self-loop, or an area has fewer than 3 vertices.

    Examples
    --------
    >>> sk = Skeleton.from_preset("deepof_14")
    >>> len(sk.keypoints), len(sk.edges), len(sk.angle_triplets()), sorted(sk.areas)
    (14, 14, 21, ['back', 'full', 'head', 'torso'])
    >>> Skeleton.from_adjacency({"nose": ["neck"], "neck": ["tail"]}).angle_triplets()
    [('nose', 'neck', 'tail')]
    """

    __slots__ = ("_keypoints", "_edges", "_areas", "_inter", "_name")

    def __init__(
        self,
        keypoints: Sequence[str] | None = None,
        edges: Sequence[tuple[str, str]] = (),
        *,
        areas: Mapping[str, Sequence[str]] | None = None,
        inter_animal_edges: Sequence[tuple[str, str]] = (),
        name: str | None = None,
    ):
        where = "Skeleton"
        pairs = []
        for e in edges:
            e = _names(e, "edges", where)
            if len(e) != 2:
                raise ValueError(f"{where}: every edge must be a pair of keypoint names; got {e!r}.")
            pairs.append(e)
        if keypoints is None:
            seen: dict[str, None] = {}
            for a, b in pairs:
                seen.setdefault(a)
                seen.setdefault(b)
            keypoints = tuple(seen)
        keypoints = _names(keypoints, "keypoints", where)
        dupes = sorted({k for k in keypoints if keypoints.count(k) > 1})
        if dupes:
            raise ValueError(f"{where}: duplicate keypoints {dupes}; every keypoint name must be unique.")
        known = set(keypoints)
        loops = sorted({a for a, b in pairs if a == b})
        if loops:
            raise ValueError(f"{where}: self-loop edges on {loops}; an edge joins two different keypoints.")
        areas = {} if areas is None else {str(k): _names(v, f"areas[{k!r}]", where) for k, v in areas.items()}
        small = sorted(k for k, v in areas.items() if len(v) < 3)
        if small:
            raise ValueError(f"{where}: areas {small} have fewer than 3 vertices; a polygon needs at least 3.")
        inter = []
        for e in inter_animal_edges:
            e = _names(e, "inter_animal_edges", where)
            if len(e) != 2:
                raise ValueError(f"{where}: every inter-animal edge must be a pair of keypoint names; got {e!r}.")
            inter.append(e)
        used = {k for e in pairs for k in e} | {k for v in areas.values() for k in v} | {k for e in inter for k in e}
        unknown = sorted(used - known)
        if unknown:
            raise ValueError(
                f"{where}: edges/areas name keypoints {unknown} that are not in `keypoints` {list(keypoints)}; "
                "add them to `keypoints` or fix the names."
            )
        order = {k: i for i, k in enumerate(keypoints)}
        unique: dict[frozenset, tuple[str, str]] = {}
        for a, b in pairs:
            unique.setdefault(frozenset((a, b)), (a, b) if order[a] < order[b] else (b, a))
        inter_unique: dict[tuple[str, str], None] = {}
        for a, b in inter:
            key = (a, b) if order[a] <= order[b] else (b, a)
            inter_unique.setdefault(key)
        self._keypoints = keypoints
        self._edges = tuple(unique.values())
        self._areas = areas
        self._inter = tuple(inter_unique)
        self._name = None if name is None else str(name)

    # -- constructors ----------------------------------------------------------------------------------------
    @classmethod
    def from_preset(cls, name: str) -> Skeleton:
        """DeepOF's body-part graph ``"deepof_14"``, ``"deepof_11"`` (no tail chain) or ``"deepof_8"``.

        Parameters
        ----------
        name : {"deepof_14", "deepof_11", "deepof_8"}
            Preset name (see :data:`SKELETON_PRESETS`).

        Returns
        -------
        Skeleton
            With DeepOF's edges, its area polygons (``head``, ``torso``, ``back``, ``full``; only ``full``,
            through the parts present, for ``deepof_8``) and its inter-animal edges (Nose-Nose,
            Tail_base-Tail_base, Nose-Tail_base both ways).
        """
        presets = _preset_definitions()
        if name not in presets:
            raise ValueError(
                f"Skeleton.from_preset: unknown preset {name!r}; choose one of {list(SKELETON_PRESETS)} or build a "
                "custom skeleton with Skeleton.from_edges / Skeleton.from_adjacency."
            )
        return cls(**presets[name], name=name)

    @classmethod
    def from_edges(cls, edges: Sequence[tuple[str, str]], keypoints: Sequence[str] | None = None, **kwargs) -> Skeleton:
        """A skeleton from an edge list (``[("nose", "neck"), ...]``); extra keyword arguments as in the class."""
        return cls(keypoints, edges, **kwargs)

    @classmethod
    def from_adjacency(cls, adjacency: Mapping[str, Iterable[str]], **kwargs) -> Skeleton:
        """A skeleton from an adjacency dict (``{"nose": ["left ear", "right ear"], ...}``), DeepOF's custom format.

        Keypoints are the keys and their neighbours in order of appearance; extra keyword arguments as in the class.
        """
        if not isinstance(adjacency, Mapping):
            raise TypeError(f"Skeleton.from_adjacency: expected a dict of neighbour lists; got {type(adjacency).__name__}.")
        seen: dict[str, None] = {}
        for a, nbrs in adjacency.items():
            seen.setdefault(str(a))
            for b in _names(nbrs, f"adjacency[{a!r}]", "Skeleton.from_adjacency"):
                seen.setdefault(b)
        kwargs.setdefault("keypoints", tuple(seen))
        return cls(edges=_edges_of({a: _names(n, "adjacency", "Skeleton") for a, n in adjacency.items()}), **kwargs)

    # -- read-only views -------------------------------------------------------------------------------------
    @property
    def keypoints(self) -> tuple[str, ...]:
        return self._keypoints

    @property
    def edges(self) -> tuple[tuple[str, str], ...]:
        return self._edges

    @property
    def areas(self) -> dict[str, tuple[str, ...]]:
        return dict(self._areas)

    @property
    def inter_animal_edges(self) -> tuple[tuple[str, str], ...]:
        return self._inter

    @property
    def name(self) -> str | None:
        return self._name

    # -- graph queries ---------------------------------------------------------------------------------------
    def adjacency(self) -> dict[str, tuple[str, ...]]:
        """Neighbours of every keypoint, in keypoint order."""
        order = {k: i for i, k in enumerate(self._keypoints)}
        nbrs: dict[str, list[str]] = {k: [] for k in self._keypoints}
        for a, b in self._edges:
            nbrs[a].append(b)
            nbrs[b].append(a)
        return {k: tuple(sorted(v, key=order.__getitem__)) for k, v in nbrs.items()}

    def neighbors(self, keypoint: str) -> tuple[str, ...]:
        """Keypoints joined to ``keypoint`` by an edge."""
        if keypoint not in self._keypoints:
            raise ValueError(f"Skeleton: unknown keypoint {keypoint!r}; the skeleton has {list(self._keypoints)}.")
        return self.adjacency()[keypoint]

    def angle_triplets(self) -> list[tuple[str, str, str]]:
        """Every connected 3-node path ``(a, b, c)`` (edges a-b and b-c); the angle is measured at ``b``.

        For each keypoint ``b`` of degree >= 2 (in keypoint order), every unordered pair of its neighbours
        (in keypoint order) gives one path, as in DeepOF's angle features.
        """
        out = []
        for b, nbrs in self.adjacency().items():
            out.extend((a, b, c) for a, c in combinations(nbrs, 2))
        return out

    # -- derived skeletons -----------------------------------------------------------------------------------
    def subset(self, keypoints: Iterable[str]) -> Skeleton:
        """The sub-skeleton on ``keypoints`` (DeepOF's ``exclude_bodyparts`` is the complement).

        Edges and inter-animal edges between kept keypoints are kept; an area is kept only if all its vertices
        are kept. Keypoint order follows this skeleton; the result has no preset name.

        Raises
        ------
        ValueError
            ``keypoints`` names keypoints this skeleton does not have (all listed).
        """
        keep = set(_names(keypoints, "keypoints", "Skeleton.subset"))
        unknown = sorted(keep - set(self._keypoints))
        if unknown:
            raise ValueError(
                f"Skeleton.subset: unknown keypoints {unknown}; the skeleton has {list(self._keypoints)}."
            )
        return Skeleton(
            [k for k in self._keypoints if k in keep],
            [e for e in self._edges if set(e) <= keep],
            areas={n: v for n, v in self._areas.items() if set(v) <= keep},
            inter_animal_edges=[e for e in self._inter if set(e) <= keep],
        )

    def rename(self, mapping: Mapping[str, str]) -> Skeleton:
        """The same graph with keypoints renamed (``{"Nose": "nose", ...}``); unmapped names are kept."""
        m = {str(k): str(v) for k, v in mapping.items()}
        unknown = sorted(set(m) - set(self._keypoints))
        if unknown:
            raise ValueError(f"Skeleton.rename: unknown keypoints {unknown}; the skeleton has {list(self._keypoints)}.")

        def r(names):
            return tuple(m.get(k, k) for k in names)

        return Skeleton(
            r(self._keypoints),
            [r(e) for e in self._edges],
            areas={n: r(v) for n, v in self._areas.items()},
            inter_animal_edges=[r(e) for e in self._inter],
        )

    # -- dataset checks --------------------------------------------------------------------------------------
    def missing_keypoints(self, ds_or_keypoints) -> list[str]:
        """Skeleton keypoints absent from a dataset (or from a list of names), sorted."""
        if isinstance(ds_or_keypoints, (xr.Dataset, xr.DataArray)):
            have = set(map(str, ds_or_keypoints[S.KEYPOINT].values))
        else:
            have = set(map(str, np.asarray(list(ds_or_keypoints), dtype=object)))
        return sorted(set(self._keypoints) - have)

    def check_dataset(self, ds, *, where: str = "Skeleton") -> None:
        """Raise a ValueError listing every skeleton keypoint the dataset lacks.

        Parameters
        ----------
        ds : xarray.Dataset or sequence of str
            A poses dataset or its keypoint names.
        where : str
            Caller name, to start the message with.
        """
        missing = self.missing_keypoints(ds)
        if missing:
            have = (
                sorted(map(str, ds[S.KEYPOINT].values)) if isinstance(ds, (xr.Dataset, xr.DataArray)) else sorted(ds)
            )
            label = f"{self._name!r} " if self._name else ""
            raise ValueError(
                f"{where}: the skeleton {label}needs keypoints {missing} that the dataset lacks (it has {have}). "
                "Rename the dataset's keypoints, pick another preset (e.g. 'deepof_11' without the tail chain), or "
                "restrict the skeleton with Skeleton.subset(ds.keypoint.values)."
            )

    # -- dunder ----------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain-data form (keypoints, edges, areas, inter_animal_edges, name), e.g. for logs or JSON."""
        return {
            "keypoints": list(self._keypoints),
            "edges": [list(e) for e in self._edges],
            "areas": {k: list(v) for k, v in self._areas.items()},
            "inter_animal_edges": [list(e) for e in self._inter],
            "name": self._name,
        }

    def __eq__(self, other):
        if not isinstance(other, Skeleton):
            return NotImplemented
        return (
            self._keypoints == other._keypoints
            and set(map(frozenset, self._edges)) == set(map(frozenset, other._edges))
            and self._areas == other._areas
            and set(self._inter) == set(other._inter)
        )

    def __hash__(self):
        return hash((self._keypoints, frozenset(map(frozenset, self._edges)), tuple(sorted(self._areas.items()))))

    def __contains__(self, keypoint) -> bool:
        return keypoint in self._keypoints

    def __len__(self) -> int:
        return len(self._keypoints)

    def __repr__(self) -> str:
        label = f"{self._name!r}, " if self._name else ""
        return (
            f"Skeleton({label}{len(self._keypoints)} keypoints, {len(self._edges)} edges, "
            f"areas={sorted(self._areas)}, {len(self._inter)} inter-animal edges)"
        )

    def __getstate__(self):
        return self.to_dict()

    def __setstate__(self, state):
        other = Skeleton(
            state["keypoints"], state["edges"], areas=state["areas"],
            inter_animal_edges=state["inter_animal_edges"], name=state["name"],
        )
        for slot in self.__slots__:
            object.__setattr__(self, slot, getattr(other, slot))


def check_skeleton(skeleton, *, where: str, param: str = "skeleton") -> Skeleton:
    """Turn a ``skeleton`` parameter (Skeleton, preset name, adjacency dict or edge list) into a :class:`Skeleton`."""
    if isinstance(skeleton, Skeleton):
        return skeleton
    if isinstance(skeleton, str):
        if skeleton not in SKELETON_PRESETS:
            raise ValueError(
                f"{where}: `{param}`={skeleton!r} is not a preset; choose one of {list(SKELETON_PRESETS)}, or pass a "
                "Skeleton, an adjacency dict or a list of (keypoint, keypoint) edges."
            )
        return Skeleton.from_preset(skeleton)
    if isinstance(skeleton, Mapping):
        return Skeleton.from_adjacency(skeleton)
    if isinstance(skeleton, (list, tuple)):
        return Skeleton.from_edges(skeleton)
    raise TypeError(
        f"{where}: `{param}` must be a Skeleton, a preset name {list(SKELETON_PRESETS)}, an adjacency dict or a list "
        f"of edges; got {type(skeleton).__name__}."
    )
