"""Fixtures of the io tests: the real files in ../shared/data and small synthetic recordings."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from deepof_sk.datasets import make_synthetic_poses

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of real tracking files (``<repo>/../shared/data``)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"The shared real-data folder {SHARED_DATA} is missing; tests need ../shared/data.")
    return SHARED_DATA


@pytest.fixture
def two_mice():
    """Synthetic 2-animal, 14-keypoint recording of 40 frames (no fps)."""
    return make_synthetic_poses(40, n_individuals=2, fps=None, random_state=0)


def _fingerprint(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), stat.st_size, stat.st_mtime_ns


@pytest.fixture
def fingerprint():
    """Function giving (sha256, size, mtime_ns) of a file, to check that readers leave their input untouched."""
    return _fingerprint
