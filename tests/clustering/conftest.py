"""Fixtures of the deep clustering tests: one thread for the backend, a compilation cache, small fitted models.

Fitting is the slow part (compiling the training step), so each model/encoder pair is fitted once per session and
shared by the tests that only read it.
"""

from __future__ import annotations

import os

import pytest

# one thread: other processes share the 2 CPUs (must be set before the backend is imported)
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
os.environ.setdefault("KERAS_BACKEND", "jax")

TINY = dict(
    window=9,
    latent_dim=3,
    units=8,
    epochs=1,
    pretrain_epochs=1,
    batch_size=64,
    patience=None,
    kl_warmup=0,
    random_state=0,
)


@pytest.fixture(scope="session")
def keras(tmp_path_factory):
    """Keras with its backend set up for tests (skips when the ``deep`` extra is not installed)."""
    keras = pytest.importorskip("keras", reason='deep clustering needs pip install "deepof-sk[deep]"')
    if keras.backend.backend() == "torch":
        import torch

        torch.set_num_threads(1)
    if keras.backend.backend() == "jax":
        import jax

        # identical models (same shapes) fitted twice in the session compile once
        jax.config.update("jax_compilation_cache_dir", str(tmp_path_factory.mktemp("jax_cache")))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    return keras


@pytest.fixture(scope="session")
def motif_recordings():
    """Two training recordings and one unseen recording with 3 planted motifs, egocentric-free raw positions."""
    from deepof_sk.datasets import make_motif_poses

    made = [make_motif_poses(400, n_motifs=3, segment_length=(40, 80), random_state=i) for i in range(3)]
    return [ds for ds, _ in made], [labels for _, labels in made]


@pytest.fixture(scope="session")
def fitted_vade_tcn(keras, motif_recordings):
    from deepof_sk.clustering import DeepClusterer

    recordings, _ = motif_recordings
    return DeepClusterer(model="vade", encoder="tcn", n_clusters=3, **TINY).fit(recordings[:2])


@pytest.fixture(scope="session")
def real_recordings(shared_data):
    """Three real recordings (DeepOF DLC table, BehaviorDEPOT, VAME) cut to 600 frames, positions only."""
    from deepof_sk.io import read_poses

    files = [
        ("deepof/testDLC_h5_table.h5", 25),
        ("behaviordepot/demo2_tracking.csv", 50),
        ("vame/cropped_video.csv", 30),
    ]
    out = []
    for name, fps in files:
        ds = read_poses(shared_data / name, fps=fps)
        out.append(ds.isel(time=slice(0, 600)))
    return out
