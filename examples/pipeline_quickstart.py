"""Quickstart, scikit-learn style: tracking files in, a cross-validated behaviour classifier out.

Story: a folder of DeepLabCut tables (one mouse each, pixels, 25 fps), a conditions table and per-frame labels of
what the mouse is doing (still, walking, turning left or right). Does real smoothing help, compared with DeepOF's
default (a Savitzky-Golay filter of order 14 over 15 frames, which changes nothing)? One scikit-learn Pipeline reads
like DeepOF's ``create()`` + ``get_coords(center="Center", align="Spine_1")`` + features + classifier, and
GridSearchCV with GroupKFold answers the question on held-out recordings.

The folder is written first by ``make_demo_project`` from ``deepof_sk.datasets.make_motif_poses`` (synthetic mice
with planted movement motifs, 4 mm of tracking jitter), standing in for your own project: point ``--project`` at a
folder with ``tables/``, ``labels/`` and ``conditions.csv`` laid out the same way to run it on your data.

Run:  python examples/pipeline_quickstart.py [--project FOLDER] [--quick]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline

from deepof_sk.datasets import make_motif_poses
from deepof_sk.features import AngleExtractor, FeatureTabulator, KinematicsExtractor, WindowFeaturizer
from deepof_sk.io import read_recordings, write_dlc
from deepof_sk.metrics import make_frame_scorer
from deepof_sk.preprocessing import ArenaScaler, EgocentricAligner, make_deepof_preprocessor
from deepof_sk.supervised import FramewiseEstimator

PX_PER_MM = 0.66  # the camera's scale: 380 mm of arena span about 250 pixels


def make_demo_project(folder: Path, n_recordings: int = 6, n_frames: int = 900) -> Path:
    """Write DeepLabCut tables (in pixels), per-frame labels and a conditions table, like a small real project."""
    (folder / "tables").mkdir(parents=True, exist_ok=True)
    (folder / "labels").mkdir(exist_ok=True)
    rows = []
    for i in range(n_recordings):
        ds, motif = make_motif_poses(n_frames, n_motifs=4, noise=4.0, random_state=i)
        pixels = ds.assign(position=ds.position * PX_PER_MM + 320.0)  # mm -> image pixels
        pixels.attrs["space_unit"] = "pixels"
        write_dlc(pixels, folder / "tables" / f"mouse{i}DLC_resnet50_openfieldAug1shuffle1_100000.h5")
        names = np.asarray(ds.attrs["motifs"])[motif]
        pd.DataFrame({"behavior": names}).to_csv(folder / "labels" / f"mouse{i}.csv", index=False)
        rows.append({"video": f"mouse{i}", "cohort": "A" if i < n_recordings // 2 else "B"})
    pd.DataFrame(rows).to_csv(folder / "conditions.csv", index=False)
    return folder


def make_pipeline() -> Pipeline:
    """DeepOF's preprocessing, px -> mm, speeds, egocentric coordinates, angles, context, classifier."""
    pipe = Pipeline([
        ("clean", make_deepof_preprocessor()),                       # DeepOF's create(): smooth, outliers, gaps
        ("mm", ArenaScaler(px_per_mm=PX_PER_MM)),                   # or ArenaScaler(arena_size="380 mm")
        ("speed", KinematicsExtractor()),                           # speed of every keypoint, mm/s
        ("ego", EgocentricAligner(center="Center", align="Spine_1")),
        ("angles", AngleExtractor(skeleton="deepof_11")),           # joint angles of DeepOF's 11-point skeleton
        ("context", WindowFeaturizer(variables=["speed", "angle"], window=0.5, window_unit="seconds")),
        ("classify", FramewiseEstimator(
            HistGradientBoostingClassifier(max_iter=20, max_leaf_nodes=15, random_state=0),
            tabulator=FeatureTabulator(variables=["speed", "angle", "speed_mean_w0.5s", "angle_mean_w0.5s"]),
        )),
    ])
    return pipe


def main(argv=None) -> GridSearchCV:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="folder with tables/, labels/ and conditions.csv")
    parser.add_argument("--quick", action="store_true",
                        help="shorter recordings (also DEEPOF_SK_QUICK=1, which the test suite sets)")
    args = parser.parse_args(argv)
    quick = args.quick or os.environ.get("DEEPOF_SK_QUICK", "") not in ("", "0")
    folder = args.project or make_demo_project(Path("quickstart_project"), n_frames=500 if quick else 900)

    # 1. read every table of the folder (recording ids come from the file names) and the conditions
    recordings, conditions = read_recordings(folder / "tables", fps=25, conditions=folder / "conditions.csv")
    recordings = [ds.drop_sel(keypoint=["Tail_1", "Tail_2", "Tail_tip"]) for ds in recordings]  # DeepOF's default
    labels = [pd.read_csv(folder / "labels" / f"{rid}.csv")["behavior"].to_numpy()
              for rid in conditions["recording_id"]]
    print(f"{len(recordings)} recordings, {sum(ds.sizes['time'] for ds in recordings)} frames, "
          f"{len(recordings[0].keypoint)} keypoints")

    # 2. one Pipeline, grid-searched with whole recordings held out
    pipe = make_pipeline()
    search = GridSearchCV(
        pipe,
        {"clean__smooth__polyorder": [14, 3]},   # DeepOF's default (no smoothing) vs a real smoother
        cv=GroupKFold(n_splits=3),
        scoring=make_frame_scorer(f1_score, average="macro"),
    )
    search.fit(recordings, labels, groups=conditions["recording_id"])
    for params, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"], strict=True):
        print(f"  {params}: held-out macro F1 = {score:.3f}")
    print(f"best: {search.best_params_}")

    # 3. the refitted pipeline labels every frame of a recording (here the first one)
    predicted = search.predict(recordings[:1])[0]
    names, counts = np.unique(predicted, return_counts=True)
    per_behavior = dict(zip(names.tolist(), counts.tolist(), strict=True))
    print(f"frames per predicted behaviour in {conditions['recording_id'][0]}: {per_behavior}")
    return search


if __name__ == "__main__":
    main()
