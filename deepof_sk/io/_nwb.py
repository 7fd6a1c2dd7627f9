"""NWB files with the ndx-pose extension, read with h5py (no pynwb needed).

An NWB file keeps poses in ``PoseEstimation`` groups (usually ``processing/behavior/PoseEstimation``), one
``PoseEstimationSeries`` subgroup per keypoint with ``data`` (frames, 2 or 3), optional ``confidence`` (frames,) and
either ``timestamps`` or ``starting_time`` with a ``rate`` attribute. Groups are recognised by their
``neurodata_type`` attribute, so any group names work. Each ``PoseEstimation`` group is one individual.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import h5py
import numpy as np
import xarray as xr

from ..exceptions import DataQualityWarning, PosesFormatError
from ._common import PathLike, build_dataset, check_file, format_error, resolve_fps

__all__ = ["read_nwb"]


def _decode(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _type(obj) -> str:
    return _decode(obj.attrs.get("neurodata_type", ""))


def _find_pose_groups(h5: h5py.File) -> list[h5py.Group]:
    found: list[h5py.Group] = []
    if "processing" not in h5:
        return found

    def visit(name, obj):
        if isinstance(obj, h5py.Group) and _type(obj) == "PoseEstimation":
            found.append(obj)

    h5["processing"].visititems(visit)
    return found


def _node_order(group: h5py.Group, series: list[str]) -> list[str]:
    """Keypoint order: the skeleton's nodes when the file has them, else the order of the series."""
    nodes = None
    if "nodes" in group and isinstance(group["nodes"], h5py.Dataset):  # ndx-pose < 0.2
        nodes = [_decode(n) for n in group["nodes"][()]]
    else:
        for name in group:
            try:
                obj = group[name]
            except KeyError:  # dangling link
                continue
            if isinstance(obj, h5py.Group) and _type(obj) == "Skeleton" and "nodes" in obj:
                nodes = [_decode(n) for n in obj["nodes"][()]]
                break
    if not nodes:
        return series
    return [n for n in nodes if n in series] + [s for s in series if s not in nodes]


def _series_fps(series: h5py.Group, path: Path) -> float | None:
    if "starting_time" in series and "rate" in series["starting_time"].attrs:
        return float(series["starting_time"].attrs["rate"])
    if "timestamps" in series:
        ts = np.asarray(series["timestamps"][()], dtype=float)
        if ts.size < 2:
            return None
        step = np.diff(ts)
        median = float(np.nanmedian(step))
        if not median > 0:
            return None
        if np.nanmax(np.abs(step - median)) > 0.01 * median:
            warnings.warn(
                f"{str(path)!r}: the timestamps are not evenly spaced (steps from {np.nanmin(step):g} to "
                f"{np.nanmax(step):g} s); fps is taken from the median step and the time coordinate assumes a "
                "regular rate.",
                DataQualityWarning,
                stacklevel=3,
            )
        if np.array_equal(ts, np.arange(ts.size)):
            warnings.warn(
                f"{str(path)!r}: the timestamps are 0, 1, 2, ... seconds, which looks like frame numbers; the file's "
                "frame rate is read as 1.0 fps. If that is wrong, fix the timestamps in the file.",
                DataQualityWarning,
                stacklevel=3,
            )
        return round(1.0 / median, 6)
    return None


def read_nwb(path: PathLike, *, fps: float | None = None) -> xr.Dataset:
    """Read the ndx-pose pose estimates of an NWB file (``.nwb``, or HDF5 with another extension).

    Parameters
    ----------
    path : str or path-like
        NWB file.
    fps : float, optional
        Frame rate; the file's rate (``starting_time.rate``, or the median step of ``timestamps``) is used when
        present and ``fps`` must then agree with it.

    Returns
    -------
    xarray.Dataset
        One individual per ``PoseEstimation`` group: named after the file's ``identifier`` when there is one group
        (as movement does), after the groups otherwise. Keypoints follow the skeleton's node order when stored.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    PosesFormatError
        Not HDF5, no PoseEstimation group, series of different lengths.

    Notes
    -----
    Positions are ``data * conversion + offset`` (NWB's scaling attrs). Missing confidence is NaN; NaN positions
    stay NaN. Timestamps that are not evenly spaced, or that look like frame numbers, warn with
    :class:`~deepof_sk.exceptions.DataQualityWarning`.
    """
    path = check_file(path, "read_nwb")
    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise format_error(
            path,
            f"it cannot be opened as HDF5/NWB ({exc}); it looks truncated or is another format",
            "Copy or export the file again",
        ) from None
    with h5:
        try:
            groups = _find_pose_groups(h5)
            if not groups:
                raise format_error(
                    path,
                    "no ndx-pose PoseEstimation group under /processing",
                    "Save the poses with ndx-pose (PoseEstimation / PoseEstimationSeries)",
                )
            identifier = _decode(h5["identifier"][()]) if "identifier" in h5 else None
            per_group, file_fps, software = [], None, None
            for group in groups:
                names = [
                    n
                    for n in group
                    if isinstance(group.get(n), h5py.Group) and _type(group[n]) == "PoseEstimationSeries"
                ]
                if not names:
                    raise format_error(
                        path, f"{group.name} has no PoseEstimationSeries", "Check the NWB file"
                    )
                order = _node_order(group, names)
                data, conf = {}, {}
                for name in order:
                    series = group[name]
                    d = series["data"]
                    arr = np.asarray(d[()], dtype=float)
                    arr = arr * float(d.attrs.get("conversion", 1.0)) + float(d.attrs.get("offset", 0.0))
                    data[name] = arr
                    conf[name] = (
                        np.asarray(series["confidence"][()], dtype=float)
                        if "confidence" in series
                        else np.full(arr.shape[0], np.nan)
                    )
                    if file_fps is None:
                        file_fps = _series_fps(series, path)
                if "source_software" in group and software is None:
                    software = _decode(group["source_software"][()])
                per_group.append((group.name.rsplit("/", 1)[-1], order, data, conf))
        except (PosesFormatError, ValueError):
            raise
        except (OSError, KeyError, RuntimeError) as exc:
            raise format_error(
                path,
                f"reading the NWB data failed ({type(exc).__name__}: {exc}); the file may be truncated",
                "Copy or export the file again",
            ) from None
    lengths = {a.shape[0] for _, _, data, _ in per_group for a in data.values()}
    dims = {a.shape[1] if a.ndim == 2 else 0 for _, _, data, _ in per_group for a in data.values()}
    if len(lengths) != 1 or len(dims) != 1 or dims.pop() not in (2, 3):
        raise format_error(
            path,
            f"the pose series have different lengths {sorted(lengths)} or unsupported shapes",
            "Every PoseEstimationSeries must be (frames, 2) or (frames, 3) with the same number of frames",
        )
    keypoints = list(dict.fromkeys(k for _, order, _, _ in per_group for k in order))
    n_t = lengths.pop()
    n_s = next(iter(per_group[0][2].values())).shape[1]
    position = np.full((n_t, n_s, len(keypoints), len(per_group)), np.nan)
    confidence = np.full((n_t, len(keypoints), len(per_group)), np.nan)
    for i, (_, order, data, conf) in enumerate(per_group):
        for name in order:
            k = keypoints.index(name)
            position[:, :, k, i] = data[name]
            confidence[:, k, i] = conf[name]
    if len(per_group) == 1:
        individuals = [identifier or per_group[0][0]]
    else:
        individuals = [g[0] for g in per_group]
    return build_dataset(
        position,
        confidence,
        path=path,
        keypoints=keypoints,
        individuals=individuals,
        fps=resolve_fps(fps, file_fps, path),
        source_software=software or "NWB",
        reader="read_nwb",
        attrs={"nwb_identifier": identifier},
    )
