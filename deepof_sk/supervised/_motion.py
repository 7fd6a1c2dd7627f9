"""Scale-free, frame-rate-free motion features of each animal, for classifiers that must transfer across rigs.

Every length is divided by the animal's body length (nose to tail base) and every displacement is taken over a
time span in seconds, so the same numbers come out of a 640x480 video at 30 fps and a 1920x1080 video at 60 fps.
Keypoints enter through roles (``nose``, ``tail_base``), never through names. By default only those two roles are
used, so any skeleton that has them gives identical feature columns and values; ``use_keypoints="all"`` adds the
rest of the skeleton through robust statistics (medians) over whatever keypoints are tracked.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import xarray as xr
from sklearn.utils._param_validation import Interval, StrOptions

from .. import schema as S
from ..annotation._roles import check_roles_param, resolve_roles
from ..base import BasePosesTransformer
from ..utils._warnings import quiet_nan_warnings
from ..validation import check_recordings, get_fps

__all__ = ["BodyMotionExtractor", "MOTION", "motion_feature_names"]

#: Name of the variable the extractor adds, dims (time, individual, feature).
MOTION = "motion"

# per time span: (name, unit)
_SPAN_FEATURES = (
    ("speed_median", "body_length/s"),  # median over keypoints of the keypoint speed
    ("speed_max", "body_length/s"),  # fastest keypoint
    ("centroid_speed", "body_length/s"),  # mean displacement of the keypoints tracked at both ends
    ("posture_change", "body_length/s"),  # median keypoint speed relative to that mean displacement
    ("nose_speed", "body_length/s"),
    ("tail_base_speed", "body_length/s"),
    ("turning_speed", "rad/s"),  # rotation of the tail-base -> nose axis
)
_FRAME_FEATURES = (("elongation", "body_length"),)  # nose-tail base distance / body length
_MIN_BODY_FRAMES = 10


def _span_label(span: float) -> str:
    return f"{float(span):g}s"


def motion_feature_names(spans) -> list[str]:
    """Feature labels of :class:`BodyMotionExtractor` for the given time spans, e.g. ``speed_median@0.2s``."""
    names = [f"{name}@{_span_label(s)}" for s in spans for name, _ in _SPAN_FEATURES]
    return names + [name for name, _ in _FRAME_FEATURES]


def _feature_units(spans) -> list[str]:
    return [unit for _ in spans for _, unit in _SPAN_FEATURES] + [unit for _, unit in _FRAME_FEATURES]


def _centred_pairs(n_t: int, half: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frame indices t+half and t-half clipped to the recording, and the number of frames between them."""
    idx = np.arange(n_t)
    ahead = np.minimum(idx + half, n_t - 1)
    behind = np.maximum(idx - half, 0)
    return ahead, behind, np.maximum(ahead - behind, 1)


class BodyMotionExtractor(BasePosesTransformer):
    """Motion of each animal in body lengths per second, over time spans given in seconds.

    Adds the variable ``motion`` with dims ``(time, individual, feature)`` and ``body_length`` with dims
    ``(individual,)`` (in position units). For every time span ``s`` in ``spans`` the displacement of each
    keypoint (the nose and the tail base, or every keypoint with ``use_keypoints="all"``) between ``t - s/2`` and
    ``t + s/2`` gives:

    * ``speed_median@s`` / ``speed_max@s``: median / maximum over keypoints of the keypoint speed;
    * ``centroid_speed@s``: speed of the mean displacement of the keypoints tracked at both ends (the body);
    * ``posture_change@s``: median speed of the keypoints relative to that body displacement (shape change;
      NaN unless two keypoints are tracked);
    * ``nose_speed@s``, ``tail_base_speed@s``: speeds of the two roles;
    * ``turning_speed@s``: angular speed of the tail-base -> nose axis, rad/s;

    and, per frame, ``elongation`` (nose to tail-base distance over the body length).

    Parameters
    ----------
    spans : tuple of float, default (0.1, 0.2, 0.4)
        Time spans in seconds over which displacements are measured (at least one frame each side).
    roles : dict, optional
        Role -> keypoint name for ``nose`` and ``tail_base`` when the skeleton's names are not recognised
        (DeepOF's names and common spellings such as ``tailbase``, ``tail base``, ``snout`` are).
    use_keypoints : {"roles", "all"}, default "roles"
        Keypoints the statistics over keypoints (median, maximum, body displacement, posture change) use:
        ``"roles"``, only the nose and the tail base, so every skeleton that has them gives the same numbers
        (what the pretrained models use); ``"all"``, every keypoint of the skeleton (more information, but the
        numbers then depend on which keypoints the skeleton has).
    body_length : float, optional
        Body length in position units. Default: per recording and animal, the median nose to tail-base distance.
    min_confidence : float, optional
        Points with a lower confidence are treated as missing (NaN).
    match_keypoints : bool, default True
        True (the pipeline-contract default): ``transform`` requires the keypoints seen in ``fit``. False: a fitted
        extractor runs on any skeleton whose ``nose`` and ``tail_base`` resolve, which is how the pretrained
        classifiers transfer to other skeletons.
    n_jobs : int, optional
        Recordings processed in parallel with joblib.

    Attributes
    ----------
    keypoints_, individuals_, n_recordings_
        As for every poses transformer.
    roles_ : dict
        Role -> keypoint name resolved on the training skeleton.
    feature_names_ : list of str
        Labels of the ``feature`` coordinate.

    Notes
    -----
    Units: speeds in body lengths per second, turning in rad/s, elongation in body lengths, so the features do not
    depend on the pixel scale or the frame rate. A span is rounded to a whole number of frames on each side (at
    least one); at the first and last frames the span is cut to what the recording holds.

    NaN handling: a keypoint missing at either end of a span is left out of the statistics over keypoints for that
    frame; a feature is NaN when no keypoint (or the role) is tracked at both ends. The body length ignores frames
    where the nose or the tail base is missing; fewer than 10 frames with both is a ValueError (pass
    ``body_length``). Nothing is interpolated.

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> ds = make_synthetic_poses(100, scenario="walk", speed=85.0, fps=25, random_state=0)
    >>> out = BodyMotionExtractor(spans=(0.2,)).fit_transform(ds)
    >>> round(float(out.motion.sel(feature="centroid_speed@0.2s").isel(time=50, individual=0)), 3)  # 1 body/s
    1.0
    """

    _parameter_constraints = {
        "spans": [tuple, list],
        "roles": [dict, None],
        "use_keypoints": [StrOptions({"roles", "all"})],
        "body_length": [Interval(Real, 0, None, closed="neither"), None],
        "min_confidence": [Interval(Real, 0, 1, closed="both"), None],
        "match_keypoints": ["boolean"],
        "n_jobs": [Integral, None],
    }
    _requires_fps = True

    def __init__(self, *, spans=(0.1, 0.2, 0.4), roles=None, use_keypoints="roles", body_length=None,
                 min_confidence=None, match_keypoints=True, n_jobs=None):
        self.spans = spans
        self.roles = roles
        self.use_keypoints = use_keypoints
        self.body_length = body_length
        self.min_confidence = min_confidence
        self.match_keypoints = match_keypoints
        self.n_jobs = n_jobs

    @property
    def _check_keypoints_on_transform(self) -> bool:  # the base class reads this in transform()
        return bool(self.match_keypoints)

    def _spans(self) -> tuple[float, ...]:
        where = type(self).__name__
        spans = tuple(self.spans)
        bad = [s for s in spans if not isinstance(s, Real) or not np.isfinite(s) or s <= 0]
        if bad or not spans:
            raise ValueError(f"{where}: `spans` must be positive numbers of seconds, e.g. (0.1, 0.2, 0.4); got "
                             f"{self.spans!r}.")
        if len(set(spans)) != len(spans):
            raise ValueError(f"{where}: `spans` has duplicates: {self.spans!r}.")
        return spans

    def _resolve(self, ds: xr.Dataset) -> dict[str, str]:
        where = type(self).__name__
        check_roles_param(self.roles, where=where)
        return resolve_roles(ds[S.KEYPOINT].values, self.roles, required=("nose", "tail_base"), where=where)

    def fit(self, X, y=None):
        """Resolve the roles and record the schema.

        With ``match_keypoints=False`` the recordings may have different skeletons (each must map the roles).

        Parameters
        ----------
        X : xarray.Dataset or sequence of xarray.Dataset
            Recordings with a frame rate.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        if self.match_keypoints:
            return super().fit(X, y)
        self._validate_params()
        recordings, _ = check_recordings(X, where=type(self).__name__, require_fps=True)
        for ds in recordings[1:]:
            self._resolve(ds)
        self.keypoints_ = np.asarray([str(k) for k in recordings[0][S.KEYPOINT].values], dtype=object)
        self.individuals_ = np.asarray([str(i) for i in recordings[0][S.INDIVIDUAL].values], dtype=object)
        self.n_recordings_ = len(recordings)
        self._fit_recordings(recordings, y)
        return self

    def _fit_recordings(self, recordings, y=None):
        spans = self._spans()
        self.roles_ = self._resolve(recordings[0])
        self.feature_names_ = motion_feature_names(spans)

    def _body_length(self, nose: np.ndarray, tail: np.ndarray, ds: xr.Dataset) -> np.ndarray:
        n_i = nose.shape[-1]
        if self.body_length is not None:
            return np.full(n_i, float(self.body_length))
        dist = np.sqrt(np.sum((nose - tail) ** 2, axis=1))  # (T, I)
        out = np.full(n_i, np.nan)
        short = []
        for i in range(n_i):
            valid = dist[:, i][np.isfinite(dist[:, i])]
            if valid.size < _MIN_BODY_FRAMES:
                short.append(str(ds[S.INDIVIDUAL].values[i]))
                continue
            out[i] = np.median(valid)
        if short:
            raise ValueError(
                f"{type(self).__name__}: recording {ds.attrs.get(S.SOURCE_FILE) or ''} has fewer than "
                f"{_MIN_BODY_FRAMES} frames with both the nose and the tail base tracked for individuals {short}, so "
                "the body length cannot be estimated. Pass body_length= (in position units) or clean the tracking."
            )
        if np.any(out <= 0):
            raise ValueError(f"{type(self).__name__}: the nose and the tail base coincide; check the role mapping.")
        return out

    def _transform_recording(self, ds: xr.Dataset) -> xr.Dataset:
        spans = self._spans()
        where = type(self).__name__
        fps = get_fps(ds, where=where)
        roles = self._resolve(ds)
        pos = ds[S.POSITION].transpose(S.TIME, S.SPACE, S.KEYPOINT, S.INDIVIDUAL).values.astype(float)
        if self.min_confidence is not None:
            conf = ds[S.CONFIDENCE].transpose(S.TIME, S.KEYPOINT, S.INDIVIDUAL).values
            with np.errstate(invalid="ignore"):
                low = conf < float(self.min_confidence)
            pos = np.where(low[:, None], np.nan, pos)
        names = [str(k) for k in ds[S.KEYPOINT].values]
        if self.use_keypoints == "roles":
            pos = pos[:, :, [names.index(roles["nose"]), names.index(roles["tail_base"])]]
            names = [roles["nose"], roles["tail_base"]]
        nose = pos[:, :, names.index(roles["nose"])]  # (T, S, I)
        tail = pos[:, :, names.index(roles["tail_base"])]
        body = self._body_length(nose, tail, ds)  # (I,)
        n_t = pos.shape[0]
        columns = []
        with quiet_nan_warnings():
            axis_vec = nose - tail
            heading = np.arctan2(axis_vec[:, 1], axis_vec[:, 0])  # (T, I)
            for span in spans:
                half = max(1, int(round(span * fps / 2)))
                ahead, behind, n_frames = _centred_pairs(n_t, half)
                dt = (n_frames / fps)[:, None]  # (T, 1)
                disp = pos[ahead] - pos[behind]  # (T, S, K, I)
                kp_speed = np.sqrt(np.sum(disp * disp, axis=1)) / dt[:, :, None] / body  # (T, K, I)
                mean_disp = np.nanmean(disp, axis=2)  # (T, S, I): over keypoints tracked at both ends
                rel = disp - mean_disp[:, :, None]
                rel_speed = np.sqrt(np.sum(rel * rel, axis=1)) / dt[:, :, None] / body
                n_tracked = np.sum(np.isfinite(kp_speed), axis=1)  # (T, I)
                posture = np.where(n_tracked >= 2, np.nanmedian(rel_speed, axis=1), np.nan)
                turn = np.angle(np.exp(1j * (heading[ahead] - heading[behind])))
                columns += [
                    np.nanmedian(kp_speed, axis=1),
                    np.nanmax(kp_speed, axis=1),
                    np.sqrt(np.sum(mean_disp * mean_disp, axis=1)) / dt / body,
                    posture,
                    kp_speed[:, names.index(roles["nose"])],
                    kp_speed[:, names.index(roles["tail_base"])],
                    np.abs(turn) / dt,
                ]
            columns.append(np.sqrt(np.sum(axis_vec * axis_vec, axis=1)) / body)
        values = np.stack(columns, axis=-1)  # (T, I, F)
        labels = motion_feature_names(spans)
        out = ds.copy()
        if MOTION in out.data_vars:
            out = out.drop_vars(MOTION)
        if S.FEATURE in out.coords and [str(v) for v in out[S.FEATURE].values] != labels:
            users = [str(v) for v in out.data_vars if S.FEATURE in out[v].dims]
            if users:
                raise ValueError(f"{where}: the dataset already has a `feature` dim used by {sorted(users)}; drop "
                                 "those variables first.")
            out = out.drop_vars(S.FEATURE)
        out[MOTION] = xr.DataArray(
            values, dims=(S.TIME, S.INDIVIDUAL, S.FEATURE),
            coords={S.TIME: ds[S.TIME].values, S.INDIVIDUAL: ds[S.INDIVIDUAL].values, S.FEATURE: labels},
            attrs={"long_name": "scale-free body motion", "units": "see feature_units",
                   "feature_units": _feature_units(spans), "roles": dict(roles)},
        )
        unit = str(ds.attrs.get(S.SPACE_UNIT) or "pixels")
        out["body_length"] = xr.DataArray(body, dims=(S.INDIVIDUAL,),
                                          attrs={"long_name": "body length (nose to tail base)", "units": unit})
        return out
