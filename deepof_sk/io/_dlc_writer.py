"""Write poses datasets as DeepLabCut tables (``.h5`` in PyTables table format, or ``.csv``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .. import schema as S
from ..validation import validate_poses
from ._common import PathLike

__all__ = ["write_dlc", "to_dlc_dataframe"]

_LIKELIHOOD = "likelihood"


def to_dlc_dataframe(
    ds: xr.Dataset, *, scorer: str = "deepof_sk", multi_animal: bool | None = None
) -> pd.DataFrame:
    """The DeepLabCut-layout DataFrame of a poses dataset (columns scorer/(individuals)/bodyparts/coords)."""
    validate_poses(ds, where="write_dlc")
    pos = ds[S.POSITION].transpose(*S.POSITION_DIMS).to_numpy()
    conf = ds[S.CONFIDENCE].transpose(*S.CONFIDENCE_DIMS).to_numpy()
    n_t, n_s, n_k, n_i = pos.shape
    if multi_animal is None:
        multi_animal = n_i > 1
    if not multi_animal and n_i > 1:
        raise ValueError(
            f"write_dlc: multi_animal=False but the dataset has {n_i} individuals; use multi_animal=True (or None)."
        )
    space = [str(s) for s in ds[S.SPACE].values]
    coords = [*space, _LIKELIHOOD]
    # (time, individual, keypoint, coord) -> columns ordered individual, bodypart, coord as DeepLabCut writes them
    values = np.concatenate([pos.transpose(0, 3, 2, 1), conf.transpose(0, 2, 1)[..., None]], axis=-1)
    values = values.reshape(n_t, -1)
    individuals = [str(v) for v in ds[S.INDIVIDUAL].values]
    keypoints = [str(v) for v in ds[S.KEYPOINT].values]
    if multi_animal:
        columns = pd.MultiIndex.from_product(
            [[scorer], individuals, keypoints, coords], names=["scorer", "individuals", "bodyparts", "coords"]
        )
    else:
        columns = pd.MultiIndex.from_product(
            [[scorer], keypoints, coords], names=["scorer", "bodyparts", "coords"]
        )
    return pd.DataFrame(values, columns=columns)


def write_dlc(
    ds: xr.Dataset,
    path: PathLike,
    *,
    scorer: str = "deepof_sk",
    multi_animal: bool | None = None,
    key: str = "df_with_missing",
) -> None:
    """Write a poses dataset as a DeepLabCut table (``.h5`` or ``.csv``, chosen by the extension).

    Parameters
    ----------
    ds : xarray.Dataset
        Poses dataset.
    path : str or path-like
        Output file ending in ``.h5`` or ``.csv``; overwritten if it exists.
    scorer : str, default "deepof_sk"
        Value of the ``scorer`` column level.
    multi_animal : bool, optional
        Write the 4-level multi-animal layout (with ``individuals``). Default: when there is more than one
        individual.
    key : str, default "df_with_missing"
        HDF5 key (DeepLabCut's own).

    Notes
    -----
    NaN positions are written as NaN (empty cells in CSV); NaN confidence as NaN likelihood. The ``.h5`` is written
    in PyTables "table" format like DeepLabCut does. Individual names are dropped in the single-animal layout.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "rec.h5"
    >>> write_dlc(make_synthetic_poses(20, n_individuals=1), path)
    >>> from deepof_sk.io import read_dlc
    >>> read_dlc(path).sizes["keypoint"]
    14
    """
    path = Path(path)
    df = to_dlc_dataframe(ds, scorer=scorer, multi_animal=multi_animal)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        df.to_csv(path)
    elif suffix in (".h5", ".hdf5"):
        df.to_hdf(path, key=key, format="table", mode="w")
    else:
        raise ValueError(
            f"write_dlc: unsupported extension {path.suffix!r} for {str(path)!r}; use .h5 or .csv."
        )
