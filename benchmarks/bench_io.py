"""Benchmark: reading a large DeepLabCut file with ``read_poses`` against a plain ``pandas.read_hdf``.

A synthetic recording (``--frames`` frames, ``--animals`` animals, 14 keypoints) is written in the multi-animal
DeepLabCut layout to a temporary folder. Each reader then runs in fresh Python subprocesses:

* timing: one warm-up call, then ``--repeats`` timed calls (``time.perf_counter``); min and median reported;
* memory, in another fresh subprocess: one call with ``tracemalloc`` running (peak of Python-tracked allocations,
  which include numpy and pandas buffers) and the peak resident-set growth during the call: on Linux the peak mark
  is reset just before the call (``/proc/self/clear_refs``) and ``VmHWM`` after it minus ``VmRSS`` before it is
  reported; elsewhere the growth of ``resource.getrusage(...).ru_maxrss``. Import costs are excluded either way.

Run::

    python benchmarks/bench_io.py --frames 90000 --animals 2
    python benchmarks/bench_io.py --frames 90000 --animals 2 --format csv --movement
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# code run in the child process; {reader} is an expression of `path`
_CHILD = textwrap.dedent(
    """
    import gc, json, resource, statistics, sys, time, tracemalloc
    sys.path.insert(0, {repo!r})
    import numpy as np, pandas as pd, xarray as xr
    from deepof_sk.io import read_poses
    {extra_import}
    path = {path!r}

    def run():
        return {reader}

    mode = {mode!r}
    if mode == "time":
        run()  # warm-up (file cache, lazy imports)
        times = []
        for _ in range({repeats}):
            gc.collect()
            t0 = time.perf_counter()
            out = run()
            times.append(time.perf_counter() - t0)
            del out
        print(json.dumps({{"min_s": min(times), "median_s": statistics.median(times)}}))
    else:
        def status_kb(field):
            try:
                with open("/proc/self/status") as fh:
                    return next(int(line.split()[1]) for line in fh if line.startswith(field + ":"))
            except (OSError, StopIteration):
                return None

        gc.collect()
        try:  # Linux: reset the peak-RSS mark so the peak below belongs to the call alone
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
            rss_before, peak_field = status_kb("VmRSS"), "VmHWM"
        except OSError:
            rss_before, peak_field = None, None
        if rss_before is None:  # elsewhere: growth of the lifetime peak (0 when imports peaked higher)
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        out = run()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_after = status_kb(peak_field) if peak_field else None
        if rss_after is None:
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        nbytes = int(out.nbytes) if hasattr(out, "nbytes") else int(out.memory_usage(deep=True).sum())
        print(json.dumps({{"tracemalloc_peak_mb": peak / 2**20, "maxrss_growth_mb": (rss_after - rss_before) / 1024,
                          "result_mb": nbytes / 2**20}}))
    """
)

READERS = {
    "pandas.read_hdf (baseline)": ("pd.read_hdf(path)", ""),
    "deepof_sk.io.read_poses": ("read_poses(path, fps=25)", ""),
}
CSV_READERS = {
    "pandas.read_csv (baseline)": ("pd.read_csv(path, header=[0, 1, 2, 3], index_col=0)", ""),
    "deepof_sk.io.read_poses": ("read_poses(path, fps=25)", ""),
    "read_poses precision=high": ("read_poses(path, fps=25, float_precision='high')", ""),
}
MOVEMENT = ("load_poses.from_dlc_file(path, fps=25)", "from movement.io import load_poses")


def _child(path: Path, reader: str, extra_import: str, mode: str, repeats: int) -> dict:
    code = _CHILD.format(
        repo=str(REPO), path=str(path), reader=reader, extra_import=extra_import, mode=mode, repeats=repeats
    )
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed for {reader}:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=90_000, help="number of frames (default 90000)")
    parser.add_argument("--animals", type=int, default=2, help="number of animals (default 2)")
    parser.add_argument(
        "--format", choices=["h5", "csv"], default="h5", help="DeepLabCut file format (default h5)"
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per reader (default 5)")
    parser.add_argument("--movement", action="store_true", help="also time movement's DeepLabCut loader")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO))
    from deepof_sk.datasets import make_synthetic_poses
    from deepof_sk.io import write_dlc

    ds = make_synthetic_poses(args.frames, n_individuals=args.animals, fps=25, random_state=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"benchDLC_resnet50_benchJan1shuffle1_1000.{args.format}"
        write_dlc(ds, path, multi_animal=True)
        readers = dict(READERS if args.format == "h5" else CSV_READERS)
        if args.movement:
            readers["movement from_dlc_file"] = MOVEMENT
        print(
            f"bench_io: {args.frames} frames x {args.animals} animals x {ds.sizes['keypoint']} keypoints, "
            f"DeepLabCut multi-animal .{args.format} ({'PyTables table format' if args.format == 'h5' else 'CSV'})"
        )
        print(
            f"file size {path.stat().st_size / 2**20:.1f} MiB; poses dataset in memory {ds.nbytes / 2**20:.1f} MiB; "
            f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
        )
        rows = {}
        for name, (reader, extra) in readers.items():
            timing = _child(path, reader, extra, "time", args.repeats)
            memory = _child(path, reader, extra, "memory", 0)
            rows[name] = {**timing, **memory}
        header = f"{'reader':<28} {'min s':>7} {'median s':>9} {'tracemalloc peak MiB':>21} {'peak RSS growth MiB':>20}"
        print(header)
        print("-" * len(header))
        for name, r in rows.items():
            print(
                f"{name:<28} {r['min_s']:>7.3f} {r['median_s']:>9.3f} {r['tracemalloc_peak_mb']:>21.1f} "
                f"{r['maxrss_growth_mb']:>20.1f}"
            )
        base = next(iter(rows.values()))
        ours = rows["deepof_sk.io.read_poses"]
        print(
            f"ratio read_poses / baseline: time {ours['median_s'] / base['median_s']:.2f}x (median), "
            f"tracemalloc peak {ours['tracemalloc_peak_mb'] / base['tracemalloc_peak_mb']:.2f}x, "
            f"peak RSS growth {ours['maxrss_growth_mb'] / max(base['maxrss_growth_mb'], 1e-9):.2f}x"
        )
        print(
            f"result size: baseline {base['result_mb']:.1f} MiB, read_poses dataset {ours['result_mb']:.1f} MiB"
        )


if __name__ == "__main__":
    main()
