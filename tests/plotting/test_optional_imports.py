"""matplotlib, shap and OpenCV are optional: importing deepof_sk never loads them, and a missing one is named."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest


def test_imports_stay_light():
    code = (
        "import sys, deepof_sk, deepof_sk.stats, deepof_sk.explain, deepof_sk.plotting, deepof_sk.video;"
        "print(sorted(m for m in ('matplotlib', 'shap', 'cv2') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_missing_matplotlib_names_the_extra(monkeypatch):
    from deepof_sk.plotting import plot_training_curves

    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'deepof-sk\[plots\]'):
        plot_training_curves({"loss": [1.0]})


def test_missing_shap_names_the_extra(monkeypatch):
    from sklearn.tree import DecisionTreeClassifier

    from deepof_sk.explain import compute_shap_values

    monkeypatch.setitem(sys.modules, "shap", None)
    model = DecisionTreeClassifier().fit(np.eye(2), [0, 1])
    with pytest.raises(ImportError, match=r'deepof-sk\[explain\]'):
        compute_shap_values(model, np.eye(2))


def test_missing_opencv_names_the_extra(monkeypatch, tmp_path):
    from deepof_sk.datasets import make_synthetic_poses
    from deepof_sk.video import export_annotated_video

    monkeypatch.setitem(sys.modules, "cv2", None)
    with pytest.raises(ImportError, match=r'deepof-sk\[video\]'):
        export_annotated_video(make_synthetic_poses(5), tmp_path / "x.mp4")
