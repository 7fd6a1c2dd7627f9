"""Rule-based behaviour annotation (DeepOF 0.9.0's supervised rules) as composable estimators.

Annotators add per-frame behaviours to each recording: ``annotation`` (time, individual, behavior) for one animal,
``social_annotation`` (time, individual_pair, social_behavior) for animal pairs; 1.0 / 0.0 (or a value for the
continuous measures), NaN where an animal is missing. Rules read keypoint *roles* (``nose``, ``tail_base``, ...)
resolved against any skeleton; thresholds are DeepOF's, in mm, mm/s and seconds.
"""

from ._activity import ActivityAnnotator, LookaroundAnnotator, SniffingAnnotator
from ._base import (
    ANNOTATION,
    INDIVIDUAL_PAIR,
    SOCIAL_ANNOTATION,
    SOCIAL_BEHAVIOR,
    AnnotationContext,
    BaseAnnotator,
    BehaviorInfo,
)
from ._bouts import bout_table, find_bouts, summarize_behaviors
from ._composite import DEEPOF_BEHAVIORS, DeepOFAnnotator, RuleAnnotator, to_deepof_table, to_long_format
from ._filters import remove_short_bouts, run_lengths, smooth_binary_median, smooth_paired, widen_bouts
from ._individual import (
    ArenaSniffingAnnotator,
    ClimbingAnnotator,
    ImmobilityAnnotator,
    LocomotionAnnotator,
    MissingAnnotator,
)
from ._roles import DEEPOF_ROLES, ROLE_GROUPS, resolve_roles
from ._social import CONTACT_BEHAVIORS, FollowingAnnotator, SocialContactAnnotator

__all__ = [
    # estimators
    "ActivityAnnotator",
    "ArenaSniffingAnnotator",
    "ClimbingAnnotator",
    "DeepOFAnnotator",
    "FollowingAnnotator",
    "ImmobilityAnnotator",
    "LocomotionAnnotator",
    "LookaroundAnnotator",
    "MissingAnnotator",
    "RuleAnnotator",
    "SniffingAnnotator",
    "SocialContactAnnotator",
    # building blocks
    "AnnotationContext",
    "BaseAnnotator",
    "BehaviorInfo",
    "resolve_roles",
    "DEEPOF_ROLES",
    "ROLE_GROUPS",
    "DEEPOF_BEHAVIORS",
    "CONTACT_BEHAVIORS",
    "ANNOTATION",
    "SOCIAL_ANNOTATION",
    "SOCIAL_BEHAVIOR",
    "INDIVIDUAL_PAIR",
    # filters, bouts, exports
    "smooth_binary_median",
    "widen_bouts",
    "remove_short_bouts",
    "smooth_paired",
    "run_lengths",
    "find_bouts",
    "bout_table",
    "summarize_behaviors",
    "to_deepof_table",
    "to_long_format",
]
