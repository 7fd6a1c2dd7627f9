"""``TableDict`` (DeepOF's dict of per-recording tables) and ``PreprocessedTables`` (windows for deep clustering)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.utils import check_random_state

from .. import schema as S

__all__ = ["TableDict", "PreprocessedTables"]

logger = logging.getLogger("deepof_sk.project")

#: Variables whose values are one scalar per keypoint (DeepOF's speed tables: one column per body part).
_PER_KEYPOINT = {"speed", "acceleration", "jerk"}


def _time_index(ds) -> pd.Index:
    """DeepOF's time index: timedelta strings at 1 / fps (rounded to ms), or frame numbers without a frame rate."""
    fps = ds.attrs.get(S.FPS)
    if not fps:
        return pd.RangeIndex(ds.sizes[S.TIME], name="frame")
    td = pd.to_timedelta(np.arange(ds.sizes[S.TIME]) / float(fps), unit="s").round("ms")
    return pd.Index([str(t).replace("0 days ", "", 1) if t.days == 0 else str(t) for t in td], name="time")


def _split_label(label: str, n: int):
    parts = str(label).split("-")
    return tuple(parts) if len(parts) == n else (str(label),)


def _variable_columns(ds: xr.Dataset, name: str) -> tuple[np.ndarray, list]:
    """One variable as a (time, columns) block with DeepOF's column names."""
    da = ds[name]
    individuals = [str(i) for i in ds[S.INDIVIDUAL].values] if S.INDIVIDUAL in ds.dims else []
    multi = len(individuals) > 1

    def pre(ind):
        return f"{ind}_" if multi else ""

    if name in (S.POSITION, "position_polar") and S.INDIVIDUAL in da.dims:
        space = S.SPACE if name == S.POSITION else "space_pol"
        block = da.transpose(S.TIME, S.INDIVIDUAL, S.KEYPOINT, space)
        cols = [(f"{pre(i)}{k}", str(s)) for i in individuals for k in block[S.KEYPOINT].values
                for s in block[space].values]
        return block.values.reshape(block.sizes[S.TIME], -1), cols
    if S.INDIVIDUAL in da.dims and da.ndim == 3:
        other = [d for d in da.dims if d not in (S.TIME, S.INDIVIDUAL)][0]
        block = da.transpose(S.TIME, S.INDIVIDUAL, other)
        labels = [str(v) for v in block[other].values]
        if other == S.KEYPOINT:
            names = labels
        elif other == S.PAIR:
            names = [_split_label(v, 2) for v in labels]
        elif other == S.TRIPLET:
            names = [_split_label(v, 3) for v in labels]
        elif other == S.BODY_AREA:
            names = [f"{v}_area" for v in labels]
        else:
            names = [f"{name}[{v}]" for v in labels]
        cols = []
        for i in individuals:
            for n in names:
                cols.append(tuple(f"{pre(i)}{p}" for p in n) if isinstance(n, tuple) and multi else
                            n if not multi else f"{pre(i)}{n}")
        return block.values.reshape(block.sizes[S.TIME], -1), cols
    if da.dims == (S.TIME,) or (da.ndim == 2 and S.TIME in da.dims):
        block = da.transpose(S.TIME, ...)
        if block.ndim == 1:
            return block.values[:, None], [name]
        other = block.dims[1]
        labels = [str(v) for v in block[other].values]
        if name == "social_distance":  # "A.Nose-B.Tail_base" -> ("A_Nose", "B_Tail_base")
            cols = [tuple(p.replace(".", "_", 1) for p in _split_label(v, 2)) for v in labels]
        else:
            cols = [f"{name}[{v}]" for v in labels]
        return block.values, cols
    flat = da.transpose(S.TIME, ...)
    return flat.values.reshape(flat.sizes[S.TIME], -1), [f"{name}[{j}]" for j in range(flat[0].size)]


def to_deepof_frame(ds: xr.Dataset, variables: Iterable[str]) -> pd.DataFrame:
    """One recording's variables as a DeepOF-style table (time index, body-part columns)."""
    blocks, cols = [], []
    for name in variables:
        values, names = _variable_columns(ds, name)
        blocks.append(values)
        cols.extend(names)
    columns = pd.MultiIndex.from_tuples(cols) if cols and all(isinstance(c, tuple) and len(c) == 2 for c in cols) \
        else pd.Index(cols, tupleize_cols=False)
    return pd.DataFrame(np.concatenate(blocks, axis=1), index=_time_index(ds), columns=columns)


class TableDict(dict):
    """DeepOF's ``TableDict``: a dict from recording id to that recording's table, with DeepOF's helpers.

    Values are poses datasets carrying the requested feature variables (from :meth:`Project.get_coords` and the
    other getters), DeepOF-layout DataFrames (:meth:`Project.supervised_annotation`) or per-frame label arrays
    (:meth:`Project.get_clusters`).

    Parameters
    ----------
    data : mapping, optional
        ``{recording_id: table}``.
    conditions : pandas.DataFrame, optional
        The project's conditions table (``recording_id`` column first), used by :meth:`filter_condition`.
    variables : list of str, optional
        Variables of the datasets that make the table (``["position"]`` for coordinates).
    recipe : tuple, optional
        ``(verb, kwargs)`` of the :class:`Project` getter that made the table, so a model trained on it can be
        applied to recordings added later.

    Examples
    --------
    >>> from deepof_sk.datasets import load_sample
    >>> t = TableDict({"a": load_sample("deepof_single")}, variables=["position"])
    >>> t.to_frame("a").shape
    (100, 28)
    """

    def __init__(self, data=(), *, conditions: pd.DataFrame | None = None, variables=None, recipe=None):
        super().__init__(data)
        self._conditions = conditions
        self.variables = None if variables is None else [str(v) for v in variables]
        self.recipe = recipe

    def _like(self, data) -> TableDict:
        return TableDict(data, conditions=self._conditions, variables=self.variables, recipe=self.recipe)

    def __reduce__(self):
        return (_rebuild_table_dict, (dict(self), self._conditions, self.variables, self.recipe))

    def __repr__(self) -> str:
        kinds = sorted({type(v).__name__ for v in self.values()})
        return f"TableDict({len(self)} recordings: {list(self)[:5]}{' ...' if len(self) > 5 else ''}; {kinds})"

    # -- conditions and selection ------------------------------------------------------------------------------
    @property
    def conditions(self) -> pd.DataFrame | None:
        """Rows of the conditions table for the recordings in this dict (None without conditions)."""
        if self._conditions is None:
            return None
        return self._conditions[self._conditions["recording_id"].isin(list(self))].reset_index(drop=True)

    def filter_videos(self, keys) -> TableDict:
        """Keep the recordings ``keys`` (one id or a list), in that order.

        Raises
        ------
        ValueError
            Unknown ids (all listed).
        """
        keys = [keys] if isinstance(keys, str) else [str(k) for k in keys]
        unknown = sorted(set(keys) - set(self))
        if unknown:
            raise ValueError(f"TableDict.filter_videos: unknown recording ids {unknown}; known: {sorted(self)}.")
        return self._like({k: self[k] for k in keys})

    def filter_condition(self, condition) -> TableDict:
        """Keep the recordings whose conditions match, DeepOF's ``filter_condition({column: value})``.

        Parameters
        ----------
        condition : dict or scalar
            ``{column: value}`` or ``{column: [values]}`` (all columns must match); a bare value matches the only
            condition column.

        Returns
        -------
        TableDict
        """
        where = "TableDict.filter_condition"
        table = self.conditions
        cols = [] if table is None else [c for c in table.columns if c not in ("recording_id", "individual")]
        if not cols:
            raise ValueError(f"{where}: the project has no experimental conditions; pass conditions= to Project.")
        if not isinstance(condition, Mapping):
            if len(cols) != 1:
                raise ValueError(f"{where}: there are several condition columns {cols}; pass {{column: value}}.")
            condition = {cols[0]: condition}
        keep = np.ones(len(table), dtype=bool)
        for col, value in condition.items():
            if col not in cols:
                raise ValueError(f"{where}: unknown condition column {col!r}; the conditions are {cols}.")
            values = [value] if isinstance(value, str) or not isinstance(value, Iterable) else list(value)
            seen = set(map(str, table[col].unique()))
            unknown = sorted(set(map(str, values)) - seen)
            if unknown:
                raise ValueError(f"{where}: {col!r} never takes the values {unknown}; its values are {sorted(seen)}.")
            keep &= table[col].astype(str).isin(list(map(str, values))).to_numpy()
        ids = list(dict.fromkeys(table.loc[keep, "recording_id"]))
        return self._like({k: v for k, v in self.items() if k in ids})

    def filter_id(self, selected_id: str) -> TableDict:
        """Keep one animal: ``individual`` of datasets, the ``<id>_`` columns of DeepOF tables."""
        out = {}
        for key, value in self.items():
            if isinstance(value, (xr.Dataset, xr.DataArray)):
                have = [str(i) for i in value[S.INDIVIDUAL].values]
                if selected_id not in have:
                    raise ValueError(f"TableDict.filter_id: recording {key!r} has no animal {selected_id!r} ({have}).")
                out[key] = value.sel({S.INDIVIDUAL: [selected_id]})
            else:
                cols = [c for c in value.columns if str(c[0] if isinstance(c, tuple) else c).startswith(
                    f"{selected_id}_")]
                if not cols:
                    raise ValueError(f"TableDict.filter_id: recording {key!r} has no column of animal {selected_id!r}.")
                out[key] = value[cols]
        return self._like(out)

    # -- layout ------------------------------------------------------------------------------------------------
    def to_frame(self, recording_id: str | None = None) -> pd.DataFrame:
        """DeepOF's table layout: one recording's table, or all of them stacked with a ``recording`` index level.

        Datasets become time-indexed tables with DeepOF's columns: ``(body part, "x"/"y")`` for coordinates
        (``"<animal>_<body part>"`` with several animals), one column per body part for speeds, ``(a, b)`` for
        distances, ``(a, b, c)`` for angles and ``<area>_area`` for areas.
        """
        if recording_id is not None:
            if recording_id not in self:
                raise ValueError(f"TableDict.to_frame: unknown recording id {recording_id!r}; known: {sorted(self)}.")
            return self._frame(self[recording_id])
        frames = {k: self._frame(v) for k, v in self.items()}
        return pd.concat(frames, names=["recording"])

    def _frame(self, value) -> pd.DataFrame:
        if isinstance(value, pd.DataFrame):
            return value
        if isinstance(value, xr.DataArray):
            return value.to_pandas() if value.ndim <= 2 else value.to_dataframe().unstack()
        return to_deepof_frame(value, self.variables or [S.POSITION])

    # -- unsupervised preprocessing ----------------------------------------------------------------------------
    def preprocess(self, window_size: int = 25, window_step: int = 1, scale: str = "standard",
                   test_videos=0, random_state=42, variables=None) -> PreprocessedTables:
        """Split by recording and describe the windows that :meth:`Project.deep_unsupervised_embedding` trains on.

        Parameters
        ----------
        window_size : int, default 25
            Frames per window (DeepOF: about one second).
        window_step : int, default 1
            Frames between windows of :attr:`PreprocessedTables.X_train`; the model draws about 1/``window_step``
            of the training windows per epoch.
        scale : {"standard"}, default "standard"
            Per-feature standardisation fitted on the training recordings only (the clusterer's scaling; values
            clipped to +-10 SD).
        test_videos : int or list of str, default 0
            Recordings held out: a number drawn at random (``random_state``) or their ids.
        random_state : int, default 42
            Seed of the draw of test recordings (DeepOF's default seed).
        variables : list of str, optional
            Variables to window; default this table's variables that have an ``individual`` dim.

        Returns
        -------
        PreprocessedTables
        """
        where = "TableDict.preprocess"
        if scale != "standard":
            raise ValueError(
                f"{where}: scale={scale!r} is not available; DeepClusterer standardises every feature with the "
                "mean and SD of the training recordings (scale='standard')."
            )
        if not all(isinstance(v, xr.Dataset) for v in self.values()):
            raise TypeError(f"{where}: needs tables of poses datasets (from get_coords / get_distances / ...).")
        if int(window_size) < 3 or int(window_step) < 1:
            raise ValueError(f"{where}: window_size must be >= 3 and window_step >= 1; got {window_size}, "
                             f"{window_step}.")
        first = next(iter(self.values()))
        if variables is None:
            variables = [v for v in (self.variables or [S.POSITION]) if S.INDIVIDUAL in first[v].dims]
            if not variables:
                raise ValueError(f"{where}: none of the variables {self.variables} has an `individual` dim.")
        variables = [variables] if isinstance(variables, str) else list(variables)
        ids = list(self)
        if isinstance(test_videos, (int, np.integer)):
            if not 0 <= test_videos < len(ids):
                raise ValueError(f"{where}: test_videos={test_videos} must leave at least one of the {len(ids)} "
                                 "recordings for training.")
            rng = check_random_state(random_state)
            test = [ids[i] for i in sorted(rng.choice(len(ids), int(test_videos), replace=False))]
        else:
            test = [test_videos] if isinstance(test_videos, str) else [str(t) for t in test_videos]
            unknown = sorted(set(test) - set(ids))
            if unknown or len(set(test)) == len(ids):
                raise ValueError(f"{where}: test_videos names unknown recordings {unknown} or leaves none for "
                                 f"training; recordings: {ids}.")
        train = [k for k in ids if k not in test]
        return PreprocessedTables(self.filter_videos(train), self.filter_videos(test) if test else self._like({}),
                                  window_size=int(window_size), window_step=int(window_step), variables=variables,
                                  random_state=random_state)


def _rebuild_table_dict(data, conditions, variables, recipe):
    return TableDict(data, conditions=conditions, variables=variables, recipe=recipe)


class PreprocessedTables:
    """Train / test recordings and their windows, DeepOF's ``preprocess`` output in deepof_sk form.

    :meth:`Project.deep_unsupervised_embedding` trains a :class:`~deepof_sk.clustering.DeepClusterer` on
    :attr:`train` with ``window=window_size`` and ``variables=variables``; the clusterer builds the same windows as
    :attr:`X_train` (one centred on every frame, ends padded by reflection, features standardised on the training
    recordings).

    Attributes
    ----------
    train, test : TableDict
        Recordings of each split (whole recordings: no frame of a test recording is seen in training).
    window_size, window_step : int
    variables : list of str
        Variables windowed.
    """

    def __init__(self, train: TableDict, test: TableDict, *, window_size: int, window_step: int, variables,
                 random_state=None):
        self.train = train
        self.test = test
        self.window_size = window_size
        self.window_step = window_step
        self.variables = list(variables)
        self.random_state = random_state
        self._cache: dict = {}

    def __repr__(self) -> str:
        return (f"PreprocessedTables(train={list(self.train)}, test={list(self.test)}, window_size="
                f"{self.window_size}, window_step={self.window_step}, variables={self.variables})")

    @property
    def recipe(self):
        """``(verb, kwargs)`` of the getter whose output was preprocessed."""
        return self.train.recipe

    def _prepared(self):
        if "scaler" not in self._cache:
            from ..clustering._windows import FeatureScaler
            from ..features import FeatureTabulator
            from ..utils._params import fill_nan_linear

            recordings = list(self.train.values())
            tab = FeatureTabulator(variables=self.variables, per_individual=True).fit(recordings)
            seqs = [s for ds in recordings for s in self._sequences(tab, ds)]
            self._cache["tabulator"] = tab
            self._cache["scaler"] = FeatureScaler.fit([fill_nan_linear(s, axis=0) for s in seqs])
        return self._cache["tabulator"], self._cache["scaler"]

    @staticmethod
    def _sequences(tab, ds) -> list[np.ndarray]:
        table = tab.transform(ds).reshape(ds.sizes[S.TIME], ds.sizes[S.INDIVIDUAL], -1)
        return [table[:, i] for i in range(ds.sizes[S.INDIVIDUAL])]

    @property
    def feature_names(self) -> list[str]:
        """Names of the windowed features (the last axis of the windows)."""
        return [str(n) for n in self._prepared()[0].get_feature_names_out()]

    @property
    def scaler(self):
        """Feature means (``mean_``) and SDs (``scale_``) of the training recordings."""
        return self._prepared()[1]

    def windows(self, split: str = "train") -> np.ndarray:
        """Windows ``(n_windows, window_size, n_features)`` of one split (float32), every ``window_step`` frames
        of each (recording, animal); frames with no tracked feature are left out."""
        from ..clustering._windows import build_window_data

        if split not in ("train", "test"):
            raise ValueError(f"PreprocessedTables.windows: split must be 'train' or 'test'; got {split!r}.")
        tab, scaler = self._prepared()
        tables = self.train if split == "train" else self.test
        seqs = [s for ds in tables.values() for s in self._sequences(tab, ds)]
        if not seqs:
            return np.empty((0, self.window_size, len(self.feature_names)), dtype=np.float32)
        data = build_window_data(seqs, scaler, self.window_size)
        local = np.concatenate([np.arange(n) for n in data.lengths])
        index = np.flatnonzero(data.valid & (local % self.window_step == 0))
        return data.gather(index)

    @property
    def X_train(self) -> np.ndarray:
        """Training windows (see :meth:`windows`)."""
        return self.windows("train")

    @property
    def X_test(self) -> np.ndarray:
        """Test windows (see :meth:`windows`)."""
        return self.windows("test")

    def n_train_windows(self) -> int:
        """Frames x animals of the training recordings that have a tracked feature (the clusterer's windows)."""
        tab, _ = self._prepared()
        return int(sum((~np.isnan(s).all(axis=1)).sum() for ds in self.train.values()
                       for s in self._sequences(tab, ds)))
