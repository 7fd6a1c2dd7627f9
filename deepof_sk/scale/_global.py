"""Whole-recording statistics under chunking: a first pass that streams them, and carries between chunks.

* :class:`OutlierFilter` (``method="deepof"``) masks a point where its residual from a moving average exceeds
  ``mean + n_std * std`` of the residuals of the **whole** recording. A first pass over the chunks accumulates, per
  keypoint, individual and coordinate, the count, mean and sum of squared deviations of the residuals (Chan et al.'s
  pairwise update, numerically as good as the two-pass formula) and the largest coordinate; the chunked transform
  then applies those fixed limits (:class:`FrozenOutlierFilter`).
* The rule annotators' climb-arena body length (80th percentile of the per-frame backbone length over up to 5,000
  evenly spaced frames) and stat-lookaround's median nose-ear distances: a first pass streams the per-frame values
  (one float per frame, animal and quantity) computed on the chunk outputs of the steps before the annotator, and
  takes the percentile and medians at the end; every chunk then gets them through the dataset attributes the
  annotators read (:data:`~deepof_sk.annotation._base.BODY_LENGTH_ATTR`, ``NOSE_EAR_ATTR``).
* ``cum-distance`` of the rule annotators is a running sum from the first frame: the offset reached at the end of
  each chunk is carried into the next.
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from .. import schema as S
from ..preprocessing import OutlierFilter
from ..utils._params import window_in_frames

__all__ = ["FrozenOutlierFilter", "make_accumulator", "CumDistanceCarry"]


def _residual_blocks(est, pos: np.ndarray, ds: xr.Dataset):
    """Yield ``(lo, hi, resid)`` with resid (hi - lo tracks, space, time): the moving-reference residuals of
    ``est`` for tracks ``lo .. hi - 1`` (keypoint x individual in C order), in blocks of about 2 million values."""
    from ..preprocessing._cleaning import _moving_reference

    n = window_in_frames(est.window, est.window_unit, ds, where=type(est).__name__, odd=True)
    T, n_space = pos.shape[:2]
    flat = pos.reshape(T, n_space, -1)
    n_tracks = flat.shape[2]
    step = max(1, (1 << 21) // max(T * n_space, 1))
    for lo in range(0, n_tracks, step):
        block = np.ascontiguousarray(flat[:, :, lo:lo + step].transpose(2, 1, 0)).reshape(-1, T)
        resid = block - _moving_reference(block, n, est.reference, est.edge_mode)
        yield lo, min(lo + step, n_tracks), resid.reshape(-1, n_space, T), block.reshape(-1, n_space, T)


class FrozenOutlierFilter(OutlierFilter):
    """:class:`~deepof_sk.preprocessing.OutlierFilter` (``method="deepof"``) with limits fixed beforehand.

    Made by :func:`transform_in_chunks` from a first pass over a whole recording; applied to its chunks it masks
    exactly what the unchunked filter masks (the residual limits no longer depend on the chunk). Parameters are
    those of :class:`~deepof_sk.preprocessing.OutlierFilter`.

    Attributes
    ----------
    limits_ : ndarray of shape (n_keypoints * n_individuals, n_space)
        Residual limit of each track (keypoints x individuals in C order) and coordinate.
    """

    def _residual_mask(self, pos, ds):
        T = pos.shape[0]
        flagged = np.zeros((pos.shape[2] * pos.shape[3], T), dtype=bool)
        for lo, hi, resid, _ in _residual_blocks(self, pos, ds):
            np.abs(resid, out=resid)
            with np.errstate(invalid="ignore"):
                beyond = resid > self.limits_[lo:hi, :, None]
            flagged[lo:hi] = beyond.any(axis=1) if self.combine == "any" else beyond.all(axis=1)
        return flagged.T.reshape(T, *pos.shape[2:])


class _OutlierAccumulator:
    """Streamed residual statistics of one recording for an :class:`OutlierFilter` (``method="deepof"``)."""

    def __init__(self, est, n_frames: int, fps):
        self.est = est
        self.n_frames = n_frames
        self.count = self.mean = self.m2 = self.absmax = None
        self.n = None

    def update(self, ds: xr.Dataset, ext_lo: int, kept_lo: int, kept_hi: int) -> None:
        """Add frames ``kept_lo .. kept_hi - 1`` (global numbers) of the step's input ``ds`` (starting at
        ``ext_lo``)."""
        pos = np.asarray(ds[S.POSITION].transpose(*S.POSITION_DIMS).values, dtype=float)
        if self.n is None:
            self.n = window_in_frames(self.est.window, self.est.window_unit, ds, where="OutlierFilter", odd=True)
            shape = (pos.shape[2] * pos.shape[3], pos.shape[1])
            self.count, self.mean, self.m2 = np.zeros(shape), np.zeros(shape), np.zeros(shape)
            self.absmax = np.full(shape, np.nan)
        n, T = self.n, self.n_frames
        lo_s, hi_s = (max(kept_lo, n), min(kept_hi, T - n)) if T > 2 * n + 1 else (kept_lo, kept_hi)
        a, b = kept_lo - ext_lo, kept_hi - ext_lo
        sa, sb = lo_s - ext_lo, hi_s - ext_lo
        for lo, hi, resid, cols in _residual_blocks(self.est, pos, ds):
            with np.errstate(invalid="ignore"):
                self.absmax[lo:hi] = np.fmax(self.absmax[lo:hi], np.nanmax(np.abs(cols[:, :, a:b]), axis=2)
                                             if b > a else np.nan)
            if sb <= sa:
                continue
            r = resid[:, :, sa:sb]
            valid = np.isfinite(r)
            cnt = valid.sum(axis=2).astype(float)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(valid, r, 0.0).sum(axis=2) / cnt
                dev = np.where(valid, r - mean[..., None], 0.0)
                m2 = np.einsum("ijk,ijk->ij", dev, dev)
            c0 = self.count[lo:hi]
            total = c0 + cnt
            has = cnt > 0
            with np.errstate(invalid="ignore", divide="ignore"):
                delta = np.where(has, mean - self.mean[lo:hi], 0.0)
                w = np.where(total > 0, cnt / total, 0.0)
                self.m2[lo:hi] += np.where(has, m2 + delta * delta * c0 * w, 0.0)
                self.mean[lo:hi] += delta * w
            self.count[lo:hi] = total

    def finalize(self):
        """The frozen filter for this recording."""
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(self.count > 0, self.mean, np.nan)
            std = np.sqrt(self.m2 / self.count)
        limit = mean + self.est.n_std * std
        limit = np.fmax(limit, 1e-9 * np.fmax(self.absmax, 1.0))
        frozen = FrozenOutlierFilter(**self.est.get_params(deep=False))
        for name in ("keypoints_", "individuals_", "n_recordings_"):
            if hasattr(self.est, name):
                setattr(frozen, name, getattr(self.est, name))
        frozen.limits_ = limit
        return frozen


def _annotator_statistics(est) -> tuple[bool, bool]:
    """(body length needed, nose-ear medians needed) by a rule annotator, judged from its parameters."""
    name = type(est).__name__
    if name == "DeepOFAnnotator":
        chosen = set(est._selected())
        return "climb-arena" in chosen and est.body_length is None, "stat-lookaround" in chosen
    if name == "ClimbingAnnotator":
        return est.body_length is None, False
    if name == "LookaroundAnnotator":
        return False, True
    return False, False


class _AnnotatorStatistics:
    """First pass of a rule annotator: streams the per-frame backbone lengths and nose-ear distances of the kept
    frames of each chunk, computed exactly as the annotator's context computes them, into arrays of the whole
    recording (one float per frame and animal each)."""

    def __init__(self, est, n_frames: int, body: bool, nose_ear: bool):
        self.est = est
        self.n_frames = n_frames
        self.body, self.nose_ear = body, nose_ear
        self.lengths = None
        self.distances = {}
        self.individuals = None
        self.given = set()

    def update(self, ds: xr.Dataset, ext_lo: int, kept_lo: int, kept_hi: int) -> None:
        from ..annotation._base import BODY_LENGTH_ATTR, NOSE_EAR_ATTR, AnnotationContext

        self.given = {a for a in (BODY_LENGTH_ATTR, NOSE_EAR_ATTR) if a in ds.attrs}  # given by the user: kept
        ds = ds.isel({S.TIME: slice(kept_lo - ext_lo, kept_hi - ext_lo)})
        ctx = AnnotationContext(ds, self.est.roles_, where=type(self.est).__name__)
        n_i = len(ctx.individuals)
        if self.individuals is None:
            self.individuals = ctx.individuals
            if self.body:
                self.lengths = np.full((self.n_frames, n_i), np.nan)
            if self.nose_ear:  # (individual, time) rows, read through a (time, individual) view like the context's
                self.distances = {ear: np.full((n_i, self.n_frames), np.nan) for ear in ("left_ear", "right_ear")}
        if self.body and BODY_LENGTH_ATTR not in self.given:
            self.lengths[kept_lo:kept_hi] = ctx.backbone_lengths()
        if self.nose_ear and NOSE_EAR_ATTR not in self.given:
            ctx.distances([("nose", ear) for ear in self.distances])
            for ear, out in self.distances.items():
                out[:, kept_lo:kept_hi] = ctx.distance("nose", ear).T

    def finalize(self):
        """The annotator, wrapped so that every chunk carries the statistics of the whole recording."""
        from ..annotation._base import (
            BODY_LENGTH_ATTR,
            NOSE_EAR_ATTR,
            body_length_from_frames,
            median_over_time,
        )

        attrs = {}
        if self.body and BODY_LENGTH_ATTR not in self.given and self.lengths is not None:
            lengths = body_length_from_frames(self.lengths)
            attrs[BODY_LENGTH_ATTR] = json.dumps({ind: float(v) for ind, v in zip(self.individuals, lengths,
                                                                                  strict=True)})
        if self.nose_ear and NOSE_EAR_ATTR not in self.given and self.distances:
            medians = {ear: median_over_time(d.T) for ear, d in self.distances.items()}
            attrs[NOSE_EAR_ATTR] = json.dumps({ind: {ear: float(m[i]) for ear, m in medians.items()}
                                               for i, ind in enumerate(self.individuals)})
        return WithRecordingStatistics(self.est, attrs) if attrs else self.est


class WithRecordingStatistics:
    """A fitted annotator run with whole-recording statistics attached to each dataset it transforms.

    Made by :func:`~deepof_sk.scale.transform_in_chunks` after its first pass: ``transform`` adds ``attrs`` (JSON
    strings such as ``attrs["deepof_sk_body_length"]``) to the dataset where it lacks them, runs the annotator and
    removes them from the result again, so the output looks like the unchunked one.

    Parameters
    ----------
    estimator : fitted annotator
        The step to run.
    attrs : dict
        Attribute name -> value to attach.
    """

    def __init__(self, estimator, attrs: dict):
        self.estimator = estimator
        self.attrs = dict(attrs)

    def transform(self, ds: xr.Dataset) -> xr.Dataset:
        """Annotate ``ds`` with the statistics attached."""
        added = {k: v for k, v in self.attrs.items() if k not in ds.attrs}
        out = self.estimator.transform(ds.assign_attrs(added) if added else ds)
        if added:
            out.attrs = {k: v for k, v in out.attrs.items() if k not in added}
        return out


def make_accumulator(est, n_frames: int, fps):
    """The first-pass accumulator of a step with a whole-recording statistic, or None when it has none."""
    if type(est) is OutlierFilter and est.method == "deepof":
        return _OutlierAccumulator(est, n_frames, fps)
    body, nose_ear = _annotator_statistics(est)
    if body or nose_ear:
        return _AnnotatorStatistics(est, n_frames, body, nose_ear)
    return None


class CumDistanceCarry:
    """Carries ``cum-distance`` (a running sum of ``distance`` from the first frame) across chunks."""

    def __init__(self):
        self.offset = None

    def __call__(self, ds: xr.Dataset) -> xr.Dataset:
        from ..annotation._base import ANNOTATION

        if ANNOTATION not in ds:
            return ds
        ann = ds[ANNOTATION]
        names = [str(b) for b in ann[S.BEHAVIOR].values]
        if "cum-distance" not in names or "distance" not in names:
            return ds
        order = ann.transpose(S.TIME, S.INDIVIDUAL, S.BEHAVIOR)
        values = np.array(order.values, dtype=float)
        k_cum, k_dist = names.index("cum-distance"), names.index("distance")
        step = np.nan_to_num(values[:, :, k_dist])
        if self.offset is not None:  # the offset as the first term: the additions of one long cumsum, in order
            step = np.concatenate([self.offset[None], step], axis=0)
        running = np.cumsum(step, axis=0)[0 if self.offset is None else 1:]
        if running.shape[0]:
            self.offset = running[-1].copy()
        values[:, :, k_cum] = np.where(np.isnan(values[:, :, k_cum]), np.nan, running)
        out = ds.copy()
        out[ANNOTATION] = order.copy(data=values).transpose(*ann.dims)
        return out
