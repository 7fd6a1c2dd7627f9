"""The deepof-sk command line: the README's main job, summarize, convert, exit codes."""

from __future__ import annotations

import pandas as pd
import pytest

from deepof_sk.cli import main
from deepof_sk.io import read_netcdf, read_poses


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


def test_errors_give_exit_code_1_and_a_message(tmp_path, capsys):
    assert main(["summarize", str(tmp_path / "nothing.h5"), "--output", str(tmp_path / "o")]) == 1
    assert "nothing.h5" in capsys.readouterr().err
    assert main(["convert", str(tmp_path / "a.h5"), str(tmp_path / "b.xyz")]) == 1


def test_help_and_bad_usage(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "deepof-sk demo" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2
