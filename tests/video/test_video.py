"""Annotated videos and bout compilations, tested on a video the test renders itself."""

from __future__ import annotations

import numpy as np
import pytest

from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.preprocessing import Arena, attach_arena
from deepof_sk.video import export_annotated_video, export_bout_compilations

cv2 = pytest.importorskip("cv2")

SIZE = 320
N = 60


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """A two-mouse recording in pixels, its arena, and a grey video with a disc under each animal's centre."""
    folder = tmp_path_factory.mktemp("video")
    ds = make_synthetic_poses(N, scenario="explore", n_individuals=2, arena_radius=140.0, random_state=0)
    ds = ds.assign(position=ds.position + SIZE / 2)
    ds = attach_arena(ds, Arena.circle((SIZE / 2, SIZE / 2), 150.0))
    path = folder / "source.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (SIZE, SIZE))
    centre = ds.position.sel(keypoint="Center").transpose("time", "individual", "space").values
    for t in range(N):
        img = np.full((SIZE, SIZE, 3), 90, np.uint8)
        for c in centre[t]:
            cv2.circle(img, (int(c[0]), int(c[1])), 10, (200, 200, 200), -1)
        writer.write(img)
    writer.release()
    labels = np.stack([np.repeat([0, 1, 2], N // 3), np.repeat([2, 0, 1], N // 3)], axis=1)
    return folder, ds, path, labels


def _read(path):
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    fps = cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    return np.asarray(frames), fps


def test_annotated_video_on_a_real_video(scene):
    folder, ds, source, labels = scene
    out = export_annotated_video(ds, folder / "annotated.avi", video=source, labels=labels, start=5, frame_limit=30)
    frames, fps = _read(out)
    assert frames.shape == (30, SIZE, SIZE, 3) and fps == pytest.approx(25.0)
    # the nose of mouse1 is drawn in the first animal colour (sky blue, BGR 233, 180, 86) on the grey video
    t = 10
    nose = ds.position.sel(keypoint="Nose", individual="mouse1").isel(time=5 + t).values.round().astype(int)
    patch = frames[t, nose[1] - 1:nose[1] + 2, nose[0] - 1:nose[0] + 2].reshape(-1, 3).astype(int)
    assert np.abs(patch - [233, 180, 86]).sum(1).min() < 80
    # the label panel (top left) is darker than the source video and holds text
    panel = frames[t, 2:40, 2:120]
    assert panel.mean() < 80 and panel.max() > 150
    source_frames, _ = _read(source)
    assert np.abs(frames[t].astype(int) - source_frames[5 + t]).mean() > 1.0


def test_blank_canvas_and_behaviour_masks(scene):
    import xarray as xr

    folder, ds, _, _ = scene
    masks = xr.DataArray(np.zeros((N, 2, 2)), dims=("time", "behavior", "individual"),
                         coords={"behavior": ["climb", "sniff"], "individual": ["mouse1", "mouse2"]})
    out = export_annotated_video(ds, folder / "canvas.mp4", labels=masks, frame_limit=12, skeleton=None)
    frames, _ = _read(out)
    assert len(frames) == 12 and frames.shape[1] >= SIZE - 40


def test_bout_compilations_respect_the_frame_limit(scene):
    folder, ds, source, labels = scene
    written = export_bout_compilations(
        [ds, ds.copy()], [labels, labels], folder / "clips", videos=[source, source], fps=25.0,
        min_duration=0.5, frame_limit=25, extension=".avi",
    )
    assert sorted(written) == [0, 1, 2] and written[1].name == "cluster_1.avi"
    frames, _ = _read(written[1])
    assert len(frames) == 25  # 4 bouts of 20 frames available, cut at the limit
    none = export_bout_compilations([ds], [labels], folder / "none", min_duration=5.0)
    assert none == {}


def test_errors(scene):
    folder, ds, source, labels = scene
    mm = ds.assign_attrs(space_unit="mm")
    mm.attrs.pop("px_per_mm", None)
    with pytest.raises(ValueError, match="px_per_mm"):
        export_annotated_video(mm, folder / "x.mp4")
    with pytest.raises(ValueError, match="frames"):
        export_annotated_video(ds, folder / "x.mp4", labels=labels[:10])
    with pytest.raises(TypeError, match="one poses"):
        export_annotated_video([ds], folder / "x.mp4")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        export_annotated_video(ds, folder / "x.mp4", video=folder / "missing.mp4")
