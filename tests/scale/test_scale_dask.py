"""Per-recording parallelism on a dask distributed cluster through joblib's dask backend."""

from __future__ import annotations

import numpy as np
import pytest

from deepof_sk.base import map_recordings
from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.preprocessing import ArenaScaler, make_deepof_preprocessor
from deepof_sk.scale import transform_in_chunks

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")


def _recordings(n=3, frames=1500):
    return [make_synthetic_poses(frames, scenario="explore", n_individuals=2, noise=0.5, n_spikes=10,
                                 px_per_mm=2.0, random_state=i) for i in range(n)]


def _workflow(n_jobs):
    from sklearn.pipeline import make_pipeline

    return make_pipeline(make_deepof_preprocessor(n_jobs=n_jobs), ArenaScaler(px_per_mm=2.0, n_jobs=n_jobs))


def _assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.position.values, y.position.values)
        np.testing.assert_array_equal(x.time.values, y.time.values)


def _cluster(processes):
    return distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=processes,
                                    dashboard_address=":0")


def test_active_dask_backend_beats_prefer_threads():
    """map_recordings asks for threads, but an explicitly configured backend (dask) wins: tasks reach the
    scheduler and run on the workers."""
    with _cluster(False) as cluster, distributed.Client(cluster) as client, joblib.parallel_config(backend="dask"):
        with distributed.get_task_stream(client) as stream:
            out = map_recordings(_worker_address, [0, 1, 2, 3], n_jobs=2)
        workers = set(client.scheduler_info()["workers"])
    assert len(stream.data) >= 4  # every call went through the scheduler
    assert set(out) <= workers and len(set(out)) >= 1


def _worker_address(_):
    return distributed.get_worker().address  # raises ValueError outside a dask worker


def test_map_recordings_without_backend_stays_local():
    with pytest.raises(ValueError):
        map_recordings(_worker_address, [0, 1], n_jobs=2)


def test_pipeline_on_dask_threads_equals_serial():
    recs = _recordings()
    serial = _workflow(None).fit_transform(recs)
    with _cluster(False) as cluster, distributed.Client(cluster) as client, joblib.parallel_config(backend="dask"):
        with distributed.get_task_stream(client) as stream:
            parallel = _workflow(2).fit_transform(recs)
    assert len(stream.data) >= len(recs)  # per-recording work went through the cluster
    _assert_same(serial, parallel)


@pytest.mark.slow  # about 25 s on the shared 2-core box: two worker processes import deepof_sk and sklearn
def test_pipeline_on_dask_processes_equals_serial():
    """Worker processes: recordings and fitted steps are pickled to them and back."""
    recs = _recordings(n=2, frames=800)
    serial = _workflow(None).fit_transform(recs)
    with _cluster(True) as cluster, distributed.Client(cluster) as client, joblib.parallel_config(backend="dask"):
        with distributed.get_task_stream(client) as stream:
            parallel = _workflow(2).fit_transform(recs)
    assert len(stream.data) >= len(recs)
    _assert_same(serial, parallel)


# Deselected by default: in about one run in three on the shared 2-core box this test never returned (the client
# waited for results of tasks no dask worker thread held; py-spy showed no worker running our code). Run it with
# `pytest -m slow tests/scale`; until the cause is found it must not be able to hang the default suite.
@pytest.mark.slow
def test_chunked_recordings_on_dask_equal_serial():
    recs = _recordings(n=2, frames=2000)
    pipe = _workflow(None).fit(recs)
    serial = pipe.transform(recs)
    with _cluster(False) as cluster, distributed.Client(cluster), joblib.parallel_config(backend="dask"):
        chunked = transform_in_chunks(pipe, recs, chunk_size=600, n_jobs=2)
    _assert_same(serial, chunked)
