"""Fixtures of the Project tests: the bundled single-mouse DeepOF samples as one project."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
os.environ.setdefault("KERAS_BACKEND", "jax")

#: The four single-mouse samples (two DLC clips, one SLEAP clip as .slp and .analysis.h5) and made-up groups.
SAMPLES = ("deepof_single", "deepof_single_csv", "deepof_sleap", "deepof_sleap_analysis")
GROUPS = {"deepof_single": "A", "deepof_sleap": "A", "deepof_single_csv": "B", "deepof_sleap_analysis": "B"}
#: DeepOF's test videos: a 380 mm arena spans 252 px.
PX_PER_MM = 252 / 380


def sample_tables(names=SAMPLES):
    from deepof_sk.datasets import load_sample

    return {name: load_sample(name) for name in names}


@pytest.fixture(scope="session")
def project():
    """Created project on the samples (treat as read-only; copy before changing it)."""
    import deepof_sk

    return deepof_sk.Project(sample_tables(), conditions=GROUPS, px_per_mm=PX_PER_MM).create()


@pytest.fixture(scope="session")
def annotated(project):
    """The tables of ``project.supervised_annotation()`` (the project keeps the annotated datasets)."""
    return project.supervised_annotation()
