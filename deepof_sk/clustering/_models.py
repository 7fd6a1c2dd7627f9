"""The three deep clustering models as Keras 3 models: VaDE, VQ-VAE and contrastive (InfoNCE).

Each model overrides :meth:`keras.Model.compute_loss`, which Keras calls from its own ``train_step`` and
``test_step`` on every backend, so one piece of ``keras.ops`` code trains on jax, torch and tensorflow. Each model
also exposes ``infer(x) -> {"embedding", ["proba"]}`` built from its layers only; the estimator wraps it in a
functional model for fast compiled inference.

Training phases are driven by non-trainable variables (``pretraining``, ``kl_weight``) rather than Python flags, so
switching phase never retraces the compiled step: ``pretraining=1`` trains a plain autoencoder (the latent mean is
decoded), after which the estimator initialises the mixture (VaDE) or the codebook (VQ-VAE) from the embeddings.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers, ops

from ._encoders import PACKAGE, SequenceDecoder, SequenceEncoder

__all__ = ["VaDE", "VQVAE", "ContrastiveModel", "GaussianMixturePrior", "VectorQuantizer", "WindowAugmenter"]


@keras.saving.register_keras_serializable(package=PACKAGE)
class GaussianMixturePrior(layers.Layer):
    """Diagonal Gaussian mixture over the latent space; ``call(z)`` gives ``log pi_c + log N(z | mu_c, var_c)``."""

    def __init__(self, n_clusters, latent_dim, **kwargs):
        super().__init__(**kwargs)
        self.n_clusters, self.latent_dim = int(n_clusters), int(latent_dim)

    def build(self, input_shape=None):
        k, d = self.n_clusters, self.latent_dim
        self.means = self.add_weight(shape=(k, d), initializer="random_normal", name="means")
        self.log_vars = self.add_weight(shape=(k, d), initializer="zeros", name="log_vars")
        # uniform mixing weights, fixed: a learnt prior lets small clusters die (cluster collapse)
        self.log_weights = self.add_weight(
            shape=(k,),
            initializer=keras.initializers.Constant(-math.log(k)),
            trainable=False,
            name="log_weights",
        )

    def call(self, z):
        diff = ops.expand_dims(z, 1) - ops.expand_dims(self.means, 0)  # (B, K, D)
        log_vars = ops.clip(self.log_vars, -8.0, 8.0)
        log_pdf = -0.5 * ops.sum(math.log(2 * math.pi) + log_vars + diff**2 / ops.exp(log_vars), axis=-1)
        return log_pdf + self.log_weights

    def get_config(self):
        return {**super().get_config(), "n_clusters": self.n_clusters, "latent_dim": self.latent_dim}


@keras.saving.register_keras_serializable(package=PACKAGE)
class VectorQuantizer(layers.Layer):
    """Codebook of ``n_clusters`` vectors; ``call(z)`` gives squared distances (B, K) to every code."""

    def __init__(self, n_clusters, latent_dim, **kwargs):
        super().__init__(**kwargs)
        self.n_clusters, self.latent_dim = int(n_clusters), int(latent_dim)

    def build(self, input_shape=None):
        self.codebook = self.add_weight(
            shape=(self.n_clusters, self.latent_dim), initializer="random_uniform", name="codebook"
        )
        # per-dimension variance of the quantisation error: turns distances into soft assignments
        self.assignment_var = self.add_weight(
            shape=(), initializer="ones", trainable=False, name="assignment_var"
        )

    def call(self, z):
        return (
            ops.sum(z**2, axis=-1, keepdims=True)
            - 2.0 * ops.matmul(z, ops.transpose(self.codebook))
            + ops.expand_dims(ops.sum(self.codebook**2, axis=-1), 0)
        )

    def get_config(self):
        return {**super().get_config(), "n_clusters": self.n_clusters, "latent_dim": self.latent_dim}


@keras.saving.register_keras_serializable(package=PACKAGE)
class WindowAugmenter(layers.Layer):
    """Random view of a window: time-shifted crop, rotation of (x, y) feature pairs, Gaussian noise.

    ``call(x)`` returns a crop of length ``window - 2 * max_shift`` whose start is drawn in ``[0, 2 * max_shift]``
    (the centre crop is the one used at inference); each (x, y) column pair named in ``pairs`` is rotated by an
    angle drawn in ``[-max_angle, max_angle]`` (one angle per window), and noise of standard deviation ``noise`` is
    added.
    """

    def __init__(
        self,
        window,
        n_features,
        max_shift=3,
        pairs=(),
        max_angle=math.pi / 6,
        noise=0.05,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.window, self.n_features, self.max_shift = int(window), int(n_features), int(max_shift)
        self.pairs = [[int(a), int(b)] for a, b in pairs]
        self.max_angle, self.noise, self.seed = float(max_angle), float(noise), seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.crop = self.window - 2 * self.max_shift
        if self.pairs:
            xs = [a for a, _ in self.pairs]
            ys = [b for _, b in self.pairs]
            rest = [i for i in range(self.n_features) if i not in set(xs) | set(ys)]
            order = xs + ys + rest
            self._xs, self._ys, self._rest = xs, ys, rest
            self._inverse = [int(i) for i in np.argsort(order)]

    def centre(self, x):
        return x[:, self.max_shift : self.max_shift + self.crop]

    def call(self, x):
        batch = ops.shape(x)[0]
        start = keras.random.randint((batch, 1), 0, 2 * self.max_shift + 1, seed=self.seed_generator)
        rows = start + ops.expand_dims(ops.arange(self.crop), 0)  # (B, crop)
        rows = ops.broadcast_to(ops.expand_dims(rows, -1), (batch, self.crop, self.n_features))
        view = ops.take_along_axis(x, ops.cast(rows, "int32"), axis=1)
        if self.pairs:
            angle = keras.random.uniform(
                (batch, 1, 1), -self.max_angle, self.max_angle, seed=self.seed_generator
            )
            c, s = ops.cos(angle), ops.sin(angle)
            px, py = ops.take(view, self._xs, axis=2), ops.take(view, self._ys, axis=2)
            parts = [c * px - s * py, s * px + c * py]
            if self._rest:
                parts.append(ops.take(view, self._rest, axis=2))
            view = ops.take(ops.concatenate(parts, axis=2), self._inverse, axis=2)
        if self.noise > 0:
            view = view + self.noise * keras.random.normal(ops.shape(view), seed=self.seed_generator)
        return view

    def get_config(self):
        return {
            **super().get_config(),
            "window": self.window,
            "n_features": self.n_features,
            "max_shift": self.max_shift,
            "pairs": self.pairs,
            "max_angle": self.max_angle,
            "noise": self.noise,
            "seed": self.seed,
        }


class _WindowModel(keras.Model):
    """Shared configuration, the phase variables and the loss trackers of the window models."""

    def __init__(
        self,
        encoder="gru",
        units=32,
        window=25,
        n_features=1,
        latent_dim=8,
        n_clusters=10,
        dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.encoder_kind, self.units, self.window = encoder, int(units), int(window)
        self.n_features, self.latent_dim, self.n_clusters = int(n_features), int(latent_dim), int(n_clusters)
        self.dropout, self.seed = float(dropout), seed
        self.encoder = SequenceEncoder(encoder, units, dropout, name="encoder")
        self.pretraining = self.add_weight(shape=(), initializer="zeros", trainable=False, name="pretraining")
        self.kl_weight = self.add_weight(shape=(), initializer="ones", trainable=False, name="kl_weight")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self._loss_names}

    _loss_names: tuple[str, ...] = ()

    @property
    def metrics(self):
        return [*super().metrics, *self.trackers.values()]

    def _track(self, **values):
        for name, value in values.items():
            self.trackers[name].update_state(value)

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": self.encoder_kind,
            "units": self.units,
            "window": self.window,
            "n_features": self.n_features,
            "latent_dim": self.latent_dim,
            "n_clusters": self.n_clusters,
            "dropout": self.dropout,
            "seed": self.seed,
        }

    @property
    def input_window(self) -> int:
        """Frames the model's training and inference inputs have (the whole window)."""
        return self.window


@keras.saving.register_keras_serializable(package=PACKAGE)
class VaDE(_WindowModel):
    """Variational deep embedding: a VAE whose prior is a Gaussian mixture, one component per cluster.

    Loss per window, divided by ``window * n_features`` (so weights read in units of mean squared error):
    ``0.5 * MSE + kl_weight * KL(q(z, c | x) || p(z, c)) / (window * n_features) + balance_weight * floor``,
    where ``floor`` penalises clusters whose share of the batch (mean of q(c | x)) falls below
    ``min_cluster_fraction`` (DeepOF's non-empty-cluster penalty, against collapse).
    """

    _loss_names = ("reconstruction", "kl", "balance")

    def __init__(self, balance_weight=1.0, min_cluster_fraction=None, **kwargs):
        super().__init__(**kwargs)
        self.balance_weight = float(balance_weight)
        k = self.n_clusters
        self.min_cluster_fraction = float(0.5 / k if min_cluster_fraction is None else min_cluster_fraction)
        self.z_mean = layers.Dense(self.latent_dim, name="z_mean")
        self.z_log_var = layers.Dense(
            self.latent_dim, name="z_log_var", bias_initializer=keras.initializers.Constant(-2.0)
        )
        self.prior = GaussianMixturePrior(k, self.latent_dim, name="prior")
        self.decoder = SequenceDecoder(
            self.encoder_kind, self.units, self.window, self.n_features, self.dropout, name="decoder"
        )
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def call(self, x, training=None):
        h = self.encoder(x, training=training)
        mean, log_var = self.z_mean(h), ops.clip(self.z_log_var(h), -10.0, 5.0)
        eps = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
        z = mean + (1.0 - self.pretraining) * ops.exp(0.5 * log_var) * eps
        return {
            "reconstruction": self.decoder(z, training=training),
            "z_mean": mean,
            "z_log_var": log_var,
            "log_joint": self.prior(z),
        }

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        size = float(self.window * self.n_features)
        x = ops.convert_to_tensor(x)
        recon = 0.5 * ops.mean((x - y_pred["reconstruction"]) ** 2)
        gamma = ops.softmax(y_pred["log_joint"], axis=-1)  # q(c | x), (B, K)
        mean, log_var = y_pred["z_mean"], y_pred["z_log_var"]
        p_log_vars = ops.clip(self.prior.log_vars, -8.0, 8.0)
        diff = ops.expand_dims(mean, 1) - ops.expand_dims(self.prior.means, 0)  # (B, K, D)
        cross = 0.5 * ops.sum(
            p_log_vars + (ops.expand_dims(ops.exp(log_var), 1) + diff**2) / ops.exp(p_log_vars), axis=-1
        )  # E_q[-log p(z | c)] up to a constant, (B, K)
        kl = (
            ops.sum(gamma * cross, axis=-1)
            + ops.sum(gamma * (ops.log(gamma + 1e-10) - self.prior.log_weights), axis=-1)
            - 0.5 * ops.sum(1.0 + log_var, axis=-1)
        )
        kl = ops.mean(kl) / size
        share = ops.mean(gamma, axis=0)
        floor = ops.sum(ops.relu(self.min_cluster_fraction - share)) / self.min_cluster_fraction
        main = 1.0 - self.pretraining
        self._track(reconstruction=recon, kl=kl * size, balance=floor)
        return recon + main * (self.kl_weight * kl + self.balance_weight * floor)

    def infer(self, x):
        mean = self.z_mean(self.encoder(x, training=False))
        return {"embedding": mean, "proba": ops.softmax(self.prior(mean), axis=-1)}

    def get_config(self):
        return {
            **super().get_config(),
            "balance_weight": self.balance_weight,
            "min_cluster_fraction": self.min_cluster_fraction,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class VQVAE(_WindowModel):
    """Vector-quantised autoencoder: each window's latent vector snaps to one of ``n_clusters`` codes (its cluster).

    Loss: ``0.5 * MSE + mean((sg(z_e) - e)^2) + commitment * mean((z_e - sg(e))^2)`` with a straight-through
    gradient. Soft assignments are ``softmax(-d^2 / (2 var))`` with ``var`` the per-dimension quantisation error
    measured after training.
    """

    _loss_names = ("reconstruction", "codebook")

    def __init__(self, commitment=0.25, **kwargs):
        super().__init__(**kwargs)
        self.commitment = float(commitment)
        self.project = layers.Dense(self.latent_dim, name="z")
        self.quantizer = VectorQuantizer(self.n_clusters, self.latent_dim, name="quantizer")
        self.decoder = SequenceDecoder(
            self.encoder_kind, self.units, self.window, self.n_features, self.dropout, name="decoder"
        )

    def call(self, x, training=None):
        z = self.project(self.encoder(x, training=training))
        codes = ops.argmin(self.quantizer(z), axis=-1)
        quantised = ops.take(self.quantizer.codebook, codes, axis=0)
        straight = z + ops.stop_gradient(quantised - z)
        decoded = self.pretraining * z + (1.0 - self.pretraining) * straight
        return {"reconstruction": self.decoder(decoded, training=training), "z": z, "quantised": quantised}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        x = ops.convert_to_tensor(x)
        recon = 0.5 * ops.mean((x - y_pred["reconstruction"]) ** 2)
        z, q = y_pred["z"], y_pred["quantised"]
        codebook = ops.mean((ops.stop_gradient(z) - q) ** 2) + self.commitment * ops.mean(
            (z - ops.stop_gradient(q)) ** 2
        )
        self._track(reconstruction=recon, codebook=codebook)
        return recon + (1.0 - self.pretraining) * codebook

    def infer(self, x):
        z = self.project(self.encoder(x, training=False))
        d2 = self.quantizer(z)
        return {"embedding": z, "proba": ops.softmax(-d2 / (2.0 * self.quantizer.assignment_var), axis=-1)}

    def get_config(self):
        return {**super().get_config(), "commitment": self.commitment}


@keras.saving.register_keras_serializable(package=PACKAGE)
class ContrastiveModel(_WindowModel):
    """Contrastive encoder: two augmented views of each window, InfoNCE (NT-Xent, symmetric) between them.

    The encoder sees crops of ``window - 2 * max_shift`` frames (so the time-shift augmentation stays inside the
    window); at inference it sees the centre crop. Clusters are assigned afterwards (a Gaussian mixture on the
    embeddings, fitted by the estimator).
    """

    _loss_names = ("infonce",)

    def __init__(self, temperature=0.1, max_shift=3, pairs=(), max_angle=math.pi / 6, noise=0.05, **kwargs):
        super().__init__(**kwargs)
        self.temperature, self.max_shift = float(temperature), int(max_shift)
        self.pairs, self.max_angle, self.noise = (
            [[int(a), int(b)] for a, b in pairs],
            float(max_angle),
            float(noise),
        )
        self.augment = WindowAugmenter(
            self.window,
            self.n_features,
            self.max_shift,
            self.pairs,
            self.max_angle,
            self.noise,
            seed=self.seed,
            name="augment",
        )
        self.embed = layers.Dense(self.latent_dim, name="embedding")
        self.head_hidden = layers.Dense(
            max(self.units, self.latent_dim), activation="relu", name="head_hidden"
        )
        self.head_out = layers.Dense(self.latent_dim, name="head_out")

    def _project(self, view, training):
        e = self.embed(self.encoder(view, training=training))
        p = self.head_out(self.head_hidden(e))
        return p / (ops.sqrt(ops.sum(p**2, axis=-1, keepdims=True)) + 1e-8)

    def call(self, x, training=None):
        return {
            "view1": self._project(self.augment(x), training),
            "view2": self._project(self.augment(x), training),
        }

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        a, b = y_pred["view1"], y_pred["view2"]
        logits = ops.matmul(a, ops.transpose(b)) / self.temperature  # (B, B), positives on the diagonal
        n = ops.shape(logits)[0]
        target = ops.eye(n)
        loss = 0.5 * (
            ops.mean(keras.losses.categorical_crossentropy(target, logits, from_logits=True))
            + ops.mean(keras.losses.categorical_crossentropy(target, ops.transpose(logits), from_logits=True))
        )
        self._track(infonce=loss)
        return loss

    def infer(self, x):
        return {"embedding": self.embed(self.encoder(self.augment.centre(x), training=False))}

    def get_config(self):
        return {
            **super().get_config(),
            "temperature": self.temperature,
            "max_shift": self.max_shift,
            "pairs": self.pairs,
            "max_angle": self.max_angle,
            "noise": self.noise,
        }


MODELS = {"vade": VaDE, "vqvae": VQVAE, "contrastive": ContrastiveModel}
