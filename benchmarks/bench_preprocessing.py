"""Benchmark of the cleaning chain against DeepOF 0.9.0's ``create()`` + ``get_coords()``.

Workload (DeepOF's reference figure): 2 recordings x 90,000 frames x 2 animals x 14 keypoints, synthetic ``explore``
scenario with tracking noise, low-confidence dropouts, NaN gaps and outlier spikes, through

    ConfidenceFilter -> OutlierFilter -> Interpolator -> SavgolSmoother -> PresenceMasker

Each size runs in a fresh subprocess that loads the recordings from ``.npy`` files (as a project loads its tables),
so the peak resident memory it reports (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) covers loading and
processing and nothing else. The pipeline's own peak (RSS high-water mark reset just before it runs) is also shown.

DeepOF 0.9.0 takes about 10 s and peaks at 2.9 GiB for the 2 x 90,000-frame workload; the ratios below are against
those figures (scaled linearly with the number of frames for other sizes, which flatters DeepOF). "time s" is wall
time, "cpu s" the process CPU time (the fairer figure on a shared machine); "x faster" uses wall time.

Usage::

    python benchmarks/bench_preprocessing.py                      # 90,000 frames
    python benchmarks/bench_preprocessing.py --frames 90000 360000
    python benchmarks/bench_preprocessing.py --frames 1000 10000 --n-jobs 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEEPOF_SECONDS_2X90K = 10.0
DEEPOF_PEAK_GIB_2X90K = 2.9


def _make_inputs(folder: Path, n_frames: int, n_recordings: int, n_individuals: int, seed: int) -> None:
    sys.path.insert(0, str(REPO))
    import numpy as np

    from deepof_sk.datasets import make_synthetic_poses

    for r in range(n_recordings):
        ds = make_synthetic_poses(
            n_frames, scenario="explore", n_individuals=n_individuals, noise=1.0, dropout_rate=0.02,
            n_gaps=max(1, n_frames // 500), gap_length=4, n_spikes=max(1, n_frames // 200), random_state=seed + r,
        )
        np.save(folder / f"position_{r}.npy", ds.position.values)
        np.save(folder / f"confidence_{r}.npy", ds.confidence.values)
        (folder / "keypoints.json").write_text(json.dumps([str(k) for k in ds.keypoint.values]))


def _rss_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _worker(folder: Path, n_jobs: int | None) -> dict:
    """Run in a fresh process: load the recordings, run the chain, report time and memory."""
    sys.path.insert(0, str(REPO))
    import gc
    import warnings

    import numpy as np

    from deepof_sk.exceptions import DeepOFSKWarning
    from deepof_sk.preprocessing import (
        ConfidenceFilter,
        Interpolator,
        OutlierFilter,
        PresenceMasker,
        SavgolSmoother,
    )
    from deepof_sk.validation import make_poses_dataset

    warnings.simplefilter("ignore", DeepOFSKWarning)
    keypoints = json.loads((folder / "keypoints.json").read_text())
    recordings = []
    r = 0
    while (folder / f"position_{r}.npy").exists():
        recordings.append(make_poses_dataset(
            np.load(folder / f"position_{r}.npy"), np.load(folder / f"confidence_{r}.npy"), keypoints=keypoints,
            fps=25, source_file=f"synthetic_{r}",
        ))
        r += 1
    steps = [
        ("confidence", ConfidenceFilter(threshold=0.6, n_jobs=n_jobs)),
        ("outliers", OutlierFilter(method="deepof", n_jobs=n_jobs)),
        ("interpolate", Interpolator(method="linear", max_gap=5, n_jobs=n_jobs)),
        ("smooth", SavgolSmoother(window=7, polyorder=2, n_jobs=n_jobs)),
        ("presence", PresenceMasker(threshold=0.5, n_jobs=n_jobs)),
    ]
    gc.collect()
    base_rss = _rss_kib("VmRSS")
    reset = False
    try:  # reset the RSS high-water mark so VmHWM is the pipeline's own peak
        Path("/proc/self/clear_refs").write_text("5")
        reset = True
    except OSError:
        pass
    per_step = {}
    cpu_start = time.process_time()
    start = time.perf_counter()
    data, recordings = recordings, None  # only the latest step's output stays alive, as in a Pipeline
    for name, est in steps:
        t0 = time.perf_counter()
        data = est.fit_transform(data)
        per_step[name] = time.perf_counter() - t0
    total = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    peak_pipeline = _rss_kib("VmHWM") if reset else None
    return {
        "seconds": total,
        "cpu_seconds": cpu,
        "per_step": per_step,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "base_rss_mib": (base_rss or 0) / 1024,
        "pipeline_peak_rss_mib": peak_pipeline / 1024 if peak_pipeline else None,
        "nan_fraction": float(np.mean([np.isnan(d.position.values).mean() for d in data])),
    }


def run_size(n_frames: int, n_recordings: int, n_individuals: int, n_jobs: int | None, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        _make_inputs(folder, n_frames, n_recordings, n_individuals, seed)
        gen = time.perf_counter() - t0
        cmd = [sys.executable, __file__, "--worker", str(folder)] + (["--n-jobs", str(n_jobs)] if n_jobs else [])
        env = dict(os.environ, PYTHONWARNINGS="ignore")
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"benchmark worker failed:\n{done.stderr}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["generate_seconds"] = gen
        return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[90_000], help="frames per recording")
    parser.add_argument("--recordings", type=int, default=2)
    parser.add_argument("--individuals", type=int, default=2)
    parser.add_argument("--n-jobs", type=int, default=None, help="recordings in parallel (joblib)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(_worker(args.worker, args.n_jobs)))
        return
    print(f"deepof_sk cleaning chain: {args.recordings} recordings x {args.individuals} animals x 14 keypoints, "
          f"n_jobs={args.n_jobs}; DeepOF 0.9.0 reference: {DEEPOF_SECONDS_2X90K:.0f} s, "
          f"{DEEPOF_PEAK_GIB_2X90K} GiB for 2 x 90,000 frames")
    header = (f"{'frames':>9} {'wall s':>7} {'cpu s':>7} {'x faster':>9} {'(cpu)':>6} {'peak MiB':>9} "
              f"{'+pipeline':>10} {'x less mem':>11}  per step, wall s")
    print(header)
    for n in args.frames:
        res = run_size(n, args.recordings, args.individuals, args.n_jobs, args.seed)
        scale = (n * args.recordings * args.individuals) / (90_000 * 2 * 2)
        deepof_s = DEEPOF_SECONDS_2X90K * scale
        deepof_mib = DEEPOF_PEAK_GIB_2X90K * 1024 * scale
        steps = " ".join(f"{k}={v:.2f}" for k, v in res["per_step"].items())
        pipe = res["pipeline_peak_rss_mib"]
        extra = f"{pipe - res['base_rss_mib']:.0f}" if pipe else "n/a"
        print(f"{n:>9,} {res['seconds']:>7.2f} {res['cpu_seconds']:>7.2f} {deepof_s / res['seconds']:>9.1f} "
              f"{deepof_s / res['cpu_seconds']:>6.1f} {res['peak_rss_mib']:>9.0f} {extra:>10} "
              f"{deepof_mib / res['peak_rss_mib']:>11.1f}  {steps}")
    print("x faster: DeepOF's time / ours (wall, and CPU time in brackets); peak MiB: whole process (imports, "
          "loading, pipeline); +pipeline: growth of resident memory while the chain runs.")

if __name__ == "__main__":
    main()
