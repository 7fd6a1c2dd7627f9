"""Benchmark of the per-frame feature extractors: time and peak memory against recording length.

All features of DeepOF's feature set are computed on synthetic recordings (``scenario="explore"``, DeepOF's 14
keypoints): speed, acceleration and jerk (``KinematicsExtractor``), skeleton-edge and inter-animal distances
(``DistanceExtractor``), angles of every 3-keypoint path (``AngleExtractor``) and the four body areas
(``AreaExtractor``), then the table for a classifier (``FeatureTabulator``).

Each size runs in a fresh child process so its peak memory is its own. Steps are timed in a first pass; a second
pass under ``tracemalloc`` gives "peak MB", the largest amount of memory a step holds (Python and numpy) above what
already existed when it started (its input and the previous steps' features); "RSS MB" is the process high-water
mark (input, features of both passes and the interpreter included).

Usage::

    python benchmarks/bench_features.py                       # 2 recordings x 2 animals, 90,000 and 360,000 frames
    python benchmarks/bench_features.py --frames 1000 100000 1000000 --animals 1 4 --n-jobs 2
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from contextlib import contextmanager
from pathlib import Path

# run from a checkout without installing: the repository root goes on the path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STEPS = ("kinematics", "distances", "angles", "areas", "tabulate")


def _child(n_frames: int, n_animals: int, n_recordings: int, n_jobs: int | None) -> dict:
    import numpy as np

    from deepof_sk.datasets import make_synthetic_poses
    from deepof_sk.features import (
        AngleExtractor,
        AreaExtractor,
        DistanceExtractor,
        FeatureTabulator,
        KinematicsExtractor,
    )

    scenario = "follow" if n_animals > 1 else "explore"
    recordings = [
        make_synthetic_poses(n_frames, scenario=scenario, n_individuals=n_animals, noise=0.5, random_state=r)
        for r in range(n_recordings)
    ]
    input_mb = sum(ds.nbytes for ds in recordings) / 2**20
    steps = {
        "kinematics": KinematicsExtractor(order=(1, 2, 3), n_jobs=n_jobs),
        "distances": DistanceExtractor(n_jobs=n_jobs),
        "angles": AngleExtractor(n_jobs=n_jobs),
        "areas": AreaExtractor(n_jobs=n_jobs),
    }
    columns = ["speed", "acceleration", "jerk", "distance", "social_distance", "angle", "area"]

    def run_all(measure):
        data = recordings
        for name, step in steps.items():
            with measure(name):
                data = step.fit_transform(data)
        with measure("tabulate"):
            table = FeatureTabulator(variables=[c for c in columns if c in data[0]]).fit_transform(data)
        return data, table

    timings, cpu, peaks = {}, {}, {}

    @contextmanager
    def timer(name):
        t0, c0 = time.perf_counter(), time.process_time()
        yield
        timings[name] = time.perf_counter() - t0
        cpu[name] = time.process_time() - c0

    @contextmanager
    def tracer(name):
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        yield
        peaks[name] = (tracemalloc.get_traced_memory()[1] - base) / 2**20

    data, table = run_all(timer)  # timed without tracemalloc (it slows Python-level code down)
    del data, table
    tracemalloc.start()
    data, table = run_all(tracer)
    tracemalloc.stop()
    finite = float(np.isfinite(table).mean())
    return {
        "frames": n_frames,
        "animals": n_animals,
        "recordings": n_recordings,
        "input_mb": input_mb,
        "features_mb": sum(ds.nbytes for ds in data) / 2**20 - input_mb,
        "table_shape": list(table.shape),
        "finite_fraction": finite,
        "time": timings,
        "cpu": cpu,
        "peak_mb": peaks,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _run(n_frames: int, n_animals: int, n_recordings: int, n_jobs: int | None) -> dict:
    cmd = [sys.executable, __file__, "--child", str(n_frames), str(n_animals), str(n_recordings), str(n_jobs or 0)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child failed for {n_frames} frames:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[90_000, 360_000])
    parser.add_argument("--animals", type=int, nargs="+", default=[2])
    parser.add_argument("--recordings", type=int, default=2)
    parser.add_argument("--n-jobs", type=int, default=None, help="joblib workers across recordings")
    parser.add_argument("--child", nargs=4, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        frames, animals, recordings, n_jobs = args.child
        print(json.dumps(_child(frames, animals, recordings, n_jobs or None)))
        return

    header = (f"{'frames':>9} {'anim':>4} {'rec':>3} | " + " ".join(f"{s:>10}" for s in STEPS)
              + f" | {'total s':>8} {'cpu s':>7} {'Mframe/s':>8} | {'peak MB':>8} {'RSS MB':>8} {'in MB':>7} {'feat MB':>8}")
    print(f"deepof_sk feature benchmark: {args.recordings} recordings, n_jobs={args.n_jobs}; step wall times in s "
          "(cpu s: CPU time of the main process, robust to a busy machine; excludes joblib workers)")
    print(header)
    print("-" * len(header))
    results = []
    for animals in args.animals:
        for frames in args.frames:
            r = _run(frames, animals, args.recordings, args.n_jobs)
            results.append(r)
            total = sum(r["time"].values())
            rate = frames * args.recordings / total / 1e6
            print(f"{frames:>9} {animals:>4} {args.recordings:>3} | "
                  + " ".join(f"{r['time'][s]:>10.3f}" for s in STEPS)
                  + f" | {total:>8.2f} {sum(r['cpu'].values()):>7.2f} {rate:>8.2f} | {max(r['peak_mb'].values()):>8.0f} {r['max_rss_mb']:>8.0f} "
                  f"{r['input_mb']:>7.0f} {r['features_mb']:>8.0f}")
    print("\npeak traced memory per step (MB above the data already held):")
    for r in results:
        print(f"  {r['frames']:>9} frames, {r['animals']} animals: "
              + ", ".join(f"{s} {r['peak_mb'][s]:.0f}" for s in STEPS)
              + f"; table {r['table_shape'][0]} x {r['table_shape'][1]}, finite {r['finite_fraction']:.4f}")
    for animals in args.animals:
        same = [r for r in results if r["animals"] == animals]
        for a, b in zip(same, same[1:], strict=False):
            t_ratio = sum(b["time"].values()) / sum(a["time"].values())
            m_ratio = max(b["peak_mb"].values()) / max(a["peak_mb"].values())
            print(f"ratio {b['frames']}/{a['frames']} frames ({b['frames'] / a['frames']:.1f}x), {animals} animals: "
                  f"time x{t_ratio:.2f}, peak memory x{m_ratio:.2f}")


if __name__ == "__main__":
    main()
