"""map_recordings: serial by default and in nested use, joblib threads when n_jobs asks for them."""

import threading

import joblib

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


def test_explicit_n_jobs_uses_worker_threads():
    names = map_recordings(_thread_name, list(range(8)), n_jobs=2)
    assert threading.current_thread().name not in set(names)


def test_explicit_n_jobs_one_stays_serial_inside_a_config():
    with joblib.parallel_config(backend="threading", n_jobs=2):
        assert set(map_recordings(_thread_name, [0, 1], n_jobs=1)) == {threading.current_thread().name}
