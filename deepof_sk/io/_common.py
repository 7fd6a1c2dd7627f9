"""Helpers shared by every reader: path checks, the fps rule, recording ids, numeric CSV parsing, dataset assembly.

Every reader ends in :func:`build_dataset`, which goes through :func:`deepof_sk.validation.make_poses_dataset`, so
all readers return exactly the same schema and the same attrs.
"""

from __future__ import annotations

import io
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..exceptions import PosesFormatError
from ..validation import append_log, make_poses_dataset

__all__ = [
    "infer_recording_id",
]

PathLike = str | os.PathLike

#: Attribute holding the recording id (see :func:`infer_recording_id`).
RECORDING_ID = "recording_id"

# A DeepLabCut scorer appended to a video name: "DLC_" or "DeepCut_" followed by the network and "shuffle<N>".
_DLC_SCORER = re.compile(r"^(?P<id>.+?)(?:DLC|DeepCut)_.*shuffle\d+.*$")


def infer_recording_id(path: PathLike) -> str:
    """Recording id of a tracking file: its name without extension and without a DeepLabCut scorer suffix.

    DeepLabCut names its output ``<video><scorer>.h5`` where the scorer starts with ``DLC_`` (``DeepCut_`` in old
    releases) and contains ``shuffle<N>``, e.g. ``mouse1DLC_resnet50_openfieldAug28shuffle1_1030000_filtered``.
    Everything from that ``DLC_``/``DeepCut_`` on is removed. A name with ``DLC_`` but no ``shuffle<N>`` after it
    (``testDLC_h5_table``) is not a scorer suffix and is kept whole. Only the last extension is removed, so
    ``x.analysis.h5`` gives ``x.analysis``.

    Parameters
    ----------
    path : str or path-like
        File path.

    Returns
    -------
    str

    Examples
    --------
    >>> infer_recording_id("data/mouse1DLC_resnet50_openfieldAug28shuffle1_1030000_filtered.h5")
    'mouse1'
    >>> infer_recording_id("EPM_15DeepCut_resnet50_epmMay17shuffle1_1030000.csv")
    'EPM_15'
    >>> infer_recording_id("testDLC_h5_table.h5")
    'testDLC_h5_table'
    """
    stem = Path(path).stem
    match = _DLC_SCORER.match(stem)
    return match.group("id") if match else stem


def check_file(path: PathLike, where: str) -> Path:
    """Return ``path`` as a :class:`Path`, raising FileNotFoundError / IsADirectoryError with a clear message."""
    if isinstance(path, (bytes, bytearray)):
        path = os.fsdecode(path)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{where}: expected a file path (str or pathlib.Path); got {type(path).__name__}.")
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(
            f"{where}: the file {str(p)!r} does not exist; check the path and the working folder."
        )
    if p.is_dir():
        raise IsADirectoryError(
            f"{where}: {str(p)!r} is a folder, not a tracking file; use deepof_sk.io.read_recordings() to read every "
            "supported file in a folder."
        )
    return p


def format_error(path: PathLike, problem: str, fix: str) -> PosesFormatError:
    """A :class:`PosesFormatError` whose message names the file, the problem and the fix."""
    return PosesFormatError(f"Cannot read {str(path)!r}: {problem}. {fix}")


def resolve_fps(user_fps: float | None, file_fps: float | None, path: PathLike) -> float | None:
    """The frame rate to use: the user's, the file's, or None; raise when the two are given and differ.

    Parameters
    ----------
    user_fps : float or None
        ``fps=`` passed by the user.
    file_fps : float or None
        Frame rate stored in the file's metadata.
    path : path-like
        The file, for the message.
    """
    user = _as_fps(user_fps, "fps", path)
    stored = None if file_fps is None else float(file_fps)
    if stored is not None and not (math.isfinite(stored) and stored > 0):
        stored = None
    if user is not None and stored is not None and not math.isclose(user, stored, rel_tol=1e-4):
        raise PosesFormatError(
            f"Cannot read {str(path)!r}: fps={user:g} was given but the file stores a frame rate of {stored:g}. "
            "Omit fps= to use the file's rate, or pass the same value."
        )
    return user if user is not None else stored


def _as_fps(value: Any, name: str, path: PathLike) -> float | None:
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"Reading {str(path)!r}: `{name}` must be a positive number or None; got {value!r}."
        ) from None
    if not (math.isfinite(out) and out > 0):
        raise ValueError(f"Reading {str(path)!r}: `{name}` must be a positive number or None; got {value!r}.")
    return out


def zeros_to_nan(position: np.ndarray) -> int:
    """Set points whose coordinates are all exactly 0 to NaN, in place; return how many points were changed.

    Several tools (multi-animal DeepLabCut exports, MABe, SimBA) write an undetected point as ``(0, 0)`` with
    likelihood 0 instead of NaN. A real detection at exactly the image corner, to the last bit, is not plausible.
    """
    mask = position[:, 0] == 0  # (time, keypoint, individual); x first, the other axes only where x is 0
    if not mask.any():
        return 0
    for axis in range(1, position.shape[1]):
        mask &= position[:, axis] == 0
    n = int(mask.sum())
    if n:
        position[np.broadcast_to(mask[:, None], position.shape)] = np.nan
    return n


def check_unique(names: Sequence[str], what: str, path: PathLike, fix: str) -> None:
    """Raise :class:`PosesFormatError` listing the names that occur more than once."""
    seen: set[str] = set()
    dupes = sorted({n for n in names if n in seen or seen.add(n)})
    if dupes:
        raise format_error(path, f"duplicate {what} {dupes}", fix)


def build_dataset(
    position: np.ndarray,
    confidence: np.ndarray | None,
    *,
    path: Path,
    keypoints: Sequence[str],
    individuals: Sequence[str],
    fps: float | None,
    source_software: str,
    reader: str,
    attrs: dict[str, Any] | None = None,
    log: dict[str, Any] | None = None,
) -> xr.Dataset:
    """Assemble the poses dataset of one file (through ``make_poses_dataset``), with attrs and a log entry."""
    if position.shape[0] == 0:
        raise format_error(
            path,
            "the table has no frames (header only, or every row is empty)",
            "Check that the export finished; re-export the tracking file",
        )
    check_unique(
        list(keypoints), "keypoint names", path, "Every body part must have a unique name; rename them"
    )
    check_unique(list(individuals), "individual names", path, "Every animal must have a unique name")
    ds = make_poses_dataset(
        position,
        confidence,
        keypoints=list(keypoints),
        individuals=list(individuals),
        fps=fps,
        source_software=source_software,
        source_file=str(path),
    )
    ds.attrs[RECORDING_ID] = infer_recording_id(path)
    for key, value in (attrs or {}).items():
        if value is not None:
            ds.attrs[key] = value
    append_log(ds, reader, path=str(path), fps=fps, **(log or {}))
    return ds


def read_bytes(path: Path) -> bytes:
    """Read a whole file (read-only)."""
    with open(path, "rb") as fh:
        return fh.read()


def check_field_counts(raw: bytes, *, skip_lines: int, n_fields: int, path: Path) -> None:
    """Raise when a data line of a comma-separated file has the wrong number of fields (vectorised over lines).

    A file cut mid-row is the common case: the last line is short. The usual clean file is confirmed by two byte
    counts (no temporary arrays); only a mismatch triggers the per-line scan that locates the bad rows.
    """
    body_start = 0
    for _ in range(skip_lines):
        body_start = raw.find(b"\n", body_start) + 1
        if body_start == 0:
            return
    n_lines = raw.count(b"\n", body_start) + (0 if raw.endswith(b"\n") or body_start == len(raw) else 1)
    blank = raw.count(b"\n\n", body_start) + raw.count(b"\n\r\n", body_start)
    if raw.count(b",", body_start) == (n_lines - blank) * (n_fields - 1) and not blank:
        return
    buf = np.frombuffer(raw, dtype=np.uint8)
    newlines = np.flatnonzero(buf == ord("\n"))
    ends = newlines if (buf.size and buf[-1] == ord("\n")) else np.append(newlines, buf.size)
    starts = np.concatenate(([0], newlines + 1))[: ends.size]
    starts, ends = starts[skip_lines:], ends[skip_lines:]
    if starts.size == 0:
        return
    length = ends - starts
    # ignore blank lines ("" or "\r")
    blank = (length == 0) | ((length == 1) & (buf[np.minimum(starts, buf.size - 1)] == ord("\r")))
    commas = np.flatnonzero(buf == ord(","))
    counts = np.searchsorted(commas, ends) - np.searchsorted(commas, starts) + 1
    bad = np.flatnonzero((counts != n_fields) & ~blank)
    if bad.size == 0:
        return
    lines = (bad + skip_lines + 1).tolist()
    last_data = int(np.flatnonzero(~blank)[-1])
    if bad.size == 1 and bad[0] == last_data and counts[bad[0]] < n_fields:
        raise format_error(
            path,
            f"the last row (line {lines[0]}) has {int(counts[bad[0]])} of {n_fields} fields; the file looks truncated "
            "(cut mid-row)",
            "Copy or export the file again, or delete the incomplete last line",
        )
    shown = ", ".join(
        f"line {ln}: {int(counts[b])} fields" for ln, b in zip(lines[:5], bad[:5], strict=False)
    )
    raise format_error(
        path,
        f"{bad.size} row(s) do not have the {n_fields} fields of the header ({shown}{' ...' if bad.size > 5 else ''})",
        "Check that the file was not cut or edited by hand; export it again",
    )


def parse_numeric_table(
    source: bytes | Path,
    *,
    skip_lines: int,
    names: Sequence[str],
    path: Path,
    usecols: Sequence[int] | None = None,
    float_precision: str = "round_trip",
) -> np.ndarray:
    """Parse the data rows of a CSV into a float array of shape (n_rows, len(names)) (or (n_rows, len(usecols))).

    Empty cells become NaN. By default numbers are parsed with round-trip precision, so values equal the writer's
    to the last digit (``float_precision="high"`` is about 4x faster and may differ by a few units in the last
    place). A non-numeric cell raises :class:`PosesFormatError` naming its line and column. ``source`` is the
    file content, or its path (pandas then streams the file, so the raw bytes need not stay in memory).
    """
    try:
        df = pd.read_csv(
            io.BytesIO(source) if isinstance(source, bytes) else source,
            header=None,
            skiprows=skip_lines,
            names=list(range(len(names))),
            usecols=None if usecols is None else sorted(usecols),
            index_col=False,
            float_precision=float_precision,
            skip_blank_lines=True,
        )
    except pd.errors.EmptyDataError:
        return np.empty((0, len(names)))
    except (pd.errors.ParserError, ValueError) as exc:
        raise format_error(
            path, f"the data rows cannot be parsed ({exc})", "Check the file is a valid CSV"
        ) from None
    if len(df) == 0:
        return np.empty((0, df.shape[1]))
    bad_cols = [
        c
        for c in df.columns
        if not (pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]))
    ]
    if bad_cols:
        examples = []
        for c in bad_cols:
            col = df[c]
            coerced = pd.to_numeric(col, errors="coerce")
            rows = np.flatnonzero(coerced.isna().to_numpy() & col.notna().to_numpy())
            examples.extend(
                f"line {skip_lines + r + 1}, column {names[c]!r}: {col.iloc[r]!r}" for r in rows[:2]
            )
        raise format_error(
            path,
            f"non-numeric values in {len(bad_cols)} column(s) ({'; '.join(examples[:5])})",
            "Coordinates and likelihoods must be numbers (empty cells are read as missing); fix or re-export the "
            "file",
        )
    return df.to_numpy(dtype=float)
