"""DeepLabCut tables: real files, the DeepOF prefixed layout, and the write/read round trip."""

from __future__ import annotations

import numpy as np
import pytest

from deepof_sk import schema as S
from deepof_sk.io import read_dlc, read_poses, split_animal_prefixes, write_dlc
from deepof_sk.validation import make_poses_dataset, validate_poses

DEEPOF_14 = [
    "Nose", "Left_ear", "Right_ear", "Spine_1", "Center", "Spine_2", "Tail_base",
    "Tail_1", "Tail_2", "Tail_tip", "Left_bhip", "Right_bhip", "Left_fhip", "Right_fhip",
]  # fmt: skip


# ------------------------------------------------------------------------------------------------ DeepOF test tables
def test_single_animal_h5_and_csv(shared_data):
    h5 = read_dlc(shared_data / "deepof" / "testDLC_h5_table.h5")
    csv = read_dlc(shared_data / "deepof" / "testDLC_csv_table.csv")
    for ds, n in ((h5, 100), (csv, 97)):
        validate_poses(ds)
        assert dict(ds.sizes) == {"time": n, "space": 2, "keypoint": 14, "individual": 1}
        assert ds[S.KEYPOINT].values.tolist() == DEEPOF_14
        assert ds.attrs["fps"] is None and ds.attrs["time_unit"] == "frames"
        assert ds.attrs["source_software"] == "DeepLabCut"
        assert ds[S.CONFIDENCE].notnull().all()


def test_prefixed_multi_animal_is_split(shared_data):
    for name, n in (("testDLC_h5_table_multi.h5", 100), ("testDLC_csv_table_multi.csv", 98)):
        ds = read_dlc(shared_data / "deepof" / name)
        assert ds[S.INDIVIDUAL].values.tolist() == ["B", "W"]
        assert ds[S.KEYPOINT].values.tolist() == DEEPOF_14
        assert ds.sizes["time"] == n


def test_prefixed_multi_animal_explicit_ids_match_auto(shared_data):
    path = shared_data / "deepof" / "testDLC_h5_table_multi.h5"
    auto = read_dlc(path)
    explicit = read_dlc(path, animal_ids=["B", "W"])
    kept = read_dlc(path, animal_ids=None)
    np.testing.assert_array_equal(auto[S.POSITION].values, explicit[S.POSITION].values)
    assert kept.sizes["individual"] == 1 and kept.sizes["keypoint"] == 28
    assert "B_Nose" in kept[S.KEYPOINT].values.tolist()
    # the split data are the prefixed columns
    np.testing.assert_array_equal(
        auto[S.POSITION].sel(individual="W", keypoint="Tail_tip").values,
        kept[S.POSITION].sel(individual="individual_0", keypoint="W_Tail_tip").values,
    )


def test_wrong_explicit_animal_ids(shared_data):
    with pytest.raises(ValueError, match=r"do not start with any of the prefixes"):
        read_dlc(shared_data / "deepof" / "testDLC_h5_table_multi.h5", animal_ids=["B", "X"])


def test_madlc(shared_data):
    for name, n in (("testDLC_h5_table_madlc.h5", 100), ("testDLC_csv_table_madlc.csv", 97)):
        ds = read_dlc(shared_data / "deepof" / name)
        assert ds[S.INDIVIDUAL].values.tolist() == ["mouse_black_tail", "mouse_white_tail"]
        assert ds[S.KEYPOINT].values.tolist() == DEEPOF_14
        assert ds.sizes["time"] == n
        # undetected points are written as (0, 0, likelihood 0): read as NaN positions, likelihood kept
        missing = ds[S.POSITION].isnull().any(S.SPACE)
        assert missing.any()
        assert (ds[S.CONFIDENCE].where(missing) == 0).sum() == missing.sum()
        assert not (ds[S.POSITION] == 0).any()


@pytest.mark.parametrize(
    ("csv_name", "h5_name", "n_frames"),
    [("testDLC_csv_table_multi.csv", "testDLC_h5_table_multi.h5", 98),
     ("testDLC_csv_table_madlc.csv", "testDLC_h5_table_madlc.h5", 97)],
)  # fmt: skip
def test_csv_is_exactly_the_first_frames_of_its_h5_twin(shared_data, csv_name, h5_name, n_frames):
    csv = read_dlc(shared_data / "deepof" / csv_name)
    h5 = read_dlc(shared_data / "deepof" / h5_name)
    assert csv.sizes["time"] == n_frames
    head = h5.isel(time=slice(0, n_frames))
    np.testing.assert_array_equal(csv[S.POSITION].values, head[S.POSITION].values)  # NaN == NaN, else exact
    np.testing.assert_array_equal(csv[S.CONFIDENCE].values, head[S.CONFIDENCE].values)
    # and the frame after differs from nothing in the CSV: the twin really has more frames
    assert h5.sizes["time"] == 100


def test_square_arena(shared_data):
    ds = read_dlc(shared_data / "deepof" / "testDLC_square_arena.h5")
    assert dict(ds.sizes) == {"time": 451, "space": 2, "keypoint": 14, "individual": 1}


# ------------------------------------------------------------------------------------------------------ other tools
def test_mabe_without_likelihood_and_names_with_spaces(shared_data):
    ds = read_dlc(shared_data / "amadeusgpt" / "EGS8X2MN4SSUGFWAV976.h5")
    assert dict(ds.sizes) == {"time": 1800, "space": 2, "keypoint": 12, "individual": 3}
    assert ds[S.INDIVIDUAL].values.tolist() == ["mouse1", "mouse2", "mouse3"]
    assert "left ear" in ds[S.KEYPOINT].values.tolist() and "center back" in ds[S.KEYPOINT].values.tolist()
    assert ds[S.CONFIDENCE].isnull().all()
    assert ds[S.POSITION].dtype == np.float64


def test_3d_keypoints(shared_data):
    ds = read_dlc(shared_data / "amadeusgpt" / "keypoints_3d_short.h5")
    assert dict(ds.sizes) == {"time": 1000, "space": 3, "keypoint": 30, "individual": 1}
    assert ds[S.SPACE].values.tolist() == ["x", "y", "z"]
    assert ds[S.CONFIDENCE].isnull().all()
    # points stored as (0, 0, 0) are missing
    assert ds[S.POSITION].isnull().any() and not (ds[S.POSITION] == 0).all(S.SPACE).any()


@pytest.mark.parametrize(
    ("folder", "name", "n_frames", "keypoints"),
    [
        ("behaviordepot", "demo2_tracking.csv", 3600,
         ["LED", "nose", "l_ear", "r_ear", "midback", "l_hip", "r_hip", "tailbase", "midtail"]),
        ("behaviordepot", "demo4_video.csv", 3540, ["Nose", "LeftEar", "RightEar", "Tailbase", "Implant"]),
        ("vame", "cropped_video.csv", 750,
         ["Nose", "Forehand-Left", "Forehand-Right", "Hindhand-Left", "Hindhand-Right", "Tailroot"]),
    ],
)  # fmt: skip
def test_other_dlc_csvs(shared_data, folder, name, n_frames, keypoints):
    ds = read_dlc(shared_data / folder / name)
    assert ds.sizes["time"] == n_frames and ds.sizes["individual"] == 1
    assert ds[S.KEYPOINT].values.tolist() == keypoints


def test_old_deepcut_csv(shared_data):
    path = shared_data / "dlcanalyzer" / "EPM_15DeepCut_resnet50_epmMay17shuffle1_1030000.csv"
    ds = read_dlc(path)
    assert dict(ds.sizes) == {"time": 962, "space": 2, "keypoint": 25, "individual": 1}
    assert ds[S.KEYPOINT].values.tolist()[:3] == ["tl", "tr", "bl"] and "tailtip" in ds[S.KEYPOINT].values
    assert ds.attrs["recording_id"] == "EPM_15"


def test_lightning_pose_is_the_dlc_layout(shared_data):
    ds = read_poses(shared_data / "vame" / "cropped_video.csv", source_software="LightningPose")
    assert ds.attrs["source_software"] == "LightningPose" and ds.sizes["keypoint"] == 6


# ----------------------------------------------------------------------------------------------- prefix detection
@pytest.mark.parametrize(
    "names",
    [
        ["Nose", "Left_ear", "Right_ear", "Tail_base"],
        ["Left_ear", "Right_ear", "Left_hip", "Right_hip"],
        ["Spine_1", "Spine_2", "Tail_1", "Tail_2"],
        ["Ear_left", "Ear_right", "Paw_left", "Paw_right"],
        ["B_Nose", "W_Nose"],
        ["B_Nose", "B_Tail", "W_Nose", "W_Ear"],
    ],
)
def test_auto_split_is_conservative(names):
    assert split_animal_prefixes(names)[0] is None


def test_auto_split_of_prefixed_names():
    animals, kps = split_animal_prefixes(["m1_nose", "m1_left ear", "m2_nose", "m2_left ear"])
    assert animals == ["m1", "m1", "m2", "m2"] and kps == ["nose", "left ear", "nose", "left ear"]


# ----------------------------------------------------------------------------------------------------- round trip
@pytest.mark.parametrize("suffix", [".h5", ".csv"])
@pytest.mark.parametrize("n_individuals", [1, 2])
def test_write_read_round_trip(tmp_path, suffix, n_individuals):
    rng = np.random.default_rng(0)
    pos = rng.uniform(0, 500, (30, 2, 3, n_individuals))
    pos[3, :, 1, 0] = np.nan
    conf = rng.uniform(0, 1, (30, 3, n_individuals))
    names = ["nose", "left ear", " tail base "]  # spaces survive exactly
    animals = ["mouse a", "mouse b"][:n_individuals]
    ds = make_poses_dataset(pos, conf, keypoints=names, individuals=animals)
    path = tmp_path / f"rec{suffix}"
    write_dlc(ds, path, multi_animal=n_individuals > 1)
    back = read_dlc(path, animal_ids=None)
    assert back[S.KEYPOINT].values.tolist() == names
    if n_individuals > 1:
        assert back[S.INDIVIDUAL].values.tolist() == animals
    np.testing.assert_array_equal(back[S.POSITION].values, pos)  # exact, NaN kept
    np.testing.assert_array_equal(back[S.CONFIDENCE].values, conf)


def test_write_read_round_trip_3d_and_multi_animal_single(tmp_path):
    rng = np.random.default_rng(1)
    pos = rng.normal(size=(12, 3, 2, 1))
    ds = make_poses_dataset(pos, None, keypoints=["a", "b"], individuals=["solo"])
    write_dlc(ds, tmp_path / "three.h5", multi_animal=True)
    back = read_dlc(tmp_path / "three.h5")
    assert back[S.INDIVIDUAL].values.tolist() == ["solo"] and back[S.SPACE].values.tolist() == ["x", "y", "z"]
    np.testing.assert_array_equal(back[S.POSITION].values, pos)
    assert back[S.CONFIDENCE].isnull().all()


def test_zero_as_missing_can_be_switched_off(shared_data):
    ds = read_dlc(shared_data / "deepof" / "testDLC_h5_table_madlc.h5", zero_as_missing=False)
    assert not ds[S.POSITION].isnull().any() and (ds[S.POSITION] == 0).any()


def test_multi_animal_with_unique_bodyparts(tmp_path):
    """maDLC's 'single' individual carries unique body parts: keypoints are the union, absent pairs NaN."""
    text = (
        "scorer,s,s,s,s,s,s,s,s,s\n"
        "individuals,m1,m1,m1,m2,m2,m2,single,single,single\n"
        "bodyparts,nose,nose,nose,nose,nose,nose,led,led,led\n"
        "coords,x,y,likelihood,x,y,likelihood,x,y,likelihood\n"
        "0,1,2,0.5,3,4,0.6,5,6,0.7\n"
        "1,1.5,,0.5,3.5,4.5,0.6,5.5,6.5,0.7\n"
    )
    path = tmp_path / "unique.csv"
    path.write_text(text)
    ds = read_dlc(path)
    assert ds[S.INDIVIDUAL].values.tolist() == ["m1", "m2", "single"]
    assert ds[S.KEYPOINT].values.tolist() == ["nose", "led"]
    assert ds[S.POSITION].sel(individual="single", keypoint="led", time=1).values.tolist() == [5.5, 6.5]
    assert ds[S.POSITION].sel(individual="m1", keypoint="led").isnull().all()
    assert ds[S.CONFIDENCE].sel(individual="m2", keypoint="led").isnull().all()
    assert np.isnan(
        ds[S.POSITION].sel(individual="m1", keypoint="nose", time=1, space="y").item()
    )  # empty cell


def test_fast_float_parsing_is_within_a_few_ulp(shared_data):
    path = shared_data / "deepof" / "testDLC_csv_table_multi.csv"
    exact, fast = read_dlc(path), read_dlc(path, float_precision="high")
    np.testing.assert_array_max_ulp(fast[S.POSITION].values, exact[S.POSITION].values, maxulp=4)
    with pytest.raises(ValueError, match="float_precision"):
        read_dlc(path, float_precision="low")
