"""The scikit-learn steps behind every Project verb (so each verb can show, and return, its Pipeline)."""

from __future__ import annotations

from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from ._inputs import select_keypoints

__all__ = ["VERBS", "create_steps", "coords_steps", "feature_steps", "EMBEDDING_MODELS", "ENCODERS"]

#: Verbs whose equivalent Pipeline :meth:`Project.pipeline` returns.
VERBS = ("create", "get_coords", "get_distances", "get_angles", "get_areas", "supervised_annotation",
         "deep_unsupervised_embedding")

#: DeepOF's ``embedding_model`` names -> DeepClusterer ``model``.
EMBEDDING_MODELS = {"vade": "vade", "vqvae": "vqvae", "contrastive": "contrastive"}
#: DeepOF's ``encoder_type`` names -> DeepClusterer ``encoder``.
ENCODERS = {"recurrent": "gru", "gru": "gru", "tcn": "tcn", "transformer": "transformer"}


def create_steps(p: dict, *, keep, videos=None) -> list[tuple[str, object]]:
    """DeepOF's ``create()``: keypoint selection, cleaning (DeepOF's defaults), arena, px -> mm."""
    from ..preprocessing import Arena, ArenaDetector, ArenaScaler, make_deepof_preprocessor

    steps = [("select", FunctionTransformer(select_keypoints, kw_args={
        "keep": None if keep is None else list(keep), "exclude": list(p["exclude_keypoints"] or ())}))]
    clean = make_deepof_preprocessor(
        smooth_alpha=p["smooth_alpha"], remove_outliers=p["remove_outliers"], likelihood_tol=p["likelihood_tol"],
        interpolation_std=p["interpolation_std"], iterative_imputation=p["iterative_imputation"],
        random_state=p["random_state"], n_jobs=p["n_jobs"])
    steps += clean.steps
    arena = p["arena"]
    if isinstance(arena, str) and arena == "auto":
        steps.append(("arena", ArenaDetector(method="tracks", shape="circle", n_jobs=p["n_jobs"])))
    elif isinstance(arena, str) and arena == "video":
        steps.append(("arena", ArenaDetector(method="video", shape="circle", video=videos or None,
                                             random_state=p["random_state"], n_jobs=p["n_jobs"])))
    if arena is not None or p["px_per_mm"] is not None:
        given = arena if isinstance(arena, (Arena, dict)) else "from_attrs"
        steps.append(("scale", ArenaScaler(arena_size=p["arena_size"], px_per_mm=p["px_per_mm"], arena=given,
                                           n_jobs=p["n_jobs"])))
    return steps


def coords_steps(center, align, polar, speed, n_jobs) -> tuple[list, list[str]]:
    """``get_coords``: EgocentricAligner (when centring or aligning), KinematicsExtractor (``speed > 0``)."""
    from ..features import KinematicsExtractor
    from ..features._kinematics import KINEMATIC_NAMES
    from ..preprocessing import EgocentricAligner

    steps = []
    center = None if center is False else center
    align = None if align is False else align
    if center is not None or align is not None or polar:
        steps.append(("align", EgocentricAligner(center=center, align=align, polar=bool(polar), n_jobs=n_jobs)))
    variables = ["position_polar" if polar else "position"]
    if speed:
        steps.append(("kinematics", KinematicsExtractor(order=int(speed), method="deepof", n_jobs=n_jobs)))
        variables = [KINEMATIC_NAMES[int(speed)]]
    return steps, variables


def feature_steps(verb: str, skeleton, n_jobs, filter_on_graph: bool = True) -> tuple[list, list[str]]:
    """``get_distances`` / ``get_angles`` / ``get_areas``: the geometry extractors on the project's skeleton."""
    from ..features import AngleExtractor, AreaExtractor, DistanceExtractor

    if verb == "get_distances":
        est = (DistanceExtractor(pairs="skeleton", inter_animal=True, skeleton=skeleton, n_jobs=n_jobs)
               if filter_on_graph else DistanceExtractor(pairs="all", inter_animal="all", skeleton=None,
                                                         n_jobs=n_jobs))
        return [("distances", est)], ["distance", "social_distance"]
    if verb == "get_angles":
        return [("angles", AngleExtractor(skeleton=skeleton, n_jobs=n_jobs))], ["angle"]
    return [("areas", AreaExtractor(skeleton=skeleton, n_jobs=n_jobs))], ["area"]


def fit_steps(steps, X, *, verbose: bool, desc: str):
    """Fit-transform ``steps`` in order (what ``Pipeline.fit_transform`` does), with an optional progress bar.

    Returns the fitted Pipeline and the output.
    """
    from ._inputs import _progress

    pipe = Pipeline(steps)
    for _, step in _progress(pipe.steps, verbose, desc):
        X = step.fit_transform(X)
    return pipe, X
