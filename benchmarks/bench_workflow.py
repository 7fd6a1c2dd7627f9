"""The whole DeepOF workflow from files on disk, in memory or in time chunks, 1 or 2 workers, or on a dask cluster.

Workflow, per recording: read a DeepLabCut .h5 (2 mice x 14 keypoints, 25 fps) -> make_deepof_preprocessor()
(smooth, outliers, gap filling, presence) -> ArenaScaler (px -> mm) -> DeepOFAnnotator (every DeepOF rule) ->
write the annotations (``annotation`` + ``social_annotation``) to netCDF.

Configurations:
  * ``memory``: read_poses -> Pipeline.fit_transform on the whole recordings -> to_netcdf;
  * ``chunked``: deepof_sk.scale.transform_in_chunks from the .h5 files (PyTables start/stop), 30-minute chunks
    (45,000 frames) with the pipeline's overlap, results streamed to netCDF;
  * ``dask``: ``chunked`` on a dask LocalCluster (2 workers, threads: processes=False so the peak memory below is
    the whole job's) through joblib's dask backend.
Each runs in a fresh subprocess (peak = ru_maxrss of that process, input included). The synthetic recordings
(make_synthetic_poses scenario="explore" with noise, dropouts, gaps and spikes) are written to a temporary folder
first. The last column compares every annotation value of a configuration with the in-memory, 1-worker result.

DeepOF 0.9.0 on this 2-core machine (issue text): preprocessing about 10 s / 40 s, rule annotation 16 s / 69 s,
peak 2.9 / 9 GiB, for 2 x 90,000 / 2 x 360,000 frames.

Run:  python benchmarks/bench_workflow.py [--frames 90000 360000] [--configs memory:1 memory:2 chunked:1 ...]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEEPOF = {  # DeepOF 0.9.0, same machine: create()+get_coords, supervised annotation, peak memory
    90_000: {"s": 10.0 + 16.0, "peak_gib": 2.9},
    360_000: {"s": 40.0 + 69.0, "peak_gib": 9.0},
}
CONFIGS = ["memory:1", "memory:2", "chunked:1", "chunked:2", "dask:2"]
CHUNK = "30min"


def _workflow(n_jobs):
    from sklearn.pipeline import make_pipeline

    from deepof_sk.annotation import DeepOFAnnotator
    from deepof_sk.preprocessing import Arena, ArenaScaler, make_deepof_preprocessor

    arena = Arena.circle((0.0, 0.0), 190.0, unit="mm")  # the synthetic arena, known: no estimation from tracks
    return make_pipeline(make_deepof_preprocessor(n_jobs=n_jobs), ArenaScaler(px_per_mm=2.0, n_jobs=n_jobs),
                         DeepOFAnnotator(arena=arena, n_jobs=n_jobs))


def make_inputs(folder: Path, frames: int) -> list[Path]:
    from deepof_sk.datasets import make_synthetic_poses
    from deepof_sk.io import write_dlc

    paths = []
    for i in range(2):
        path = folder / f"rec{i}_{frames}.h5"
        if not path.exists():
            ds = make_synthetic_poses(frames, scenario="explore", n_individuals=2, noise=0.5, dropout_rate=0.01,
                                      n_gaps=50, n_spikes=200, px_per_mm=2.0, random_state=i)
            write_dlc(ds, path)
        paths.append(path)
    return paths


def run_one(mode: str, n_jobs: int, paths: list[str], out_dir: str, reference: list[str] | None) -> dict:
    import os
    import warnings

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    warnings.simplefilter("ignore")
    outputs = [Path(out_dir) / f"{Path(p).stem}_{mode}{n_jobs}.nc" for p in paths]
    t0, c0 = time.perf_counter(), time.process_time()
    if mode == "memory":
        from deepof_sk.io import read_poses

        recordings = [read_poses(p, fps=25) for p in paths]
        annotated = _workflow(n_jobs).fit_transform(recordings)
        for ds, out in zip(annotated, outputs, strict=True):
            ds[["annotation", "social_annotation"]].to_netcdf(out, engine="netcdf4")
    else:
        from deepof_sk.scale import transform_in_chunks

        def go():
            transform_in_chunks(_workflow(None), paths, chunk_size=CHUNK, fps=25, output=outputs,
                                variables=["annotation", "social_annotation"], n_jobs=n_jobs)

        if mode == "dask":
            import joblib
            from dask.distributed import Client, LocalCluster

            with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as c, \
                    Client(c), joblib.parallel_config(backend="dask"):
                go()
        else:
            go()
    result = {"mode": mode, "n_jobs": n_jobs, "wall_s": time.perf_counter() - t0,
              "cpu_s": time.process_time() - c0, "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
              "outputs": [str(o) for o in outputs]}
    # after the measurement: compare with the reference run's files
    result["agreement"] = agreement(result["outputs"], reference) if reference else 1.0
    return result


def agreement(outputs: list[str], reference: list[str]) -> float:
    """Fraction of annotation values (both variables, every recording) equal to the reference's (NaN = NaN)."""
    import numpy as np
    import xarray as xr

    same = total = 0
    for a, b in zip(outputs, reference, strict=True):
        with xr.open_dataset(a) as x, xr.open_dataset(b) as y:
            for var in ("annotation", "social_annotation"):
                u, v = x[var].transpose(*y[var].dims).values, y[var].values
                same += int(np.sum((u == v) | (np.isnan(u) & np.isnan(v))))
                total += u.size
    return same / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[90_000, 360_000])
    parser.add_argument("--configs", nargs="+", default=CONFIGS, help="mode:n_jobs, mode in memory/chunked/dask")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--make", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:  # in a subprocess: a child's ru_maxrss starts from its parent's resident size at fork
        print(",".join(map(str, make_inputs(Path(args.make[0]), int(args.make[1])))))
        return
    if args.child:
        mode, n_jobs, paths, out_dir, reference = args.child
        print(json.dumps(run_one(mode, int(n_jobs), paths.split(","), out_dir,
                                 reference.split(",") if reference != "-" else None)))
        return
    print("whole workflow: read DLC .h5 -> DeepOF preprocessing -> px->mm -> DeepOFAnnotator -> write netCDF")
    print(f"2 recordings x 2 mice x 14 keypoints at 25 fps; chunks of {CHUNK}; each configuration in a fresh process")
    print(f"{'frames':>8} {'config':>10} | {'wall s':>7} {'cpu s':>7} {'x DeepOF':>8} | {'peak GiB':>8} "
          f"{'DeepOF/peak':>11} | {'same as memory:1':>16}")
    with tempfile.TemporaryDirectory() as tmp:
        for frames in args.frames:
            paths = subprocess.run([sys.executable, __file__, "--make", tmp, str(frames)], capture_output=True,
                                   text=True, check=True).stdout.strip().splitlines()[-1].split(",")
            reference = None
            for config in args.configs:
                mode, n_jobs = config.split(":")
                cmd = [sys.executable, __file__, "--child", mode, n_jobs, ",".join(paths), tmp,
                       ",".join(reference) if reference else "-"]
                proc = subprocess.run(cmd, capture_output=True, text=True)
                if proc.returncode:
                    print(f"{frames:>8} {config:>10} | failed: {proc.stderr.strip().splitlines()[-1]}")
                    continue
                r = json.loads(proc.stdout.splitlines()[-1])
                if reference is None and config == "memory:1":
                    reference = r["outputs"]
                agree = r["agreement"] if reference or config == "memory:1" else float("nan")
                ref = DEEPOF.get(frames, {})
                print(f"{frames:>8} {config:>10} | {r['wall_s']:7.1f} {r['cpu_s']:7.1f} "
                      f"{ref.get('s', float('nan')) / r['wall_s']:8.1f} | {r['peak_gib']:8.2f} "
                      f"{ref.get('peak_gib', float('nan')) / r['peak_gib']:11.1f} | {agree:16.6%}", flush=True)


if __name__ == "__main__":
    main()
