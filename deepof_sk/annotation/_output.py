"""The output layout: rule results written into ``annotation`` / ``social_annotation`` (see :mod:`._base`)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from .. import schema as S
from ..utils._memory import empty_result
from ._base import (
    ANNOTATION,
    INDIVIDUAL_PAIR,
    SOCIAL_ANNOTATION,
    SOCIAL_BEHAVIOR,
    AnnotationContext,
    BehaviorInfo,
)

__all__ = ["store_annotations"]


def _merge_variable(ds: xr.Dataset, name: str, entity_dim: str, entity_coords: dict, behavior_dim: str,
                    names: list[str], values: np.ndarray, behavior_coords: dict, attrs: dict, where: str) -> xr.Dataset:
    """Add behaviours ``names`` (values ``(time, entity, behavior)``) to variable ``name``, replacing same names.

    Works with ``xr.Variable`` and explicit coordinates, so the 1e5-frame time index is never re-aligned.
    """
    out = ds.copy()
    others = sorted(str(v) for v in ds.data_vars if behavior_dim in ds[v].dims and v != name)
    if others:
        raise ValueError(
            f"{where}: variables {others} already use the `{behavior_dim}` dimension, so `{name}` cannot add its "
            f"behaviours along it; drop them first (ds.drop_vars({others})) or annotate a copy without them."
        )
    if name in ds.data_vars:
        old = ds[name].transpose(S.TIME, entity_dim, behavior_dim)
        idx = [i for i, b in enumerate(old[behavior_dim].values) if str(b) not in names]
        values = np.concatenate([old.values[:, :, idx], values], axis=2)
        for c, arr in behavior_coords.items():
            prev = old[c].values[idx] if c in old.coords else np.full(len(idx), "", dtype=object)
            behavior_coords[c] = np.concatenate([prev, arr])
        names = [str(old[behavior_dim].values[i]) for i in idx] + list(names)
        out = out.drop_vars([name, *[c for c in out.coords if behavior_dim in out[c].dims]])
    coords = {behavior_dim: np.asarray(names, dtype=object)}
    coords.update({c: (behavior_dim, np.asarray(v)) for c, v in behavior_coords.items()})
    if entity_dim not in out.coords:
        coords.update(entity_coords)
    out = out.assign_coords(coords)
    out[name] = xr.Variable((S.TIME, entity_dim, behavior_dim), values, attrs)
    return out


def store_annotations(ds: xr.Dataset, ctx: AnnotationContext, results: Mapping[str, np.ndarray],
                      info: Mapping[str, BehaviorInfo], *, scope: str, mask_missing: bool, where: str) -> xr.Dataset:
    """Write rule outputs into ``annotation`` (scope "individual") or ``social_annotation`` (scope "pair")."""
    if not results:
        return ds.copy()
    names = list(results)
    n_t = ctx.n_frames
    if scope == "individual":
        n_e = len(ctx.individuals)
        present = ctx.presence
    else:
        n_e = len(ctx.pairs)
        a, b = ctx.pair_index()
        present = ctx.presence[:, a] & ctx.presence[:, b]
    planes = empty_result((len(names), n_t, n_e), float)  # behaviour-major: contiguous writes
    absent = ~present
    for j, n in enumerate(names):
        arr = np.asarray(results[n])
        if arr.shape != (n_t, n_e):
            raise RuntimeError(f"{where}: rule {n!r} returned shape {arr.shape}, expected {(n_t, n_e)}.")
        planes[j] = arr
        if mask_missing and info[n].maskable:
            np.copyto(planes[j], np.nan, where=absent)
    values = planes.transpose(1, 2, 0)
    if scope == "individual":
        return _merge_variable(
            ds, ANNOTATION, S.INDIVIDUAL, {S.INDIVIDUAL: ds[S.INDIVIDUAL]}, S.BEHAVIOR, names, values,
            {"behavior_kind": np.array([info[n].kind for n in names], dtype=object),
             "behavior_unit": np.array([info[n].unit for n in names], dtype=object)},
            {"long_name": "per-frame behaviour annotation", "units": "1 (binary) or behavior_unit (continuous)",
             "missing": "NaN where the animal is missing"}, where,
        )
    labels = [f"{p}_{q}" for p, q in ctx.pairs]
    entity = {INDIVIDUAL_PAIR: np.asarray(labels, dtype=object),
              "actor": (INDIVIDUAL_PAIR, np.asarray([p for p, _ in ctx.pairs], dtype=object)),
              "partner": (INDIVIDUAL_PAIR, np.asarray([q for _, q in ctx.pairs], dtype=object))}
    return _merge_variable(
        ds, SOCIAL_ANNOTATION, INDIVIDUAL_PAIR, entity, SOCIAL_BEHAVIOR, names, values,
        {"directional": np.array([info[n].directional for n in names], dtype=bool),
         "social_behavior_kind": np.array([info[n].kind for n in names], dtype=object)},
        {"long_name": "per-frame social behaviour annotation (actor -> partner)", "units": "1",
         "missing": "NaN where either animal is missing"}, where,
    )
