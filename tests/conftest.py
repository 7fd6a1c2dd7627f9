"""Shared fixtures: paths to the real data in ../shared/data and small synthetic recordings."""

from __future__ import annotations

import os

# One OpenMP/BLAS thread per test process: pytest-xdist already uses every core, and oversubscribed gradient
# boosting runs many times slower on a 2-core machine. Set before numpy/scikit-learn start their thread pools.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
# Keras models of identical shapes are fitted many times (common checks, clustering tests): jax's persistent
# compilation cache compiles each once per machine instead of once per fit.
os.environ.setdefault(
    "JAX_COMPILATION_CACHE_DIR", os.path.join(__import__("tempfile").gettempdir(), "deepof_sk_jax_cache")
)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import xarray as xr  # noqa: E402

# numbagg (pulled in by movement) JIT-compiles on the first xarray reduction, ~30 s per process; numpy is fast here.
xr.set_options(use_numbagg=False)

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("KERAS_BACKEND", "jax")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of real tracking files (../shared/data next to the repository)."""
    path = SHARED / "data"
    if not path.is_dir():
        pytest.fail(f"The shared real-data folder {path} is missing; tests need ../shared/data next to the repo.")
    return path


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    """Folder of DeepOF reference outputs (../shared/reference)."""
    path = SHARED / "reference"
    if not path.is_dir():
        pytest.fail(f"The DeepOF reference folder {path} is missing; tests need ../shared/reference.")
    return path
