"""Keras-side helpers of :class:`DeepClusterer`: backend selection, batches of windows, callbacks, inference.

Imported only when a model is fitted or loaded (it imports keras).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
from pathlib import Path

import numpy as np

from ._windows import WindowData

logger = logging.getLogger("deepof_sk.clustering")

INSTALL_HINT = 'pip install "deepof-sk[deep]"'


def _configured_backend() -> str | None:
    """Backend named by KERAS_BACKEND or ~/.keras/keras.json, if any."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    config = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "keras.json"
    try:
        return json.loads(config.read_text()).get("backend")
    except (OSError, ValueError):
        return None


def _importable(backend: str | None) -> bool:
    module = {"jax": "jax", "torch": "torch", "tensorflow": "tensorflow"}.get(str(backend))
    return module is not None and importlib.util.find_spec(module) is not None


def import_keras(where: str = "DeepClusterer"):
    """Import keras with a usable backend.

    ``KERAS_BACKEND`` is always respected. Otherwise the backend of ``~/.keras/keras.json`` is used when it is
    installed; when it is not (keras writes ``"tensorflow"`` there on its first import, and tensorflow is not a
    dependency), jax is chosen, or torch when only torch is installed.
    """
    if "keras" not in sys.modules and not os.environ.get("KERAS_BACKEND"):
        configured = _configured_backend()
        if not _importable(configured):
            fallback = next((b for b in ("jax", "torch") if _importable(b)), None)
            if fallback is not None:
                os.environ["KERAS_BACKEND"] = fallback
                if configured is not None:
                    logger.info(
                        "%s: Keras backend %r is not installed; using %r", where, configured, fallback
                    )
    try:
        import keras
    except ImportError as exc:  # keras missing, or its configured backend missing
        raise ImportError(
            f"{where} needs Keras 3 and a backend (jax by default): {exc}. Install them with {INSTALL_HINT} "
            "(or choose an installed backend with the KERAS_BACKEND environment variable: jax, torch, tensorflow)."
        ) from exc
    if int(keras.__version__.split(".")[0]) < 3:
        raise ImportError(
            f"{where} needs Keras >= 3 (found {keras.__version__}); upgrade with {INSTALL_HINT}."
        )
    return keras


def make_batches(
    keras,
    data: WindowData,
    index: np.ndarray,
    batch_size: int,
    shuffle: bool,
    seed: int,
    per_epoch: int | None = None,
    pad: bool = False,
):
    """A keras PyDataset drawing windows of the frames ``index`` from ``data``.

    Every batch has the same shape, so a compiled step is traced once: with ``shuffle`` (training) the order is
    redrawn each epoch and the last incomplete batch is left out (a different one each epoch); with ``pad``
    (inference) the last batch is filled up by repeating its last window and the caller trims the outputs; otherwise
    (validation) the last incomplete batch is dropped unless it is the only one. ``per_epoch`` caps the windows
    drawn per epoch.
    """
    index = np.asarray(index)
    size = len(index) if per_epoch is None else min(len(index), int(per_epoch))
    if size < batch_size and not pad:
        batch_size = size
    n_batches = int(np.ceil(size / batch_size)) if pad else max(1, size // batch_size)

    class WindowBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.RandomState(seed)
            self.order = self._draw() if shuffle else index

        def _draw(self):
            return self.rng.permutation(index)[:size]

        def __len__(self):
            return n_batches

        def __getitem__(self, i):
            rows = self.order[i * batch_size : (i + 1) * batch_size]
            if pad and len(rows) < batch_size:
                rows = np.concatenate([rows, np.full(batch_size - len(rows), rows[-1])])
            return (data.gather(rows),)

        def on_epoch_end(self):
            if shuffle:
                self.order = self._draw()

    return WindowBatches()


def inference_model(keras, model):
    """A functional model ``window -> {"embedding", ["proba"]}`` sharing the trained model's layers."""
    inputs = keras.Input((model.window, model.n_features))
    return keras.Model(inputs, model.infer(inputs))


def run_inference(keras, infer, data: WindowData, index: np.ndarray, batch_size: int = 1024) -> dict:
    """Outputs of the inference model for the windows of the frames ``index`` (windows built batch by batch)."""
    index = np.asarray(index)
    if len(index) == 0:
        return {}
    batches = make_batches(keras, data, index, batch_size, shuffle=False, seed=0, pad=True)
    out = infer.predict(batches, verbose=0)
    return {k: np.asarray(v)[: len(index)] for k, v in out.items()}


def callbacks_for(keras, model, *, kl_warmup: int, restart_sample=None, restart_seed: int = 0):
    """KL annealing (VaDE) and dead-code restarts (VQ-VAE) as Keras callbacks."""
    callbacks = []
    if hasattr(model, "prior") and kl_warmup > 0:

        class KLWarmup(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                model.kl_weight.assign(min(1.0, (epoch + 1) / (kl_warmup + 1)))

        callbacks.append(KLWarmup())
    if restart_sample is not None and (hasattr(model, "quantizer") or hasattr(model, "prior")):
        callbacks.append(_dead_cluster_restart(keras, model, restart_sample, restart_seed))
    return callbacks


def _dead_cluster_restart(keras, model, sample, seed):
    """Callback moving clusters that (almost) no window uses onto embeddings of the largest cluster.

    VQ-VAE: the unused code jumps to a random embedding; VaDE: the unused mixture component takes the mean of a
    random embedding of the largest cluster and that cluster's variances. Runs at the end of each epoch on a fixed
    sample of training windows, outside the compiled step, with backend-independent variable assignment.
    """

    class DeadClusterRestart(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.rng = np.random.RandomState(seed)
            self.restarts = 0

        def on_epoch_end(self, epoch, logs=None):
            ops = keras.ops
            if hasattr(model, "quantizer"):
                z = ops.convert_to_numpy(model.project(model.encoder(sample, training=False)))
                centres = ops.convert_to_numpy(model.quantizer.codebook)
                labels = ((z[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)
            else:
                z = ops.convert_to_numpy(model.z_mean(model.encoder(sample, training=False)))
                labels = ops.convert_to_numpy(ops.argmax(model.prior(ops.convert_to_tensor(z)), axis=-1))
                centres = ops.convert_to_numpy(model.prior.means)
            k = len(centres)
            counts = np.bincount(labels, minlength=k)
            dead = np.flatnonzero(counts < max(1.0, 0.1 * len(z) / k))
            if not dead.size:
                return
            largest = int(counts.argmax())
            pool = np.flatnonzero(labels == largest)
            picks = z[self.rng.choice(pool, size=dead.size, replace=dead.size > len(pool))]
            centres = centres.copy()
            centres[dead] = picks + 0.01 * z.std(0) * self.rng.standard_normal(picks.shape)
            if hasattr(model, "quantizer"):
                model.quantizer.codebook.assign(centres.astype("float32"))
            else:
                log_vars = ops.convert_to_numpy(model.prior.log_vars).copy()
                log_vars[dead] = log_vars[largest]
                model.prior.means.assign(centres.astype("float32"))
                model.prior.log_vars.assign(log_vars.astype("float32"))
            self.restarts += int(dead.size)

    return DeadClusterRestart()
