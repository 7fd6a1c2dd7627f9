"""Bundled sample data (DeepOF's test tables, MIT) and a synthetic generator with known answers."""

from ._motifs import MOTIFS, make_motif_poses
from ._samples import list_samples, load_sample, sample_path
from ._synthetic import DEEPOF_14_BODY, SCENARIOS, SyntheticTruth, make_synthetic_poses

__all__ = [
    "DEEPOF_14_BODY",
    "MOTIFS",
    "SCENARIOS",
    "SyntheticTruth",
    "list_samples",
    "load_sample",
    "make_motif_poses",
    "make_synthetic_poses",
    "sample_path",
]
