"""Find every public estimator of deepof_sk (for the common tests)."""

from __future__ import annotations

import importlib
import inspect

from sklearn.base import BaseEstimator

__all__ = ["all_estimators"]

_PUBLIC_SUBPACKAGES = (
    "preprocessing",
    "features",
    "annotation",
    "supervised",
    "clustering",
    "explain",
    "stats",
)


def all_estimators() -> list[tuple[str, type]]:
    """(name, class) of every public estimator exported by deepof_sk's subpackages, sorted by name.

    A subpackage that does not exist yet, or whose optional dependency is missing, is skipped.
    """
    found: dict[str, type] = {}
    for sub in _PUBLIC_SUBPACKAGES:
        try:
            module = importlib.import_module(f"deepof_sk.{sub}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("deepof_sk"):
                continue
            raise
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, BaseEstimator) and not name.startswith("_"):
                found[name] = obj
    return sorted(found.items())
