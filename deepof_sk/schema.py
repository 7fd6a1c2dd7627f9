"""Names of the poses data model (the movement ``poses`` schema).

One recording is one :class:`xarray.Dataset` with

* dims ``time``, ``space``, ``keypoint``, ``individual``;
* ``position`` with dims ``(time, space, keypoint, individual)``, float, in ``attrs["space_unit"]`` (``"pixels"``
  until a scaling step says otherwise);
* ``confidence`` with dims ``(time, keypoint, individual)``, float in ``[0, 1]`` or NaN;
* attrs ``fps`` (float or None), ``time_unit`` (``"seconds"`` when fps is known, ``"frames"`` otherwise),
  ``source_software``, ``source_file``, ``ds_type = "poses"`` and ``log`` (a JSON list of processing steps).

Every module refers to these constants instead of spelling dimension names or positional axes, so the schema lives in
exactly one place. The names are movement's, which is what makes a dataset loaded by ``movement`` usable here and a
dataset written here readable by ``movement``.
"""

from __future__ import annotations

#: Time dimension (frames; coordinate in seconds when fps is known, frame numbers otherwise).
TIME = "time"
#: Spatial dimension, coordinate ``["x", "y"]`` (or ``["x", "y", "z"]``).
SPACE = "space"
#: Keypoint (body part) dimension, coordinate of keypoint names.
KEYPOINT = "keypoint"
#: Individual (animal) dimension, coordinate of animal identifiers.
INDIVIDUAL = "individual"

#: Keypoint positions.
POSITION = "position"
#: Per-keypoint tracking confidence (likelihood / score).
CONFIDENCE = "confidence"

POSITION_DIMS = (TIME, SPACE, KEYPOINT, INDIVIDUAL)
CONFIDENCE_DIMS = (TIME, KEYPOINT, INDIVIDUAL)

#: Plural spellings of movement releases before its rename to singular dims (movement 0.15, the version the tests
#: run against, still uses them); readers rename them and ``write_netcdf(legacy_dims=True)`` writes them.
LEGACY_DIM_NAMES = {"keypoints": KEYPOINT, "individuals": INDIVIDUAL}

# attrs
FPS = "fps"
TIME_UNIT = "time_unit"
SPACE_UNIT = "space_unit"
SOURCE_SOFTWARE = "source_software"
SOURCE_FILE = "source_file"
DS_TYPE = "ds_type"
LOG = "log"
POSES_DS_TYPE = "poses"

REQUIRED_ATTRS = (FPS, TIME_UNIT, SOURCE_SOFTWARE, SOURCE_FILE, DS_TYPE)

#: New dimensions added by later steps (singular snake_case nouns).
FEATURE = "feature"
BEHAVIOR = "behavior"
CLUSTER = "cluster"
LATENT = "latent"
WINDOW = "window"
PAIR = "pair"
#: Feature and annotation dims added by later steps.
SOCIAL_PAIR = "social_pair"
TRIPLET = "triplet"
BODY_AREA = "body_area"
INDIVIDUAL_PAIR = "individual_pair"
SOCIAL_BEHAVIOR = "social_behavior"
ROI = "roi"

SPACE_2D = ("x", "y")
SPACE_3D = ("x", "y", "z")

__all__ = [
    "TIME",
    "SPACE",
    "KEYPOINT",
    "INDIVIDUAL",
    "POSITION",
    "CONFIDENCE",
    "POSITION_DIMS",
    "CONFIDENCE_DIMS",
    "LEGACY_DIM_NAMES",
    "FPS",
    "TIME_UNIT",
    "SPACE_UNIT",
    "SOURCE_SOFTWARE",
    "SOURCE_FILE",
    "DS_TYPE",
    "LOG",
    "POSES_DS_TYPE",
    "REQUIRED_ATTRS",
    "FEATURE",
    "BEHAVIOR",
    "CLUSTER",
    "LATENT",
    "WINDOW",
    "PAIR",
    "SOCIAL_PAIR",
    "TRIPLET",
    "BODY_AREA",
    "INDIVIDUAL_PAIR",
    "SOCIAL_BEHAVIOR",
    "ROI",
    "SPACE_2D",
    "SPACE_3D",
]
