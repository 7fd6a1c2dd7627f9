"""Lower bound on the feature chain's time on this machine: the cost of bringing fresh memory into a process.

On this VM a page that a process touches for the first time is slow to provide (host-level faults), so writing N
bytes of new arrays costs time in proportion to N before any arithmetic. The whole feature chain has to hold its
output (position, speed, acceleration, jerk, distances, angles, areas of every frame) in new arrays; this script
measures

* the first-touch cost per GiB in a fresh process (numpy ``np.ones`` of 0.5 GiB, three times, each in its own
  process), and a second touch of memory the process already owns;
* the size of the chain's output per frame (from a short run), scaled to 2 x 90,000 and 2 x 360,000 frames;

and prints the time that touching the output alone takes, against the 30x target (DeepOF 0.9.0: 10 s and 40 s).

Run:  python benchmarks/bench_memory_floor.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

DEEPOF_S = {90_000: 10.0, 360_000: 40.0}


def touch(gib: float) -> dict:
    import numpy as np

    n = int(gib * 2**30 / 8)
    t0 = time.perf_counter()
    a = np.ones(n)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    a.fill(2.0)
    second = time.perf_counter() - t0
    return {"first_s_per_gib": first / gib, "second_s_per_gib": second / gib, "check": float(a[-1])}


def output_bytes_per_frame(dtype: str) -> float:
    import warnings

    from sklearn.pipeline import make_pipeline

    from deepof_sk.datasets import make_synthetic_poses
    from deepof_sk.features import AngleExtractor, AreaExtractor, DistanceExtractor, KinematicsExtractor
    from deepof_sk.preprocessing import EgocentricAligner

    warnings.simplefilter("ignore")
    frames = 2000
    ds = make_synthetic_poses(frames, scenario="explore", n_individuals=2, px_per_mm=2.0, random_state=0)
    ds = ds.astype(dtype)
    out = make_pipeline(EgocentricAligner(), KinematicsExtractor(order=(1, 2, 3)),
                        DistanceExtractor(pairs="skeleton", inter_animal=True), AngleExtractor(),
                        AreaExtractor()).fit_transform(ds)
    return sum(v.nbytes for v in out.data_vars.values()) / frames


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--touch":
        print(json.dumps(touch(float(sys.argv[2]))))
        return
    runs = [json.loads(subprocess.run([sys.executable, __file__, "--touch", "0.5"], capture_output=True, text=True,
                                      check=True).stdout) for _ in range(3)]
    first = min(r["first_s_per_gib"] for r in runs)
    second = min(r["second_s_per_gib"] for r in runs)
    print(f"fresh memory, first touch: {first:.2f} s/GiB (best of 3 fresh processes); already owned: {second:.3f} s/GiB")
    print(f"{'frames':>8} {'dtype':>7} | {'output GiB':>10} {'touch s':>8} | {'30x target s':>12} {'touch/target':>12}")
    for dtype in ("float64", "float32"):
        per_frame = output_bytes_per_frame(dtype)
        for frames, deepof in DEEPOF_S.items():
            gib = 2 * frames * per_frame / 2**30  # two recordings
            print(f"{frames:>8} {dtype:>7} | {gib:10.2f} {gib * first:8.2f} | {deepof / 30:12.2f} "
                  f"{gib * first / (deepof / 30):12.2f}")


if __name__ == "__main__":
    main()
