"""deepof_sk: scikit-learn-compatible estimators that turn rodent pose tracking into behaviour.

Tracking data live in :class:`xarray.Dataset` objects in the movement poses schema (see :mod:`deepof_sk.schema`);
every processing step is a fit/transform estimator that composes in scikit-learn Pipelines.

Importing the package is cheap: subpackages load on first access, and keras, shap, opencv and matplotlib are only
imported by the steps that need them.
"""

from __future__ import annotations

import importlib

from . import schema
from .exceptions import (
    DataQualityWarning,
    DeepOFSKWarning,
    MissingDataWarning,
    PosesFormatError,
    PosesSchemaError,
)
from .validation import make_poses_dataset, normalize_poses, validate_poses

__version__ = "0.1.0"

_SUBPACKAGES = (
    "io",
    "datasets",
    "preprocessing",
    "features",
    "annotation",
    "supervised",
    "clustering",
    "explain",
    "stats",
    "plotting",
    "video",
    "metrics",
    "scale",
    "quality",
    "testing",
    "base",
    "cli",
    "project",
)

__all__ = [
    "__version__",
    "schema",
    "make_poses_dataset",
    "normalize_poses",
    "validate_poses",
    "read_poses",
    "Project",
    "load_project",
    "DataQualityWarning",
    "DeepOFSKWarning",
    "MissingDataWarning",
    "PosesFormatError",
    "PosesSchemaError",
    *_SUBPACKAGES,
]


def __getattr__(name):
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    if name == "read_poses":
        return importlib.import_module(".io", __name__).read_poses
    if name in ("Project", "load_project"):
        return getattr(importlib.import_module(".project", __name__), name)
    raise AttributeError(f"module 'deepof_sk' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
