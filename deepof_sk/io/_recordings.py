"""``read_recordings``: many tracking files (a folder or a list) plus an experimental-conditions table."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import xarray as xr

from .. import schema as S
from ._common import RECORDING_ID, PathLike, infer_recording_id
from ._dispatch import SUPPORTED_EXTENSIONS, read_poses

__all__ = ["read_recordings", "read_conditions"]

#: Column of the conditions table naming the animal, for per-animal conditions.
INDIVIDUAL_COLUMN = "individual"


def _collect_paths(paths_or_folder, pattern: str | None, exclude: Path | None) -> list[Path]:
    if isinstance(paths_or_folder, (str, os.PathLike)):
        root = Path(paths_or_folder)
        if not root.exists():
            raise FileNotFoundError(f"read_recordings: {str(root)!r} does not exist; check the path.")
        if root.is_dir():
            candidates = sorted(root.glob(pattern) if pattern else root.iterdir())
            paths = [p for p in candidates if p.is_file() and p.suffix.lower() in SUPPORTED_EXTENSIONS]
            if exclude is not None:
                paths = [p for p in paths if p.resolve() != exclude.resolve()]
            if not paths:
                raise FileNotFoundError(
                    f"read_recordings: no supported tracking file in {str(root)!r}"
                    + (f" matching pattern={pattern!r}" if pattern else "")
                    + f" (supported extensions: {', '.join(SUPPORTED_EXTENSIONS)})."
                )
            return paths
        return [root]
    if isinstance(paths_or_folder, Sequence) or hasattr(paths_or_folder, "__iter__"):
        paths = [Path(p) for p in paths_or_folder]
        if not paths:
            raise ValueError("read_recordings: received an empty list of paths.")
        if pattern:
            paths = [p for p in paths if p.match(pattern)]
        missing = sorted(str(p) for p in paths if not p.exists())
        if missing:
            raise FileNotFoundError(f"read_recordings: these files do not exist: {missing}.")
        return paths
    raise TypeError(
        f"read_recordings: expected a folder, a file path or a list of paths; got {type(paths_or_folder).__name__}."
    )


def read_conditions(conditions: pd.DataFrame | PathLike) -> pd.DataFrame:
    """Load a conditions table: first column the recording id, optional ``individual`` column, then conditions.

    Parameters
    ----------
    conditions : pandas.DataFrame or path-like
        Table, or the path of a CSV holding it.

    Returns
    -------
    pandas.DataFrame
        Copy with the first column renamed ``recording_id`` and ids (and individuals) as strings.

    Examples
    --------
    >>> import pandas as pd
    >>> read_conditions(pd.DataFrame({"video": ["m1", "m2"], "treatment": ["saline", "drug"]})).columns.tolist()
    ['recording_id', 'treatment']
    """
    if isinstance(conditions, pd.DataFrame):
        table = conditions.reset_index(drop=True).copy()
    elif isinstance(conditions, (str, os.PathLike)):
        path = Path(conditions)
        if not path.is_file():
            raise FileNotFoundError(f"read_conditions: the conditions file {str(path)!r} does not exist.")
        table = pd.read_csv(path)
    else:
        raise TypeError(
            f"read_conditions: conditions must be a pandas DataFrame or the path of a CSV; got "
            f"{type(conditions).__name__}."
        )
    if table.shape[1] < 1 or len(table) == 0:
        raise ValueError(
            "read_conditions: the conditions table is empty; it needs a first column of recording ids."
        )
    first = table.columns[0]
    table = table.rename(columns={first: RECORDING_ID})
    if list(table.columns).count(RECORDING_ID) > 1:
        raise ValueError(f"read_conditions: the table has a second column named {RECORDING_ID!r}; rename it.")
    table[RECORDING_ID] = table[RECORDING_ID].astype(str)
    if INDIVIDUAL_COLUMN in table.columns:
        table[INDIVIDUAL_COLUMN] = table[INDIVIDUAL_COLUMN].astype(str)
    return table


def _match_conditions(table: pd.DataFrame, ids: list[str], recordings: list[xr.Dataset]) -> pd.DataFrame:
    per_animal = INDIVIDUAL_COLUMN in table.columns
    key_cols = [RECORDING_ID, INDIVIDUAL_COLUMN] if per_animal else [RECORDING_ID]
    dup = table[table.duplicated(key_cols, keep=False)]
    if len(dup):
        shown = sorted({" / ".join(map(str, r)) for r in dup[key_cols].itertuples(index=False)})
        raise ValueError(
            f"read_recordings: the conditions table has duplicate rows for {shown}; keep one per "
            f"{' and '.join(key_cols)}."
        )
    have = set(table[RECORDING_ID])
    missing, extra = sorted(set(ids) - have), sorted(have - set(ids))
    if missing or extra:
        raise ValueError(
            "read_recordings: the conditions table does not match the recordings: "
            + (f"recordings without a row: {missing}" if missing else "")
            + ("; " if missing and extra else "")
            + (f"rows without a recording: {extra}" if extra else "")
            + f". Recording ids are file names without extension and DeepLabCut scorer suffix (found: {sorted(ids)})."
        )
    if not per_animal:
        return table.set_index(RECORDING_ID).loc[ids].reset_index()
    wanted = [
        (rid, str(ind)) for rid, ds in zip(ids, recordings, strict=True) for ind in ds[S.INDIVIDUAL].values
    ]
    have_pairs = set(zip(table[RECORDING_ID], table[INDIVIDUAL_COLUMN], strict=True))
    missing_p = sorted(f"{r}/{i}" for r, i in set(wanted) - have_pairs)
    extra_p = sorted(f"{r}/{i}" for r, i in have_pairs - set(wanted))
    if missing_p or extra_p:
        raise ValueError(
            "read_recordings: the per-animal conditions do not match the individuals of the recordings: "
            + (f"animals without a row: {missing_p}" if missing_p else "")
            + ("; " if missing_p and extra_p else "")
            + (f"rows naming no animal of that recording: {extra_p}" if extra_p else "")
            + "."
        )
    indexed = table.set_index(key_cols)
    return indexed.loc[pd.MultiIndex.from_tuples(wanted, names=key_cols)].reset_index()


def _read_one(path: Path, fps, kwargs) -> xr.Dataset:
    ds = read_poses(path, fps=fps, **kwargs)
    ds.attrs[RECORDING_ID] = infer_recording_id(path)
    return ds


def read_recordings(
    paths_or_folder: PathLike | Sequence[PathLike],
    *,
    conditions: pd.DataFrame | PathLike | None = None,
    fps: float | Mapping[str, float] | None = None,
    pattern: str | None = None,
    n_jobs: int | None = None,
    **kwargs,
) -> tuple[list[xr.Dataset], pd.DataFrame]:
    """Read many tracking files and their experimental conditions.

    Parameters
    ----------
    paths_or_folder : path-like or sequence of path-like
        A folder (every file with a supported extension in it, not recursive, sorted by name), one file, or a
        list of files (kept in the given order).
    conditions : pandas.DataFrame or path-like, optional
        Conditions table (or CSV path): first column the recording id, an optional ``individual`` column for
        per-animal conditions, then one column per condition. A CSV inside the scanned folder is not read as a
        recording.
    fps : float or mapping, optional
        Frame rate for every recording, or ``{recording_id: fps}``. See :func:`read_poses` for the rules.
    pattern : str, optional
        Glob pattern the file names must match (``"*.h5"``, ``"*_tracking.csv"``).
    n_jobs : int, optional
        Read in parallel with joblib when greater than 1 (or -1 for all cores).
    **kwargs
        Passed to :func:`read_poses` for every file.

    Returns
    -------
    recordings : list of xarray.Dataset
        One poses dataset per file, with ``attrs["recording_id"]`` set.
    conditions : pandas.DataFrame
        One row per recording, in the order of ``recordings`` (one row per recording and individual when the
        table has an ``individual`` column): ``recording_id`` (, ``individual``), then the condition columns. Just
        ``recording_id`` when no conditions were given.

    Raises
    ------
    FileNotFoundError
        A path does not exist, or the folder holds no supported file.
    ValueError
        Two files give the same recording id; the conditions table misses recordings (or animals) or has rows for
        recordings that were not read (all are listed).
    PosesFormatError
        A file cannot be read (the message names it).

    Notes
    -----
    The recording id is the file name without extension and without DeepLabCut's scorer suffix (from ``DLC_`` or
    ``DeepCut_`` on, when ``shuffle<N>`` follows): see :func:`infer_recording_id`.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> from deepof_sk.io import write_dlc
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ["m1DLC_resnet50_demoJan1shuffle1_1000", "m2DLC_resnet50_demoJan1shuffle1_1000"]:
    ...     write_dlc(make_synthetic_poses(20, n_individuals=1), folder / f"{name}.h5")
    >>> recs, table = read_recordings(folder, fps=25,
    ...                               conditions=pd.DataFrame({"id": ["m2", "m1"], "group": ["drug", "saline"]}))
    >>> [r.attrs["recording_id"] for r in recs], table["group"].tolist()
    (['m1', 'm2'], ['saline', 'drug'])
    """
    cond_path = Path(conditions) if isinstance(conditions, (str, os.PathLike)) else None
    paths = _collect_paths(paths_or_folder, pattern, cond_path)
    ids = [infer_recording_id(p) for p in paths]
    seen: dict[str, list[str]] = {}
    for rid, p in zip(ids, paths, strict=True):
        seen.setdefault(rid, []).append(p.name)
    dupes = {rid: names for rid, names in seen.items() if len(names) > 1}
    if dupes:
        raise ValueError(
            f"read_recordings: several files give the same recording id: {dict(sorted(dupes.items()))}. Keep one "
            "file per recording (use pattern= to choose, e.g. pattern='*.h5')."
        )
    if isinstance(fps, Mapping):
        fps_of = [fps.get(rid) for rid in ids]
    else:
        fps_of = [fps] * len(paths)
    bad = sorted(set(kwargs) & {"path", "conditions"})
    if bad:
        raise TypeError(f"read_recordings: unexpected keyword arguments {bad}.")
    if n_jobs is not None and n_jobs != 1:
        from joblib import Parallel, delayed

        recordings = Parallel(n_jobs=n_jobs)(
            delayed(_read_one)(p, f, kwargs) for p, f in zip(paths, fps_of, strict=True)
        )
    else:
        recordings = [_read_one(p, f, kwargs) for p, f in zip(paths, fps_of, strict=True)]
    if conditions is None:
        table = pd.DataFrame({RECORDING_ID: ids})
    else:
        table = _match_conditions(read_conditions(conditions), ids, recordings)
    return list(recordings), table
