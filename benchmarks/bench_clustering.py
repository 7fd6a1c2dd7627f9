"""Benchmark of DeepClusterer: training / inference throughput, memory, and clustering quality on planted motifs.

Sections (each configuration runs in its own subprocess, so peak memory and compile caches are per configuration):

* ``throughput``: windows per second in training (batch 256) and inference for every model x encoder at a fixed
  size (default 50,000 windows of 25 frames x 22 features, latent 8, 10 clusters), wall clock and per CPU-second,
  plus peak resident memory and parameter count. The first epoch (compilation) is timed separately.
* ``motifs``: two 9,000-frame synthetic recordings with 6 planted motifs (plus a third, unseen recording);
  pipeline speed -> egocentric alignment -> DeepClusterer; adjusted Rand index against the planted labels on the
  training and unseen recordings, ARI between two seeds, fit time, populated clusters.
* ``--backends jax,torch``: the throughput section once per Keras backend (identical model code).
* ``--device-report``: the backend's devices, then the throughput section on them (unchanged on a GPU machine).

Examples::

    python benchmarks/bench_clustering.py                       # throughput + motifs, jax, 1 thread
    python benchmarks/bench_clustering.py --sections throughput --backends jax,torch --models vade
    python benchmarks/bench_clustering.py --device-report

DeepOF 0.9.0's VaDE (recurrent encoder, latent 8, 10 clusters) trains at about 600 windows/s at batch 256 on the
2-core reference machine, with 10 pretraining epochs before every fit; the targets are >= 10x that throughput at the
same model size (``--units 16`` GRU is DeepOF's width at latent 8) and a usable clustering of two 9,000-frame
recordings in under 2 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

DEEPOF_WINDOWS_PER_S = 600.0
MODELS = ("vade", "vqvae", "contrastive")
ENCODERS = ("gru", "tcn", "transformer")


def _set_threads(backend: str, threads: int | None) -> None:
    """Thread limits that must be in place before the backend is imported."""
    os.environ["KERAS_BACKEND"] = backend
    if threads == 1:
        os.environ.setdefault(
            "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        )
    if threads:
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# -- one configuration (child process) -------------------------------------------------------------------------
def run_throughput(args) -> dict:
    _set_threads(args.backend, args.threads)
    import numpy as np

    from deepof_sk.clustering._training import import_keras, inference_model, make_batches, run_inference
    from deepof_sk.clustering._windows import FeatureScaler, build_window_data

    keras = import_keras()
    if args.backend == "torch" and args.threads:
        import torch

        torch.set_num_threads(args.threads)
    from deepof_sk.clustering._models import MODELS as CLASSES

    keras.utils.set_random_seed(0)
    rng = np.random.RandomState(0)
    n_seq = 2
    seqs = [
        np.cumsum(rng.standard_normal((args.n_windows // n_seq, args.n_features)), axis=0)
        for _ in range(n_seq)
    ]
    data = build_window_data(seqs, FeatureScaler.fit(seqs), args.window)
    index = np.arange(len(data.starts))
    kwargs = dict(
        encoder=args.encoder,
        units=args.units,
        window=args.window,
        n_features=args.n_features,
        latent_dim=args.latent_dim,
        n_clusters=args.n_clusters,
        seed=0,
    )
    if args.model == "contrastive":
        kwargs.update(max_shift=3, pairs=[[i, i + 1] for i in range(0, args.n_features - 1, 2)])
    model = CLASSES[args.model](**kwargs)
    model(data.gather(index[:2]))
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    batches = make_batches(keras, data, index, args.batch_size, shuffle=True, seed=0)

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0, self.c0 = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            self.times = [
                *getattr(self, "times", []),
                (time.perf_counter() - self.t0, time.process_time() - self.c0),
            ]

    timer = Timer()
    model.fit(batches, epochs=2, verbose=0, callbacks=[timer])
    (first_wall, _), (wall, cpu) = timer.times
    infer = inference_model(keras, model)
    run_inference(keras, infer, data, index[:2048])  # compile
    t0, c0 = time.perf_counter(), time.process_time()
    run_inference(keras, infer, data, index)
    infer_wall, infer_cpu = time.perf_counter() - t0, time.process_time() - c0
    n = len(index)
    return {
        "backend": keras.backend.backend(),
        "model": args.model,
        "encoder": args.encoder,
        "units": args.units,
        "params": int(model.count_params()),
        "windows": n,
        "first_epoch_s": round(first_wall, 1),
        "train_w_per_s": round(n / wall),
        "train_w_per_cpu_s": round(n / cpu),
        "infer_w_per_s": round(n / infer_wall),
        "infer_w_per_cpu_s": round(n / infer_cpu),
        "peak_rss_mb": round(_peak_rss_mb()),
    }


def run_motifs(args) -> dict:
    _set_threads(args.backend, args.threads)
    import numpy as np
    from sklearn.metrics import adjusted_rand_score
    from sklearn.pipeline import make_pipeline

    from deepof_sk.clustering import DeepClusterer
    from deepof_sk.datasets import make_motif_poses
    from deepof_sk.features import KinematicsExtractor
    from deepof_sk.preprocessing import EgocentricAligner

    recordings, labels = zip(
        *[make_motif_poses(args.n_frames, n_motifs=args.n_motifs, random_state=i) for i in range(3)],
        strict=True,
    )
    train, unseen = list(recordings[:2]), recordings[2]

    def pipeline(seed):
        return make_pipeline(
            KinematicsExtractor(),
            EgocentricAligner(),
            DeepClusterer(
                model=args.model,
                encoder=args.encoder,
                variables=["position", "speed"],
                n_clusters=args.n_motifs,
                units=args.units,
                random_state=seed,
            ),
        )

    t0, c0 = time.perf_counter(), time.process_time()
    first = pipeline(0).fit(train)
    fit_wall, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
    est = first[-1]
    pred = [np.asarray(p)[:, 0] for p in first.predict([*train, unseen])]
    result = {
        "backend": os.environ["KERAS_BACKEND"],
        "model": args.model,
        "encoder": args.encoder,
        "fit_s": round(fit_wall, 1),
        "fit_cpu_s": round(fit_cpu, 1),
        "epochs": len(est.history_["loss"]),
        "ari_train": round(
            float(
                np.mean([adjusted_rand_score(lab, p) for lab, p in zip(labels[:2], pred[:2], strict=True)])
            ),
            3,
        ),
        "ari_unseen": round(float(adjusted_rand_score(labels[2], pred[2])), 3),
        "populated": f"{est.n_populated_clusters_}/{args.n_motifs}",
        "balance": round(float(est.cluster_balance_), 3),
    }
    if args.seeds:
        second = pipeline(1).fit(train)
        other = [np.asarray(p)[:, 0] for p in second.predict([*train, unseen])]
        result["ari_between_seeds"] = round(
            float(adjusted_rand_score(np.concatenate(pred), np.concatenate(other))), 3
        )
    result["peak_rss_mb"] = round(_peak_rss_mb())
    return result


# -- driver ----------------------------------------------------------------------------------------------------
def _child(section: str, backend: str, model: str, encoder: str, args) -> dict | None:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        section,
        "--backend",
        backend,
        "--model",
        model,
        "--encoder",
        encoder,
        "--threads",
        str(args.threads),
        "--units",
        str(args.units),
        "--n-windows",
        str(args.n_windows),
        "--n-features",
        str(args.n_features),
        "--window",
        str(args.window),
        "--latent-dim",
        str(args.latent_dim),
        "--n-clusters",
        str(args.n_clusters),
        "--batch-size",
        str(args.batch_size),
        "--n-frames",
        str(args.n_frames),
        "--n-motifs",
        str(args.n_motifs),
    ] + (["--seeds"] if args.seeds else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "KERAS_BACKEND": backend})
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    print(f"  {section} {backend} {model}/{encoder} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
    return None


def _table(rows: list[dict], keys: list[str]) -> str:
    widths = {k: max(len(k), *(len(str(r.get(k, ""))) for r in rows)) for k in keys}
    lines = ["  ".join(k.rjust(widths[k]) for k in keys)]
    lines += ["  ".join(str(r.get(k, "")).rjust(widths[k]) for k in keys) for r in rows]
    return "\n".join(lines)


def device_report(backend: str) -> None:
    _set_threads(backend, None)
    from deepof_sk.clustering._training import import_keras

    keras = import_keras()
    print(f"keras {keras.__version__}, backend {keras.backend.backend()}")
    if keras.backend.backend() == "jax":
        import jax

        print(f"jax {jax.__version__}: devices {jax.devices()}")
    elif keras.backend.backend() == "torch":
        import torch

        print(
            f"torch {torch.__version__}: cuda {torch.cuda.is_available()}"
            + (f" ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "")
        )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sections", default="throughput,motifs", help="throughput, motifs (comma separated)"
    )
    parser.add_argument("--backends", default="jax", help="Keras backends to compare, e.g. jax,torch")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--encoders", default=",".join(ENCODERS))
    parser.add_argument("--threads", type=int, default=1, help="CPU threads per process (0: backend default)")
    parser.add_argument(
        "--units", type=int, default=16, help="layer width (16: DeepOF's GRU width at latent 8)"
    )
    parser.add_argument("--n-windows", type=int, default=50_000)
    parser.add_argument("--n-features", type=int, default=22)
    parser.add_argument("--window", type=int, default=25)
    parser.add_argument("--latent-dim", type=int, default=8)
    parser.add_argument("--n-clusters", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--n-frames", type=int, default=9000, help="frames per motif recording")
    parser.add_argument("--n-motifs", type=int, default=6)
    parser.add_argument(
        "--seeds", action="store_true", help="motifs: also fit a second seed and report the ARI"
    )
    parser.add_argument(
        "--device-report", action="store_true", help="print devices, then the throughput section"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--backend", default="jax", help=argparse.SUPPRESS)
    parser.add_argument("--model", default="vade", help=argparse.SUPPRESS)
    parser.add_argument("--encoder", default="gru", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.threads = args.threads or None

    if args.child:
        result = run_throughput(args) if args.child == "throughput" else run_motifs(args)
        print("RESULT " + json.dumps(result), flush=True)
        return
    sections = args.sections.split(",")
    if args.device_report:
        device_report(args.backends.split(",")[0])
        sections, args.threads = ["throughput"], None
    models, encoders = args.models.split(","), args.encoders.split(",")
    if "throughput" in sections:
        print(
            f"\n== training / inference throughput: {args.n_windows} windows of {args.window} x {args.n_features}, "
            f"latent {args.latent_dim}, {args.n_clusters} clusters, batch {args.batch_size}, units {args.units}, "
            f"threads {args.threads or 'default'} ==",
            flush=True,
        )
        rows = []
        for backend in args.backends.split(","):
            for model in models:
                for encoder in encoders:
                    row = _child("throughput", backend, model, encoder, args)
                    if row:
                        row["x_deepof"] = round(row["train_w_per_s"] / DEEPOF_WINDOWS_PER_S, 1)
                        rows.append(row)
                        print(_table([row], list(row)).splitlines()[-1], flush=True)
        if rows:
            print(_table(rows, list(rows[0])))
    if "motifs" in sections:
        print(
            f"\n== planted motifs: 2 x {args.n_frames} training frames + 1 unseen recording, {args.n_motifs} "
            f"motifs, n_clusters={args.n_motifs} ==",
            flush=True,
        )
        rows = []
        for backend in args.backends.split(","):
            for model in models:
                row = _child("motifs", backend, model, encoders[0], args)
                if row:
                    rows.append(row)
                    print(_table([row], list(row)).splitlines()[-1], flush=True)
        if rows:
            print(_table(rows, list(rows[0])))


if __name__ == "__main__":
    main()
