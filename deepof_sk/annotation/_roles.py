"""Keypoint roles: what a rule needs from a skeleton, independently of how the skeleton names its keypoints.

A rule says "the nose of animal A is within 25 mm of the tail base of animal B"; it never says ``"Nose"`` or
``"Tail_base"``. Each annotator lists the *roles* it needs (``nose``, ``tail_base``, ``center``, ...); a mapping
from roles to keypoint names, resolved once against the dataset, lets any skeleton work. The default mapping is
DeepOF's naming (``deepof_14``), and a few spelling variants are recognised on their own (``"tail base"`` for
``tail_base``, ``"snout"`` for ``nose``), so DLC, SLEAP and MABe-style skeletons often need no mapping at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

__all__ = ["DEEPOF_ROLES", "ROLE_GROUPS", "resolve_roles"]

#: Role -> DeepOF keypoint name (the ``deepof_14`` scheme without the tail chain, which no rule uses).
DEEPOF_ROLES: dict[str, str] = {
    "nose": "Nose",
    "left_ear": "Left_ear",
    "right_ear": "Right_ear",
    "spine_1": "Spine_1",
    "center": "Center",
    "left_fhip": "Left_fhip",
    "right_fhip": "Right_fhip",
    "spine_2": "Spine_2",
    "left_bhip": "Left_bhip",
    "right_bhip": "Right_bhip",
    "tail_base": "Tail_base",
}

#: Named groups of roles used by the rules.
ROLE_GROUPS: dict[str, tuple[str, ...]] = {
    "ears": ("left_ear", "right_ear"),
    "spine": ("spine_1", "spine_2"),
    "front_hips": ("left_fhip", "right_fhip"),
    "back_hips": ("left_bhip", "right_bhip"),
    "hips": ("left_fhip", "right_fhip", "left_bhip", "right_bhip"),
    # Nose-Spine_1-Center-Spine_2-Tail_base: DeepOF's body length
    "backbone": ("nose", "spine_1", "center", "spine_2", "tail_base"),
    # DeepOF's "main body" (nose2body targets)
    "body": ("left_ear", "right_ear", "spine_1", "center", "spine_2", "left_fhip", "right_fhip", "left_bhip",
             "right_bhip"),
    # the 11 parts whose median speed is DeepOF's "speed"
    "locomotion": ("center", "spine_1", "spine_2", "nose", "left_ear", "right_ear", "left_fhip", "right_fhip",
                   "left_bhip", "right_bhip", "tail_base"),
}

# Spelling variants recognised without a mapping (compared after lower-casing and removing non-alphanumerics).
_ALIASES: dict[str, tuple[str, ...]] = {
    "nose": ("nose", "snout", "nosetip"),
    "left_ear": ("leftear", "earleft"),
    "right_ear": ("rightear", "earright"),
    "spine_1": ("spine1",),
    "center": ("center", "centre", "centroid", "bodycenter", "bodycentre", "mousecenter"),
    "left_fhip": ("leftfhip", "leftfronthip", "lefthipfront"),
    "right_fhip": ("rightfhip", "rightfronthip", "righthipfront"),
    "spine_2": ("spine2",),
    "left_bhip": ("leftbhip", "leftbackhip", "lefthipback", "lefthip"),
    "right_bhip": ("rightbhip", "rightbackhip", "righthipback", "righthip"),
    "tail_base": ("tailbase", "tailroot", "baseoftail", "tailstart"),
}


def _normalise(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def check_roles_param(roles, *, where: str) -> dict[str, str | None]:
    """Validate a user ``roles`` mapping (role -> keypoint name or None) and return it as a plain dict."""
    if roles is None:
        return {}
    if not isinstance(roles, Mapping):
        raise TypeError(
            f"{where}: `roles` must be a dict from role to keypoint name, e.g. {{'nose': 'snout', 'center': "
            f"'centroid'}}; got {type(roles).__name__}."
        )
    unknown = sorted(str(r) for r in roles if r not in DEEPOF_ROLES)
    bad = sorted(str(r) for r, k in roles.items() if k is not None and not isinstance(k, str))
    problems = []
    if unknown:
        problems.append(f"unknown roles {unknown} (known roles: {sorted(DEEPOF_ROLES)})")
    if bad:
        problems.append(f"roles {bad} are mapped to something other than a keypoint name (str) or None")
    if problems:
        raise ValueError(f"{where}: invalid `roles`: " + "; ".join(problems) + ".")
    return dict(roles)


def resolve_roles(
    keypoints: Iterable[str],
    roles: Mapping[str, str | None] | None = None,
    *,
    required: Sequence[str] = (),
    optional: Sequence[str] = (),
    where: str = "resolve_roles",
) -> dict[str, str]:
    """Map roles to the dataset's keypoint names.

    For every role, in order of preference: the keypoint given in ``roles`` (``None`` there means "this skeleton
    has no such part"), DeepOF's name for it (:data:`DEEPOF_ROLES`), or a keypoint whose lower-cased alphanumeric
    spelling matches a known variant (``"tail base"``, ``"TailBase"``, ``"snout"``, ...).

    Parameters
    ----------
    keypoints : iterable of str
        The dataset's keypoint names.
    roles : dict, optional
        Role -> keypoint name (or None) overrides.
    required : sequence of str
        Roles that must be found.
    optional : sequence of str
        Roles used when found (e.g. hips for the activity states).
    where : str
        Caller name for messages.

    Returns
    -------
    dict
        Role -> keypoint name for every required role and every optional role that was found.

    Raises
    ------
    ValueError
        Required roles that cannot be mapped (all of them, sorted), a mapping to a keypoint the dataset does not
        have, or unknown role names; the message shows the keypoints and how to write the mapping.

    Examples
    --------
    >>> resolve_roles(["snout", "tail base", "centroid"], required=["nose", "tail_base", "center"])
    {'nose': 'snout', 'tail_base': 'tail base', 'center': 'centroid'}
    """
    names = [str(k) for k in keypoints]
    given = check_roles_param(roles, where=where)
    by_norm: dict[str, list[str]] = {}
    for k in names:
        by_norm.setdefault(_normalise(k), []).append(k)
    wrong = sorted(f"{r}->{k!r}" for r, k in given.items() if k is not None and k not in names)
    if wrong:
        raise ValueError(
            f"{where}: `roles` maps {wrong} to keypoints the dataset does not have (it has {sorted(names)}). "
            "Fix the names in `roles`."
        )
    out: dict[str, str] = {}
    for role in dict.fromkeys([*required, *optional]):
        if role not in DEEPOF_ROLES:
            raise ValueError(f"{where}: unknown role {role!r}; known roles: {sorted(DEEPOF_ROLES)}.")
        if role in given:
            if given[role] is not None:
                out[role] = given[role]
            continue
        if DEEPOF_ROLES[role] in names:
            out[role] = DEEPOF_ROLES[role]
            continue
        for alias in _ALIASES.get(role, ()):
            hits = by_norm.get(alias, [])
            if len(hits) == 1:
                out[role] = hits[0]
                break
    missing = sorted(r for r in required if r not in out)
    if missing:
        example = ", ".join(f"'{r}': '<keypoint>'" for r in missing[:3])
        raise ValueError(
            f"{where}: cannot map the keypoint roles {missing} to this skeleton (keypoints: {sorted(names)}). "
            f"Pass roles={{{example}}} to say which keypoint plays each role (DeepOF's names "
            f"{[DEEPOF_ROLES[r] for r in missing]} are used when present)."
        )
    return out
