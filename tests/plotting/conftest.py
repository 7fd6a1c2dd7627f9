"""Headless matplotlib for the plot tests; figures are closed after each test."""

import importlib.util
import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture
def save_png(tmp_path):
    """Save an Axes' figure as PNG in tmp_path and check the file is a non-empty PNG."""

    def save(ax, name):
        path = tmp_path / f"{name}.png"
        ax.figure.savefig(path, dpi=80)
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000, f"{name}.png is empty or not a PNG"
        return path

    return save


@pytest.fixture(scope="session")
def cohort():
    """Labels and conditions of 2 x 6 animals with a planted effect on cluster 2 (tests/stats/cohort.py)."""
    spec = importlib.util.spec_from_file_location("_cohort", Path(__file__).parents[1] / "stats" / "cohort.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_cohort(6, effect=1.2, random_state=1, n_frames=1500)
