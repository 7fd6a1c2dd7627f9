"""DeepLabCut (and LightningPose, DeepOF-prefixed) tables: read ``.h5``/``.csv`` (writing: ``_dlc_writer``).

Layout of a DeepLabCut table: one row per frame, columns a MultiIndex ``scorer / (individuals) / bodyparts /
coords`` with coords ``x, y, (z,) likelihood``. In a CSV the levels are header rows whose first cell is the level
name, then one row per frame whose first cell is the frame index.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import h5py
import numpy as np
import pandas as pd
import xarray as xr

from ..exceptions import PosesFormatError
from ._common import (
    PathLike,
    build_dataset,
    check_field_counts,
    check_file,
    format_error,
    parse_numeric_table,
    read_bytes,
    resolve_fps,
    zeros_to_nan,
)

__all__ = ["read_dlc", "split_animal_prefixes"]

_COORDS = ("x", "y", "z")
_LIKELIHOOD = "likelihood"
_LEVELS = ("scorer", "individuals", "bodyparts", "coords")
_HEADER_FIX = (
    "A DeepLabCut CSV starts with the header rows 'scorer', ('individuals',) 'bodyparts' and 'coords' (first cell of "
    "each row), then one row per frame; re-export it from DeepLabCut or pass source_software= if it is another format"
)

#: Words that name a side or position of the body; a prefix or rest equal to one of them is never an animal id.
_POSITION_WORDS = frozenset(
    "left right l r lt rt front back fore hind rear upper lower top bottom inner outer mid middle center centre "
    "anterior posterior dorsal ventral medial lateral head tail base tip".split()
)

AnimalIds = Sequence[str] | Literal["auto"] | None


def split_animal_prefixes(bodyparts: Sequence[str], animal_ids: AnimalIds = "auto", sep: str = "_"):
    """Split DeepOF-style prefixed body-part names (``B_Nose``, ``W_Nose``) into (animal, keypoint) pairs.

    Parameters
    ----------
    bodyparts : sequence of str
        Body-part names of a single-animal table.
    animal_ids : sequence of str, "auto" or None, default "auto"
        Explicit animal prefixes (every name must start with one of them followed by ``sep``); ``"auto"`` to detect
        them with the conservative rule below; None to never split.
    sep : str, default "_"
        Separator between animal id and keypoint name.

    Returns
    -------
    animals : list of str or None
        Animal of each body part, or None when the names are not split.
    keypoints : list of str
        Keypoint name of each body part (the original names when not split).

    Notes
    -----
    Auto-detection splits only when **all** of these hold: every name contains ``sep``; splitting at the first
    ``sep`` gives at least two prefixes; every prefix carries exactly the same set of keypoint names (at least two,
    not all numeric and not all side/position words), each once; and no prefix is a side/position word
    (``left``, ``right``, ``front``, ``hind``, ``tail``, ...). So ``Left_ear``/``Right_ear`` skeletons, ``Spine_1``/``Spine_2`` and a
    single animal with a mix of plain and underscored names are never split. Pass ``animal_ids`` explicitly when in
    doubt.

    Examples
    --------
    >>> split_animal_prefixes(["B_Nose", "B_Tail_base", "W_Nose", "W_Tail_base"])
    (['B', 'B', 'W', 'W'], ['Nose', 'Tail_base', 'Nose', 'Tail_base'])
    >>> split_animal_prefixes(["Nose", "Left_ear", "Right_ear"])
    (None, ['Nose', 'Left_ear', 'Right_ear'])
    """
    names = [str(b) for b in bodyparts]
    if animal_ids is None:
        return None, names
    if isinstance(animal_ids, str) and animal_ids == "auto":
        if not names or not all(sep in n for n in names):
            return None, names
        pairs = [n.split(sep, 1) for n in names]
        groups: dict[str, list[str]] = {}
        for prefix, rest in pairs:
            groups.setdefault(prefix, []).append(rest)
        rests = list(groups.values())
        first = rests[0]
        if (
            len(groups) < 2
            or len(set(first)) < 2
            or any(len(r) != len(set(r)) or set(r) != set(first) for r in rests)
            or all(r.isdigit() for r in first)
            or {p.lower() for p in groups} & _POSITION_WORDS
            or {r.lower() for r in first} <= _POSITION_WORDS
            or any(p == "" or r == "" for p, r in pairs)
        ):
            return None, names
        return [p for p, _ in pairs], [r for _, r in pairs]
    if isinstance(animal_ids, str):
        raise ValueError(f"animal_ids must be 'auto', None or a list of animal prefixes; got {animal_ids!r}.")
    ids = [str(a) for a in animal_ids]
    animals, keypoints, unmatched = [], [], []
    for n in names:
        match = next((a for a in sorted(ids, key=len, reverse=True) if n.startswith(a + sep)), None)
        if match is None:
            unmatched.append(n)
            continue
        animals.append(match)
        keypoints.append(n[len(match) + len(sep) :])
    if unmatched:
        raise ValueError(
            f"animal_ids={ids}: body parts {sorted(set(unmatched))} do not start with any of the prefixes "
            f"{[a + sep for a in ids]}; pass the right ids, or animal_ids=None to keep one animal."
        )
    return animals, keypoints


# --------------------------------------------------------------------------------------------------------- reading
def _read_csv_header(raw: bytes, path: Path) -> tuple[dict[str, list[str]], int, int]:
    """Parse the header rows; return {level: cells after the index columns}, n_header_lines, n_index_columns."""
    text_lines = []
    with io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", errors="replace", newline="") as fh:
        for _ in range(4):
            line = fh.readline()
            if not line:
                break
            text_lines.append(line)
    rows = list(csv.reader(text_lines))
    levels: dict[str, list[str]] = {}
    for row in rows:
        if row and row[0].strip().lower() in _LEVELS and row[0].strip().lower() not in levels:
            levels[row[0].strip().lower()] = row
        else:
            break
    n_header = len(levels)
    if "bodyparts" not in levels or "coords" not in levels:
        first = [r[0] if r else "" for r in rows[:4]]
        raise format_error(
            path,
            f"no DeepLabCut header (the first cells of the first rows are {first}; expected 'scorer', "
            "('individuals',) 'bodyparts', 'coords')",
            _HEADER_FIX,
        )
    coords_row = levels["coords"]
    n_index = 1
    while n_index < len(coords_row) and coords_row[n_index].strip() == "":
        n_index += 1
    width = len(coords_row)
    for name, row in levels.items():
        if len(row) != width:
            raise format_error(
                path, f"header row {name!r} has {len(row)} cells but 'coords' has {width}", _HEADER_FIX
            )
    return {name: row[n_index:] for name, row in levels.items()}, n_header, n_index


def _columns_from_csv(
    path: Path, float_precision: str
) -> tuple[dict[str, list[str]], np.ndarray, str | None]:
    raw = read_bytes(path)
    if not raw or raw.isspace():
        raise format_error(path, "the file is empty", "Export the tracking data again")
    header, n_header, n_index = _read_csv_header(raw, path)
    n_fields = n_index + len(header["coords"])
    check_field_counts(raw, skip_lines=n_header, n_fields=n_fields, path=path)
    names = ["index"] * n_index + [
        f"{b}/{c}" for b, c in zip(header["bodyparts"], header["coords"], strict=True)
    ]
    del raw  # pandas streams the file itself: the raw bytes need not stay in memory while it parses
    data = parse_numeric_table(
        path,
        skip_lines=n_header,
        names=names,
        path=path,
        usecols=range(n_index, n_fields),
        float_precision=float_precision,
    )
    scorer = header.get("scorer", [None])[0] if header.get("scorer") else None
    return header, data, scorer


def _columns_from_h5(path: Path, key: str | None) -> tuple[dict[str, list[str]], np.ndarray, str | None]:
    try:
        with pd.HDFStore(path, mode="r") as store:
            keys = store.keys()
            if key is None:
                preferred = [k for k in ("/df_with_missing", "/tracks", "/df") if k in keys]
                if not keys:
                    raise format_error(
                        path, "the HDF5 file holds no pandas table", "Is it a DeepLabCut .h5 file?"
                    )
                key = preferred[0] if preferred else keys[0]
            df = store.get(key)
    except PosesFormatError:
        raise
    except Exception as exc:  # PyTables raises many types (HDF5ExtError, OSError, ...) on damaged files
        raise format_error(
            path,
            f"the pandas/PyTables table cannot be read ({type(exc).__name__}: {exc}); the file may be truncated or "
            "not a DeepLabCut .h5",
            "Copy or export the file again",
        ) from None
    if (
        not isinstance(df, pd.DataFrame)
        or not isinstance(df.columns, pd.MultiIndex)
        or df.columns.nlevels
        not in (
            3,
            4,
        )
    ):
        raise format_error(
            path,
            f"the table under key {key!r} does not have DeepLabCut columns (a 3- or 4-level MultiIndex scorer/"
            "(individuals)/bodyparts/coords)",
            "Pass the right key= or check the file comes from DeepLabCut",
        )
    cols = df.columns
    header = {
        "bodyparts": [str(v) for v in cols.get_level_values(-2)],
        "coords": [str(v) for v in cols.get_level_values(-1)],
    }
    if cols.nlevels == 4:
        header["individuals"] = [str(v) for v in cols.get_level_values(-3)]
    non_numeric = [
        c
        for c, dt in df.dtypes.items()
        if not pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_bool_dtype(dt)
    ]
    if non_numeric:
        raise format_error(
            path, f"non-numeric columns {non_numeric[:5]}", "Coordinates and likelihoods must be numbers"
        )
    data = df.to_numpy(dtype=float, copy=False)
    scorer = str(cols.get_level_values(0)[0]) if cols.nlevels else None
    del df
    return header, data, scorer


def _gather_columns(data: np.ndarray, columns: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """``data[:, columns]`` as a C-ordered float array, copied in blocks of rows.

    pandas hands back the table as a strided view of its column blocks; copying a block of rows to contiguous
    memory first keeps the gather cache-friendly while the temporary stays small.
    """
    out = np.empty((data.shape[0], columns.size))
    for start in range(0, data.shape[0], chunk):
        block = np.ascontiguousarray(data[start : start + chunk], dtype=float)
        np.take(block, columns, axis=1, out=out[start : start + chunk], mode="clip")  # "clip": unbuffered
    return out


def _assemble(
    header: dict[str, list[str]],
    data: np.ndarray,
    path: Path,
    animal_ids: AnimalIds,
):
    bodyparts = header["bodyparts"]
    coords = [c.strip().lower() for c in header["coords"]]
    unknown = sorted(set(coords) - {*_COORDS, _LIKELIHOOD})
    if unknown:
        raise format_error(
            path, f"unknown coords {unknown} in the header (expected x, y, (z,) likelihood)", _HEADER_FIX
        )
    if "individuals" in header:
        animals = header["individuals"]
        if animal_ids is not None and not (isinstance(animal_ids, str) and animal_ids == "auto"):
            if sorted(set(animal_ids)) != sorted(set(animals)):
                raise ValueError(
                    f"Reading {str(path)!r}: the file is a multi-animal table with individuals "
                    f"{sorted(set(animals))}; animal_ids={list(animal_ids)} does not match them. Omit animal_ids."
                )
        keypoint_of = bodyparts
    else:
        try:
            split, keypoint_of = split_animal_prefixes(list(dict.fromkeys(bodyparts)), animal_ids)
        except ValueError as exc:
            raise ValueError(f"Reading {str(path)!r}: {exc}") from None
        if split is None:
            animals = ["individual_0"] * len(bodyparts)
            keypoint_of = bodyparts
        else:
            lookup = dict(zip(dict.fromkeys(bodyparts), zip(split, keypoint_of, strict=True), strict=True))
            animals = [lookup[b][0] for b in bodyparts]
            keypoint_of = [lookup[b][1] for b in bodyparts]
    triples = list(zip(animals, keypoint_of, coords, strict=True))
    seen: dict[tuple, int] = {}
    dupes = sorted(
        {
            f"{a}/{k}/{c}" if len(set(animals)) > 1 else f"{k}/{c}"
            for a, k, c in triples
            if (a, k, c) in seen or seen.setdefault((a, k, c), 0)
        }
    )
    if dupes:
        raise format_error(
            path,
            f"duplicate keypoint names: the columns {dupes} occur more than once",
            "Every body part must have a unique name per animal; rename them in the DeepLabCut config and re-export",
        )
    individuals = list(dict.fromkeys(animals))
    keypoints = list(dict.fromkeys(keypoint_of))
    space = [c for c in _COORDS if c in coords]
    if space not in (["x", "y"], ["x", "y", "z"]):
        raise format_error(path, f"coordinates {space} found; expected x, y (and z)", _HEADER_FIX)
    ind_idx = {n: i for i, n in enumerate(individuals)}
    kp_idx = {n: i for i, n in enumerate(keypoints)}
    sp_idx = {n: i for i, n in enumerate(space)}
    n_t = data.shape[0]
    n_s, n_k, n_i = len(space), len(keypoints), len(individuals)
    # fast path: columns already form the complete grid individual > keypoint > (x, y, (z,) likelihood), as
    # DeepLabCut writes them; then one row-wise gather (np.take) replaces the scatter
    n_c = n_s + (_LIKELIHOOD in coords)
    code = [sp_idx.get(c, n_s) for c in coords]
    target = [
        (ind_idx[a] * n_k + kp_idx[k]) * n_c + c for a, k, c in zip(animals, keypoint_of, code, strict=True)
    ]
    if data.shape[1] == n_i * n_k * n_c and target == list(range(n_i * n_k * n_c)):
        src = np.arange(n_i * n_k * n_c).reshape(n_i, n_k, n_c)  # column of (individual, keypoint, coord)
        position = _gather_columns(data, src[..., :n_s].transpose(2, 1, 0).ravel()).reshape(
            n_t, n_s, n_k, n_i
        )
        confidence = None
        if n_c > n_s:
            confidence = _gather_columns(data, src[..., n_s].T.ravel()).reshape(n_t, n_k, n_i)
        return position, confidence, keypoints, individuals
    position = np.full((n_t, n_s, n_k, n_i), np.nan)
    is_xyz = np.array([c in sp_idx for c in coords])
    cols = np.flatnonzero(is_xyz)
    s = np.array([sp_idx[coords[j]] for j in cols], dtype=int)
    k = np.array([kp_idx[keypoint_of[j]] for j in cols], dtype=int)
    i = np.array([ind_idx[animals[j]] for j in cols], dtype=int)
    position[:, s, k, i] = data[:, cols]
    # every (individual, keypoint) present must have all of its coordinates
    present = np.zeros((len(space), len(keypoints), len(individuals)), bool)
    present[s, k, i] = True
    partial = present.any(0) & ~present.all(0)
    if partial.any():
        kk, ii = np.nonzero(partial)
        raise format_error(
            path,
            f"keypoints {sorted({keypoints[x] for x in kk})} lack some of the coordinates {space}",
            _HEADER_FIX,
        )
    lk = np.flatnonzero(~is_xyz)
    confidence = None
    if lk.size:
        confidence = np.full((n_t, len(keypoints), len(individuals)), np.nan)
        confidence[:, [kp_idx[keypoint_of[j]] for j in lk], [ind_idx[animals[j]] for j in lk]] = data[:, lk]
    return position, confidence, keypoints, individuals


def read_dlc(
    path: PathLike,
    *,
    fps: float | None = None,
    animal_ids: AnimalIds = "auto",
    zero_as_missing: bool = True,
    key: str | None = None,
    source_software: str = "DeepLabCut",
    float_precision: Literal["round_trip", "high"] = "round_trip",
) -> xr.Dataset:
    """Read a DeepLabCut ``.h5`` or ``.csv`` table (single- or multi-animal, 2-D or 3-D) into a poses dataset.

    Also reads LightningPose CSVs (same layout; pass ``source_software="LightningPose"`` to record it), old
    ``DeepCut`` CSVs, tables without a likelihood column (confidence is then NaN) and DeepOF's prefixed multi-animal
    layout (``B_Nose``, ``W_Nose`` in a single-animal header), which is split into individuals.

    Parameters
    ----------
    path : str or path-like
        ``.h5`` (pandas/PyTables) or ``.csv`` file (told apart by the content, so other extensions work too).
    fps : float, optional
        Frame rate. DeepLabCut files do not store it: without it the time coordinate is in frames.
    animal_ids : sequence of str, "auto" or None, default "auto"
        For single-animal headers: animal prefixes to split body-part names on (``["B", "W"]``), ``"auto"`` to
        detect them conservatively (see :func:`split_animal_prefixes`), None to keep one individual. Ignored for
        multi-animal tables (which name their individuals), except that explicit ids must then match them.
    zero_as_missing : bool, default True
        Treat a point whose coordinates are all exactly 0 as missing (NaN), as multi-animal DeepLabCut and MABe
        exports write undetected points as ``(0, 0)``. Its likelihood is kept.
    key : str, optional
        HDF5 key of the table; by default ``df_with_missing``, ``tracks`` or ``df``, else the only one.
    source_software : str, default "DeepLabCut"
        Recorded in ``attrs["source_software"]``.
    float_precision : {"round_trip", "high"}, default "round_trip"
        CSV number parsing: ``"round_trip"`` reproduces the written values exactly (pandas' exact parser, the slow
        part of reading a CSV); ``"high"`` is about 4x faster and may be off by a few units in the last place.

    Returns
    -------
    xarray.Dataset
        Poses dataset; ``confidence`` is the likelihood (NaN when the file has none). Single-animal tables have
        one individual named ``individual_0``.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    PosesFormatError
        Truncated file, missing header rows, empty table, non-numeric cells, duplicate keypoints.

    Notes
    -----
    Missing points are NaN (empty CSV cells, NaN in ``.h5``, all-zero coordinates with ``zero_as_missing``). Units
    are pixels. The frame-index column of a CSV is not used: rows are frames in file order.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> from deepof_sk.io import write_dlc
    >>> ds = make_synthetic_poses(50, n_individuals=2)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "mouseDLC_resnet50_demoJan1shuffle1_1000.csv"
    >>> write_dlc(ds, path)
    >>> back = read_dlc(path, fps=25)
    >>> back.sizes["time"], back.attrs["recording_id"]
    (50, 'mouse')
    """
    path = check_file(path, "read_dlc")
    if float_precision not in ("round_trip", "high"):
        raise ValueError(
            f"read_dlc: float_precision must be 'round_trip' or 'high'; got {float_precision!r}."
        )
    # HDF5 or text is told by the content (HDF5 signature), so a forced read of e.g. a .txt export works
    is_hdf5 = (
        path.suffix.lower() in (".h5", ".hdf5", ".hdf") if path.stat().st_size < 8 else h5py.is_hdf5(path)
    )
    if is_hdf5:
        header, data, scorer = _columns_from_h5(path, key)
    else:
        header, data, scorer = _columns_from_csv(path, float_precision)
    if data.shape[0] == 0:
        raise format_error(path, "the table has a header but no data rows", "Check that the export finished")
    position, confidence, keypoints, individuals = _assemble(header, data, path, animal_ids)
    del data
    n_zero = zeros_to_nan(position) if zero_as_missing else 0
    return build_dataset(
        position,
        confidence,
        path=path,
        keypoints=keypoints,
        individuals=individuals,
        fps=resolve_fps(fps, None, path),
        source_software=source_software,
        reader="read_dlc",
        attrs={"dlc_scorer": scorer if isinstance(scorer, str) else None},
        log={"zero_points_set_to_nan": n_zero},
    )
