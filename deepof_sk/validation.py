"""The one validation gate for poses input, and the constructor of poses datasets.

Every estimator and reader goes through :func:`validate_poses` (via :func:`check_recordings`), so a dataset is
checked once, in one place, and every problem is reported together in one message.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import xarray as xr

from . import schema as S
from .exceptions import PosesSchemaError

__all__ = [
    "make_poses_dataset",
    "validate_poses",
    "normalize_poses",
    "check_recordings",
    "return_like",
    "append_log",
    "read_log",
    "get_fps",
]


def _time_coordinate(n_frames: int, fps: float | None) -> tuple[np.ndarray, str]:
    frames = np.arange(n_frames)
    if fps is None:
        return frames, "frames"
    return frames / float(fps), "seconds"


def make_poses_dataset(
    position: np.ndarray,
    confidence: np.ndarray | None = None,
    *,
    keypoints: Sequence[str] | None = None,
    individuals: Sequence[str] | None = None,
    fps: float | None = None,
    space: Sequence[str] | None = None,
    source_software: str | None = None,
    source_file: str | None = None,
    space_unit: str = "pixels",
) -> xr.Dataset:
    """Build a poses dataset from arrays.

    Parameters
    ----------
    position : ndarray of shape (n_frames, n_space, n_keypoints, n_individuals)
        Keypoint coordinates. NaN marks a missing point.
    confidence : ndarray of shape (n_frames, n_keypoints, n_individuals), optional
        Tracking confidence. When omitted it is NaN everywhere (movement's convention for "not provided").
    keypoints, individuals : sequence of str, optional
        Names; default ``keypoint_0, ...`` and ``individual_0, ...``.
    fps : float, optional
        Frame rate. With it the ``time`` coordinate is in seconds; without it in frames (``time_unit="frames"``).
    space : sequence of str, optional
        Spatial coordinate names, default ``("x", "y")`` or ``("x", "y", "z")`` from the shape.
    source_software, source_file : str, optional
        Provenance, stored in attrs.
    space_unit : str, default "pixels"
        Unit of ``position``.

    Returns
    -------
    xarray.Dataset
        A dataset that passes :func:`validate_poses`.

    Examples
    --------
    >>> import numpy as np
    >>> ds = make_poses_dataset(np.zeros((10, 2, 3, 1)), keypoints=["nose", "center", "tail_base"], fps=25)
    >>> ds.sizes["time"], list(ds.keypoint.values)
    (10, ['nose', 'center', 'tail_base'])
    """
    position = np.asarray(position, dtype=float)
    if position.ndim != 4:
        raise PosesSchemaError(
            "make_poses_dataset: `position` must have 4 dimensions (time, space, keypoint, individual); "
            f"got shape {position.shape}."
        )
    n_t, n_s, n_k, n_i = position.shape
    if confidence is None:
        confidence = np.full((n_t, n_k, n_i), np.nan)
    confidence = np.asarray(confidence, dtype=float)
    if confidence.shape != (n_t, n_k, n_i):
        raise PosesSchemaError(
            f"make_poses_dataset: `confidence` must have shape {(n_t, n_k, n_i)} to match `position` "
            f"{position.shape}; got {confidence.shape}."
        )
    keypoints = [f"keypoint_{i}" for i in range(n_k)] if keypoints is None else [str(k) for k in keypoints]
    individuals = [f"individual_{i}" for i in range(n_i)] if individuals is None else [str(i) for i in individuals]
    if space is None:
        space = S.SPACE_2D if n_s == 2 else S.SPACE_3D[:n_s]
    if fps is not None:
        fps = float(fps)
        if not np.isfinite(fps) or fps <= 0:
            raise PosesSchemaError(f"make_poses_dataset: `fps` must be a positive number or None; got {fps!r}.")
    time, time_unit = _time_coordinate(n_t, fps)
    ds = xr.Dataset(
        {
            S.POSITION: (S.POSITION_DIMS, position, {"long_name": "keypoint position", "units": space_unit}),
            S.CONFIDENCE: (S.CONFIDENCE_DIMS, confidence, {"long_name": "tracking confidence"}),
        },
        coords={
            S.TIME: time,
            S.SPACE: list(space),
            S.KEYPOINT: keypoints,
            S.INDIVIDUAL: individuals,
        },
        attrs={
            S.FPS: fps,
            S.TIME_UNIT: time_unit,
            S.SPACE_UNIT: space_unit,
            S.SOURCE_SOFTWARE: source_software,
            S.SOURCE_FILE: source_file,
            S.DS_TYPE: S.POSES_DS_TYPE,
            S.LOG: "[]",
        },
    )
    problems = _schema_problems(ds)
    if problems:
        raise PosesSchemaError(_format_problems("make_poses_dataset", problems))
    return ds


def normalize_poses(ds: xr.Dataset) -> xr.Dataset:
    """Return ``ds`` in canonical form: singular dim names, canonical dim order, attrs filled.

    Datasets written by older movement releases use ``keypoints``/``individuals``; those are renamed. Missing attrs
    get their documented defaults (``fps=None`` unless the time coordinate is in seconds with a regular step, in
    which case fps is inferred from it; ``log="[]"``). The input is not modified.
    """
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"normalize_poses expects an xarray.Dataset; got {type(ds).__name__}.")
    rename = {old: new for old, new in S.LEGACY_DIM_NAMES.items() if old in ds.dims or old in ds.coords}
    if rename:
        ds = ds.rename(rename)
    else:
        ds = ds.copy(deep=False)
    for name, dims in ((S.POSITION, S.POSITION_DIMS), (S.CONFIDENCE, S.CONFIDENCE_DIMS)):
        if name in ds.variables:
            var = ds.variables[name]
            if var.dims != tuple(dims) and set(var.dims) == set(dims):  # transposing is a no-op otherwise
                ds[name] = var.transpose(*dims)
    attrs = dict(ds.attrs)
    attrs.setdefault(S.DS_TYPE, S.POSES_DS_TYPE)
    attrs.setdefault(S.SOURCE_SOFTWARE, None)
    attrs.setdefault(S.SOURCE_FILE, None)
    attrs.setdefault(S.SPACE_UNIT, "pixels")
    if isinstance(attrs.get(S.LOG), list):
        attrs[S.LOG] = json.dumps(attrs[S.LOG], default=str)
    attrs.setdefault(S.LOG, "[]")
    fps = attrs.get(S.FPS)
    if isinstance(fps, np.generic):
        fps = fps.item()
    if isinstance(fps, float) and np.isnan(fps):  # netCDF cannot store None; writers may have stored NaN
        fps = None
    attrs[S.FPS] = fps
    if S.TIME_UNIT not in attrs:
        attrs[S.TIME_UNIT] = "seconds" if fps is not None else "frames"
    ds.attrs = attrs
    return ds


def _schema_problems(ds: xr.Dataset) -> list[str]:
    """Every way in which ``ds`` departs from the poses schema (empty list if none)."""
    problems: list[str] = []
    legacy = sorted(d for d in S.LEGACY_DIM_NAMES if d in ds.dims)
    if legacy:
        problems.append(f"plural dimension names {legacy} (older movement); pass it through normalize_poses()")
    # Variables, not DataArrays (ds[name] builds a DataArray with its coordinates, ~20 us each; this runs on
    # every recording of every step)
    variables = ds.variables
    if S.POSITION not in ds.data_vars:
        problems.append(f"no `{S.POSITION}` variable (found: {sorted(map(str, ds.data_vars))})")
    else:
        pos = variables[S.POSITION]
        if set(pos.dims) != set(S.POSITION_DIMS):
            problems.append(f"`{S.POSITION}` has dims {pos.dims}; expected {S.POSITION_DIMS}")
        if not np.issubdtype(pos.dtype, np.floating):
            problems.append(f"`{S.POSITION}` has dtype {pos.dtype}; expected a float dtype (NaN marks missing points)")
    if S.CONFIDENCE in ds.data_vars:
        conf = variables[S.CONFIDENCE]
        if set(conf.dims) != set(S.CONFIDENCE_DIMS):
            problems.append(f"`{S.CONFIDENCE}` has dims {conf.dims}; expected {S.CONFIDENCE_DIMS}")
        elif not np.issubdtype(conf.dtype, np.floating):
            problems.append(f"`{S.CONFIDENCE}` has dtype {conf.dtype}; expected a float dtype")
    else:
        problems.append(f"no `{S.CONFIDENCE}` variable (use NaN confidence when the source has none)")
    for dim in (S.KEYPOINT, S.INDIVIDUAL, S.SPACE):
        if dim in ds.dims:
            if dim not in ds.coords:
                problems.append(f"dimension `{dim}` has no coordinate labels")
                continue
            values = [str(v) for v in variables[dim].values]
            if len(set(values)) < len(values):
                dupes = sorted({v for v in values if values.count(v) > 1})
                problems.append(f"duplicate {dim} names {dupes}; every {dim} name must be unique")
    if S.SPACE in ds.coords:
        bad = sorted(set(map(str, variables[S.SPACE].values)) - set(S.SPACE_3D))
        if bad:
            problems.append(f"unknown space labels {bad}; expected a subset of {list(S.SPACE_3D)}")
    if S.TIME in ds.dims:
        if ds.sizes[S.TIME] == 0:
            problems.append("the recording has no frames (time has length 0)")
        elif S.TIME in ds.coords and not _strictly_increasing(ds, variables[S.TIME]):
            problems.append("the `time` coordinate is not strictly increasing")
    fps = ds.attrs.get(S.FPS)
    if fps is not None:
        try:
            ok = np.isfinite(float(fps)) and float(fps) > 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            problems.append(f"attrs['fps'] must be a positive number or None; got {fps!r}")
    ds_type = ds.attrs.get(S.DS_TYPE, S.POSES_DS_TYPE)
    if ds_type != S.POSES_DS_TYPE:
        problems.append(f"attrs['ds_type'] is {ds_type!r}; expected {S.POSES_DS_TYPE!r}")
    return problems


def _strictly_increasing(ds: xr.Dataset, time: xr.Variable) -> bool:
    """Whether a numeric time coordinate strictly increases (anything else passes: labels are not checked).

    An indexed coordinate asks its pandas index, which computes monotonicity and uniqueness once and keeps them
    (shallow copies of the dataset share the index).
    """
    index = ds.indexes.get(S.TIME)
    if index is not None and np.issubdtype(index.dtype, np.number):
        return bool(index.is_monotonic_increasing and index.is_unique)
    t = np.asarray(time.values)
    return t.size < 2 or not np.issubdtype(t.dtype, np.number) or bool(np.all(np.diff(t) > 0))


def _format_problems(where: str, problems: list[str], name: str | None = None) -> str:
    head = f"{where}: " + (f"recording {name!r} " if name else "the dataset ") + "is not a valid poses dataset:"
    return "\n".join([head, *(f"  - {p}" for p in problems)])


def _recording_name(ds: xr.Dataset, index: int | None = None) -> str | None:
    src = ds.attrs.get(S.SOURCE_FILE)
    if src:
        return str(src)
    return None if index is None else f"#{index}"


def validate_poses(
    ds: Any,
    *,
    where: str = "validate_poses",
    keypoints: Sequence[str] | None = None,
    individuals: Sequence[str] | None = None,
    require_fps: bool = False,
    index: int | None = None,
) -> None:
    """Check that ``ds`` is a poses dataset; raise one error listing every problem.

    Parameters
    ----------
    ds : object
        What to check.
    where : str
        Name of the caller (estimator or function) to start the message with.
    keypoints, individuals : sequence of str, optional
        Names that must be present (e.g. the keypoints an estimator was fitted on); all missing names are listed.
    require_fps : bool, default False
        Whether a frame rate is needed (time-based parameters such as windows in seconds).
    index : int, optional
        Position of the recording in a sequence, used to name it when it has no source file.

    Raises
    ------
    TypeError
        ``ds`` is not an :class:`xarray.Dataset`.
    PosesSchemaError
        The dataset departs from the schema; the message lists every problem.
    """
    if not isinstance(ds, xr.Dataset):
        raise TypeError(
            f"{where}: expected an xarray.Dataset in the poses schema (or a list of them, one per recording); "
            f"got {type(ds).__name__}. Read files with deepof_sk.io.read_poses()."
        )
    problems = _schema_problems(ds)
    if keypoints is not None and S.KEYPOINT in ds.coords:
        missing = sorted(set(map(str, keypoints)) - set(map(str, ds[S.KEYPOINT].values)))
        if missing:
            problems.append(
                f"missing keypoints {missing} (has {sorted(map(str, ds[S.KEYPOINT].values))}); rename or map them"
            )
    if individuals is not None and S.INDIVIDUAL in ds.coords:
        missing = sorted(set(map(str, individuals)) - set(map(str, ds[S.INDIVIDUAL].values)))
        if missing:
            problems.append(
                f"missing individuals {missing} (has {sorted(map(str, ds[S.INDIVIDUAL].values))})"
            )
    if require_fps and ds.attrs.get(S.FPS) is None:
        problems.append("attrs['fps'] is not set but this step needs a frame rate; pass fps= when reading")
    if problems:
        raise PosesSchemaError(_format_problems(where, problems, _recording_name(ds, index)))


def check_recordings(
    X: Any,
    *,
    where: str,
    keypoints: Sequence[str] | None = None,
    individuals: Sequence[str] | None = None,
    require_fps: bool = False,
) -> tuple[list[xr.Dataset], bool]:
    """Validate one dataset or a sequence of datasets (one per recording).

    Returns
    -------
    recordings : list of xarray.Dataset
        Normalised datasets (legacy dim names renamed, canonical dim order). With ``keypoints``, a recording that
        has exactly those keypoints in another order is reordered to ``keypoints``.
    single : bool
        True when ``X`` was one dataset, so the caller can return the same kind (see :func:`return_like`).
    """
    if isinstance(X, xr.Dataset):
        items, single = [X], True
    elif (
        isinstance(X, (str, bytes, np.ndarray, xr.DataArray))
        or hasattr(X, "iloc")  # pandas objects
        or (not isinstance(X, Sequence) and not hasattr(X, "__getitem__"))
    ):
        raise TypeError(
            f"{where}: expected an xarray.Dataset or a sequence of them (one per recording); got "
            f"{type(X).__name__}. Load recordings with deepof_sk.io.read_poses() / read_recordings()."
        )
    else:
        try:
            items = list(X)
        except TypeError as exc:
            raise TypeError(f"{where}: expected a sequence of xarray.Dataset; got {type(X).__name__}.") from exc
        single = False
        if (len(items) == 2 and isinstance(items[0], (list, tuple)) and hasattr(items[1], "iloc")
                and all(isinstance(d, xr.Dataset) for d in items[0])):
            raise TypeError(
                f"{where}: got a (recordings, conditions) pair, as returned by read_recordings(); pass the "
                "recordings only: `recordings, conditions = read_recordings(...)`."
            )
        if len(items) == 0:
            raise ValueError(f"{where}: received an empty sequence of recordings; pass at least one dataset.")
        bad = [f"#{i}: {type(d).__name__}" for i, d in enumerate(items) if not isinstance(d, xr.Dataset)]
        if bad:
            raise TypeError(
                f"{where}: every recording must be an xarray.Dataset in the poses schema; got {', '.join(bad[:5])}"
                + (" ..." if len(bad) > 5 else "")
                + ". (A bare numpy array or DataFrame is not a recording: build one with make_poses_dataset().)"
            )
    out = []
    for i, ds in enumerate(items):
        ds = normalize_poses(ds)
        validate_poses(
            ds,
            where=where,
            keypoints=keypoints,
            individuals=individuals,
            require_fps=require_fps,
            index=None if single else i,
        )
        if keypoints is not None:
            ds = reorder_keypoints(ds, keypoints)
        out.append(ds)
    return out, single


def reorder_keypoints(ds: xr.Dataset, keypoints: Sequence[str]) -> xr.Dataset:
    """``ds`` with its keypoints in the order of ``keypoints`` when it has exactly those keypoints in another order
    (DLC and SLEAP files often list them differently); otherwise ``ds`` unchanged. Fitted steps use it so that
    feature columns line up with the order seen in fit."""
    if S.KEYPOINT not in ds.coords:
        return ds
    names, wanted = [str(k) for k in ds[S.KEYPOINT].values], [str(k) for k in keypoints]
    if names == wanted or sorted(names) != sorted(wanted):
        return ds
    return ds.isel({S.KEYPOINT: [names.index(k) for k in wanted]})


def return_like(recordings: list, single: bool):
    """Return a single item if the input was one dataset, else the list."""
    return recordings[0] if single else recordings


def read_log(ds: xr.Dataset) -> list[dict]:
    """The processing log of a dataset as a list of dicts (oldest first)."""
    raw = ds.attrs.get(S.LOG, "[]")
    if isinstance(raw, list):
        return list(raw)
    try:
        out = json.loads(raw) if raw else []
    except (TypeError, ValueError):
        return [{"operation": str(raw)}]
    return out if isinstance(out, list) else [out]


def append_log(ds: xr.Dataset, operation: str, **params: Any) -> None:
    """Append one processing step to ``ds.attrs['log']`` (in place; call it on the new dataset you return)."""
    entry = {"operation": operation, "datetime": datetime.now(UTC).isoformat(timespec="seconds")}
    entry.update({k: v for k, v in params.items()})
    log = read_log(ds)
    log.append(entry)
    ds.attrs[S.LOG] = json.dumps(log, default=repr)


def get_fps(ds: xr.Dataset, *, where: str = "deepof_sk", fps: float | None = None) -> float:
    """Frame rate of ``ds``; ``fps`` overrides it. Raise a clear error when neither is known."""
    value = fps if fps is not None else ds.attrs.get(S.FPS)
    if value is None:
        raise ValueError(
            f"{where}: the recording {_recording_name(ds) or ''} has no frame rate (attrs['fps'] is None) and this "
            "step works in seconds. Pass fps= when reading (deepof_sk.io.read_poses(path, fps=25)) or give the "
            "parameter in frames."
        )
    return float(value)
