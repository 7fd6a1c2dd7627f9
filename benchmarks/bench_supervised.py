"""Benchmark: training and prediction time of frame classifiers on long multi-animal tracking.

The acceptance case is one hour of two-animal tracking at 30 fps (108,000 frames x 2 animals = 216,000 rows),
split into 4 recordings of 15 minutes. Recordings are synthetic (DeepOF's 14 keypoints, a smooth random walk with
tracking noise) in which each animal stops dead for 1 to 3 s at random times; the per-frame labels are those stops
(synthetic labels: this measures time and memory, not accuracy). Each configuration runs in a fresh process so that
its peak memory is its own.

Measured, for the shipped freezing configuration (:func:`~deepof_sk.supervised.make_freezing_classifier`, 250
features per row) trained from scratch:

* ``fit``: features, temporal context and HistGradientBoosting on every row (the features and context alone are
  timed too);
* ``predict``: the fitted model on the same hour (features + context + model + bout filters);
* ``pretrained``: the shipped model loaded from the package and applied to the hour;

as wall clock and process CPU time (user + system; on a shared machine the wall clock includes waiting for a core),
and the peak resident memory of the process.

Usage::

    python benchmarks/bench_supervised.py                     # 1 h, 2 animals, 30 fps
    python benchmarks/bench_supervised.py --sweep             # 1e3 .. 1e5 frames x 1 .. 4 animals
    python benchmarks/bench_supervised.py --frames 27000 --animals 4 --recordings 4 --n-jobs 2
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import time

import numpy as np

GIB = 1024**3


def _make_data(n_frames: int, n_animals: int, n_recordings: int, fps: float = 30.0):
    from deepof_sk import schema as S
    from deepof_sk.datasets import make_synthetic_poses

    per = max(n_frames // n_recordings, 100)
    recordings, labels = [], []
    for seed in range(n_recordings):
        ds = make_synthetic_poses(per, scenario="explore", n_individuals=n_animals, fps=fps, noise=1.0,
                                  random_state=seed)
        rng = np.random.default_rng(seed)
        pos = ds[S.POSITION].values.copy()
        y = np.zeros((per, n_animals), dtype=int)
        for i in range(n_animals):
            t = int(rng.integers(0, int(fps)))
            while t < per - 1:
                length = int(rng.integers(int(fps), 3 * int(fps)))
                pos[t:t + length, :, :, i] = pos[t, :, :, i] + rng.normal(0, 1.0, pos[t:t + length, :, :, i].shape)
                y[t:t + length, i] = 1
                t += length + int(rng.integers(int(fps), 6 * int(fps)))
        ds[S.POSITION] = ds[S.POSITION].copy(data=pos)
        recordings.append(ds)
        labels.append(y)
    return recordings, labels


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(func):
    wall, cpu = time.perf_counter(), _cpu()
    out = func()
    return out, time.perf_counter() - wall, _cpu() - cpu


def _run(n_frames: int, n_animals: int, n_recordings: int, n_jobs: int, queue) -> None:
    from deepof_sk.supervised import load_freezing_model, make_freezing_classifier

    X, y = _make_data(n_frames, n_animals, n_recordings)
    clf = make_freezing_classifier().set_params(n_jobs=n_jobs)
    _, fit_wall, fit_cpu = _timed(lambda: clf.fit(X, y))
    _, feat_wall, feat_cpu = _timed(lambda: clf._featurize(X))  # motion features + temporal context only
    pred, pred_wall, pred_cpu = _timed(lambda: clf.predict(X))
    model = load_freezing_model().set_params(n_jobs=n_jobs)
    _, pre_wall, pre_cpu = _timed(lambda: model.predict(X))
    truth = np.concatenate([v.ravel() for v in y])
    guess = np.concatenate([p.ravel() for p in pred])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    queue.put({
        "frames": n_frames, "animals": n_animals, "rows": int(truth.size), "features": int(clf.n_features_in_),
        "fit_s": fit_wall, "fit_cpu_s": fit_cpu, "features_s": feat_wall, "features_cpu_s": feat_cpu, "predict_s": pred_wall, "predict_cpu_s": pred_cpu,
        "pretrained_s": pre_wall, "pretrained_cpu_s": pre_cpu, "peak_gib": peak / GIB,
        "train_accuracy": float(np.mean(truth == guess)),
    })


def run(n_frames: int, n_animals: int, n_recordings: int, n_jobs: int) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_run, args=(n_frames, n_animals, n_recordings, n_jobs, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def _print(r: dict) -> None:
    rate = r["rows"] / max(r["predict_s"], 1e-9)
    print(f"{r['frames']:>9,d} frames x {r['animals']} animals ({r['rows']:,d} rows, {r['features']} features): "
          f"fit {r['fit_s']:7.1f} s (cpu {r['fit_cpu_s']:6.1f}; features+context {r['features_s']:5.1f} s) | predict {r['predict_s']:6.1f} s "
          f"(cpu {r['predict_cpu_s']:5.1f}, {rate:,.0f} rows/s) | pretrained {r['pretrained_s']:6.1f} s | "
          f"peak {r['peak_gib']:.2f} GiB | train acc {r['train_accuracy']:.3f}", flush=True)


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=108_000, help="frames in total (default: 1 h at 30 fps)")
    parser.add_argument("--animals", type=int, default=2)
    parser.add_argument("--recordings", type=int, default=4)
    parser.add_argument("--n-jobs", type=int, default=2, help="joblib workers (recordings in parallel)")
    parser.add_argument("--sweep", action="store_true", help="1e3 .. 1e5 frames x 1 .. 4 animals")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(max(args.n_jobs, 1)))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}")
    if args.sweep:
        configs = [(f, a) for f in (1_000, 10_000, 100_000) for a in (1, 2, 4)]
    else:
        configs = [(args.frames, args.animals)]
    results = []
    for frames, animals in configs:
        r = run(frames, animals, args.recordings, args.n_jobs)
        _print(r)
        results.append(r)
    return results


if __name__ == "__main__":
    main()
