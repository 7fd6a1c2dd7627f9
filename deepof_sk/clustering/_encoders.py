"""Sequence encoders and decoders (recurrent, TCN, transformer) for windows of per-frame features.

Written with Keras 3 layers and ``keras.ops`` only, so they run unchanged on the jax, torch and tensorflow backends;
every layer is registered for serialisation (``.keras`` files). Importing this module imports keras: the estimator
imports it lazily, when a model is built or loaded.

* ``SequenceEncoder``: (batch, time, features) -> (batch, width); ``kind`` is ``"gru"`` (strided Conv1D then
  two bidirectional GRUs at half the frame rate, DeepOF's recurrent design), ``"tcn"`` (residual dilated
  Conv1D, dilations 1-2-4-8, non-causal since windows are centred on their frame) or ``"transformer"`` (two
  self-attention blocks over sinusoidal positions).
* ``SequenceDecoder``: (batch, latent) -> (batch, time, features), the mirror of each encoder.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

__all__ = [
    "SequenceEncoder",
    "SequenceDecoder",
    "BidirectionalGRU",
    "SinusoidalPosition",
    "ResidualConv",
    "TransformerBlock",
]

PACKAGE = "deepof_sk"
KINDS = ("gru", "tcn", "transformer")
#: The recurrent encoder and decoder run at 1 / GRU_STRIDE of the frame rate (a strided Conv1D in, a repeat and a
#: Conv1D out): ~2.5x faster on CPU than GRUs at frame rate, with the same parameters.
GRU_STRIDE = 2


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"encoder kind must be one of {list(KINDS)}; got {kind!r}.")
    return kind


@keras.saving.register_keras_serializable(package=PACKAGE)
class SinusoidalPosition(layers.Layer):
    """Add fixed sinusoidal position codes to a (batch, time, width) sequence."""

    def build(self, input_shape):
        length, width = int(input_shape[1]), int(input_shape[2])
        position = np.arange(length)[:, None]
        rate = 1.0 / (10000.0 ** (2 * (np.arange(width) // 2) / width))
        table = position * rate[None, :]
        table[:, 0::2] = np.sin(table[:, 0::2])
        table[:, 1::2] = np.cos(table[:, 1::2])
        self._table = table.astype("float32")[None]

    def call(self, x):
        return x + ops.cast(ops.convert_to_tensor(self._table), x.dtype)


@keras.saving.register_keras_serializable(package=PACKAGE)
class ResidualConv(layers.Layer):
    """x + Conv1D(dilated) -> ReLU -> Conv1D(1), then layer normalisation (one TCN block)."""

    def __init__(self, units, kernel_size=3, dilation_rate=1, **kwargs):
        super().__init__(**kwargs)
        self.units, self.kernel_size, self.dilation_rate = int(units), int(kernel_size), int(dilation_rate)
        self.conv = layers.Conv1D(
            units, kernel_size, dilation_rate=dilation_rate, padding="same", activation="relu"
        )
        self.mix = layers.Conv1D(units, 1)
        self.norm = layers.LayerNormalization()

    def call(self, x):
        return self.norm(x + self.mix(self.conv(x)))

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "kernel_size": self.kernel_size,
            "dilation_rate": self.dilation_rate,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class TransformerBlock(layers.Layer):
    """Post-norm self-attention block: attention + residual, feed-forward + residual."""

    def __init__(self, units, num_heads=4, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.units, self.num_heads, self.dropout = int(units), int(num_heads), float(dropout)
        self.attention = layers.MultiHeadAttention(
            num_heads, key_dim=max(1, units // num_heads), dropout=dropout
        )
        self.ff_in = layers.Dense(4 * units, activation="relu")
        self.ff_out = layers.Dense(units)
        self.norm1 = layers.LayerNormalization()
        self.norm2 = layers.LayerNormalization()

    def call(self, x, training=None):
        x = self.norm1(x + self.attention(x, x, training=training))
        return self.norm2(x + self.ff_out(self.ff_in(x)))

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "num_heads": self.num_heads,
            "dropout": self.dropout,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class BidirectionalGRU(layers.Layer):
    """A GRU over time forwards and one backwards, outputs concatenated (width 2 * units).

    ``keras.layers.Bidirectional`` is not used: it builds its two GRUs by serialising the GRU it is given, and
    when that happens inside ``keras.saving.load_model`` (a layer constructing it in ``__init__``) Keras's
    shared-object bookkeeping keys configs by ``id()`` of the short-lived template GRU. A later template at a
    reused address is then resolved to an earlier backward GRU, and loading fails at random ("Forward layer and
    backward layer should have different go_backwards"). Here both GRUs are plain attributes.
    """

    def __init__(self, units, return_sequences=False, **kwargs):
        super().__init__(**kwargs)
        self.units, self.return_sequences = int(units), bool(return_sequences)
        self.forward_gru = layers.GRU(units, return_sequences=return_sequences)
        self.backward_gru = layers.GRU(units, return_sequences=return_sequences, go_backwards=True)

    def call(self, x):
        forward, backward = self.forward_gru(x), self.backward_gru(x)
        if self.return_sequences:
            # The backward GRU emits its sequence in reversed time: put frame t back at position t.
            backward = ops.flip(backward, axis=1)
        return ops.concatenate([forward, backward], axis=-1)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "return_sequences": self.return_sequences}


@keras.saving.register_keras_serializable(package=PACKAGE)
class SequenceEncoder(layers.Layer):
    """Encode a window (batch, time, features) into one vector (batch, width).

    Parameters
    ----------
    kind : {"gru", "tcn", "transformer"}
        Architecture.
    units : int
        Width: GRU units per direction (output 2 * units), TCN filters (output 2 * units: mean and max pooled),
        transformer model width (output units).
    dropout : float
        Attention dropout (transformer only).
    """

    def __init__(self, kind="gru", units=32, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.kind, self.units, self.dropout = _check_kind(kind), int(units), float(dropout)
        if kind == "gru":
            self.blocks = [
                layers.Conv1D(units, 5, strides=GRU_STRIDE, padding="same", activation="relu"),
                BidirectionalGRU(units, return_sequences=True),
                layers.LayerNormalization(),
                BidirectionalGRU(units),
            ]
        elif kind == "tcn":
            self.blocks = [layers.Conv1D(units, 1)] + [ResidualConv(units, 3, d) for d in (1, 2, 4, 8)]
        else:
            self.blocks = [layers.Dense(units), SinusoidalPosition()] + [
                TransformerBlock(units, 4, dropout) for _ in range(2)
            ]

    def call(self, x, training=None):
        for block in self.blocks:
            x = block(x, training=training) if isinstance(block, TransformerBlock) else block(x)
        if self.kind == "tcn":
            return ops.concatenate([ops.mean(x, axis=1), ops.max(x, axis=1)], axis=-1)
        if self.kind == "transformer":
            return ops.mean(x, axis=1)
        return x

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "units": self.units, "dropout": self.dropout}


@keras.saving.register_keras_serializable(package=PACKAGE)
class SequenceDecoder(layers.Layer):
    """Decode a latent vector (batch, latent) into a window (batch, window, n_features), mirroring the encoder."""

    def __init__(self, kind="gru", units=32, window=25, n_features=1, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.kind, self.units, self.dropout = _check_kind(kind), int(units), float(dropout)
        self.window, self.n_features = int(window), int(n_features)
        if kind == "gru":
            self.expand = layers.Dense(units, activation="relu")
            self.blocks = [BidirectionalGRU(units, return_sequences=True)]
            self.smooth = layers.Conv1D(units, 5, padding="same", activation="relu")
        else:
            self.expand = layers.Dense(window * units, activation="relu")
            if kind == "tcn":
                self.blocks = [ResidualConv(units, 3, d) for d in (8, 4, 2, 1)]
            else:
                self.blocks = [SinusoidalPosition(), TransformerBlock(units, 4, dropout)]
        self.out = layers.Dense(n_features)

    def call(self, z, training=None):
        h = self.expand(z)
        if self.kind == "gru":
            steps = -(-self.window // GRU_STRIDE)
            h = ops.repeat(ops.expand_dims(h, 1), steps, axis=1)
            for block in self.blocks:
                h = block(h)
            h = ops.repeat(h, GRU_STRIDE, axis=1)[:, : self.window]
            return self.out(self.smooth(h))
        else:
            h = ops.reshape(h, (-1, self.window, self.units))
        for block in self.blocks:
            h = block(h, training=training) if isinstance(block, TransformerBlock) else block(h)
        return self.out(h)

    def get_config(self):
        return {
            **super().get_config(),
            "kind": self.kind,
            "units": self.units,
            "window": self.window,
            "n_features": self.n_features,
            "dropout": self.dropout,
        }
