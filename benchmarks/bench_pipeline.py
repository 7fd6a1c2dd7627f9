"""Whole preprocessing + feature chain (issue: preprocessing and features), against DeepOF 0.9.0's figures.

Chain, per recording: ConfidenceFilter -> OutlierFilter -> Interpolator -> SavgolSmoother -> ArenaScaler ("clean"),
then EgocentricAligner -> KinematicsExtractor (speed, acceleration, jerk) -> DistanceExtractor (skeleton +
inter-animal) -> AngleExtractor -> AreaExtractor ("chain" = clean + these); optionally DeepOF's full rule annotation
(DeepOFAnnotator) on the cleaned, scaled recordings.

The recordings are written once as netCDF (in the temp dir) and every configuration runs in a fresh subprocess
that reads them, so the peak resident memory (ru_maxrss) is that run's alone: interpreter and libraries, the loaded
recordings ("input") and the chain. The chain owns the recordings it read, so its position-rewriting steps run
with ``copy=False`` (in place in the recordings' own position arrays, no new array per step); ``--copy`` runs
every step with its default ``copy=True`` instead. Each child calls ``gc.freeze()`` after its imports (``--no-gc-freeze``
to not), so a fresh interpreter's one full garbage collection over the objects the imports created does not land on
the timed chain. ``--dtype float32`` reads the recordings as float32 (``read_poses(path, dtype="float32")``; the
chain keeps float32). DeepOF 0.9.0 on the same 2-core machine: about 10 s (create + get_coords) for 2 x 90,000 frames and
40 s for 2 x 360,000, whole-run peak 2.9 and 9 GiB; rule annotation alone 16 s and 69 s.

Timing on this machine: the VM provides memory a process touches for the first time slowly and unevenly (its
balloon device reports freed guest pages back to the host, so fresh pages are host-faulted again;
``benchmarks/bench_memory_floor.py`` measures 0.3-3 s per GiB), and that cost lands at random on whichever step
touches new memory. Each configuration therefore runs ``--repeat`` times, each in a fresh process ("cold": the
first run of the chain in that process, median and best printed), and each process then runs the chain twice more
("again": best of those, the chain's arithmetic with the process's memory already in use; with
``--keep-freed-memory`` glibc is told to keep freed memory, MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_, so
the repeats touch no new pages).

Transparent huge pages: numpy asks for them for every array of 4 MiB or more, and on this VM a huge-page fault on
fresh memory costs far more than the 4 KiB faults it replaces, while memory the process has used before is a little
faster with them. By default the arrays the steps return (feature arrays) are allocated without the request
(``deepof_sk.utils._memory``) and numpy's other arrays keep it; ``--hugepages`` runs the children with
NUMPY_MADVISE_HUGEPAGE=1 (every array asks, feature arrays included: the behaviour before that change) and
``--no-hugepages`` with NUMPY_MADVISE_HUGEPAGE=0 (no array asks).

glibc's heap: the steps' first transform in a process lets glibc keep the block temporaries between steps
(``deepof_sk.utils._memory.settle_allocator``: 11,000 fewer page faults per 90,000-frame recording on a first run);
``--no-settle-malloc`` runs the children with DEEPOF_SK_SETTLE_MALLOC=0 (glibc's thresholds of a fresh process).

Run:  python benchmarks/bench_pipeline.py [--frames 90000 360000] [--n-jobs 1 2] [--dtype float64 float32]
      [--repeat 3] [--copy] [--keep-freed-memory] [--hugepages | --no-hugepages] [--no-settle-malloc]
      [--no-gc-freeze] [--annotate]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEEPOF = {  # seconds and GiB measured with DeepOF 0.9.0 on this machine (issue text)
    90_000: {"features_s": 10.0, "annotate_s": 16.0, "peak_gib": 2.9},
    360_000: {"features_s": 40.0, "annotate_s": 69.0, "peak_gib": 9.0},
}


CACHE = Path(tempfile.gettempdir()) / "deepof_sk_bench_pipeline"


def _recording_files(frames: int) -> list[Path]:
    return [CACHE / f"explore_{frames}_{i}.nc" for i in range(2)]


def _write_recordings(frames: int) -> None:
    """Two synthetic two-mouse recordings as netCDF (made once, reused by later runs)."""
    from deepof_sk.datasets import make_synthetic_poses
    from deepof_sk.io import write_netcdf

    CACHE.mkdir(exist_ok=True)
    for i, path in enumerate(_recording_files(frames)):
        if not path.exists():
            ds = make_synthetic_poses(frames, scenario="explore", n_individuals=2, noise=0.5, dropout_rate=0.01,
                                      n_gaps=50, n_spikes=200, px_per_mm=2.0, random_state=i)
            write_netcdf(ds, path)


def run_one(frames: int, n_jobs: int, annotate: bool, dtype: str = "float64", copy: bool = False) -> dict:
    import os

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from sklearn.pipeline import make_pipeline

    from deepof_sk.features import AngleExtractor, AreaExtractor, DistanceExtractor, KinematicsExtractor
    from deepof_sk.io import read_poses
    from deepof_sk.preprocessing import (
        ArenaScaler,
        ConfidenceFilter,
        EgocentricAligner,
        Interpolator,
        OutlierFilter,
        SavgolSmoother,
    )

    if os.environ.get("DEEPOF_SK_BENCH_GC_FREEZE", "1") == "1":
        # the ~190,000 objects the imports created leave the cyclic collector's reach (as services do after
        # start-up); otherwise the one full collection over them that a fresh interpreter runs sooner or later
        # (about 90 ms here) lands at random on a step of the first run
        import gc

        gc.collect()
        gc.freeze()
    # the recordings are written once by the parent process; reading them here keeps the generator's own memory
    # out of this run's peak, which is then: interpreter + libraries + the loaded recordings + the chain
    def read():
        return [read_poses(path, dtype=dtype) for path in _recording_files(frames)]

    recordings = read()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    # copy=False: the chain owns the recordings it read and works in their position arrays
    clean = [
        ConfidenceFilter(threshold=0.5, copy=copy, n_jobs=n_jobs),
        OutlierFilter(method="speed", max_speed=1500.0, copy=copy, n_jobs=n_jobs),
        Interpolator(max_gap=5, copy=copy, n_jobs=n_jobs),
        SavgolSmoother(window=5, polyorder=2, copy=copy, n_jobs=n_jobs),
        ArenaScaler(px_per_mm=2.0, copy=copy, n_jobs=n_jobs),
    ]
    features = [
        EgocentricAligner(center="Center", align="Spine_1", copy=copy, n_jobs=n_jobs),
        KinematicsExtractor(order=(1, 2, 3), n_jobs=n_jobs),
        DistanceExtractor(pairs="skeleton", inter_animal=True, n_jobs=n_jobs),
        AngleExtractor(n_jobs=n_jobs),
        AreaExtractor(n_jobs=n_jobs),
    ]
    import warnings

    warnings.simplefilter("ignore")
    s0 = resource.getrusage(resource.RUSAGE_SELF).ru_stime
    t0, c0 = time.perf_counter(), time.process_time()
    cleaned = make_pipeline(*clean).fit_transform(recordings)
    t1 = time.perf_counter()
    out = make_pipeline(*features).fit_transform(cleaned)
    t2, c2 = time.perf_counter(), time.process_time()
    sys_s = resource.getrusage(resource.RUSAGE_SELF).ru_stime - s0  # kernel time: page faults
    result = {"frames": frames, "n_jobs": n_jobs, "dtype": dtype, "copy": copy, "clean_s": t1 - t0, "features_s": t2 - t0,
              "features_cpu_s": c2 - c0, "n_variables": len(out[0].data_vars), "sys_s": sys_s}
    if annotate:
        from deepof_sk.annotation import DeepOFAnnotator

        t3 = time.perf_counter()
        DeepOFAnnotator(arena="auto", n_jobs=n_jobs).fit_transform(cleaned)  # rules use arena coordinates
        result["annotate_s"] = time.perf_counter() - t3
    result["input_gib"] = base
    # libraries in the peak that come from the environment, not the chain: xarray imports dask on its first netCDF
    # load when dask is installed, and dask imports numba when numbagg is (movement brings it)
    result["loaded"] = [m for m in ("dask", "numba") if m in sys.modules]
    result["peak_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # of the first (cold) run
    del out, cleaned
    again = []
    for _ in range(2):  # the same chain again in this process: its memory is no longer fresh
        recordings = read() if not copy else recordings  # in place, the first run changed them (not timed)
        t3 = time.perf_counter()
        make_pipeline(*features).fit_transform(make_pipeline(*clean).fit_transform(recordings))
        again.append(time.perf_counter() - t3)
    result["again_s"] = min(again)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[90_000, 360_000])
    parser.add_argument("--n-jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--annotate", action="store_true", help="also time DeepOF's full rule annotation")
    parser.add_argument("--dtype", nargs="+", default=["float64"], choices=["float64", "float32"],
                        help="dtype of the recordings (float32 recordings stay float32 through the chain)")
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per configuration (default 3)")
    parser.add_argument("--keep-freed-memory", action="store_true",
                        help="children run with glibc keeping freed memory (MALLOC_MMAP_THRESHOLD_/TRIM_THRESHOLD_)")
    pages = parser.add_mutually_exclusive_group()
    pages.add_argument("--hugepages", action="store_true",
                       help="children run with NUMPY_MADVISE_HUGEPAGE=1 (every array of 4 MiB or more asks for "
                            "transparent huge pages, the feature arrays included)")
    pages.add_argument("--no-hugepages", action="store_true",
                       help="children run with NUMPY_MADVISE_HUGEPAGE=0 (no array asks for transparent huge pages)")
    parser.add_argument("--no-settle-malloc", action="store_true",
                        help="children run with DEEPOF_SK_SETTLE_MALLOC=0 (glibc hands the steps' temporaries back "
                             "to the kernel between steps, as in a fresh process)")
    parser.add_argument("--no-gc-freeze", action="store_true",
                        help="children do not call gc.freeze() after their imports")
    parser.add_argument("--copy", action="store_true",
                        help="steps copy their input (copy=True, the default of every step) instead of working in "
                             "the position arrays of the recordings the chain read (copy=False)")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--write", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write:
        _write_recordings(args.write)
        return
    if args.child:
        print(json.dumps(run_one(int(args.child[0]), int(args.child[1]), args.child[2] == "1", args.child[3],
                                 args.child[4] == "1")))
        return
    env = dict(os.environ)
    if args.keep_freed_memory:
        env.update(MALLOC_MMAP_THRESHOLD_=str(2**32), MALLOC_TRIM_THRESHOLD_=str(2**33))
    env.pop("NUMPY_MADVISE_HUGEPAGE", None)  # default: the library's choice (feature arrays without the request)
    if args.hugepages or args.no_hugepages:
        env.update(NUMPY_MADVISE_HUGEPAGE="1" if args.hugepages else "0")
    env.pop("DEEPOF_SK_SETTLE_MALLOC", None)
    if args.no_settle_malloc:
        env.update(DEEPOF_SK_SETTLE_MALLOC="0")
    if args.no_gc_freeze:
        env.update(DEEPOF_SK_BENCH_GC_FREEZE="0")
    print("2 recordings x 2 animals x 14 keypoints, synthetic 'explore' with noise, dropouts, gaps and spikes; "
          f"{args.repeat} fresh processes per row" + (", steps copy their input" if args.copy else
                                                      ", steps work in place (copy=False)") + (", glibc keeps freed memory" if args.keep_freed_memory else "")
          + (", no huge pages" if args.no_hugepages else ", huge pages for every array" if args.hugepages
             else ", feature arrays without huge pages")
          + (", glibc's thresholds left alone" if args.no_settle_malloc else ", glibc keeps the steps' temporaries")
          + (", no gc.freeze()" if args.no_gc_freeze else ", gc.freeze() after the imports"))
    print(f"{'frames':>8} {'dtype':>7} {'jobs':>4} | {'chain s cold':>12} {'(best)':>6} {'sys s':>5} {'x DeepOF':>8} |"
          f" {'again s':>7} {'x DeepOF':>8} | {'annot s':>7} {'x DeepOF':>8} | {'peak GiB':>8} {'input':>5} {'DeepOF/peak':>11}")
    for frames in args.frames:  # in a subprocess: a child's ru_maxrss starts from its parent's size at fork
        subprocess.run([sys.executable, __file__, "--write", str(frames)], check=True)
    for frames, dtype, n_jobs in ((f, d, j) for f in args.frames for d in args.dtype for j in args.n_jobs):
        cmd = [sys.executable, __file__, "--child", str(frames), str(n_jobs), "1" if args.annotate else "0", dtype,
               "1" if args.copy else "0"]
        runs = [json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
                           .stdout.splitlines()[-1]) for _ in range(args.repeat)]
        ref = DEEPOF.get(frames, {})
        cold = statistics.median(r["features_s"] for r in runs)
        best = min(r["features_s"] for r in runs)
        again = min(r["again_s"] for r in runs)
        sys_s = statistics.median(r["sys_s"] for r in runs)
        ann = statistics.median(r.get("annotate_s", float("nan")) for r in runs)
        peak = max(r["peak_gib"] for r in runs)
        inp = statistics.median(r["input_gib"] for r in runs)
        f_ref = ref.get("features_s", float("nan"))
        loaded = sorted({m for r in runs for m in r.get("loaded", [])})
        print(f"{frames:>8} {dtype:>7} {n_jobs:>4} | {cold:12.2f} {best:6.2f} {sys_s:5.2f} {f_ref / cold:8.1f} |"
              f" {again:7.2f} {f_ref / again:8.1f} | {ann:7.2f} {ref.get('annotate_s', float('nan')) / ann:8.1f} |"
              f" {peak:8.2f} {inp:5.2f} {ref.get('peak_gib', float('nan')) / peak:11.1f}"
              + (f"  (peak includes {' and '.join(loaded)})" if loaded else ""))


if __name__ == "__main__":
    main()
