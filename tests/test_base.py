"""map_recordings: serial by default and in nested use, joblib threads when n_jobs asks for them."""

import threading

import joblib
import pytest

from deepof_sk.base import map_recordings


def _thread_name(_):
    return threading.current_thread().name


def test_serial_by_default_in_the_calling_thread():
    assert set(map_recordings(_thread_name, [0, 1, 2])) == {threading.current_thread().name}


def test_n_jobs_none_stays_serial_inside_a_parallel_config():
    """Nested use (a pipeline running inside joblib's or dask's workers) must not fan out again: n_jobs=None is
    serial whatever the active configuration says."""
    with joblib.parallel_config(backend="threading", n_jobs=2):
        assert set(map_recordings(_thread_name, list(range(4)))) == {threading.current_thread().name}


def test_explicit_n_jobs_uses_the_caller_and_worker_threads():
    """n_jobs=2: the calling thread and one pool thread share the recordings (the caller works, not waits)."""
    import time

    def slow(i):
        time.sleep(0.01)  # long enough for both threads to take recordings
        return threading.current_thread().name

    names = set(map_recordings(slow, list(range(8)), n_jobs=2))
    others = names - {threading.current_thread().name}
    assert len(names) == 2 and len(others) == 1 and next(iter(others)).startswith("deepof_sk")


def test_explicit_n_jobs_one_stays_serial_inside_a_config():
    with joblib.parallel_config(backend="threading", n_jobs=2):
        assert set(map_recordings(_thread_name, [0, 1], n_jobs=1)) == {threading.current_thread().name}


def test_default_backend_uses_one_persistent_pool_in_order():
    """Without a chosen joblib backend the threads come from a pool kept across calls (a joblib.Parallel call
    builds a new thread pool each time, ~13 ms), and results keep the input order."""
    caller = threading.current_thread().name
    names = [n for _ in range(5) for n in map_recordings(_thread_name, list(range(6)), n_jobs=2)]
    assert all(n.startswith("deepof_sk") or n == caller for n in names)
    assert len(set(names) - {caller}) <= 1  # the same worker thread every call
    assert map_recordings(lambda i: i * i, list(range(50)), n_jobs=2) == [i * i for i in range(50)]


def test_nested_map_in_the_pool_runs_serially_without_deadlock():
    def outer(i):
        inner = map_recordings(_thread_name, [0, 1, 2], n_jobs=2)
        return inner, threading.current_thread().name

    for inner, name in map_recordings(outer, [0, 1, 2, 3], n_jobs=2):
        assert set(inner) == {name}  # the nested map ran in the worker thread itself


def test_chosen_joblib_backend_takes_precedence():
    calls = []

    class Counting(joblib.parallel.ThreadingBackend):
        def configure(self, *args, **kwargs):
            calls.append(1)
            return super().configure(*args, **kwargs)

    joblib.register_parallel_backend("deepof_sk_counting", Counting)
    with joblib.parallel_config(backend="deepof_sk_counting"):
        names = map_recordings(_thread_name, [0, 1, 2], n_jobs=2)
    assert calls and not any(n.startswith("deepof_sk") for n in names)


def test_worker_exceptions_reach_the_caller():
    def boom(i):
        if i == 2:
            raise ValueError("recording 2 is bad")
        return i

    with pytest.raises(ValueError, match="recording 2 is bad"):
        map_recordings(boom, [0, 1, 2, 3], n_jobs=2)


def test_first_error_in_recording_order_and_no_new_work_after_it():
    import time

    started = []

    def fail_early(i):
        started.append(i)
        if i in (1, 2):
            time.sleep(0.02 if i == 1 else 0.0)  # recording 2 fails first in time, recording 1 first in order
            raise ValueError(f"recording {i} is bad")
        time.sleep(0.01)
        return i

    with pytest.raises(ValueError, match="recording 1 is bad"):
        map_recordings(fail_early, list(range(40)), n_jobs=2)
    assert len(started) < 10  # the threads stopped taking recordings after the errors


def test_fit_transform_validates_once_and_equals_fit_then_transform(monkeypatch):
    import numpy as np

    from deepof_sk import base
    from deepof_sk.datasets import make_synthetic_poses
    from deepof_sk.features import DistanceExtractor
    from deepof_sk.preprocessing import SavgolSmoother

    a = make_synthetic_poses(60, random_state=0)
    kp = list(a.keypoint.values)
    b = make_synthetic_poses(60, random_state=1).isel(keypoint=list(range(len(kp)))[::-1])  # other order
    expected = DistanceExtractor().fit(a).transform([a, b])  # transform puts b in the fitted order
    calls = []
    real = base.check_recordings
    monkeypatch.setattr(base, "check_recordings", lambda *args, **kw: calls.append(1) or real(*args, **kw))
    got = DistanceExtractor().fit_transform([a, b])
    assert len(calls) == 1
    assert list(got[1].keypoint.values) == kp
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_array_equal(g.distance.values, e.distance.values)
    # a step with its own fit/transform (tables as well as datasets) keeps them
    calls.clear()
    SavgolSmoother().fit_transform(a)
    assert len(calls) == 2
