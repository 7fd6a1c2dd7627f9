"""map_recordings: serial by default, joblib when asked, and joblib's configured n_jobs for steps left at None."""

import threading

import joblib

from deepof_sk.base import map_recordings


def _thread_name(_):
    return threading.current_thread().name


def test_serial_by_default_in_the_calling_thread():
    assert set(map_recordings(_thread_name, [0, 1, 2])) == {threading.current_thread().name}


def test_parallel_config_n_jobs_reaches_steps_left_at_none():
    with joblib.parallel_config(backend="threading", n_jobs=2):
        names = map_recordings(_thread_name, list(range(8)))
    assert threading.current_thread().name not in set(names)  # ran in joblib's worker threads


def test_explicit_n_jobs_one_stays_serial_inside_a_config():
    with joblib.parallel_config(backend="threading", n_jobs=2):
        assert set(map_recordings(_thread_name, [0, 1], n_jobs=1)) == {threading.current_thread().name}
