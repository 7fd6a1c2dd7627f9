"""Benchmark: DeepOF's full rule-based annotation (``DeepOFAnnotator``) against DeepOF 0.9.0's own figures.

The acceptance case is 2 recordings x 90,000 frames x 2 animals (DeepOF 0.9.0 ``supervised_annotation()`` took 16 s
on the team's machine) and 2 x 360,000 frames (69 s, 9 GiB peak). Recordings are synthetic (DeepOF's 14 keypoints,
a smooth random walk in a 380 mm circular arena, tracking noise), built before timing. Each configuration runs in a
fresh process so that its peak memory is its own. Time: the best of ``--repeats`` runs of ``fit`` + ``transform``
(the first of them, in a process that has not annotated before, is printed as "first s"),
as wall clock and as process CPU time (user + system; on a machine shared with other jobs the wall clock includes
waiting for a core, the CPU time does not). Memory: the process's peak resident size (data included, as in
DeepOF's figure) and the peak of the allocations traced during one annotation. ``--n-jobs 2`` processes the two
recordings in parallel threads (numpy releases the GIL), which on an idle machine divides the wall time.

Figures (2-core box, idle, best of 3; wall s / peak RSS; "before" = commit 198d5ac, "after" = the rule kernels
reworked: sorting-network medians, one contiguous time-last copy of the positions for the multi-keypoint rules,
paired smoothing averaged only where both states overlap, presence / confidence / interpolation checks without
per-row reductions; every output bit for bit unchanged)::

    arena                     config          jobs   before            after
    from attrs (default)      2 x  90,000       1    0.47 s  0.45 G    0.31 s  0.45 G
                              2 x  90,000       2    0.29 s  0.58 G    0.21 s  0.65 G
                              2 x 360,000       1    1.97 s  1.10 G    1.18 s  1.10 G
                              2 x 360,000       2    1.14 s  1.17 G    0.82 s  1.44 G
    --detect-arena            2 x  90,000       1    0.98 s  0.49 G    0.83 s  0.50 G   (0.44 s *)
                              2 x  90,000       2    0.68 s  0.78 G    0.48 s  0.66 G   (0.32 s *)
                              2 x 360,000       1    2.98 s  1.28 G    2.34 s  1.22 G   (1.41 s, 1.11 G *)
                              2 x 360,000       2    1.63 s  1.67 G    1.36 s  1.68 G   (0.94 s, 1.47 G *)

    * with the faster detect_arena_from_tracks proposed for preprocessing/_arena.py (same arena, bit for bit):
      estimating the arena from the tracks is then 60 ms per 90,000-frame recording instead of 250 ms.

DeepOF 0.9.0: 16 s and 69 s (9 GiB), so the targets are <= 0.53 s, <= 2.3 s and <= 1.8 GiB.

Usage::

    python benchmarks/bench_annotation.py                 # the two acceptance configurations
    python benchmarks/bench_annotation.py --n-jobs 1 2    # ... sequential and with 2 threads
    python benchmarks/bench_annotation.py --detect-arena  # ... arena="auto" estimating the arena from the tracks
    python benchmarks/bench_annotation.py --sweep         # 1e3 .. 1e6 frames x 1 .. 4 animals
    python benchmarks/bench_annotation.py --frames 90000 --animals 3 --recordings 2
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

# measure the working tree, not an installed copy of deepof_sk (spawned workers re-import this module)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GIB = 1024**3
#: DeepOF 0.9.0 on 2 recordings x frames x 2 animals: (seconds, peak bytes or None), measured by the team.
DEEPOF = {90_000: (16.0, None), 360_000: (69.0, 9 * GIB)}
TARGET_SPEEDUP = 30.0
TARGET_MEMORY_FRACTION = 1 / 5


def _make_recordings(n_frames: int, n_animals: int, n_recordings: int, detect_arena: bool = False):
    from deepof_sk.datasets import make_synthetic_poses
    from deepof_sk.preprocessing import Arena, attach_arena

    recordings = [make_synthetic_poses(n_frames, scenario="explore", n_individuals=n_animals, noise=1.0,
                                       random_state=seed) for seed in range(n_recordings)]
    if detect_arena:  # no attrs['arena']: arena="auto" estimates it from the tracks (part of the timing)
        return recordings
    return [attach_arena(ds, Arena.circle((0.0, 0.0), 190.0, unit="pixels")) for ds in recordings]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _run(n_frames: int, n_animals: int, n_recordings: int, repeats: int, n_jobs: int, detect_arena: bool,
         queue) -> None:
    from joblib import parallel_backend

    from deepof_sk.annotation import DeepOFAnnotator

    recordings = _make_recordings(n_frames, n_animals, n_recordings, detect_arena)
    walls, cpus = [], []
    with parallel_backend("threading"):
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), _cpu()
            out = DeepOFAnnotator(n_jobs=n_jobs).fit(recordings).transform(recordings)
            walls.append(time.perf_counter() - t0)
            cpus.append(_cpu() - c0)
            del out
        tracemalloc.start()
        out = DeepOFAnnotator(n_jobs=n_jobs).fit(recordings).transform(recordings)
        _, traced = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    n_behaviors = out[0].annotation.sizes["behavior"] + (
        out[0].social_annotation.sizes["social_behavior"] if "social_annotation" in out[0] else 0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux
    queue.put({"wall": min(walls), "cpu": min(cpus), "first": walls[0], "rss": rss, "traced": traced,
               "behaviors": n_behaviors})


def measure(n_frames: int, n_animals: int, n_recordings: int, repeats: int, n_jobs: int = 1,
            detect_arena: bool = False) -> dict:
    """Run one configuration in a fresh process and return its figures."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_run, args=(n_frames, n_animals, n_recordings, repeats, n_jobs, detect_arena, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[90_000, 360_000])
    parser.add_argument("--animals", type=int, nargs="+", default=[2])
    parser.add_argument("--recordings", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, nargs="+", default=[1])
    parser.add_argument("--sweep", action="store_true", help="1e3 .. 1e6 frames x 1 .. 4 animals, one recording")
    parser.add_argument("--detect-arena", action="store_true",
                        help="no attrs['arena']: time arena='auto' estimating the arena from the tracks as well")
    args = parser.parse_args(argv)
    if args.sweep:
        configs = [(f, a, 1, 1) for f in (1_000, 10_000, 100_000, 1_000_000) for a in (1, 2, 3, 4)]
    else:
        configs = [(f, a, args.recordings, j) for f in args.frames for a in args.animals for j in args.n_jobs]
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} CPUs, load average {load:.1f} at start (DeepOF's figures: same machine); arena "
          f"{'estimated from the tracks' if args.detect_arena else 'from attrs'}")
    print(f"{'recordings x frames x animals':>30} {'jobs':>4} {'behav.':>6} {'first s':>7} {'wall s':>7} {'cpu s':>7} "
          f"{'frames/s':>10} {'peak RSS':>9} {'traced':>7} {'DeepOF':>7} {'x wall':>7} {'x cpu':>7} {'mem':>6}")
    best: dict = {}  # per reference configuration: the best wall and CPU time and the peak memory
    for n_frames, n_animals, n_rec, n_jobs in configs:
        r = measure(n_frames, n_animals, n_rec, args.repeats, n_jobs, args.detect_arena)
        ref = DEEPOF.get(n_frames) if (n_animals, n_rec) == (2, 2) else None
        cells = ["-"] * 4
        if ref:
            cells = [f"{ref[0]:.0f}s", f"{ref[0] / r['wall']:.1f}", f"{ref[0] / r['cpu']:.1f}",
                     f"{r['rss'] / ref[1]:.3f}" if ref[1] else "-"]
            b = best.setdefault(n_frames, {"wall": np.inf, "cpu": np.inf, "rss": np.inf})
            b.update(wall=min(b["wall"], r["wall"]), cpu=min(b["cpu"], r["cpu"]), rss=min(b["rss"], r["rss"]))
        print(f"{f'{n_rec} x {n_frames:,} x {n_animals}':>30} {n_jobs:>4} {r['behaviors']:>6} {r['first']:7.3f} "
              f"{r['wall']:7.3f} "
              f"{r['cpu']:7.3f} {n_rec * n_frames / r['wall']:10,.0f} {r['rss'] / GIB:8.2f}G "
              f"{r['traced'] / GIB:6.2f}G {cells[0]:>7} {cells[1]:>7} {cells[2]:>7} {cells[3]:>6}")
    for n_frames, b in best.items():
        sec, mem = DEEPOF[n_frames]
        verdict = [f"{sec / b['wall']:.1f}x by wall clock ({'met' if sec / b['wall'] >= TARGET_SPEEDUP else 'NOT met'})",
                   f"{sec / b['cpu']:.1f}x by CPU time ({'met' if sec / b['cpu'] >= TARGET_SPEEDUP else 'NOT met'})"]
        if mem:
            frac = b["rss"] / mem
            verdict.append(f"memory {frac:.3f} of DeepOF's ({'met' if frac <= TARGET_MEMORY_FRACTION else 'NOT met'})")
        print(f"2 x {n_frames:,} x 2 vs DeepOF {sec:.0f} s (target >= {TARGET_SPEEDUP:.0f}x, memory <= "
              f"{TARGET_MEMORY_FRACTION:.2f}): " + ", ".join(verdict))
    if best:
        print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
