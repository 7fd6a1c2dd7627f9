"""DeepOF's seed workflow in deepof_sk spelling: Project -> create -> supervised annotation; egocentric coordinates
-> preprocess -> deep unsupervised embedding (VaDE) -> clusters per frame.

Story: the four single-mouse DeepOF test tables bundled with deepof_sk (two DeepLabCut clips, the same clip tracked by
SLEAP as .slp and as analysis .h5; the files of ../shared/data/deepof) go through DeepOF's few lines. DeepOF's
test videos have a 380 mm arena spanning 252 px, so the pixel scale is given. The two "groups" are made up, only
to show the enrichment test on a conditions table.

Every verb runs public deepof_sk estimators; `proj.pipeline(verb)` prints the equivalent scikit-learn Pipeline.

Run:  python examples/deepof_workflow.py [--quick] [--data FOLDER --fps 25 --px-per-mm 0.663] [--output DIR]
      (--quick, or DEEPOF_SK_QUICK=1, trains 2 epochs instead of 10)
"""

from __future__ import annotations

import argparse
import os
import tempfile
import warnings
from pathlib import Path

import deepof_sk
from deepof_sk.datasets import load_sample

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

SAMPLES = ["deepof_single", "deepof_single_csv", "deepof_sleap", "deepof_sleap_analysis"]
GROUPS = {"deepof_single": "A", "deepof_sleap": "A", "deepof_single_csv": "B", "deepof_sleap_analysis": "B"}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="folder of tracking tables (default: samples)")
    parser.add_argument("--fps", type=float, default=None, help="frame rate, if the tables store none")
    parser.add_argument("--px-per-mm", type=float, default=252 / 380, help="pixel scale (default: DeepOF's tests)")
    parser.add_argument("--quick", action="store_true", help="2 training epochs (also DEEPOF_SK_QUICK=1)")
    parser.add_argument("--output", type=Path, default=None, help="where to save the project")
    args = parser.parse_args(argv)
    quick = args.quick or os.environ.get("DEEPOF_SK_QUICK", "") not in ("", "0")

    # 1. Project(...).create(): read, keep the DeepOF graph without the tail, clean, arena, px -> mm
    if args.data is None:
        tables, conditions = {name: load_sample(name) for name in SAMPLES}, GROUPS
    else:
        tables, conditions = args.data, None
    proj = deepof_sk.Project(tables, conditions=conditions, arena="auto", px_per_mm=args.px_per_mm,
                             fps=args.fps, exclude_keypoints=("Tail_1", "Tail_2", "Tail_tip")).create()
    first = next(iter(proj.recordings))
    print(f"{proj}: keypoints {proj.keypoints_}, unit {proj.recordings[first].attrs['space_unit']}")

    # 2. supervised_annotation(): DeepOF's rule-based behaviours, one DeepOF-layout table per recording
    supervised = proj.supervised_annotation()
    table = supervised[first]
    shares = table.drop(columns=["distance", "cum-distance", "speed", "missing"]).mean().round(3)
    print(f"\nDeepOF table of {first!r}: {table.shape[0]} frames x {table.shape[1]} columns; share of time:")
    print(shares.to_string())
    if conditions is not None:
        enrichment = proj.enrichment("condition")
        print("\nEnrichment, made-up groups A vs B (Mann-Whitney U, BH-FDR):")
        print(enrichment[["behavior", "mean_a", "mean_b", "p_adjusted"]].round(3).to_string(index=False))

    # 3. get_coords(center="Center", align="Spine_1") -> preprocess -> deep_unsupervised_embedding
    coords = proj.get_coords(center="Center", align="Spine_1")
    print(f"\nAligned coordinates of {first!r} (mm), DeepOF layout:\n{coords.to_frame(first).iloc[:3, :4]}")
    X = coords.preprocess(window_size=25, window_step=1, scale="standard", test_videos=1, random_state=42)
    print(f"\n{X}\ntraining windows {X.X_train.shape}, test windows {X.X_test.shape}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny data: a cluster-collapse warning is expected and not the point here
        model = proj.deep_unsupervised_embedding(
            X, embedding_model="VaDE", encoder_type="recurrent", latent_dim=4, n_clusters=4,
            epochs=2 if quick else 10, pretrain_epochs=1 if quick else 3, batch_size=64, random_state=0)
    clusters = proj.get_clusters()
    print(f"\nVaDE trained on {model.n_windows_fit_} windows ({model.fit_time_:.1f} s); clusters per recording:")
    for rid, labels in clusters.items():
        values = labels.values.ravel()
        print(f"  {rid:24s} {len(values)} frames, clusters used {sorted(set(values.tolist()) - {-1})}")

    # 4. every verb as a scikit-learn Pipeline, and the project saved in one folder
    print("\nproj.pipeline('supervised_annotation') steps:", [name for name, _ in
                                                              proj.pipeline("supervised_annotation").steps])
    folder = proj.save((args.output or Path(tempfile.mkdtemp())) / "deepof_sk_project", overwrite=True)
    again = deepof_sk.load_project(folder)
    same = (again.get_clusters()[first].values == clusters[first].values).all()
    print(f"saved to {folder}; reloaded project gives the same clusters: {bool(same)}")


if __name__ == "__main__":
    main()
