"""DeepClusterer: DeepOF's unsupervised pipeline (windows -> deep model -> embedding and cluster per frame)."""

from __future__ import annotations

import logging
import math
import os
import re
import tempfile
import time
import warnings
from numbers import Integral, Real

import numpy as np
import xarray as xr
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .. import schema as S
from ..features._table import FeatureTabulator
from ..utils._params import fill_nan_linear
from ..validation import check_recordings, return_like
from ._metrics import (
    ClusterCollapseWarning,
    assignment_confidence,
    cluster_balance,
    cluster_occupancy,
    clustering_score,
    n_populated_clusters,
)
from ._windows import FeatureScaler, WindowData, build_window_data

__all__ = ["DeepClusterer"]

logger = logging.getLogger("deepof_sk.clustering")

_MODELS = ("vade", "vqvae", "contrastive")
_ENCODERS = ("gru", "tcn", "transformer")
#: Windows used to initialise the mixture / codebook and to fit the contrastive model's mixture.
_INIT_SAMPLE = 20_000


def _xy_pairs(names: list[str]) -> list[list[int]]:
    """Column pairs (x, y) of the same variable and keypoint, e.g. ``position[Nose,x]`` / ``position[Nose,y]``."""
    index = {n: i for i, n in enumerate(names)}
    pairs = []
    for name, i in index.items():
        m = re.fullmatch(r"(.*[\[,])x\]", name)
        if m and f"{m.group(1)}y]" in index:
            pairs.append([i, index[f"{m.group(1)}y]"]])
    return pairs


class DeepClusterer(ClusterMixin, TransformerMixin, BaseEstimator):
    """Deep clustering of behaviour: one embedding and one cluster per frame and animal (DeepOF's unsupervised step).

    Every frame gets the window of ``window`` frames centred on it (recording ends padded by reflection; windows
    never cross recordings); the per-frame features are standardised with statistics of the training recordings
    only. A deep model learns a ``latent_dim`` embedding of each window and assigns it to one of ``n_clusters``
    clusters:

    * ``"vade"``: variational autoencoder with a Gaussian-mixture prior (one component per cluster); after
      ``pretrain_epochs`` as a plain autoencoder the mixture is initialised by a GMM on the embeddings, then the
      full model trains with a KL term annealed over ``kl_warmup`` epochs.
    * ``"vqvae"``: vector-quantised autoencoder whose codebook entries are the clusters (codebook initialised by
      k-means after pretraining; unused codes restarted each epoch).
    * ``"contrastive"``: an encoder trained with InfoNCE between two augmented views of each window (time shift,
      rotation of (x, y) pairs, noise); clusters are a Gaussian mixture with one shared covariance, fitted on the
      embeddings afterwards.

    The encoder (``"gru"``, ``"tcn"`` or ``"transformer"``) is independent of the model. The same network serves all
    animals: each (recording, animal) is one sequence.

    Parameters
    ----------
    model : {"vade", "vqvae", "contrastive"}, default "vade"
        Deep clustering model.
    encoder : {"gru", "tcn", "transformer"}, default "gru"
        Sequence encoder (and mirrored decoder). ``"gru"``: strided Conv1D (halving the time steps) then two
        bidirectional GRUs, DeepOF's recurrent design at its size with ``units=16``; ``"tcn"``: residual dilated
        convolutions; ``"transformer"``: two self-attention blocks.
    window : int, default 25
        Window length in frames (DeepOF: about one second).
    latent_dim : int, default 8
        Embedding size.
    n_clusters : int, default 10
        Number of clusters.
    variables : str or list of str, optional
        Per-frame variables to window (default ``"position"``); put alignment and feature steps before this
        estimator in a Pipeline and name their variables here. Each variable needs an ``individual`` dim.
    units : int, default 16
        Width of the encoder and decoder layers.
    epochs : int, default 15
        Maximum training epochs (after pretraining); early stopping usually ends sooner.
    pretrain_epochs : int, default 3
        Autoencoder epochs before the mixture / codebook is initialised (VaDE and VQ-VAE).
    batch_size : int, default 256
        Windows per training step.
    learning_rate : float, default 1e-3
        Adam learning rate.
    validation_split : float, default 0.2
        Fraction of recordings held out for early stopping (at least one when there are two or more recordings;
        with a single recording the last fraction of its frames is held out instead).
    patience : int or None, default 4
        Epochs without improvement of the validation loss before stopping (best weights restored); None trains
        all ``epochs``.
    kl_warmup : int, default 3
        Epochs over which VaDE's KL weight rises to 1 (early stopping does not act before).
    balance_weight : float, default 1.0
        Weight of the cluster-collapse guard of VaDE: a penalty on clusters that hold less than half their fair
        share (1 / (2 n_clusters)) of a batch. 0 disables it.
    temperature : float, default 0.1
        InfoNCE temperature (contrastive).
    max_windows_per_epoch : int or None, default None
        Draw at most this many training windows per epoch (a fresh random draw each epoch); neighbouring windows are
        nearly identical, so large projects train as well on a subsample and much faster.
    random_state : int, RandomState or None, default None
        Seeds Keras (weights, sampling, augmentation), the split, the batch order and the mixture fits.
    verbose : int, default 0
        0 silent; 1 one line per epoch and stage timings (logger ``deepof_sk.clustering``); 2 progress bars.

    Attributes
    ----------
    model_ : keras.Model
        The trained network (stored as ``.keras`` bytes when pickled).
    gmm_ : sklearn.mixture.GaussianMixture or None
        Mixture on the embeddings (contrastive model only).
    scaler_ : FeatureScaler
        Feature means and scales of the training recordings.
    tabulator_ : FeatureTabulator
        How recordings become per-frame feature rows.
    feature_names_in_ : ndarray of str
        Windowed feature names.
    n_features_in_ : int
        Number of windowed features.
    history_ : dict
        Per-epoch losses (``loss``, ``val_loss`` and the components) of the main training phase.
    cluster_occupancy_ : ndarray of shape (n_clusters,)
        Fraction of training frames in each cluster: the collapse measure (a collapsed model has most zeros).
    cluster_balance_ : float
        Normalised entropy of ``cluster_occupancy_`` (1 = all clusters equally used, 0 = one cluster).
    n_populated_clusters_ : int
        Clusters holding at least 1 % of the training frames.
    fit_time_ : float
        Seconds spent in ``fit``.
    n_windows_fit_ : int
        Training windows (frames x animals of the training recordings).

    Notes
    -----
    NaN handling: gaps in the features are interpolated linearly within each sequence before windowing; features
    missing throughout a sequence take the training mean. Frames where every feature is NaN (animal not tracked)
    are not used for training and get no assignment: embedding and probabilities NaN, cluster ``-1``.

    Keras 3 is imported only when fitting or loading (``pip install "deepof-sk[deep]"``). With no backend
    configured (``KERAS_BACKEND`` or ``~/.keras/keras.json``) jax is used; the models are written with
    ``keras.ops`` only and run on torch and tensorflow as well.

    Examples
    --------
    >>> from deepof_sk.datasets import make_motif_poses
    >>> ds, labels = make_motif_poses(600, n_motifs=3, random_state=0)
    >>> est = DeepClusterer(n_clusters=3, encoder="tcn", epochs=2, pretrain_epochs=1, random_state=0)
    >>> est.fit(ds).predict(ds).dims
    ('time', 'individual')
    """

    _parameter_constraints = {
        "model": [StrOptions(set(_MODELS))],
        "encoder": [StrOptions(set(_ENCODERS))],
        "window": [Interval(Integral, 3, None, closed="left")],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "n_clusters": [Interval(Integral, 2, None, closed="left")],
        "variables": [str, list, tuple, None],
        "units": [Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "pretrain_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "validation_split": [Interval(Real, 0, 1, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left"), None],
        "kl_warmup": [Interval(Integral, 0, None, closed="left")],
        "balance_weight": [Interval(Real, 0, None, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "max_windows_per_epoch": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        model="vade",
        encoder="gru",
        window=25,
        latent_dim=8,
        n_clusters=10,
        variables=None,
        units=16,
        epochs=15,
        pretrain_epochs=3,
        batch_size=256,
        learning_rate=1e-3,
        validation_split=0.2,
        patience=4,
        kl_warmup=3,
        balance_weight=1.0,
        temperature=0.1,
        max_windows_per_epoch=None,
        random_state=None,
        verbose=0,
    ):
        self.model = model
        self.encoder = encoder
        self.window = window
        self.latent_dim = latent_dim
        self.n_clusters = n_clusters
        self.variables = variables
        self.units = units
        self.epochs = epochs
        self.pretrain_epochs = pretrain_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.validation_split = validation_split
        self.patience = patience
        self.kl_warmup = kl_warmup
        self.balance_weight = balance_weight
        self.temperature = temperature
        self.max_windows_per_epoch = max_windows_per_epoch
        self.random_state = random_state
        self.verbose = verbose

    # -- features and windows ----------------------------------------------------------------------------------
    def _sequences(self, recordings: list[xr.Dataset]) -> list[np.ndarray]:
        """One (n_time, n_features) array per (recording, animal), recording-major."""
        sequences = []
        for ds in recordings:
            table = self.tabulator_.transform(ds)
            n_time, n_ind = ds.sizes[S.TIME], ds.sizes[S.INDIVIDUAL]
            per_animal = table.reshape(n_time, n_ind, -1)
            sequences.extend(per_animal[:, i] for i in range(n_ind))
        return sequences

    def _check_window(self, recordings):
        shortest = min(ds.sizes[S.TIME] for ds in recordings)
        problems = []
        if self.model == "contrastive" and self.window < 7:
            problems.append(
                f"the contrastive model needs window >= 7 frames (it crops shifted views); got {self.window}"
            )
        if shortest < 2:
            problems.append(f"a recording has {shortest} frame(s); at least 2 are needed")
        if problems:
            raise ValueError(f"{type(self).__name__}: " + "; ".join(problems) + ".")

    def _split(self, recordings, sequences, rng) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """Training and validation frame indices (into the WindowData), split by recording."""
        n_rec = len(recordings)
        per_rec = [ds.sizes[S.INDIVIDUAL] for ds in recordings]
        rec_of_seq = np.repeat(np.arange(n_rec), per_rec)
        lengths = [len(s) for s in sequences]
        rec_of_frame = np.repeat(rec_of_seq, lengths)
        local = np.concatenate([np.arange(n) for n in lengths])
        n_val = int(round(self.validation_split * n_rec)) if self.validation_split > 0 else 0
        if self.validation_split > 0 and n_rec >= 2:
            n_val = min(max(n_val, 1), n_rec - 1)
            val_recs = rng.choice(n_rec, size=n_val, replace=False)
            is_val = np.isin(rec_of_frame, val_recs)
            train_recs = sorted(set(range(n_rec)) - set(val_recs.tolist()))
        elif self.validation_split > 0:
            # one recording: hold out its last frames, after a window-long gap so no training window overlaps them
            cut = int(lengths[0] * (1 - self.validation_split))
            is_val = local >= cut + self.window
            return np.flatnonzero(local < cut), np.flatnonzero(is_val), [0]
        else:
            is_val = np.zeros(len(rec_of_frame), bool)
            train_recs = list(range(n_rec))
        return np.flatnonzero(~is_val), np.flatnonzero(is_val), train_recs

    # -- model building ----------------------------------------------------------------------------------------
    def _build_model(self, keras, n_features: int, seed: int):
        from ._models import MODELS

        common = dict(
            encoder=self.encoder,
            units=self.units,
            window=self.window,
            n_features=n_features,
            latent_dim=self.latent_dim,
            n_clusters=self.n_clusters,
            seed=seed,
        )
        if self.model == "vade":
            return MODELS["vade"](balance_weight=self.balance_weight, **common)
        if self.model == "vqvae":
            return MODELS["vqvae"](**common)
        shift = max(1, min(3, (self.window - 3) // 4))
        pairs = _xy_pairs(list(self.feature_names_in_))
        return MODELS["contrastive"](temperature=self.temperature, max_shift=shift, pairs=pairs, **common)

    def _fit_kwargs(self):
        return {"verbose": {0: 0, 1: 2}.get(int(self.verbose), 1)}

    def _log(self, message, *args):
        if self.verbose:
            logger.info(message, *args)

    # -- fit ---------------------------------------------------------------------------------------------------
    def fit(self, X, y=None):
        """Learn windows' scaling, train the deep model and its clusters.

        Parameters
        ----------
        X : xarray.Dataset or sequence of xarray.Dataset
            Recordings in the poses schema (with the feature variables named by ``variables``).
        y : None
            Ignored; present for Pipeline compatibility.

        Returns
        -------
        self
        """
        self._validate_params()
        where = type(self).__name__
        recordings, _ = check_recordings(X, where=where)
        self._check_window(recordings)
        from ._training import callbacks_for, import_keras, make_batches

        keras = import_keras(where)
        started = time.perf_counter()
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        keras.utils.set_random_seed(seed)
        self.backend_ = keras.backend.backend()

        variables = "position" if self.variables is None else self.variables
        self.tabulator_ = FeatureTabulator(variables=variables, per_individual=True).fit(recordings)
        self.feature_names_in_ = self.tabulator_.get_feature_names_out()
        self.n_features_in_ = len(self.feature_names_in_)
        self.individuals_ = np.asarray([str(i) for i in recordings[0][S.INDIVIDUAL].values], dtype=object)
        sequences = self._sequences(recordings)
        train, val, train_recs = self._split(recordings, sequences, rng)
        per_rec = np.repeat(np.arange(len(recordings)), [ds.sizes[S.INDIVIDUAL] for ds in recordings])
        train_seqs = [
            fill_nan_linear(s, axis=0) for s, r in zip(sequences, per_rec, strict=True) if r in train_recs
        ]
        self.scaler_ = FeatureScaler.fit(train_seqs)
        data = build_window_data(sequences, self.scaler_, self.window)
        train = train[data.valid[train]]
        val = val[data.valid[val]]
        if len(train) < self.n_clusters:
            raise ValueError(
                f"{where}: only {len(train)} training frames have tracked features, fewer than n_clusters="
                f"{self.n_clusters}. Pass more or longer recordings, or lower n_clusters."
            )
        self.n_windows_fit_ = int(len(train))
        self._log(
            "%s: %d training and %d validation windows of %d x %d",
            where,
            len(train),
            len(val),
            self.window,
            self.n_features_in_,
        )

        model = self._build_model(keras, self.n_features_in_, seed)
        self._inference = None  # one functional inference model per network, sharing its variables
        model(data.gather(train[:2]))
        model.compile(optimizer=keras.optimizers.Adam(self.learning_rate))
        per_epoch = self.max_windows_per_epoch
        batches = make_batches(
            keras, data, train, self.batch_size, shuffle=True, seed=seed, per_epoch=per_epoch
        )
        val_batches = (
            make_batches(keras, data, rng.permutation(val), self.batch_size, shuffle=False, seed=seed)
            if len(val)
            else None
        )
        sample = rng.choice(train, size=min(len(train), _INIT_SAMPLE), replace=False)

        if self.model in ("vade", "vqvae") and self.pretrain_epochs > 0:
            t0 = time.perf_counter()
            model.pretraining.assign(1.0)
            model.fit(batches, epochs=self.pretrain_epochs, **self._fit_kwargs())
            model.pretraining.assign(0.0)
            self._log("%s: pretraining %.1f s", where, time.perf_counter() - t0)
        if self.model in ("vade", "vqvae"):
            self._init_clusters(keras, model, data, sample, seed)

        restart = data.gather(sample[:2048]) if self.model in ("vade", "vqvae") else None
        callbacks = callbacks_for(
            keras,
            model,
            kl_warmup=self.kl_warmup if self.model == "vade" else 0,
            restart_sample=restart,
            restart_seed=seed,
        )
        if self.patience is not None:
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor="val_loss" if val_batches is not None else "loss",
                    patience=self.patience,
                    restore_best_weights=True,
                    start_from_epoch=self.kl_warmup if self.model == "vade" else 0,
                )
            )
        t0 = time.perf_counter()
        history = model.fit(
            batches,
            validation_data=val_batches,
            epochs=self.epochs,
            callbacks=callbacks,
            **self._fit_kwargs(),
        )
        self.history_ = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        self._log("%s: training %.1f s (%d epochs)", where, time.perf_counter() - t0, len(history.epoch))
        self.model_ = model
        self.gmm_ = None

        if self.model == "vqvae":
            out = self._run(keras, data, sample, proba=False)
            codebook = keras.ops.convert_to_numpy(model.quantizer.codebook)
            d2 = ((out["embedding"][:, None, :] - codebook[None]) ** 2).sum(-1).min(1)
            model.quantizer.assignment_var.assign(max(float(d2.mean()) / self.latent_dim, 1e-6))
        if self.model == "contrastive":
            from sklearn.mixture import GaussianMixture

            embedding = self._run(keras, data, sample, proba=False)["embedding"]
            self.gmm_ = GaussianMixture(
                self.n_clusters, covariance_type="tied", reg_covar=1e-4, n_init=2, random_state=seed
            ).fit(embedding)

        labels = self._run(keras, data, train)["proba"].argmax(axis=1)
        self.cluster_occupancy_ = cluster_occupancy(labels, self.n_clusters)
        self.cluster_balance_ = cluster_balance(labels, self.n_clusters)
        self.n_populated_clusters_ = n_populated_clusters(labels, self.n_clusters)
        self.fit_time_ = time.perf_counter() - started
        self._log(
            "%s: %d of %d clusters populated, balance %.2f, fit %.1f s",
            where,
            self.n_populated_clusters_,
            self.n_clusters,
            self.cluster_balance_,
            self.fit_time_,
        )
        if self.n_populated_clusters_ < math.ceil(self.n_clusters / 2):
            warnings.warn(
                f"{where}: only {self.n_populated_clusters_} of n_clusters={self.n_clusters} clusters hold at least "
                f"1 % of the training frames (occupancy {np.round(self.cluster_occupancy_, 3).tolist()}). Train "
                "longer (epochs, patience), raise balance_weight, use fewer clusters or richer features.",
                ClusterCollapseWarning,
                stacklevel=2,
            )
        return self

    def _init_clusters(self, keras, model, data: WindowData, sample: np.ndarray, seed: int) -> None:
        """Mixture (VaDE) or codebook (VQ-VAE) from the pretrained embeddings, so that every cluster starts used."""
        self.model_ = model
        embedding = self._run(keras, data, sample, proba=False)["embedding"]
        from sklearn.cluster import KMeans

        km = KMeans(self.n_clusters, n_init=4, random_state=seed).fit(embedding)
        centres = km.cluster_centers_.astype("float32")
        if self.model == "vade":
            # k-means partitions, each with its own diagonal variance (a floor keeps tiny clusters from collapsing)
            var = np.stack(
                [
                    embedding[km.labels_ == k].var(axis=0)
                    if np.sum(km.labels_ == k) > 1
                    else embedding.var(axis=0)
                    for k in range(self.n_clusters)
                ]
            )
            var = np.maximum(var, 1e-2 * embedding.var(axis=0).mean())
            model.prior.means.assign(centres)
            model.prior.log_vars.assign(np.log(var).astype("float32"))
        else:
            model.quantizer.codebook.assign(centres)

    # -- inference ---------------------------------------------------------------------------------------------
    def _run(self, keras, data: WindowData, index: np.ndarray, proba: bool = True) -> dict:
        from ._training import inference_model, run_inference

        if getattr(self, "_inference", None) is None:
            self._inference = inference_model(keras, self.model_)
        out = run_inference(keras, self._inference, data, index)
        if proba and "proba" not in out:
            out["proba"] = self.gmm_.predict_proba(out["embedding"].astype(float))
        return out

    def _per_recording(self, X, what: str) -> tuple[list[xr.DataArray], bool]:
        check_is_fitted(self, "model_")
        where = type(self).__name__
        recordings, single = check_recordings(X, where=where)
        from ._training import import_keras

        keras = import_keras(where)
        sequences = self._sequences(recordings)
        data = build_window_data(sequences, self.scaler_, self.window)
        frames = np.flatnonzero(data.valid)
        out = self._run(keras, data, frames, proba=what != "embedding")
        key = "embedding" if what == "embedding" else "proba"
        values = np.full((len(data.valid), out[key].shape[1]), np.nan)
        values[frames] = out[key]
        pieces = np.split(values, np.cumsum(data.lengths)[:-1])
        results, k = [], 0
        for ds in recordings:
            n_ind = ds.sizes[S.INDIVIDUAL]
            block = np.stack(pieces[k : k + n_ind], axis=1)  # (time, individual, dim)
            k += n_ind
            coords = {S.TIME: ds[S.TIME].values, S.INDIVIDUAL: ds[S.INDIVIDUAL].values}
            if what == "embedding":
                da = xr.DataArray(
                    block,
                    dims=(S.TIME, S.INDIVIDUAL, S.LATENT),
                    coords={**coords, S.LATENT: np.arange(block.shape[2])},
                    name="embedding",
                    attrs={"long_name": f"{self.model} embedding of the centred window"},
                )
            elif what == "proba":
                da = xr.DataArray(
                    block,
                    dims=(S.TIME, S.INDIVIDUAL, S.CLUSTER),
                    coords={**coords, S.CLUSTER: np.arange(block.shape[2])},
                    name="cluster_proba",
                    attrs={"long_name": "cluster membership probability"},
                )
            else:
                missing = np.isnan(block).any(axis=2)
                labels = np.where(missing, -1, np.nan_to_num(block).argmax(axis=2))
                da = xr.DataArray(
                    labels.astype(int),
                    dims=(S.TIME, S.INDIVIDUAL),
                    coords=coords,
                    name="cluster",
                    attrs={"long_name": "cluster (-1: no tracked feature)"},
                )
            results.append(da)
        return results, single

    def transform(self, X):
        """Per-frame embedding of the window centred on each frame.

        Parameters
        ----------
        X : xarray.Dataset or sequence of xarray.Dataset
            Recordings.

        Returns
        -------
        xarray.DataArray or list of xarray.DataArray
            ``embedding`` with dims (time, individual, latent), the recording's ``time`` coordinate; NaN where a
            frame has no tracked feature. One per recording (a single DataArray for a single Dataset).
        """
        results, single = self._per_recording(X, "embedding")
        return return_like(results, single)

    def predict_proba(self, X):
        """Soft cluster assignments, dims (time, individual, cluster); NaN where a frame has no tracked feature."""
        results, single = self._per_recording(X, "proba")
        return return_like(results, single)

    def predict(self, X):
        """Cluster of each frame and animal, dims (time, individual); -1 where a frame has no tracked feature."""
        results, single = self._per_recording(X, "labels")
        return return_like(results, single)

    def fit_predict(self, X, y=None):
        """Fit, then predict the clusters of ``X``."""
        return self.fit(X).predict(X)

    def fit_transform(self, X, y=None):
        """Fit, then return the embeddings of ``X``."""
        return self.fit(X).transform(X)

    def score(self, X, y=None):
        """Unsupervised score: cluster balance x mean assignment confidence on ``X`` (higher is better).

        See :func:`~deepof_sk.clustering.clustering_score`; GridSearchCV uses it when no ``scoring`` is given.
        """
        results, _ = self._per_recording(X, "proba")
        return clustering_score([r.values for r in results])

    def confidence(self, X) -> float:
        """Mean largest cluster probability over the frames of ``X``."""
        results, _ = self._per_recording(X, "proba")
        return assignment_confidence([r.values for r in results])

    # -- persistence -------------------------------------------------------------------------------------------
    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_inference", None)
        model = state.pop("model_", None)
        if model is not None:
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "model.keras")
                model.save(path)
                with open(path, "rb") as fh:
                    state["_model_keras_bytes"] = fh.read()
        return state

    def __setstate__(self, state):
        state = dict(state)
        blob = state.pop("_model_keras_bytes", None)
        self.__dict__.update(state)
        self._inference = None
        if blob is not None:
            from ._training import import_keras

            keras = import_keras(type(self).__name__)
            from . import _models  # noqa: F401 - registers the custom layers for deserialisation

            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "model.keras")
                with open(path, "wb") as fh:
                    fh.write(blob)
                self.model_ = keras.saving.load_model(path, compile=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.non_deterministic = False
        return tags
