"""Pretrained frame classifiers shipped inside the package, loaded with one call.

Each model is a fitted :class:`FrameClassifier` saved with joblib in ``deepof_sk/supervised/models/<name>.joblib``
next to a JSON sidecar ``<name>.json`` holding its version, feature schema, training data, reported figures and
the SHA-256 of the model file. ``scripts/train_freezing_model.py`` rebuilds the freezing model from the BehaviorDEPOT
demo data.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline

from ..exceptions import DeepOFSKWarning
from ._classifier import FrameClassifier
from ._motion import BodyMotionExtractor
from ._postprocess import BoutFilter, MedianLabelFilter

__all__ = ["load_freezing_model", "load_pretrained_model", "list_pretrained_models", "make_freezing_classifier",
           "pretrained_model_info", "MODELS_DIR"]

#: Folder of the shipped models.
MODELS_DIR = Path(__file__).resolve().parent / "models"
FREEZING = "freezing"


def make_freezing_classifier(*, random_state: int = 0) -> FrameClassifier:
    """The (unfitted) configuration of the shipped freezing detector.

    Features: the motion of each animal's nose and tail base in body lengths per second over 0.1, 0.2 and
    0.4 s (:class:`BodyMotionExtractor`), their morphological closing over 0.33 to 2 s windows (low exactly when
    the animal stayed still for the whole window) and copies 0.33 to 1 s earlier and later. Model: a regularised
    HistGradientBoosting classifier with balanced class weights, then a 0.33 s majority filter and a 0.5 s
    minimum bout. It applies to any skeleton with a nose and a tail base, at any frame rate and pixel scale.

    Parameters
    ----------
    random_state : int, default 0
        Seed of the gradient boosting.

    Returns
    -------
    FrameClassifier
    """
    return FrameClassifier(
        HistGradientBoostingClassifier(max_iter=150, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=300,
                                       l2_regularization=5.0, early_stopping=False, random_state=random_state),
        features=BodyMotionExtractor(spans=(0.1, 0.2, 0.4), use_keypoints="roles", match_keypoints=False),
        variables="motion",
        windows=(0.33, 0.67, 1.0, 2.0),
        statistics=("closing",),
        lags=(0.33, 0.67, 1.0, -0.33, -0.67, -1.0),
        postprocess=make_pipeline(MedianLabelFilter(window=0.33), BoutFilter(min_bout=0.5)),
    )


def list_pretrained_models() -> list[str]:
    """Names of the shipped models (those with a JSON sidecar)."""
    return sorted(p.stem for p in MODELS_DIR.glob("*.json"))


def pretrained_model_info(name: str = FREEZING) -> dict:
    """The JSON sidecar of a shipped model: version, feature schema, training data and reported figures."""
    path = MODELS_DIR / f"{name}.json"
    if not path.is_file():
        raise ValueError(f"pretrained model {name!r} not found in {MODELS_DIR}; available: "
                         f"{list_pretrained_models()}.")
    return json.loads(path.read_text())


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_pretrained_model(name: str = FREEZING) -> FrameClassifier:
    """Load a shipped model, check its file against the sidecar, and attach the sidecar as ``pretrained_info_``.

    Parameters
    ----------
    name : str, default "freezing"
        Model name (see :func:`list_pretrained_models`).

    Returns
    -------
    FrameClassifier
        Fitted; ``predict(recording)`` gives one label per frame (and animal).

    Raises
    ------
    ValueError
        Unknown model, or the model file does not match the SHA-256 recorded in its sidecar.
    """
    import joblib

    info = pretrained_model_info(name)
    path = MODELS_DIR / info["file"]
    if not path.is_file():
        raise ValueError(f"pretrained model {name!r}: file {path} is missing; rebuild it with "
                         "scripts/train_freezing_model.py.")
    digest = _sha256(path)
    if digest != info["sha256"]:
        raise ValueError(f"pretrained model {name!r}: {path.name} has SHA-256 {digest[:12]}..., the sidecar says "
                         f"{info['sha256'][:12]}...; the file was altered. Rebuild it with the training script.")
    import sklearn

    if info.get("sklearn_version") and info["sklearn_version"] != sklearn.__version__:
        warnings.warn(
            f"pretrained model {name!r} was saved with scikit-learn {info['sklearn_version']} and is loaded with "
            f"{sklearn.__version__}; predictions may differ slightly. Rebuild it with the training script to be sure.",
            DeepOFSKWarning, stacklevel=2,
        )
    model = joblib.load(path)
    if not isinstance(model, FrameClassifier):
        raise ValueError(f"pretrained model {name!r}: {path.name} holds a {type(model).__name__}, not a "
                         "FrameClassifier.")
    model.pretrained_info_ = info
    return model


def load_freezing_model() -> FrameClassifier:
    """The shipped freezing (immobility) detector, fitted on human freezing labels (BehaviorDEPOT demo2).

    Works on any recording with a frame rate and keypoints playing the ``nose`` and ``tail_base`` roles
    (DeepOF's names and spellings such as ``tailbase`` are recognised; otherwise
    ``model.features_.set_params(roles={"nose": ..., "tail_base": ...})``). ``predict`` returns 1 for freezing
    frames, shape ``(n_time,)`` for one animal and ``(n_time, n_individuals)`` for several;
    ``predict_proba`` gives the probabilities as a DataArray.

    Use it in the immobility annotator::

        from sklearn.frozen import FrozenEstimator
        ImmobilityAnnotator(classifier=FrozenEstimator(load_freezing_model()))

    Returns
    -------
    FrameClassifier
        See ``model.pretrained_info_`` for the version, schema and reported figures.
    """
    return load_pretrained_model(FREEZING)
