"""Skeleton value object: DeepOF presets, custom graphs, angle paths, areas, subsets and dataset checks."""

from __future__ import annotations

import copy
import pickle
from itertools import combinations

import pytest

from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.features import SKELETON_PRESETS, Skeleton
from deepof_sk.features._skeleton import check_skeleton

# DeepOF's deepof_14 graph, written out edge by edge (mlfpm/deepof utils.connect_mouse, reference inventory §1.2).
DEEPOF_14_EDGES = {
    frozenset(e)
    for e in [
        ("Nose", "Left_ear"), ("Nose", "Right_ear"),
        ("Spine_1", "Center"), ("Spine_1", "Left_ear"), ("Spine_1", "Right_ear"),
        ("Center", "Left_fhip"), ("Center", "Right_fhip"), ("Center", "Spine_2"),
        ("Spine_2", "Left_bhip"), ("Spine_2", "Right_bhip"), ("Spine_2", "Tail_base"),
        ("Tail_base", "Tail_1"), ("Tail_1", "Tail_2"), ("Tail_2", "Tail_tip"),
    ]
}
TAIL = {"Tail_1", "Tail_2", "Tail_tip"}


def _edge_set(sk):
    return {frozenset(e) for e in sk.edges}


def test_presets_match_deepof_graphs():
    sk14 = Skeleton.from_preset("deepof_14")
    assert len(sk14.keypoints) == 14 and _edge_set(sk14) == DEEPOF_14_EDGES
    sk11 = Skeleton.from_preset("deepof_11")
    assert set(sk11.keypoints) == set(sk14.keypoints) - TAIL
    assert _edge_set(sk11) == {e for e in DEEPOF_14_EDGES if not e & TAIL}
    sk8 = Skeleton.from_preset("deepof_8")
    assert set(sk8.keypoints) == {"Nose", "Left_ear", "Right_ear", "Center", "Left_fhip", "Right_fhip", "Tail_base",
                                  "Tail_tip"}
    assert _edge_set(sk8) == {frozenset(e) for e in [
        ("Nose", "Left_ear"), ("Nose", "Right_ear"), ("Center", "Left_fhip"), ("Center", "Right_fhip"),
        ("Center", "Tail_base"), ("Center", "Left_ear"), ("Center", "Right_ear"), ("Tail_base", "Tail_tip")]}
    assert set(SKELETON_PRESETS) == {"deepof_14", "deepof_11", "deepof_8"}
    for name in SKELETON_PRESETS:
        assert Skeleton.from_preset(name).name == name
        assert set(Skeleton.from_preset(name).inter_animal_edges) == {
            ("Nose", "Nose"), ("Tail_base", "Tail_base"), ("Nose", "Tail_base")
        }


def test_preset_areas_are_deepofs_polygons():
    areas = Skeleton.from_preset("deepof_14").areas
    assert areas == {
        "head": ("Nose", "Left_ear", "Left_fhip", "Spine_1"),
        "torso": ("Spine_1", "Right_fhip", "Spine_2", "Left_fhip"),
        "back": ("Spine_1", "Right_bhip", "Spine_2", "Left_bhip"),
        "full": ("Nose", "Left_ear", "Left_fhip", "Left_bhip", "Tail_base", "Right_bhip", "Right_fhip", "Right_ear"),
    }
    assert Skeleton.from_preset("deepof_11").areas == areas
    # deepof_8: only DeepOF's "full" outline, through the parts it has
    assert Skeleton.from_preset("deepof_8").areas == {
        "full": ("Nose", "Left_ear", "Left_fhip", "Tail_base", "Right_fhip", "Right_ear")
    }


@pytest.mark.parametrize("name", SKELETON_PRESETS)
def test_angle_triplets_are_every_connected_path(name):
    sk = Skeleton.from_preset(name)
    edges = _edge_set(sk)
    triplets = sk.angle_triplets()
    assert len(set(triplets)) == len(triplets)
    for a, b, c in triplets:
        assert frozenset((a, b)) in edges and frozenset((b, c)) in edges and a != c
    degree = {k: sum(k in e for e in edges) for k in sk.keypoints}
    assert len(triplets) == sum(d * (d - 1) // 2 for d in degree.values())
    # each unordered path once (a-b-c and c-b-a are the same angle)
    assert len({(frozenset((a, c)), b) for a, b, c in triplets}) == len(triplets)


def test_deepof_14_backbone_paths_present():
    triplets = {(frozenset((a, c)), b) for a, b, c in Skeleton.from_preset("deepof_14").angle_triplets()}
    for a, b, c in [("Spine_1", "Center", "Spine_2"), ("Center", "Spine_2", "Tail_base"),
                    ("Tail_base", "Tail_1", "Tail_2"), ("Left_ear", "Nose", "Right_ear")]:
        assert (frozenset((a, c)), b) in triplets
    assert len(triplets) == 21


def test_custom_from_edges_and_adjacency_agree():
    adj = {"nose": ["left ear", "right ear"], "neck": ["left ear", "right ear", "tail base"]}
    a = Skeleton.from_adjacency(adj)
    b = Skeleton.from_edges([("nose", "left ear"), ("nose", "right ear"), ("left ear", "neck"),
                             ("neck", "right ear"), ("tail base", "neck"), ("right ear", "nose")])
    assert a.keypoints == ("nose", "left ear", "right ear", "neck", "tail base")
    assert _edge_set(a) == _edge_set(b) and len(b.edges) == 5  # the reversed duplicate is dropped
    assert a.neighbors("neck") == ("left ear", "right ear", "tail base")
    assert ("left ear", "neck", "tail base") in a.angle_triplets()
    chain = Skeleton.from_edges([("a", "b"), ("b", "c"), ("c", "d")])
    assert chain.angle_triplets() == [("a", "b", "c"), ("b", "c", "d")]


def test_subset_keeps_induced_graph_and_complete_areas():
    sk = Skeleton.from_preset("deepof_14")
    sub = sk.subset([k for k in sk.keypoints if k not in TAIL])
    assert _edge_set(sub) == _edge_set(Skeleton.from_preset("deepof_11"))
    assert sub.areas == sk.areas
    no_bhip = sk.subset([k for k in sk.keypoints if k != "Left_bhip"])
    assert set(no_bhip.areas) == {"head", "torso"}  # back and full lose a vertex
    with pytest.raises(ValueError, match=r"unknown keypoints \['Paw', 'Whisker'\]"):
        sk.subset(["Nose", "Whisker", "Paw"])


def test_rename_maps_names_everywhere():
    sk = Skeleton.from_preset("deepof_11").rename({"Nose": "nose", "Tail_base": "tailbase"})
    assert "nose" in sk and "Nose" not in sk
    assert ("nose", "nose") in sk.inter_animal_edges and sk.areas["head"][0] == "nose"
    with pytest.raises(ValueError, match="Tail_tip"):
        Skeleton.from_preset("deepof_11").rename({"Tail_tip": "x"})


def test_check_dataset_lists_missing_keypoints():
    ds = make_synthetic_poses(10, keypoints=["Nose", "Left_ear", "Right_ear", "Center"], random_state=0)
    sk = Skeleton.from_preset("deepof_8")
    assert sk.missing_keypoints(ds) == ["Left_fhip", "Right_fhip", "Tail_base", "Tail_tip"]
    with pytest.raises(ValueError) as err:
        sk.check_dataset(ds, where="MyStep")
    msg = str(err.value)
    assert msg.startswith("MyStep:") and "['Left_fhip', 'Right_fhip', 'Tail_base', 'Tail_tip']" in msg
    sk.subset(["Nose", "Left_ear", "Right_ear", "Center"]).check_dataset(ds)  # no error


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(edges=[("a", "a")]), "self-loop"),
        (dict(keypoints=["a", "b"], edges=[("a", "b"), ("b", "z"), ("y", "a")]), r"\['y', 'z'\]"),
        (dict(keypoints=["a", "b", "c"], areas={"tri": ["a", "b"]}), "fewer than 3"),
        (dict(keypoints=["a", "a", "b"]), "duplicate"),
        (dict(edges=[("a", "b", "c")]), "pair"),
    ],
)
def test_invalid_skeletons(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Skeleton(**kwargs)


def test_value_semantics_pickle_copy():
    sk = Skeleton.from_preset("deepof_14")
    assert pickle.loads(pickle.dumps(sk)) == sk
    assert copy.deepcopy(sk) == sk and hash(copy.deepcopy(sk)) == hash(sk)
    assert sk != Skeleton.from_preset("deepof_11")
    d = sk.to_dict()
    assert Skeleton(d["keypoints"], d["edges"], areas=d["areas"], inter_animal_edges=d["inter_animal_edges"]) == sk
    assert "deepof_14" in repr(sk) and len(sk) == 14
    with pytest.raises(AttributeError):
        sk.keypoints = ("x",)


def test_check_skeleton_coerces_parameters():
    assert check_skeleton("deepof_11", where="X") == Skeleton.from_preset("deepof_11")
    assert check_skeleton({"a": ["b"], "b": ["c"]}, where="X").angle_triplets() == [("a", "b", "c")]
    assert len(check_skeleton([("a", "b")], where="X").edges) == 1
    with pytest.raises(ValueError, match="X: `skeleton`='deepof_99' is not a preset"):
        check_skeleton("deepof_99", where="X")
    with pytest.raises(TypeError, match="X: `skeleton` must be"):
        check_skeleton(3, where="X")
    with pytest.raises(ValueError, match="unknown preset"):
        Skeleton.from_preset("mabe")


def test_every_pair_of_neighbours_once():
    sk = Skeleton.from_preset("deepof_14")
    centre = [t for t in sk.angle_triplets() if t[1] == "Center"]
    assert {frozenset((a, c)) for a, _, c in centre} == {
        frozenset(p) for p in combinations(["Spine_1", "Left_fhip", "Right_fhip", "Spine_2"], 2)
    }
