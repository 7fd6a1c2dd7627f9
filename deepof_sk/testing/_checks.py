"""deepof_sk's own estimator checks: the pipeline contract, as tests every public estimator passes.

scikit-learn's ``check_estimator`` feeds numpy arrays; most deepof_sk estimators take poses datasets, so these
checks feed synthetic recordings instead and verify what the contract promises:

* ``__init__`` stores its keyword arguments only; ``get_params``/``set_params``/``clone`` round trip;
* fit returns self; an unfitted estimator raises ``NotFittedError``;
* the input is never mutated;
* one dataset in gives one dataset out, a list gives a list; ``time`` is kept;
* a wrong container is a ``TypeError`` naming the estimator; a recording lacking a fitted keypoint is a
  ``ValueError`` naming the keypoint;
* a pickle (joblib) round trip gives identical output;
* the estimator works inside ``make_pipeline``.
"""

from __future__ import annotations

import copy
import inspect
import io as _io
import pickle
from collections.abc import Callable

import joblib
import numpy as np
import xarray as xr
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline

from .. import schema as S

__all__ = ["check_poses_estimator", "make_check_recordings", "make_check_targets", "POSES_CHECKS"]


def make_check_recordings(n_recordings: int = 2, n_frames: int = 120, random_state: int = 0) -> list[xr.Dataset]:
    """Small synthetic recordings (2 mice, DeepOF's 14 keypoints, 25 fps, noise, a few gaps) for the checks."""
    from ..datasets import make_synthetic_poses

    return [
        make_synthetic_poses(
            n_frames, scenario="explore", n_individuals=2, noise=0.5, n_gaps=2, gap_length=3,
            random_state=random_state + i,
        )
        for i in range(n_recordings)
    ]


def make_check_targets(recordings: list[xr.Dataset]) -> list[np.ndarray]:
    """Per-frame binary labels (animal 1's centre moving fast) aligned with the check recordings."""
    out = []
    for ds in recordings:
        c = ds[S.POSITION].sel({S.KEYPOINT: "Center"}).isel({S.INDIVIDUAL: 0}).values
        speed = np.r_[0.0, np.hypot(*np.diff(c, axis=0).T)]
        out.append((speed > np.nanmedian(speed)).astype(int))
    return out


def _needs_y(est) -> bool:
    final = est.steps[-1][1] if hasattr(est, "steps") else est
    return bool(final.__sklearn_tags__().target_tags.required)


def _fit(est, X):
    if _needs_y(est):
        return est.fit(X, make_check_targets(X))
    return est.fit(X)


def _output(est, X):
    for method in ("transform", "predict"):
        if hasattr(est, method):
            return getattr(est, method)(X)
    raise AssertionError(f"{type(est).__name__} has neither transform nor predict")


def _assert_same_output(a, b, where: str):
    if isinstance(a, xr.Dataset):
        xr.testing.assert_allclose(a.drop_attrs(), b.drop_attrs())
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for x, y in zip(a, b, strict=True):
            _assert_same_output(x, y, where)
    elif isinstance(a, xr.DataArray):
        xr.testing.assert_allclose(a, b)
    else:
        np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), equal_nan=True,
                                   err_msg=where)


def check_init_params(est, X):
    """__init__ stores keyword arguments only; get_params/set_params/clone round trip."""
    cls = type(est)
    sig = inspect.signature(cls.__init__)
    for name, p in sig.parameters.items():
        if name == "self":
            continue
        assert p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD), f"{cls.__name__}: *args/**kwargs in __init__"
        if p.default is not inspect.Parameter.empty:
            assert not isinstance(p.default, (list, dict, set, np.ndarray)), (
                f"{cls.__name__}.{name}: mutable default {p.default!r}"
            )
    params = est.get_params(deep=False)
    fresh = cls(**params)
    assert fresh.get_params(deep=False).keys() == params.keys()
    for k, v in params.items():
        assert fresh.get_params(deep=False)[k] is v, f"{cls.__name__}.__init__ altered parameter {k!r}"
    cloned = clone(est)
    assert cloned.get_params(deep=False).keys() == params.keys()
    assert cloned.set_params(**params) is cloned
    fitted_attrs = [a for a in vars(fresh) if a.endswith("_") and not a.startswith("_")]
    assert not fitted_attrs, f"{cls.__name__}.__init__ sets fitted attributes {fitted_attrs}"


def check_not_fitted(est, X):
    """Using an unfitted estimator raises NotFittedError."""
    try:
        _output(clone(est), X)
    except NotFittedError:
        return
    raise AssertionError(f"{type(est).__name__}: transform/predict before fit did not raise NotFittedError")


def check_fit_returns_self(est, X):
    """fit returns the estimator itself."""
    e = clone(est)
    assert _fit(e, X) is e


def check_no_input_mutation(est, X):
    """fit and transform/predict leave their input untouched (values, coords and attrs); with a ``copy``
    parameter, with ``copy=True``."""
    before = [ds.copy(deep=True) for ds in X]
    e = clone(est)
    if "copy" in e.get_params(deep=False):
        e.set_params(copy=True)
    e = _fit(e, X)
    _output(e, X)
    for a, b in zip(X, before, strict=True):
        xr.testing.assert_identical(a, b)


def check_copy_parameter(est, X):
    """A ``copy`` parameter (scikit-learn's convention): ``copy=False`` gives what ``copy=True`` gives."""
    if "copy" not in est.get_params(deep=False):
        return

    def run(flag):
        data = [ds.copy(deep=True) for ds in X]  # each run on its own arrays: copy=False may write into them
        e = _fit(clone(est).set_params(copy=flag), [ds.copy(deep=True) for ds in X])
        return _output(e, data)

    _assert_same_output(run(True), run(False), "copy=False")


def check_same_kind_and_time(est, X):
    """A dataset in gives a dataset out (a list gives a list) and time is kept."""
    e = _fit(clone(est), X)
    out_list = _output(e, X)
    out_one = _output(e, X[0])
    if isinstance(out_list, list):
        assert len(out_list) == len(X), f"{type(est).__name__}: {len(out_list)} outputs for {len(X)} recordings"
        assert not isinstance(out_one, list), f"{type(est).__name__}: one dataset in, a list out"
        for ds, out in zip(X, out_list, strict=True):
            if isinstance(out, (xr.Dataset, xr.DataArray)) and S.TIME in out.dims:
                np.testing.assert_array_equal(out[S.TIME].values, ds[S.TIME].values)
            else:
                assert np.asarray(out).shape[0] == ds.sizes[S.TIME]
    else:  # a table: rows are frames (x animals) or recordings
        n = np.asarray(out_list).shape[0]
        frames = sum(ds.sizes[S.TIME] for ds in X)
        assert n in (len(X), frames, frames * X[0].sizes[S.INDIVIDUAL], len(X) * X[0].sizes[S.INDIVIDUAL]), (
            f"{type(est).__name__}: {n} output rows for {len(X)} recordings of {frames} frames"
        )


def check_wrong_container(est, X):
    """A numpy array or a string is a TypeError naming the estimator."""
    name = type(est).__name__
    for bad in (np.zeros((10, 3)), "recording.h5"):
        try:
            _fit(clone(est), bad) if not _needs_y(est) else clone(est).fit(bad, [np.zeros(10)])
        except TypeError as exc:
            assert name in str(exc), f"{name}: TypeError does not name the estimator: {exc}"
            continue
        except ValueError as exc:  # estimators that also take 2-D arrays
            if isinstance(bad, np.ndarray) and est.__sklearn_tags__().input_tags.two_d_array:
                continue
            raise AssertionError(f"{name}: {type(bad).__name__} input raised ValueError, expected TypeError") from exc
        if isinstance(bad, np.ndarray) and est.__sklearn_tags__().input_tags.two_d_array:
            continue
        raise AssertionError(f"{name}: fitting on a {type(bad).__name__} did not raise")


def check_missing_keypoint(est, X):
    """A recording that lacks a keypoint seen in fit is a ValueError naming that keypoint."""
    e = _fit(clone(est), X)
    dropped = "Tail_tip"
    reduced = X[0].sel({S.KEYPOINT: [k for k in X[0][S.KEYPOINT].values if k != dropped]})
    try:
        _output(e, reduced)
    except ValueError as exc:
        assert dropped in str(exc), f"{type(est).__name__}: error does not name the missing keypoint: {exc}"
        return
    raise AssertionError(f"{type(est).__name__}: a recording without {dropped!r} was accepted after fit")


def check_pickle_roundtrip(est, X):
    """pickle and joblib round trips give identical output."""
    e = _fit(clone(est), X)
    expected = _output(e, X)
    restored = pickle.loads(pickle.dumps(e))
    _assert_same_output(expected, _output(restored, X), "pickle round trip")
    buf = _io.BytesIO()
    joblib.dump(e, buf)
    buf.seek(0)
    _assert_same_output(expected, _output(joblib.load(buf), X), "joblib round trip")


def check_in_pipeline(est, X):
    """The estimator works as a Pipeline step, with the same result as alone."""
    direct = _output(_fit(clone(est), X), X)
    pipe = make_pipeline(clone(est))
    via_pipe = _output(_fit(pipe, X), X)
    _assert_same_output(direct, via_pipe, "pipeline")


def check_deterministic(est, X):
    """Two fits with the same parameters (and random_state) give the same output."""
    e = clone(est)
    if "random_state" in e.get_params():
        e.set_params(random_state=0)
    a = _output(_fit(clone(e), X), X)
    b = _output(_fit(clone(e), X), X)
    _assert_same_output(a, b, "determinism")


POSES_CHECKS: tuple[Callable, ...] = (
    check_init_params,
    check_not_fitted,
    check_fit_returns_self,
    check_no_input_mutation,
    check_copy_parameter,
    check_same_kind_and_time,
    check_wrong_container,
    check_missing_keypoint,
    check_pickle_roundtrip,
    check_in_pipeline,
    check_deterministic,
)


def check_poses_estimator(est: BaseEstimator, X: list[xr.Dataset] | None = None, *, skip: tuple[str, ...] = ()):
    """Run every check in :data:`POSES_CHECKS` on ``est`` (raises AssertionError at the first failure).

    Parameters
    ----------
    est : estimator
        An unfitted estimator taking poses datasets.
    X : list of xarray.Dataset, optional
        Recordings to use; default :func:`make_check_recordings`.
    skip : tuple of str
        Names of checks not to run (documented expected failures).
    """
    X = make_check_recordings() if X is None else X
    for check in POSES_CHECKS:
        if check.__name__ in skip:
            continue
        check(copy.deepcopy(est), X)
