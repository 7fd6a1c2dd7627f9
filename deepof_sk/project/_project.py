"""``Project``: DeepOF's few-lines workflow, built from deepof_sk's public estimators."""

from __future__ import annotations

import logging

import pandas as pd
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from .. import schema as S
from ._analysis import AnalysisMixin
from ._inputs import _progress, match_conditions, pair_videos, read_tables, video_fps
from ._steps import (
    EMBEDDING_MODELS,
    ENCODERS,
    VERBS,
    coords_steps,
    create_steps,
    feature_steps,
    fit_steps,
)
from ._tables import PreprocessedTables, TableDict

__all__ = ["Project"]

logger = logging.getLogger("deepof_sk.project")

_PARAMS = ("tables", "videos", "conditions", "arena", "arena_size", "px_per_mm", "fps", "dtype", "exclude_keypoints",
           "bodypart_graph", "smooth_alpha", "remove_outliers", "likelihood_tol", "interpolation_std",
           "iterative_imputation", "roles", "random_state", "n_jobs", "verbose", "name")


class Project(AnalysisMixin):
    """A DeepOF-style project: read tables, clean them, then annotate, embed, explain and test.

    Every verb runs public deepof_sk estimators; its docstring shows the equivalent scikit-learn code and
    :meth:`pipeline` returns that Pipeline (unfitted).

    Parameters
    ----------
    tables : path, list or dict
        A folder of tracking files, a list of files (or of poses datasets), or ``{recording_id: xarray.Dataset or
        path}``. Recording ids are file names without extension and DeepLabCut scorer suffix.
    videos : path, list or dict, optional
        Videos, paired with the tables by recording id (video stem), else by sorted order (DeepOF's rule), or
        ``{recording_id: path}``. Needed for ``arena="video"`` and to read the frame rate when tables have none.
    conditions : dict, pandas.DataFrame or path, optional
        ``{recording_id: condition}`` (column ``condition``), ``{recording_id: {column: value}}``, or a table / CSV
        whose first column is the recording id (:func:`deepof_sk.io.read_conditions`).
    arena : "auto", "video", Arena or None, default "auto"
        ``"auto"``: a circle fitted to the tracks (:class:`~deepof_sk.preprocessing.ArenaDetector`); ``"video"``:
        detected in each video with OpenCV; an :class:`~deepof_sk.preprocessing.Arena` in pixels (or in mm with
        ``px_per_mm``) for every recording; None: no arena (and no scaling unless ``px_per_mm``).
    arena_size : str, default "380 mm"
        Real size of the arena's reference length (DeepOF's ``video_scale``/``arena_dims``): diameter of a circle.
    px_per_mm : float, optional
        Known pixel scale; overrides the scale from the arena (the arena is still attached).
    fps : float, optional
        Frame rate, for tables that store none.
    dtype : {"float32", "float64"}, optional
        Floating type of the positions (see :func:`~deepof_sk.io.read_poses`); ``"float32"`` halves the memory of
        the project's recordings and features. Default: as read.
    exclude_keypoints : sequence of str, default ("Tail_1", "Tail_2", "Tail_tip")
        Body parts left out (DeepOF's ``exclude_bodyparts``; names absent from the data are ignored).
    bodypart_graph : str, Skeleton or None, default "deepof_14"
        Body-part graph (DeepOF's ``bodypart_graph``): only its keypoints are kept, and distances, angles and
        areas follow it. None keeps every keypoint (and then the getters need the graph's names).
    smooth_alpha, remove_outliers, likelihood_tol, interpolation_std, iterative_imputation
        DeepOF's preprocessing parameters (:func:`~deepof_sk.preprocessing.make_deepof_preprocessor`).
    roles : dict, optional
        Keypoint roles for the behaviour rules (``{"nose": "snout", ...}``) when names differ from DeepOF's.
    random_state : int, default 0
        Seeds the full imputation and the video frame sampling.
    n_jobs : int, optional
        Recordings processed in parallel (joblib).
    verbose : bool, default False
        Progress bars (when tqdm is installed).
    name : str, default "deepof_sk_project"

    Attributes
    ----------
    recordings : dict
        ``{recording_id: dataset}`` after :meth:`create`: cleaned, in mm, with the arena in ``attrs["arena"]``.
    conditions : pandas.DataFrame
        After :meth:`create`: one row per recording, ``recording_id`` then the condition columns.
    preprocessor_ : sklearn.pipeline.Pipeline
        The fitted create() pipeline (applied to recordings added by :meth:`extend`).
    skeleton_ : Skeleton or None
        The body-part graph restricted to the kept keypoints.
    annotator_, annotations_ : DeepOFAnnotator, dict
        After :meth:`supervised_annotation`: the fitted annotator and the annotated datasets.
    clusterer_, preprocessed_ : DeepClusterer, PreprocessedTables
        After :meth:`deep_unsupervised_embedding`.

    Examples
    --------
    >>> import deepof_sk
    >>> from deepof_sk.datasets import load_sample
    >>> tables = {name: load_sample(name) for name in ["deepof_single", "deepof_sleap"]}
    >>> proj = deepof_sk.Project(tables, px_per_mm=252 / 380).create()
    >>> coords = proj.get_coords(center="Center", align="Spine_1")
    >>> coords.to_frame("deepof_single").shape
    (100, 22)
    """

    def __init__(self, tables=None, *, videos=None, conditions=None, arena="auto", arena_size="380 mm",
                 px_per_mm=None, fps=None, dtype=None, exclude_keypoints=("Tail_1", "Tail_2", "Tail_tip"),
                 bodypart_graph="deepof_14", smooth_alpha=1, remove_outliers=True, likelihood_tol=0.75,
                 interpolation_std=3, iterative_imputation="partial", roles=None, random_state=0, n_jobs=None,
                 verbose=False, name="deepof_sk_project"):
        self.tables = tables
        self.videos = videos
        self.conditions = conditions
        self.arena = arena
        self.arena_size = arena_size
        self.px_per_mm = px_per_mm
        self.fps = fps
        self.dtype = dtype
        self.exclude_keypoints = exclude_keypoints
        self.bodypart_graph = bodypart_graph
        self.smooth_alpha = smooth_alpha
        self.remove_outliers = remove_outliers
        self.likelihood_tol = likelihood_tol
        self.interpolation_std = interpolation_std
        self.iterative_imputation = iterative_imputation
        self.roles = roles
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.name = name

    def get_params(self) -> dict:
        """The constructor parameters."""
        return {k: getattr(self, k) for k in _PARAMS}

    def __repr__(self) -> str:
        state = f"{len(self.recordings)} recordings" if self.is_created else "not created: call create()"
        return f"Project(name={self.name!r}, {state})"

    @property
    def is_created(self) -> bool:
        """Whether :meth:`create` (or :func:`load_project`) has run."""
        return hasattr(self, "recordings") and hasattr(self, "preprocessor_")

    def _check_created(self, verb: str) -> None:
        if not self.is_created:
            raise RuntimeError(f"Project.{verb}: the project has no processed recordings yet; call create() first "
                               "(or load one with deepof_sk.load_project).")

    # -- create ------------------------------------------------------------------------------------------------
    def _skeleton(self, keypoints):
        from ..features import Skeleton

        graph = self.bodypart_graph
        if graph is None:
            return None
        sk = graph if isinstance(graph, Skeleton) else (
            Skeleton.from_preset(graph) if isinstance(graph, str) else Skeleton.from_adjacency(graph))
        excluded = set(self.exclude_keypoints or ())
        common = [k for k in sk.keypoints if k in set(keypoints) and k not in excluded]
        if not common:
            raise ValueError(
                f"Project: none of the keypoints {sorted(keypoints)} belongs to bodypart_graph={graph!r} "
                f"({list(sk.keypoints)}); pass bodypart_graph=None or a Skeleton of your keypoints, or rename them."
            )
        return sk.subset(common)

    def _skeleton_keypoints(self):
        from ..features import Skeleton

        graph = self.bodypart_graph
        sk = graph if isinstance(graph, Skeleton) else (
            Skeleton.from_preset(graph) if isinstance(graph, str) else Skeleton.from_adjacency(graph))
        return list(sk.keypoints)

    def _validate(self):
        from ..preprocessing import Arena, parse_length

        arena = self.arena
        if not (arena is None or isinstance(arena, (Arena, dict)) or arena in ("auto", "video")):
            raise ValueError(f"Project: `arena` must be 'auto', 'video', an Arena or None; got {arena!r}.")
        if isinstance(arena, str) and arena == "video" and self.videos is None:
            raise ValueError("Project: arena='video' needs `videos=` (a folder, a list or {recording_id: path}).")
        if self.px_per_mm is None and arena is not None:
            parse_length(self.arena_size, where="Project", param="arena_size")

    def _params(self) -> dict:
        return {k: getattr(self, k) for k in _PARAMS}

    def create(self, verbose=None) -> Project:
        """Read the tables and clean them as DeepOF's ``Project.create()`` does; returns ``self``.

        Equivalent code::

            from sklearn.pipeline import make_pipeline
            from deepof_sk.io import read_recordings
            from deepof_sk.preprocessing import ArenaDetector, ArenaScaler, make_deepof_preprocessor

            recordings, conditions = read_recordings("tables/", conditions="conditions.csv")
            recordings = [ds.drop_sel(keypoint=["Tail_1", "Tail_2", "Tail_tip"]) for ds in recordings]
            pipe = make_pipeline(*make_deepof_preprocessor().steps, ArenaDetector(),
                                 ArenaScaler(arena_size="380 mm"))
            recordings = pipe.fit_transform(recordings)       # == proj.pipeline("create")

        Parameters
        ----------
        verbose : bool, optional
            Progress bars; default the project's ``verbose``.

        Returns
        -------
        Project
            ``self``, with :attr:`recordings`, :attr:`conditions` and :attr:`preprocessor_` set.
        """
        verbose = self.verbose if verbose is None else verbose
        self._validate()
        raw = read_tables(self.tables, fps=self.fps, dtype=self.dtype, n_jobs=self.n_jobs, verbose=verbose)
        ids = list(raw)
        self.videos_ = pair_videos(self.videos, ids)
        no_fps = [r for r, ds in raw.items() if not ds.attrs.get(S.FPS)]
        if no_fps:
            if not self.videos_:
                raise ValueError(f"Project: the recordings {no_fps} have no frame rate; pass fps= (or videos=).")
            from ._inputs import _set_fps

            for r in no_fps:
                raw[r] = _set_fps(raw[r], video_fps(self.videos_[r]), r)
        table = match_conditions(self.conditions, ids)
        keypoints = [str(k) for k in next(iter(raw.values()))[S.KEYPOINT].values]
        self.skeleton_ = self._skeleton(keypoints)
        keep = keypoints if self.skeleton_ is None else list(self.skeleton_.keypoints)
        steps = create_steps(self._params(), keep=keep, videos=self.videos_)
        self.preprocessor_, out = fit_steps(steps, list(raw.values()), verbose=verbose, desc="create")
        self.recordings = dict(zip(ids, out, strict=True))
        self.conditions = table
        self.keypoints_ = [str(k) for k in out[0][S.KEYPOINT].values]
        for attr in ("annotator_", "annotations_", "clusterer_", "preprocessed_", "explainer_"):
            self.__dict__.pop(attr, None)
        return self

    # -- getters -----------------------------------------------------------------------------------------------
    def _table(self, steps, variables, recipe, selected_id=None, desc="") -> TableDict:
        ids = list(self.recordings)
        _, out = fit_steps(steps, list(self.recordings.values()), verbose=self.verbose, desc=desc) if steps else \
            (None, list(self.recordings.values()))
        table = TableDict(zip(ids, out, strict=True), conditions=self.conditions, variables=variables,
                          recipe=recipe)
        return table.filter_id(selected_id) if selected_id is not None else table

    def _check_keypoint(self, verb: str, param: str, value) -> None:
        if value in (None, False) or (param == "center" and value == "arena"):
            return
        if value not in self.keypoints_:
            raise ValueError(f"Project.{verb}: {param}={value!r} is not a keypoint of the project; available: "
                             f"{self.keypoints_}.")

    def get_coords(self, center="Center", align="Spine_1", polar=False, speed=0, selected_id=None) -> TableDict:
        """Coordinates (mm) per recording, centred and aligned as DeepOF's ``get_coords``.

        Equivalent code::

            from deepof_sk.preprocessing import EgocentricAligner
            coords = EgocentricAligner(center="Center", align="Spine_1").fit_transform(recordings)
            # speed=1: then KinematicsExtractor(order=1, method="deepof")

        Parameters
        ----------
        center : str, "arena", False or None, default "Center"
            Keypoint moved to the origin, the arena centre, or no centring.
        align : str, False or None, default "Spine_1"
            Keypoint rotated onto +y, or no rotation.
        polar : bool, default False
            Return (rho, phi) instead of (x, y).
        speed : int, default 0
            0 positions; 1, 2, 3: DeepOF's rolling speed, acceleration, jerk of every body part.
        selected_id : str, optional
            Keep one animal.

        Returns
        -------
        TableDict
            ``{recording_id: dataset}``; ``.to_frame(id)`` gives DeepOF's table.
        """
        self._check_created("get_coords")
        self._check_keypoint("get_coords", "center", center)
        self._check_keypoint("get_coords", "align", align)
        if int(speed) not in (0, 1, 2, 3):
            raise ValueError(f"Project.get_coords: speed must be 0, 1, 2 or 3; got {speed!r}.")
        steps, variables = coords_steps(center, align, polar, speed, self.n_jobs)
        recipe = ("get_coords", {"center": center, "align": align, "polar": bool(polar), "speed": int(speed)})
        return self._table(steps, variables, recipe, selected_id, desc="get_coords")

    def _geometry(self, verb, speed, selected_id, filter_on_graph=True) -> TableDict:
        self._check_created(verb)
        if int(speed) not in (0, 1, 2, 3):
            raise ValueError(f"Project.{verb}: speed must be 0, 1, 2 or 3; got {speed!r}.")
        if self.skeleton_ is None:
            raise ValueError(f"Project.{verb}: the project has no body-part graph (bodypart_graph=None); create it "
                             "with a preset or a Skeleton.")
        steps, variables = feature_steps(verb, self.skeleton_, self.n_jobs, filter_on_graph)
        params = {"filter_on_graph": filter_on_graph} if verb == "get_distances" else {}
        if speed:  # DeepOF's rolling speed of the features themselves
            from ..features import KinematicsExtractor

            variables = self._rate_variables(variables)
            from ..features._kinematics import KINEMATIC_NAMES

            steps.append(("kinematics", KinematicsExtractor(order=int(speed), method="deepof", variables=variables,
                                                            n_jobs=self.n_jobs)))
            params["speed"] = int(speed)
        recipe = (verb, params)
        table = self._table(steps, [], recipe, selected_id, desc=verb)
        first = next(iter(table.values()))
        if speed:
            variables = [f"{v}_{KINEMATIC_NAMES[int(speed)]}" for v in variables]
        table.variables = [v for v in variables if v in first]
        return table

    def _rate_variables(self, variables: list[str]) -> list[str]:
        """Feature variables whose rolling speed ``speed > 0`` adds: inter-animal distances only when every recording
        has two or more animals (single-animal recordings have none to differentiate)."""
        recordings = getattr(self, "recordings", None) or {}
        social = bool(recordings) and all(ds.sizes.get("individual", 1) > 1 for ds in recordings.values())
        return [v for v in variables if v != "social_distance" or social]

    def get_distances(self, speed=0, selected_id=None, filter_on_graph=True) -> TableDict:
        """Distances (mm) between body parts, DeepOF's ``get_distances``.

        Equivalent code::

            from deepof_sk.features import DistanceExtractor, Skeleton
            sk = Skeleton.from_preset("deepof_14").subset(recordings[0].keypoint.values)
            DistanceExtractor(pairs="skeleton", inter_animal=True, skeleton=sk).fit_transform(recordings)

        ``filter_on_graph=False`` gives every pair (``pairs="all", inter_animal="all"``). ``speed=1, 2, 3`` gives
        DeepOF's rolling speed, acceleration or jerk of the distances instead (variables ``distance_speed``, ...):
        ``KinematicsExtractor(order=speed, method="deepof", variables=["distance", "social_distance"])`` after the
        extractor; the same ``speed`` works for :meth:`get_angles` and :meth:`get_areas`.
        """
        return self._geometry("get_distances", speed, selected_id, filter_on_graph)

    def get_angles(self, speed=0, selected_id=None) -> TableDict:
        """Angles (radians) at every 3-body-part path of the graph, DeepOF's ``get_angles``.

        Equivalent code: ``AngleExtractor(skeleton=sk).fit_transform(recordings)``.
        """
        return self._geometry("get_angles", speed, selected_id)

    def get_areas(self, speed=0, selected_id=None) -> TableDict:
        """Head, torso, back and full body areas (mm^2), DeepOF's ``get_areas``.

        Equivalent code: ``AreaExtractor(skeleton=sk).fit_transform(recordings)``.
        """
        return self._geometry("get_areas", speed, selected_id)

    def get_exp_conditions(self) -> pd.DataFrame:
        """The conditions table (one row per recording)."""
        self._check_created("get_exp_conditions")
        return self.conditions.copy()

    # -- supervised annotation ---------------------------------------------------------------------------------
    def _annotator(self, behaviors=None, custom_rules=None, supervised_parameters=None, **params):
        from ..annotation import DeepOFAnnotator

        params = {"arena": "auto", "roles": self.roles, "behaviors": behaviors, "custom_rules": custom_rules,
                  "n_jobs": self.n_jobs, **params}
        if supervised_parameters:
            rates = sorted({float(ds.attrs[S.FPS]) for ds in self.recordings.values()}) if self.is_created else []
            if len(rates) != 1:
                raise ValueError("Project.supervised_annotation: supervised_parameters are in frames of one frame "
                                 f"rate; the recordings have {rates}. Pass the annotator's parameters in seconds.")
            return DeepOFAnnotator.from_deepof_parameters(supervised_parameters, fps=rates[0], **params)
        return DeepOFAnnotator(**params)

    def supervised_annotation(self, behaviors=None, custom_rules=None, supervised_parameters=None,
                              **annotator_params) -> TableDict:
        """DeepOF's rule-based behaviours for every recording, as DeepOF's tables.

        Equivalent code::

            from deepof_sk.annotation import DeepOFAnnotator, to_deepof_table
            annotated = DeepOFAnnotator(arena="auto").fit_transform(recordings)
            tables = {ds.attrs["recording_id"]: to_deepof_table(ds) for ds in annotated}

        Parameters
        ----------
        behaviors : list of str, optional
            Subset of DeepOF's behaviours (default all).
        custom_rules : list of annotators, optional
            Extra behaviours (:class:`~deepof_sk.annotation.RuleAnnotator`).
        supervised_parameters : dict, optional
            DeepOF's ``set_supervised_parameters`` dict (widths in frames).
        **annotator_params
            Other :class:`~deepof_sk.annotation.DeepOFAnnotator` parameters (in seconds, mm, mm/s).

        Returns
        -------
        TableDict
            ``{recording_id: DataFrame}`` in DeepOF's layout; the annotated datasets are in
            :attr:`annotations_`.
        """
        self._check_created("supervised_annotation")
        annotator = self._annotator(behaviors, custom_rules, supervised_parameters, **annotator_params)
        ids = list(self.recordings)
        annotator.fit(list(self.recordings.values()))
        annotated = [annotator.transform(ds) for ds in _progress(list(self.recordings.values()), self.verbose,
                                                                  "supervised_annotation")]
        self.annotator_ = annotator
        self.annotations_ = dict(zip(ids, annotated, strict=True))
        return self._annotation_tables()

    def _annotation_tables(self) -> TableDict:
        from ..annotation import to_deepof_table

        return TableDict({k: to_deepof_table(ds) for k, ds in self.annotations_.items()},
                         conditions=self.conditions, recipe=("supervised_annotation", {}))

    def _check_annotated(self, verb):
        self._check_created(verb)
        if not hasattr(self, "annotations_"):
            raise RuntimeError(f"Project.{verb}: no behaviour annotation yet; call supervised_annotation() first.")

    # -- unsupervised embedding --------------------------------------------------------------------------------
    def _clusterer(self, X: PreprocessedTables, embedding_model="VaDE", encoder_type="recurrent", latent_dim=4,
                   n_clusters=10, epochs=None, batch_size=None, random_state=None, **kwargs):
        from ..clustering import DeepClusterer

        model = EMBEDDING_MODELS.get(str(embedding_model).lower())
        encoder = ENCODERS.get(str(encoder_type).lower())
        if model is None or encoder is None:
            raise ValueError(
                f"Project.deep_unsupervised_embedding: embedding_model must be one of ['VaDE', 'VQVAE', "
                f"'Contrastive'] and encoder_type one of ['recurrent', 'TCN', 'transformer']; got "
                f"{embedding_model!r}, {encoder_type!r}."
            )
        params = {"model": model, "encoder": encoder, "window": X.window_size, "variables": list(X.variables),
                  "latent_dim": int(latent_dim), "n_clusters": int(n_clusters), "validation_split": 0.0,
                  "random_state": random_state, "verbose": int(bool(self.verbose)), **kwargs}
        if epochs is not None:
            params["epochs"] = int(epochs)
        if batch_size is not None:
            params["batch_size"] = int(batch_size)
        if X.window_step > 1 and "max_windows_per_epoch" not in kwargs:
            params["max_windows_per_epoch"] = max(1, -(-X.n_train_windows() // X.window_step))
        return DeepClusterer(**params)

    def deep_unsupervised_embedding(self, preprocessed_object: PreprocessedTables, embedding_model="VaDE",
                                    encoder_type="recurrent", latent_dim=4, n_clusters=10, epochs=None,
                                    batch_size=None, random_state=None, **kwargs):
        """Train DeepOF's deep clustering on preprocessed tables; returns the fitted DeepClusterer.

        Equivalent code::

            from deepof_sk.clustering import DeepClusterer
            model = DeepClusterer(model="vade", encoder="gru", window=25, latent_dim=4, n_clusters=10,
                                  variables=["position"], validation_split=0.0).fit(train_recordings)
            clusters = model.predict(recordings)       # (time, individual) per recording

        Parameters
        ----------
        preprocessed_object : PreprocessedTables
            Output of ``TableDict.preprocess`` (its training recordings are used; its test recordings are held
            out).
        embedding_model : {"VaDE", "VQVAE", "Contrastive"}, default "VaDE"
            Deep clustering model (DeepClusterer ``model``).
        encoder_type : {"recurrent", "TCN", "transformer"}, default "recurrent"
            Sequence encoder (DeepClusterer ``encoder``; "recurrent" is the GRU encoder).
        latent_dim : int, default 4
            Embedding size (DeepOF's default).
        n_clusters : int, default 10
            Number of clusters.
        epochs, batch_size : int, optional
            Default: the clusterer's (15 epochs with early stopping, 256 windows).
        random_state : int, optional
            Seeds the weights, batches and mixture fits.
        **kwargs
            Other :class:`~deepof_sk.clustering.DeepClusterer` parameters (``pretrain_epochs``, ``patience``, ...).

        Returns
        -------
        DeepClusterer
            Fitted; also stored as :attr:`clusterer_` (:meth:`get_clusters` applies it to every recording).
        """
        self._check_created("deep_unsupervised_embedding")
        if not isinstance(preprocessed_object, PreprocessedTables):
            raise TypeError("Project.deep_unsupervised_embedding: pass the output of "
                            "proj.get_coords(...).preprocess(...) (a PreprocessedTables).")
        model = self._clusterer(preprocessed_object, embedding_model, encoder_type, latent_dim, n_clusters, epochs,
                                batch_size, random_state, **kwargs)
        model.fit(list(preprocessed_object.train.values()))
        self.clusterer_ = model
        self.preprocessed_ = preprocessed_object
        return model

    def _features_for(self, recipe) -> TableDict:
        verb, kwargs = recipe
        return getattr(self, verb)(**kwargs)

    def _model_outputs(self, model, what: str) -> TableDict:
        self._check_created("get_clusters")
        model = getattr(self, "clusterer_", None) if model is None else model
        if model is None:
            raise RuntimeError("Project.get_clusters: no trained model; call deep_unsupervised_embedding() first.")
        recipe = getattr(self, "preprocessed_", None)
        features = self._features_for(recipe.recipe if recipe is not None else ("get_coords", {}))
        out = getattr(model, what)(list(features.values()))
        return TableDict(zip(features, out, strict=True), conditions=self.conditions, recipe=(what, {}))

    def get_clusters(self, model=None) -> TableDict:
        """Cluster of every frame and animal of every recording (``-1``: nothing tracked): ``model.predict``."""
        return self._model_outputs(model, "predict")

    def embedding_per_video(self, model=None) -> tuple[TableDict, TableDict]:
        """DeepOF's ``embedding_per_video``: (embeddings, soft counts) of every recording."""
        return self._model_outputs(model, "transform"), self._model_outputs(model, "predict_proba")

    # -- pipelines ---------------------------------------------------------------------------------------------
    def pipeline(self, verb: str, **kwargs) -> Pipeline:
        """The scikit-learn Pipeline equivalent to a verb, unfitted: raw tables in, the verb's datasets out.

        Parameters
        ----------
        verb : str
            One of "create", "get_coords", "get_distances", "get_angles", "get_areas", "supervised_annotation",
            "deep_unsupervised_embedding".
        **kwargs
            The verb's parameters (``center=``, ``align=``, ``behaviors=``, ``latent_dim=``, ...).

        Returns
        -------
        sklearn.pipeline.Pipeline
            ``pipe.fit_transform(raw_recordings)`` reproduces the verb (``pipe.fit(...).predict(...)`` for the
            embedding).
        """
        if verb not in VERBS:
            raise ValueError(f"Project.pipeline: unknown verb {verb!r}; choose from {list(VERBS)}.")
        self._validate()
        sk = getattr(self, "skeleton_", None)
        keep = None if sk is None else list(sk.keypoints)
        steps = create_steps(self._params(), keep=keep, videos=getattr(self, "videos_", None))
        if verb == "get_coords" or verb == "deep_unsupervised_embedding":
            coord_kw = {k: kwargs.pop(k) for k in ("center", "align", "polar", "speed") if k in kwargs}
            extra, variables = coords_steps(coord_kw.get("center", "Center"), coord_kw.get("align", "Spine_1"),
                                            coord_kw.get("polar", False), coord_kw.get("speed", 0), self.n_jobs)
            steps += extra
            if verb == "deep_unsupervised_embedding":
                window = kwargs.pop("window_size", 25)
                X = PreprocessedTables(TableDict(), TableDict(), window_size=window, window_step=1,
                                       variables=variables)
                steps.append(("cluster", self._clusterer(X, **kwargs)))
        elif verb in ("get_distances", "get_angles", "get_areas"):
            if sk is None and self.bodypart_graph is not None:  # before create(): the graph minus the exclusions
                sk = self._skeleton(self._skeleton_keypoints())
            extra, feature_vars = feature_steps(verb, sk, self.n_jobs, kwargs.get("filter_on_graph", True))
            steps += extra
            if kwargs.get("speed"):
                from ..features import KinematicsExtractor

                steps.append(("kinematics", KinematicsExtractor(order=int(kwargs["speed"]), method="deepof",
                                                                variables=self._rate_variables(feature_vars),
                                                                n_jobs=self.n_jobs)))
        elif verb == "supervised_annotation":
            steps.append(("annotate", self._annotator(**kwargs)))
        return clone(Pipeline(steps))

    # -- persistence and growth --------------------------------------------------------------------------------
    def save(self, path, overwrite: bool = False):
        """Save the project in one folder (project.json, recordings/*.nc, models as joblib); see
        :func:`deepof_sk.load_project`. Returns the folder."""
        from ._persist import save_project

        self._check_created("save")
        return save_project(self, path, overwrite=overwrite)

    def extend(self, tables, conditions=None, videos=None) -> Project:
        """Add recordings, processed with the already fitted :attr:`preprocessor_`; returns ``self``.

        Existing recordings are left unchanged; new ones are annotated too when the project has annotations.
        Duplicate recording ids or a different skeleton are errors.
        """
        from ._persist import extend_project

        self._check_created("extend")
        return extend_project(self, tables, conditions=conditions, videos=videos)
