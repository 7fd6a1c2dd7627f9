"""``read_poses``: pick the right reader from a file's extension and content."""

from __future__ import annotations

import csv
import inspect
import io
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import xarray as xr

from .. import schema as S
from ._common import PathLike, check_file, format_error
from ._dlc import read_dlc
from ._jabs import read_jabs
from ._netcdf import read_netcdf
from ._nwb import read_nwb
from ._simba import read_simba, simba_keypoint_columns
from ._sleap import read_sleap

__all__ = ["read_poses", "SUPPORTED_FORMATS", "SUPPORTED_EXTENSIONS", "detect_source_software"]

#: source_software -> (reader, extensions, description)
SUPPORTED_FORMATS: dict[str, tuple[Callable[..., xr.Dataset], tuple[str, ...], str]] = {
    "DeepLabCut": (
        read_dlc,
        (".h5", ".csv"),
        "DeepLabCut single/multi-animal tables, 2-D or 3-D (also DeepCut)",
    ),
    "LightningPose": (read_dlc, (".csv",), "LightningPose predictions (DeepLabCut CSV layout)"),
    "SLEAP": (read_sleap, (".slp", ".h5"), "SLEAP labels/predictions .slp and analysis .h5"),
    "netCDF": (read_netcdf, (".nc",), "movement / deepof_sk netCDF poses datasets"),
    "NWB": (read_nwb, (".nwb", ".h5"), "NWB files with ndx-pose PoseEstimation"),
    "JABS": (read_jabs, (".h5",), "JABS pose_est v2-v6 HDF5"),
    "SimBA": (read_simba, (".csv",), "SimBA CSV with <kp>_x/_y/_p columns"),
}

#: Extensions that read_poses (and read_recordings' folder scan) accept.
SUPPORTED_EXTENSIONS = (".h5", ".hdf5", ".csv", ".slp", ".nc", ".nwb")

_ALIASES = {
    "deeplabcut": "DeepLabCut",
    "dlc": "DeepLabCut",
    "deepcut": "DeepLabCut",
    "lightningpose": "LightningPose",
    "lightning_pose": "LightningPose",
    "lp": "LightningPose",
    "sleap": "SLEAP",
    "netcdf": "netCDF",
    "movement": "netCDF",
    "nc": "netCDF",
    "nwb": "NWB",
    "ndx-pose": "NWB",
    "jabs": "JABS",
    "simba": "SimBA",
}


def _supported_text() -> str:
    return "; ".join(f"{name} ({', '.join(ext)})" for name, (_, ext, _) in SUPPORTED_FORMATS.items())


def _canonical(source_software: str) -> str:
    key = str(source_software).strip().lower().replace(" ", "")
    if key not in _ALIASES:
        raise ValueError(
            f"read_poses: unknown source_software={source_software!r}; choose one of {list(SUPPORTED_FORMATS)}."
        )
    return _ALIASES[key]


def _sniff_hdf5(path: Path) -> str:
    if not h5py.is_hdf5(path):
        raise format_error(
            path,
            "it is not an HDF5 file (no HDF5 signature): it may be truncated, empty or another format",
            "Copy or export the file again, or pass source_software=",
        )
    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise format_error(
            path,
            f"it cannot be opened as HDF5 ({exc}); it looks truncated or corrupted",
            "Copy or export it again",
        ) from None
    with h5:
        keys = set(h5.keys())
        if "_NCProperties" in h5.attrs:
            return "netCDF"
        if "poseest" in keys:
            return "JABS"
        if {"frames", "instances"} <= keys:
            return "SLEAP"
        if "tracks" in keys and isinstance(h5["tracks"], h5py.Dataset) and "node_names" in keys:
            return "SLEAP"
        nwb_type = h5.attrs.get("neurodata_type", b"")
        if (nwb_type.decode() if isinstance(nwb_type, bytes) else str(nwb_type)) == "NWBFile":
            return "NWB"
        for key in keys:
            obj = h5.get(key)
            if isinstance(obj, h5py.Group) and "pandas_type" in obj.attrs:
                return "DeepLabCut"
    raise format_error(
        path,
        f"the HDF5 content matches no supported format (top-level names: {sorted(keys)[:10]})",
        "Supported HDF5 formats: DeepLabCut (pandas table), SLEAP, JABS, NWB, netCDF; pass source_software= to force "
        "one",
    )


def _sniff_csv(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    lines = (
        io.TextIOWrapper(io.BytesIO(head), encoding="utf-8", errors="replace", newline="").read().splitlines()
    )
    rows = list(csv.reader(lines[:3]))
    if not rows or not any(c.strip() for c in rows[0]):
        raise format_error(path, "the file is empty", "Export the tracking data again")
    first = [r[0].strip().lower() if r else "" for r in rows]
    if (
        first[0] in ("scorer", "individuals", "bodyparts")
        and len(first) > 1
        and first[1]
        in (
            "individuals",
            "bodyparts",
            "coords",
        )
    ):
        return "DeepLabCut"
    if simba_keypoint_columns(rows[0])[0]:
        return "SimBA"
    raise format_error(
        path,
        f"its header is neither DeepLabCut's (rows starting 'scorer', ('individuals',) 'bodyparts', 'coords') nor "
        f"SimBA's ('<kp>_x', '<kp>_y' columns); the first cells are {first}",
        "Re-export the file from the tracking software, or pass source_software= to force a reader",
    )


def detect_source_software(path: PathLike) -> str:
    """Which reader :func:`read_poses` would use for ``path`` (e.g. ``"DeepLabCut"``, ``"SLEAP"``).

    Parameters
    ----------
    path : str or path-like
        Tracking file.

    Returns
    -------
    str
        A key of :data:`SUPPORTED_FORMATS`.

    Examples
    --------
    >>> from deepof_sk.datasets import sample_path
    >>> detect_source_software(sample_path("deepof_sleap_analysis"))
    'SLEAP'
    """
    path = check_file(path, "read_poses")
    suffix = path.suffix.lower()
    if suffix == ".slp":
        return "SLEAP"
    if suffix == ".nc":
        return "netCDF"
    if suffix == ".nwb":
        return "NWB"
    if suffix in (".h5", ".hdf5"):
        return _sniff_hdf5(path)
    if suffix == ".csv":
        return _sniff_csv(path)
    raise format_error(
        path,
        f"the extension {path.suffix or '(none)'!r} is not a supported tracking format",
        f"Supported formats: {_supported_text()}. Rename the file or pass source_software=",
    )


def read_poses(
    path: PathLike, *, fps: float | None = None, source_software: str | None = None, dtype=None, **kwargs
) -> xr.Dataset:
    """Read one tracking file of any supported format into a poses dataset.

    Parameters
    ----------
    path : str or path-like
        ``.h5``/``.hdf5`` (DeepLabCut, SLEAP analysis, JABS or NWB: told apart by the HDF5 content), ``.csv``
        (DeepLabCut/LightningPose or SimBA, told apart by the header), ``.slp`` (SLEAP), ``.nc`` (movement
        netCDF) or ``.nwb`` (NWB ndx-pose).
    fps : float, optional
        Frame rate. Used when the file stores none; must agree with the file's rate when it stores one (NWB,
        netCDF, SLEAP video metadata). Without either, the time coordinate stays in frames (``fps`` None).
    source_software : str, optional
        Force a reader: one of ``"DeepLabCut"``, ``"LightningPose"``, ``"SLEAP"``, ``"netCDF"``, ``"NWB"``,
        ``"JABS"``, ``"SimBA"`` (case-insensitive; ``"movement"`` means netCDF).
    dtype : {"float32", "float64"} or numpy float dtype, optional
        Floating type of ``position`` and ``confidence``; default: as the reader gives them (float64 for
        DeepLabCut, float32 for SLEAP). ``"float32"`` halves the memory of the recording and of everything the
        cleaning and feature steps compute from it (they keep float32); positions keep about 7 significant
        digits (3e-5 mm at 400 mm).
    **kwargs
        Passed to the reader: :func:`read_dlc` (``animal_ids``, ``zero_as_missing``, ``key``, ``float_precision``),
        :func:`read_sleap` (``video``), :func:`read_jabs` (``identity``, ``keypoints``), :func:`read_simba`
        (``zero_as_missing``).

    Returns
    -------
    xarray.Dataset
        Poses dataset (movement schema) with ``attrs["recording_id"]`` (see :func:`infer_recording_id`),
        ``source_software``, ``source_file``, ``fps`` and a log entry.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    PosesFormatError
        Unknown extension (the message lists the supported formats), unrecognised content, truncated file,
        wrong header, empty table, non-numeric cells, duplicate keypoints, fps conflicting with the file's.
    TypeError
        A keyword argument the chosen reader does not accept.

    Examples
    --------
    >>> from deepof_sk.datasets import sample_path
    >>> ds = read_poses(sample_path("deepof_multi"), fps=25)
    >>> ds.individual.values.tolist(), ds.sizes["keypoint"], ds.attrs["fps"]
    (['B', 'W'], 14, 25.0)
    """
    path = check_file(path, "read_poses")
    software = detect_source_software(path) if source_software is None else _canonical(source_software)
    reader = SUPPORTED_FORMATS[software][0]
    params = inspect.signature(reader).parameters
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        accepted = sorted(p for p in params if p not in ("path", "fps"))
        raise TypeError(
            f"read_poses: {str(path)!r} is read by {reader.__name__} ({software}), which does not accept "
            f"{unknown}; it accepts {accepted}."
        )
    target = _float_dtype(dtype)
    if software == "LightningPose":
        kwargs.setdefault("source_software", "LightningPose")
    return cast_poses(reader(path, fps=fps, **kwargs), target)


def cast_poses(ds: xr.Dataset, target) -> xr.Dataset:
    """``ds`` with ``position`` and ``confidence`` in the numpy dtype ``target`` (None: ``ds`` unchanged)."""
    if target is None:
        return ds
    return ds.assign({v: ds[v].astype(target) for v in (S.POSITION, S.CONFIDENCE) if v in ds and ds[v].dtype != target})


def _float_dtype(dtype, where: str = "read_poses"):
    """``dtype`` of :func:`read_poses` as a numpy dtype (None stays None); a clear error for non-float types."""
    if dtype is None:
        return None
    try:
        target = np.dtype(dtype)
    except TypeError:
        target = np.dtype(object)  # (not None: numpy reads None as float64 in comparisons)
    if target.kind != "f" or target.itemsize not in (4, 8):
        raise ValueError(f"{where}: `dtype` must be 'float32' or 'float64' (or None to keep the reader's); "
                         f"got {dtype!r}.")
    return target
