"""SimBA CSV tables: one header row, one row per frame, ``<keypoint>_x``, ``<keypoint>_y``, ``<keypoint>_p`` columns
(often followed by hundreds of engineered features and ``<behavior>_prediction`` label columns).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

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

__all__ = ["read_simba", "read_simba_labels", "simba_keypoint_columns"]

_SUFFIX = re.compile(r"^(?P<base>.+)_(?P<coord>[xyp])$")
_ANIMAL = re.compile(r"^(?P<kp>.+)_(?P<animal>\d+)$")
_PREDICTION = "_prediction"


def _header(raw: bytes, path: Path) -> list[str]:
    with io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", errors="replace", newline="") as fh:
        line = fh.readline()
    if not line.strip():
        raise format_error(path, "the file is empty", "Export the SimBA table again")
    return next(csv.reader([line]))


def simba_keypoint_columns(columns) -> tuple[list[str], dict[str, dict[str, int]]]:
    """Keypoint bases that have both ``_x`` and ``_y`` columns (in order), and {base: {coord: column index}}."""
    found: dict[str, dict[str, int]] = {}
    for j, name in enumerate(columns):
        m = _SUFFIX.match(str(name))
        if m:
            found.setdefault(m["base"], {})[m["coord"]] = j
    bases = [b for b, c in found.items() if "x" in c and "y" in c]
    return bases, {b: found[b] for b in bases}


def _split_animals(bases: list[str]) -> tuple[list[str], list[str]] | None:
    """Split ``Nose_1``/``Nose_2`` into (keypoint, animal) when every base ends in a number and animals match."""
    matches = [_ANIMAL.match(b) for b in bases]
    if not all(matches):
        return None
    animals = [m["animal"] for m in matches]
    kps = [m["kp"] for m in matches]
    groups: dict[str, list[str]] = {}
    for a, k in zip(animals, kps, strict=True):
        groups.setdefault(a, []).append(k)
    sets = list(groups.values())
    if len(groups) < 2 or any(sorted(s) != sorted(sets[0]) or len(set(s)) != len(s) for s in sets):
        return None
    return kps, animals


def read_simba(path: PathLike, *, fps: float | None = None, zero_as_missing: bool = True) -> xr.Dataset:
    """Read the keypoint columns of a SimBA CSV (``<kp>_x``, ``<kp>_y``, ``<kp>_p``).

    Parameters
    ----------
    path : str or path-like
        SimBA CSV with one header row; the first column is the frame index.
    fps : float, optional
        Frame rate (not stored in the table).
    zero_as_missing : bool, default True
        Treat points at exactly (0, 0) as missing (NaN); SimBA fills undetected points with 0.

    Returns
    -------
    xarray.Dataset
        Poses dataset. Keypoints whose names all end in ``_<number>`` with the same keypoints per number
        (``Nose_1``, ``Nose_2``) are split into individuals named by that number (``"1"``, ``"2"``); otherwise one
        individual ``individual_0``. Other columns (features, labels) are ignored: see :func:`read_simba_labels`.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    PosesFormatError
        No keypoint columns, truncated file, non-numeric cells.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "clip.csv"
    >>> _ = path.write_text("scorer,Nose_1_x,Nose_1_y,Nose_1_p,Nose_2_x,Nose_2_y,Nose_2_p,attack_prediction\\n"
    ...                     "0,1.5,2.0,0.9,3.0,4.0,1.0,0\\n1,1.6,2.1,0.8,3.1,4.2,1.0,1\\n")
    >>> ds = read_simba(path)
    >>> ds.individual.values.tolist(), ds.keypoint.values.tolist()
    (['1', '2'], ['Nose'])
    """
    path = check_file(path, "read_simba")
    raw = read_bytes(path)
    columns = _header(raw, path)
    bases, index = simba_keypoint_columns(columns)
    if not bases:
        raise format_error(
            path,
            f"no keypoint columns '<name>_x', '<name>_y' in the header (first columns: {columns[:6]})",
            "Pass a SimBA table with keypoint columns, or set source_software= to the right format",
        )
    check_field_counts(raw, skip_lines=1, n_fields=len(columns), path=path)
    wanted = sorted({j for b in bases for j in index[b].values()})
    del raw
    data = parse_numeric_table(path, skip_lines=1, names=columns, path=path, usecols=wanted)
    remap = {j: n for n, j in enumerate(wanted)}
    index = {b: {c: remap[j] for c, j in d.items()} for b, d in index.items()}
    if data.shape[0] == 0:
        raise format_error(path, "the table has a header but no data rows", "Check that the export finished")
    split = _split_animals(bases)
    if split is None:
        kp_of, animal_of = bases, ["individual_0"] * len(bases)
    else:
        kp_of, animal_of = split
    keypoints = list(dict.fromkeys(kp_of))
    individuals = list(dict.fromkeys(animal_of))
    n_t = data.shape[0]
    position = np.full((n_t, 2, len(keypoints), len(individuals)), np.nan)
    confidence = np.full((n_t, len(keypoints), len(individuals)), np.nan)
    k = np.array([keypoints.index(x) for x in kp_of])
    i = np.array([individuals.index(x) for x in animal_of])
    position[:, 0, k, i] = data[:, [index[b]["x"] for b in bases]]
    position[:, 1, k, i] = data[:, [index[b]["y"] for b in bases]]
    with_p = [n for n, b in enumerate(bases) if "p" in index[b]]
    if with_p:
        confidence[:, k[with_p], i[with_p]] = data[:, [index[bases[n]]["p"] for n in with_p]]
    del data
    n_zero = zeros_to_nan(position) if zero_as_missing else 0
    return build_dataset(
        position,
        confidence,
        path=path,
        keypoints=keypoints,
        individuals=individuals,
        fps=resolve_fps(fps, None, path),
        source_software="SimBA",
        reader="read_simba",
        log={"zero_points_set_to_nan": n_zero},
    )


def read_simba_labels(path: PathLike, *, suffix: str = _PREDICTION) -> pd.DataFrame:
    """Per-frame behaviour columns (``<behavior>_prediction``) of a SimBA CSV.

    Parameters
    ----------
    path : str or path-like
        SimBA CSV.
    suffix : str, default "_prediction"
        Suffix marking behaviour columns.

    Returns
    -------
    pandas.DataFrame
        One row per frame (index ``frame``, from the first column) and one int column per behaviour, named without
        the suffix (``attack_prediction`` -> ``attack``); ``columns.name == "behavior"``.

    Raises
    ------
    PosesFormatError
        No behaviour column, or non-numeric labels.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "clip.csv"
    >>> _ = path.write_text("scorer,Nose_x,Nose_y,Nose_p,attack_prediction\\n0,1,2,1,0\\n1,1,2,1,1\\n")
    >>> read_simba_labels(path)["attack"].tolist()
    [0, 1]
    """
    path = check_file(path, "read_simba_labels")
    raw = read_bytes(path)
    columns = _header(raw, path)
    wanted = [c for c in columns[1:] if c.endswith(suffix) and len(c) > len(suffix)]
    if not wanted:
        raise format_error(
            path, f"no behaviour columns ending in {suffix!r} in the header", "Pass a SimBA table with labels"
        )
    check_field_counts(raw, skip_lines=1, n_fields=len(columns), path=path)
    try:
        df = pd.read_csv(io.BytesIO(raw), usecols=[columns[0], *wanted], index_col=0)
    except (ValueError, pd.errors.ParserError) as exc:
        raise format_error(path, f"the label columns cannot be parsed ({exc})", "Check the file") from None
    bad = [c for c in wanted if not pd.api.types.is_numeric_dtype(df[c])]
    if bad:
        raise format_error(path, f"non-numeric label columns {bad}", "Labels must be 0/1 per frame")
    if df[wanted].isna().any().any():
        raise PosesFormatError(
            f"Cannot read {str(path)!r}: missing values in label columns "
            f"{[c for c in wanted if df[c].isna().any()]}. Fill or remove the incomplete rows."
        )
    df = df[wanted].astype(int)
    df.columns = pd.Index([c[: -len(suffix)] for c in wanted], name="behavior")
    df.index.name = "frame"
    return df
