"""Benchmark: SHAP explanation of cluster labels with ShapExplainer.

Builds recordings whose 10 cluster labels depend on a few of 50 feature tracks, fits the surrogate (grouped
cross-validation by recording + the final fit), then explains every window with the exact tree explainer, and
optionally a small subset with the model-agnostic permutation explainer for comparison.

Run::

    python benchmarks/bench_explain.py                       # 1,000 and 10,000 windows x 50 features, 10 clusters
    python benchmarks/bench_explain.py --windows 10000 --compare 50 --n-threads 1

Prints wall time and peak memory of each step and the windows explained per second. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np
import xarray as xr


def make_data(n_windows: int, n_features: int, n_clusters: int, *, window: int, n_recordings: int, seed: int = 0):
    """Recordings with a ``signal`` variable (time, feature) and cluster labels of its first features."""
    from deepof_sk.datasets import make_synthetic_poses

    rng = np.random.default_rng(seed)
    frames = n_windows * window // n_recordings
    weights = rng.normal(size=(5, n_clusters))
    recordings, labels = [], []
    for r in range(n_recordings):
        ds = make_synthetic_poses(frames, keypoints=["Nose", "Center"], random_state=r)
        # piecewise-constant signal: every window holds one draw, so the window mean recovers it
        draws = rng.normal(size=(frames // window + 1, n_features))
        sig = np.repeat(draws, window, axis=0)[:frames] + 0.1 * rng.normal(size=(frames, n_features))
        ds["signal"] = xr.DataArray(sig, dims=("time", "feature"),
                                    coords={"feature": [f"f{i:02d}" for i in range(n_features)]})
        recordings.append(ds)
        labels.append(np.argmax(np.repeat(draws[:, :5] @ weights, window, axis=0)[:frames], axis=1))
    return recordings, labels


def measure(func):
    tracemalloc.start()
    t0 = time.perf_counter()
    out = func()
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, seconds, peak / 2**20


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--recordings", type=int, default=10)
    parser.add_argument("--window", type=int, default=5, help="frames per window (non-overlapping)")
    parser.add_argument("--compare", type=int, default=0,
                        help="also explain this many windows with the permutation explainer")
    parser.add_argument("--n-threads", type=int, default=None, help="OpenMP threads of the surrogate")
    args = parser.parse_args(argv)

    import shap

    from deepof_sk.explain import ShapExplainer, compute_shap_importance, compute_shap_values

    print(f"shap {shap.__version__}; {args.features} features, {args.clusters} clusters, "
          f"{args.recordings} recordings, windows of {args.window} frames")
    print(f"{'windows':>8} {'fit+cv s':>9} {'cv bal.acc':>10} {'explain s':>10} {'windows/s':>10} {'peak MB':>8} "
          f"{'top-5 planted':>14}")
    for n in args.windows:
        recordings, labels = make_data(n, args.features, args.clusters, window=args.window,
                                       n_recordings=args.recordings)
        exp = ShapExplainer(featurizer=None, variables="signal", window=args.window, cv=5, max_samples=n,
                            n_threads=args.n_threads, random_state=0)
        _, fit_s, _ = measure(lambda exp=exp, recordings=recordings, labels=labels: exp.fit(recordings, labels))
        sv, explain_s, peak = measure(exp.explain)
        top = compute_shap_importance(sv)["feature"][:5]
        planted = sum(f in {f"signal[f{i:02d}]" for i in range(5)} for f in top)
        print(f"{sv.sizes['window']:>8} {fit_s:>9.1f} {exp.cv_score_:>10.3f} {explain_s:>10.1f} "
              f"{sv.sizes['window'] / explain_s:>10.0f} {peak:>8.0f} {planted:>12}/5")
        if args.compare:
            X = exp.sample_features_[: args.compare]
            compute_shap_values(exp.estimator_, X[:2], explainer="permutation", background=exp.background_)  # JIT
            _, perm_s, _ = measure(lambda X=X, exp=exp: compute_shap_values(
                exp.estimator_, X, explainer="permutation", background=exp.background_))
            per_tree = explain_s / sv.sizes["window"]
            per_perm = perm_s / len(X)
            print(f"    permutation explainer: {len(X)} windows in {perm_s:.1f} s "
                  f"({per_perm / per_tree:.0f}x slower per window than the tree explainer)")
    print(f"max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
