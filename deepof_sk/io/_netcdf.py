"""movement's netCDF files: read and write poses datasets.

movement stores a poses dataset with ``Dataset.to_netcdf`` and reads it back with ``xarray.open_dataset``. Releases
before 0.17 name two dims ``keypoints``/``individuals``; 0.17 and later (and deepof_sk) use ``keypoint``/
``individual``. Reading accepts both; writing uses the singular names unless ``legacy_dims=True``.

netCDF attributes cannot be None or bool. :func:`write_netcdf` leaves None attrs out and stores bools as 0/1, and
records their names in the attribute ``deepof_sk_attr_types`` (JSON) so that :func:`read_netcdf` restores them.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import xarray as xr

from .. import schema as S
from ..exceptions import PosesFormatError
from ..validation import append_log, normalize_poses, validate_poses
from ._common import RECORDING_ID, PathLike, check_file, format_error, infer_recording_id, resolve_fps

__all__ = ["read_netcdf", "write_netcdf"]

#: Attribute recording the original type of attrs netCDF cannot store.
ATTR_TYPES = "deepof_sk_attr_types"


def _restore_attrs(attrs: dict) -> dict:
    attrs = dict(attrs)
    raw = attrs.pop(ATTR_TYPES, None)
    try:
        types = json.loads(raw) if raw else {}
    except (TypeError, ValueError):
        types = {}
    for name, kind in types.items():
        if kind == "none":
            attrs[name] = None
        elif kind == "bool" and name in attrs:
            attrs[name] = bool(np.asarray(attrs[name]).item())
    for name, value in list(attrs.items()):
        if isinstance(value, np.ndarray) and value.size == 1:
            attrs[name] = value.item()
        elif isinstance(value, np.generic):
            attrs[name] = value.item()
        elif isinstance(value, bytes):
            attrs[name] = value.decode("utf-8", errors="replace")
    return attrs


def read_netcdf(path: PathLike, *, fps: float | None = None) -> xr.Dataset:
    """Read a poses dataset saved as netCDF by movement or by :func:`write_netcdf`.

    Parameters
    ----------
    path : str or path-like
        ``.nc`` file.
    fps : float, optional
        Frame rate; used when the file stores none, must agree with the file's otherwise.

    Returns
    -------
    xarray.Dataset
        The stored dataset, loaded into memory (the file is closed), with dims renamed to the singular names,
        attrs completed (``fps`` None when absent) and every extra variable and attribute kept.
        ``attrs["source_file"]`` becomes this file; a different stored one is kept as
        ``attrs["original_source_file"]``.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    PosesFormatError
        Not a netCDF file, truncated, or not a poses dataset.

    Notes
    -----
    NaN stays NaN. When the file has no frame rate and ``fps`` is given, the time coordinate is rebuilt in seconds
    from the frame numbers; when neither exists it stays in frames.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "rec.nc"
    >>> write_netcdf(make_synthetic_poses(30, fps=25), path)
    >>> read_netcdf(path).attrs["fps"]
    25.0
    """
    path = check_file(path, "read_netcdf")
    try:
        # netCDF4 files are HDF5: read them with h5netcdf (a dependency); netCDF3 files with xarray's default
        ds = xr.load_dataset(path, engine="h5netcdf" if h5py.is_hdf5(path) else None)
    except Exception as exc:  # backends raise OSError, ValueError, KeyError ... on damaged files
        raise format_error(
            path,
            f"it cannot be opened as netCDF ({type(exc).__name__}: {exc}); it may be truncated or another format",
            "Copy or save the file again",
        ) from None
    ds.attrs = _restore_attrs(ds.attrs)
    if ds.attrs.get(S.DS_TYPE, S.POSES_DS_TYPE) != S.POSES_DS_TYPE:
        raise format_error(
            path,
            f"it holds a {ds.attrs.get(S.DS_TYPE)!r} dataset, not poses",
            "Pass a movement poses dataset",
        )
    ds = normalize_poses(ds)
    if S.POSITION in ds and S.CONFIDENCE not in ds:
        conf_dims = [d for d in S.CONFIDENCE_DIMS if d in ds[S.POSITION].dims]
        shape = [ds.sizes[d] for d in conf_dims]
        ds[S.CONFIDENCE] = (conf_dims, np.full(shape, np.nan))
    for var in (S.POSITION, S.CONFIDENCE):
        if var in ds and not np.issubdtype(ds[var].dtype, np.float64):
            ds[var] = ds[var].astype(float)
    for dim in (S.KEYPOINT, S.INDIVIDUAL, S.SPACE):
        if dim in ds.coords:
            ds = ds.assign_coords({dim: [str(v) for v in ds[dim].values]})
    try:
        validate_poses(ds, where="read_netcdf")
    except ValueError as exc:
        raise PosesFormatError(f"Cannot read {str(path)!r}: {exc}") from None
    file_fps = ds.attrs.get(S.FPS)
    new_fps = resolve_fps(fps, file_fps, path)
    if new_fps is not None and file_fps is None:
        ds = ds.assign_coords({S.TIME: np.arange(ds.sizes[S.TIME]) / new_fps})
        ds.attrs[S.FPS] = new_fps
        ds.attrs[S.TIME_UNIT] = "seconds"
    stored_source = ds.attrs.get(S.SOURCE_FILE)
    if stored_source and str(stored_source) != str(path):
        ds.attrs["original_source_file"] = str(stored_source)
    ds.attrs[S.SOURCE_FILE] = str(path)
    ds.attrs.setdefault(RECORDING_ID, infer_recording_id(path))
    append_log(ds, "read_netcdf", path=str(path), fps=new_fps)
    return ds


def write_netcdf(ds: xr.Dataset, path: PathLike, *, legacy_dims: bool = False, **kwargs) -> None:
    """Save a poses dataset as netCDF, readable by movement and by :func:`read_netcdf`.

    Parameters
    ----------
    ds : xarray.Dataset
        Poses dataset (extra variables are saved too).
    path : str or path-like
        Output ``.nc`` file; overwritten if it exists.
    legacy_dims : bool, default False
        Write the plural dims ``keypoints``/``individuals`` that movement releases before 0.17 require.
    **kwargs
        Passed to :meth:`xarray.Dataset.to_netcdf` (``encoding``, ...); ``engine`` defaults to ``"h5netcdf"``
        (netCDF4/HDF5 files).

    Notes
    -----
    Attributes that netCDF cannot store are encoded reversibly: None attrs (for example ``fps=None``) are left out,
    bools are saved as 0/1, and their names are kept in ``attrs["deepof_sk_attr_types"]``. The input is not
    modified.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "rec.nc"
    >>> write_netcdf(make_synthetic_poses(30, fps=None), path)
    >>> read_netcdf(path).attrs["fps"] is None
    True
    """
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"write_netcdf expects an xarray.Dataset; got {type(ds).__name__}.")
    out = normalize_poses(ds)
    validate_poses(out, where="write_netcdf")
    out = out.copy(deep=False)
    types: dict[str, str] = {}
    attrs = {}
    for name, value in out.attrs.items():
        if value is None:
            types[name] = "none"
        elif isinstance(value, (bool, np.bool_)):
            types[name] = "bool"
            attrs[name] = int(value)
        else:
            attrs[name] = value
    if types:
        attrs[ATTR_TYPES] = json.dumps(types)
    out.attrs = attrs
    for name in out.variables:
        out[name].attrs = {k: v for k, v in out[name].attrs.items() if v is not None}
    if legacy_dims:
        out = out.rename({new: old for old, new in S.LEGACY_DIM_NAMES.items() if new in out.dims})
    kwargs.setdefault("engine", "h5netcdf")
    out.to_netcdf(Path(path), **kwargs)
