"""Keypoint roles: defaults, spelling variants, explicit mappings and the errors."""

from __future__ import annotations

import pytest

from deepof_sk.annotation import DEEPOF_ROLES, ClimbingAnnotator, LookaroundAnnotator, resolve_roles
from deepof_sk.datasets import make_synthetic_poses

MABE = ["nose", "left ear", "right ear", "neck", "left forepaw", "right forepaw", "center back", "left hindpaw",
        "right hindpaw", "tail base", "tail middle", "tail tip"]


def test_deepof_names_map_to_themselves():
    roles = resolve_roles(list(DEEPOF_ROLES.values()), required=list(DEEPOF_ROLES))
    assert roles == DEEPOF_ROLES


def test_spelling_variants_and_explicit_mapping():
    roles = resolve_roles(MABE, {"center": "center back", "spine_1": "neck"},
                          required=["nose", "tail_base", "left_ear", "right_ear", "center", "spine_1"],
                          optional=["left_bhip", "spine_2"])
    assert roles == {"nose": "nose", "tail_base": "tail base", "left_ear": "left ear", "right_ear": "right ear",
                     "center": "center back", "spine_1": "neck"}


def test_none_declares_a_part_absent():
    assert "nose" not in resolve_roles(["Nose", "Center"], {"nose": None}, optional=["nose"])
    with pytest.raises(ValueError, match=r"\['nose'\]"):
        resolve_roles(["Nose", "Center"], {"nose": None}, required=["nose"])


def test_error_lists_every_unmappable_role_sorted():
    with pytest.raises(ValueError) as err:
        resolve_roles(MABE, required=["tail_base", "spine_2", "center", "nose"], where="X")
    msg = str(err.value)
    assert "X: cannot map the keypoint roles ['center', 'spine_2']" in msg
    assert "roles={" in msg and "'center back'" in msg  # shows the keypoints and how to map


def test_bad_mappings():
    with pytest.raises(ValueError, match=r"snout"):
        resolve_roles(MABE, {"nose": "snout"}, required=["nose"])
    with pytest.raises(ValueError, match="unknown roles"):
        resolve_roles(MABE, {"beak": "nose"})
    with pytest.raises(TypeError, match="dict"):
        resolve_roles(MABE, ["nose"])


def test_annotators_report_roles_at_fit():
    ds = make_synthetic_poses(30, keypoints=["Nose", "Center", "Tail_base"], random_state=0)
    with pytest.raises(ValueError, match=r"LookaroundAnnotator: cannot map the keypoint roles \['left_ear', "
                                         r"'right_ear'\]"):
        LookaroundAnnotator().fit(ds)
    renamed = ds.assign_coords(keypoint=["snoot", "Center", "Tail_base"])
    fitted = ClimbingAnnotator(roles={"nose": "snoot"}).fit(renamed)
    assert fitted.roles_["nose"] == "snoot"
