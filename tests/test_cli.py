"""The deepof-sk command line: every verb on small real files, outputs, exit codes, help, progress."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.io as sio

from deepof_sk import __version__
from deepof_sk.cli import build_parser, main
from deepof_sk.datasets import sample_path
from deepof_sk.io import read_netcdf, read_poses

REPO = Path(__file__).resolve().parents[1]
VERBS = ["demo", "annotate", "train", "predict", "cluster", "report", "summarize", "convert", "samples"]


def _freezing_labels(shared_data) -> np.ndarray:
    mat = sio.loadmat(shared_data / "behaviordepot" / "hB_demo2_manual_annotations.mat", simplify_cells=True)
    return np.asarray(mat["hBehavior"]["Freezing"]["Vector"], dtype=int)


# -- demo (README and .ci/run depend on it) ---------------------------------------------------------------------
def test_demo_writes_tables_annotations_and_a_figure(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["demo", "--output", str(out)]) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["recording"]) >= {"deepof_single", "deepof_multi", "deepof_madlc", "deepof_sleap"}
    assert (summary.loc[summary["recording"] == "deepof_multi", "individual"].tolist()) == ["B", "W"]
    behaviors = pd.read_csv(out / "behavior_summary.csv")
    assert {"nose2nose", "climb-arena", "moving"} <= set(behaviors["behavior"])
    table = pd.read_csv(out / "annotations" / "deepof_single_supervised.csv", index_col=0)
    assert len(table) == 100 and "stat-passive" in table.columns
    assert (out / "ethogram.png").stat().st_size > 10_000
    ds = read_netcdf(out / "recordings" / "deepof_single.nc")
    assert ds.sizes["time"] == 100
    assert "Behaviour summary" in capsys.readouterr().out


# -- annotate + report -------------------------------------------------------------------------------------------
def test_annotate_then_report_on_bundled_samples(tmp_path, capsys):
    files = [sample_path(n) for n in ("deepof_single", "deepof_multi", "deepof_single_csv")]
    ids = ["testDLC_h5_table", "testDLC_h5_table_multi", "testDLC_csv_table"]
    conditions = tmp_path / "conditions.csv"
    pd.DataFrame({"video": ids, "group": ["ctrl", "stress", "stress"]}).to_csv(conditions, index=False)
    out = tmp_path / "annotated"
    code = main(["annotate", *map(str, files), "--fps", "25", "--px-per-mm", "0.663", "--max-frames", "80",
                 "--exclude-keypoints", "Tail_1", "Tail_2", "Tail_tip", "--format", "csv", "netcdf",
                 "--conditions", str(conditions), "--n-jobs", "2", "-o", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "Behaviour summary (3 recordings" in printed and "nose2nose" in printed
    multi = pd.read_csv(out / "annotations" / "testDLC_h5_table_multi_supervised.csv", index_col=0)
    assert len(multi) == 80  # --max-frames cut the 100-frame recording
    assert {"B_W_nose2nose", "W_B_nose2tail", "B_climb-arena", "W_moving", "B_missing"} <= set(multi.columns)
    single = pd.read_csv(out / "annotations" / "testDLC_h5_table_supervised.csv", index_col=0)
    assert len(single) == 80 and {"stat-passive", "speed", "missing"} <= set(single.columns)
    ds = read_netcdf(out / "annotations" / "testDLC_h5_table_multi.nc")
    assert ds.sizes["time"] == 80 and "Tail_tip" not in ds["keypoint"].values
    assert ds.attrs["space_unit"] == "mm" and ds["annotation"].sizes["behavior"] == 12
    summary = pd.read_csv(out / "behavior_summary.csv")
    assert set(summary["recording"]) == set(ids)
    assert {"recording", "individual", "partner", "behavior", "fraction", "n_bouts"} <= set(summary.columns)
    # the summary agrees with the per-frame table it summarises
    row = summary[(summary.recording == "testDLC_h5_table") & (summary.behavior == "moving")].iloc[0]
    assert row["fraction"] == pytest.approx(single["moving"].mean())
    bouts = pd.read_csv(out / "bouts.csv")
    assert list(bouts.columns) == ["recording", "individual", "partner", "behavior", "start_frame", "stop_frame",
                                   "onset", "offset", "duration"]
    assert (bouts["stop_frame"] <= 80).all()
    info = json.loads((out / "results.json").read_text())
    assert info["command"] == "annotate" and [r["n_frames"] for r in info["recordings"]] == [80, 80, 80]
    assert (out / "conditions.csv").is_file()

    stats = tmp_path / "stats"
    assert main(["report", str(out), "-o", str(stats)]) == 0  # conditions saved by annotate
    enrichment = pd.read_csv(stats / "enrichment.csv")
    assert {"behavior", "group_a", "group_b", "p_value", "p_adjusted", "effect_size"} <= set(enrichment.columns)
    assert set(enrichment["group_a"]) == {"ctrl"} and "moving" in set(enrichment["behavior"])
    assert (stats / "enrichment_group.png").stat().st_size > 10_000
    assert "Enrichment of fraction" in capsys.readouterr().out


def test_annotate_without_fps_or_with_a_bad_file_exits_1_naming_it(tmp_path, capsys):
    bad = tmp_path / "broken.csv"
    bad.write_text("this is,not a\ntracking,table\n")
    out = tmp_path / "o"
    assert main(["annotate", str(sample_path("deepof_single")), str(bad), "--fps", "25", "--px-per-mm", "0.663",
                 "-q", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "broken.csv" in err and "1 of 2 recordings failed" in err and "Traceback" not in err
    assert (out / "annotations" / "testDLC_h5_table_supervised.csv").is_file()  # the good one was written
    assert main(["annotate", str(sample_path("deepof_single")), "-q", "-o", str(out)]) == 1
    assert "pass --fps" in capsys.readouterr().err


def test_missing_files_exit_1_with_a_message_naming_them(tmp_path, capsys):
    missing = tmp_path / "nothing.h5"
    for argv in (["annotate", str(missing), "-o", str(tmp_path / "a")],
                 ["predict", "freezing", str(missing), "-o", str(tmp_path / "p")],
                 ["train", str(missing), "--labels", str(missing), "-o", str(tmp_path / "t")],
                 ["summarize", str(missing), "--output", str(tmp_path / "s")],
                 ["report", str(tmp_path), "-o", str(tmp_path / "r")]):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert (str(tmp_path) in err) and "Traceback" not in err, err
    assert main(["predict", str(tmp_path / "model.joblib"), str(sample_path("deepof_single")), "-o",
                 str(tmp_path / "p")]) == 1
    assert "model.joblib" in capsys.readouterr().err


# -- train + predict ---------------------------------------------------------------------------------------------
def test_train_on_behaviordepot_labels_then_predict(shared_data, tmp_path, capsys):
    tracking = shared_data / "behaviordepot" / "demo2_tracking.csv"
    labels = shared_data / "behaviordepot" / "hB_demo2_manual_annotations.mat"
    model_dir = tmp_path / "model"
    assert main(["train", str(tracking), "--labels", str(labels), "--behaviors", "Freezing", "--fps", "30",
                 "--preset", "freezing", "--max-iter", "20", "--max-frames", "1200", "--cv-folds", "2", "-q",
                 "-o", str(model_dir)]) == 0
    report = json.loads((model_dir / "model.json").read_text())
    assert report["behaviors"] == ["Freezing"] and report["n_frames"] == 1200
    cv = report["cross_validation"]
    assert cv["by"] == "time" and cv["n_folds"] == 2
    pooled = [s for s in cv["scores"] if s["fold"] == "pooled"][0]
    truth = _freezing_labels(shared_data)[:1200]
    assert pooled["support"] == truth.sum()  # every labelled freezing frame was held out once
    assert 0.5 < pooled["f1"] <= 1.0
    scores = pd.read_csv(model_dir / "cv_scores.csv")
    assert list(scores["fold"].astype(str)) == ["0", "1", "pooled"]

    out = tmp_path / "pred"
    assert main(["predict", str(model_dir / "model.joblib"), str(tracking), "--fps", "30", "--max-frames", "600",
                 "-q", "-o", str(out)]) == 0
    pred = pd.read_csv(out / "predictions" / "demo2_tracking.csv")
    assert list(pred.columns) == ["frame", "time", "Freezing", "Freezing_probability"] and len(pred) == 600
    assert set(pred["Freezing"]) <= {0, 1} and pred["Freezing_probability"].between(0, 1).all()
    bouts = pd.read_csv(out / "bouts.csv")
    starts = np.flatnonzero(np.diff(np.r_[0, pred["Freezing"].to_numpy()]) == 1)
    assert bouts["start_frame"].tolist() == starts.tolist()


def test_train_from_a_plain_csv_label_file(shared_data, tmp_path, capsys):
    tracking = shared_data / "behaviordepot" / "demo2_tracking.csv"
    y = _freezing_labels(shared_data)
    labels = tmp_path / "labels.csv"
    pd.DataFrame({"frame": np.arange(y.size), "freezing": y}).to_csv(labels, index=False)
    out = tmp_path / "m"
    assert main(["train", str(tracking), "--labels", str(labels), "--fps", "30", "--max-iter", "10",
                 "--max-frames", "600", "--cv-folds", "0", "-q", "-o", str(out)]) == 0
    assert json.loads((out / "model.json").read_text())["behaviors"] == ["freezing"]
    short = tmp_path / "short.csv"
    pd.DataFrame({"freezing": y[:100]}).to_csv(short, index=False)
    assert main(["train", str(tracking), "--labels", str(short), "--fps", "30", "-q", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "short.csv" in err and "demo2_tracking.csv" in err and "100 frames" in err


def test_predict_with_the_shipped_freezing_model(shared_data, tmp_path):
    tracking = shared_data / "behaviordepot" / "demo2_tracking.csv"
    out = tmp_path / "pred"
    assert main(["predict", "--model", "freezing", str(tracking), "--fps", "30", "--max-frames", "900", "-q",
                 "-o", str(out)]) == 0
    pred = pd.read_csv(out / "predictions" / "demo2_tracking.csv")
    assert len(pred) == 900 and "freezing" in pred.columns
    truth = _freezing_labels(shared_data)[:900]
    assert np.mean(pred["freezing"].to_numpy() == truth) > 0.85
    summary = pd.read_csv(out / "behavior_summary.csv")
    assert summary.loc[0, "fraction"] == pytest.approx(pred["freezing"].mean())
    assert json.loads((out / "results.json").read_text())["model"] == "freezing"


# -- cluster -----------------------------------------------------------------------------------------------------
def test_cluster_tiny_model_and_its_report(tmp_path, capsys):
    pytest.importorskip("keras")
    out = tmp_path / "clusters"
    files = [str(sample_path("deepof_single")), str(sample_path("deepof_multi"))]
    assert main(["cluster", *files, "--fps", "25", "--n-clusters", "3", "--epochs", "1", "--pretrain-epochs", "1",
                 "--encoder", "tcn", "--window", "9", "--max-frames", "60", "--exclude-keypoints", "Tail_1",
                 "Tail_2", "Tail_tip", "-q", "-o", str(out)]) == 0
    multi = pd.read_csv(out / "clusters" / "testDLC_h5_table_multi.csv")
    assert list(multi.columns) == ["frame", "time", "B_cluster", "B_confidence", "W_cluster", "W_confidence"]
    assert len(multi) == 60 and multi[["B_cluster", "W_cluster"]].isin([-1, 0, 1, 2]).all().all()
    occupancy = pd.read_csv(out / "occupancy.csv")
    assert set(occupancy["behavior"]) == {0, 1, 2}
    assert occupancy.groupby(["recording_id", "individual"])["fraction"].sum().round(6).eq(1).all()
    assert (out / "model.joblib").stat().st_size > 10_000
    conditions = tmp_path / "c.csv"
    pd.DataFrame({"id": ["testDLC_h5_table", "testDLC_h5_table_multi"], "arena": ["round", "round"],
                  "sex": ["f", "m"]}).to_csv(conditions, index=False)
    assert main(["report", str(out), "--conditions", str(conditions), "--condition", "sex", "-q",
                 "-o", str(tmp_path / "r")]) == 0
    enrichment = pd.read_csv(tmp_path / "r" / "enrichment.csv")
    assert set(enrichment["behavior"]) == {"cluster_0", "cluster_1", "cluster_2"}
    assert main(["report", str(out), "--conditions", str(conditions), "--condition", "arena", "-q",
                 "-o", str(tmp_path / "r")]) == 1  # one group: nothing to compare
    assert "nothing to compare" in capsys.readouterr().err


def test_cluster_without_keras_says_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "keras", None)
    assert main(["cluster", str(sample_path("deepof_single")), "--fps", "25", "-o", str(tmp_path)]) == 1
    assert 'pip install "deepof-sk[deep]"' in capsys.readouterr().err


# -- summarize, convert ------------------------------------------------------------------------------------------
def test_summarize_a_folder_of_real_files(shared_data, tmp_path):
    out = tmp_path / "vame"
    assert main(["summarize", str(shared_data / "vame" / "cropped_video.csv"), "--fps", "30",
                 "--output", str(out), "--no-annotate"]) == 0
    quality = pd.read_csv(out / "tracking_quality.csv")
    assert len(quality) == 6 and quality["n_frames"].eq(750).all()


def test_convert_to_netcdf_and_back(shared_data, tmp_path):
    src = shared_data / "deepof" / "testDLC_h5_table.h5"
    dst = tmp_path / "test.nc"
    assert main(["convert", str(src), str(dst), "--fps", "25"]) == 0
    a, b = read_poses(src, fps=25), read_netcdf(dst)
    assert (a.position.values[~pd.isna(a.position.values)] == b.position.values[~pd.isna(b.position.values)]).all()


# -- command line, help, progress --------------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [
    ["frobnicate"],
    ["annotate"],  # no input
    ["annotate", "x.h5", "-o", "o", "--arena-size", "380"],  # no unit
    ["annotate", "x.h5", "-o", "o", "--arena-size", "380 mm", "--px-per-mm", "2"],  # exclusive
    ["annotate", "x.h5", "-o", "o", "--format", "xlsx"],
    ["annotate", "x.h5", "-o", "o", "--max-frames", "0"],
    ["annotate", "x.h5", "-o", "o", "--roles", "center"],
    ["annotate", "x.h5"],  # no --output
    ["cluster", "x.h5", "-o", "o", "--n-clusters", "zero"],
    ["train", "x.h5", "-o", "o", "--cv-folds", "1"],
    ["predict", "freezing", "-o", "o"],  # model but no input
    ["convert", "a.h5", "b.xyz"],
    ["report"],
])
def test_bad_command_lines_exit_2(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    assert "error" in capsys.readouterr().err


@pytest.mark.parametrize("verb", VERBS)
def test_help_of_every_command(verb, capsys):
    with pytest.raises(SystemExit) as exc:
        main([verb, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert f"deepof-sk {verb}" in text
    if verb in ("annotate", "train", "predict", "cluster", "report"):
        assert "Example" in text and "--output" in text and "Writes into --output" in text


def test_top_level_help_and_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "deepof-sk demo" in text and all(v in text for v in VERBS) and "Exit codes" in text
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip() == f"deepof-sk {__version__}"
    assert {a.dest for a in build_parser()._actions} >= {"verbose", "quiet", "version"}


def test_the_module_entry_point_exit_code():
    done = subprocess.run([sys.executable, "-m", "deepof_sk.cli", "annotate", "--fps", "25"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "INPUT" in done.stderr and "usage: deepof-sk annotate" in done.stderr


def test_progress_plain_fallback_without_tqdm_and_quiet(tmp_path, monkeypatch, capsys):
    files = [str(sample_path("deepof_single")), str(sample_path("deepof_single_csv"))]
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    args = ["annotate", *files, "--fps", "25", "--px-per-mm", "0.663", "--max-frames", "30",
            "--behaviors", "moving", "climb-arena"]
    assert main([*args, "-o", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert "annotate: 1/2 testDLC_h5_table" in err and "annotate: 2/2 testDLC_csv_table" in err
    assert main([*args, "--quiet", "-o", str(tmp_path / "b")]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "annotate:" not in captured.err
    table = pd.read_csv(tmp_path / "b" / "annotations" / "testDLC_csv_table_supervised.csv", index_col=0)
    assert list(table.columns) == ["climb-arena", "moving", "missing"] and len(table) == 30


def test_verbose_shows_the_traceback(tmp_path, capsys):
    assert main(["-v", "annotate", str(tmp_path / "nothing.h5"), "-o", str(tmp_path / "o")]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_annotate_float32_gives_the_float64_annotations(tmp_path):
    """--float32 on a real DeepOF table with DeepOF's preprocessing (window 15, polyorder 14) and arena detection."""
    out = {}
    for flag in ([], ["--float32"]):
        folder = tmp_path / ("f32" if flag else "f64")
        code = main(["annotate", str(sample_path("deepof_single")), "--fps", "25", "--arena-size", "380 mm",
                     "-q", "-o", str(folder), *flag])
        assert code == 0
        out[bool(flag)] = pd.read_csv(folder / "annotations" / "testDLC_h5_table_supervised.csv", index_col=0)
    pd.testing.assert_frame_equal(out[True], out[False])
