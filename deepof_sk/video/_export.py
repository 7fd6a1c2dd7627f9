"""Annotated videos: skeleton, arena, current behaviours or cluster and time; compilations of bouts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from .. import schema as S
from ..stats._labels import collect_labels
from ..stats._occupancy import find_bouts
from ._render import (
    FrameSource,
    canvas_size,
    draw_poses,
    draw_text_panel,
    hex_to_bgr,
    import_cv2,
    open_writer,
    pixel_positions,
)

__all__ = ["export_annotated_video", "export_bout_compilations"]

#: Okabe-Ito colours reordered for dark video backgrounds (the light ones first).
VIDEO_COLORS = ("#56B4E9", "#E69F00", "#009E73", "#F0E442", "#CC79A7", "#D55E00", "#0072B2")


def _edges(skeleton, keypoints: list[str], where: str) -> list[tuple[int, int]]:
    """Keypoint index pairs to draw as lines."""
    if skeleton is None:
        return []
    from ..features import Skeleton

    if isinstance(skeleton, str):
        if skeleton == "auto":
            sk = Skeleton.from_preset("deepof_14")
            present = [k for k in keypoints if k in sk]
            if not present:
                return []
            sk = sk.subset(present)
        else:
            sk = Skeleton.from_preset(skeleton)
        pairs = list(sk.edges)
    elif isinstance(skeleton, Skeleton):
        pairs = list(skeleton.edges)
    else:
        pairs = [tuple(map(str, e)) for e in skeleton]
    unknown = sorted({k for e in pairs for k in e} - set(keypoints))
    if unknown and not (isinstance(skeleton, str) and skeleton == "auto"):
        raise ValueError(f"{where}: the skeleton names keypoints {unknown} that the recording lacks.")
    index = {k: i for i, k in enumerate(keypoints)}
    return [(index[a], index[b]) for a, b in pairs if a in index and b in index]


def _arena_polygon(arena, ds: xr.Dataset, where: str) -> np.ndarray | None:
    if arena is None:
        return None
    if isinstance(arena, str):
        if arena != "from_attrs":
            raise ValueError(f"{where}: `arena`={arena!r}; give an Arena, 'from_attrs' or None.")
        if ds.attrs.get("arena") is None:
            return None
        from ..preprocessing import get_arena

        arena = get_arena(ds)
    if isinstance(arena, dict):
        from ..preprocessing import Arena

        arena = Arena.from_dict(arena)
    poly = np.asarray(arena.as_polygon() if hasattr(arena, "as_polygon") else arena, dtype=float)
    unit = getattr(arena, "unit", "pixels")
    if unit != "pixels":
        scale = ds.attrs.get("px_per_mm")
        if scale is None:
            raise ValueError(f"{where}: the arena is in {unit!r} and the recording has no attrs['px_per_mm'].")
        poly = poly * float(scale)
    return poly


class _Annotator:
    """Everything needed to draw one recording's frames: positions, edges, arena, label text per frame."""

    def __init__(self, ds, labels, *, fps, skeleton, arena, colors, where):
        self.where = where
        self.pos = pixel_positions(ds, where)
        keypoints = [str(k) for k in ds[S.KEYPOINT].values]
        self.individuals = [str(i) for i in ds[S.INDIVIDUAL].values]
        self.edges = _edges(skeleton, keypoints, where)
        self.arena = _arena_polygon(arena, ds, where)
        self.fps = fps if fps is not None else ds.attrs.get(S.FPS)
        palette = list(colors) if colors is not None else list(VIDEO_COLORS)
        self.colors = [hex_to_bgr(c) if isinstance(c, str) else tuple(c) for c in palette]
        self.tracks, self.names = [], []
        if labels is not None:
            ls = collect_labels([labels], where=where, individuals=self.individuals, fps=self.fps)
            n = ds.sizes[S.TIME]
            if ls.n_time[0] != n:
                raise ValueError(f"{where}: the labels have {ls.n_time[0]} frames; the recording has {n}.")
            self.tracks, self.names = ls.tracks, ls.behaviors
            self.kind = ls.kind

    def label_lines(self, t: int):
        lines = []
        for k, track in enumerate(self.tracks):
            if not track.valid[t].any():
                text = "unlabelled"
            else:
                active = [self.names[j] for j in np.flatnonzero(track.active[t])]
                if self.kind == "state":
                    text = " ".join(f"cluster {a}" if isinstance(a, (int, np.integer)) else str(a) for a in active)
                else:
                    text = ", ".join(map(str, active)) or "-"
            who = "" if track.individual == "all" else f"{track.individual}: "
            idx = self.individuals.index(track.individual) if track.individual in self.individuals else k
            lines.append((f"{who}{text}", self.colors[idx % len(self.colors)]))
        return lines

    def draw(self, cv2, img, t: int, offset: np.ndarray, scale: float, header: str | None, show_time: bool):
        h, w = img.shape[:2]
        thickness = max(1, int(round(min(w, h) / 300)))
        if self.arena is not None:
            poly = np.round(self.arena + offset).astype(np.int32)
            cv2.polylines(img, [poly], True, (255, 255, 255), thickness, cv2.LINE_AA)
        draw_poses(cv2, img, self.pos[t] + offset, self.edges, self.colors, radius=thickness + 2,
                   thickness=thickness)
        lines = []
        if header:
            lines.append((header, (255, 255, 255)))
        if show_time:
            secs = f"{t / self.fps:.2f} s, " if self.fps else ""
            lines.append((f"{secs}frame {t}", (255, 255, 255)))
        lines.extend(self.label_lines(t))
        draw_text_panel(cv2, img, lines, scale)


def export_annotated_video(
    recording: xr.Dataset,
    path,
    *,
    video=None,
    labels=None,
    fps: float | None = None,
    start: int = 0,
    frame_limit: int | None = None,
    skeleton="auto",
    arena="from_attrs",
    colors=None,
    show_time: bool = True,
    codec: str | None = None,
) -> Path:
    """Write a video of one recording with its skeleton, arena, current behaviours (or cluster) and time.

    Parameters
    ----------
    recording : xarray.Dataset
        Poses in pixels (a recording in mm is scaled back with ``attrs["px_per_mm"]``).
    path : path-like
        Output file (``.mp4`` with the mp4v codec, ``.avi`` with MJPG, or ``codec=``).
    video : path-like, optional
        The recording's video to draw on; default a dark canvas fitted to the tracks (and arena).
    labels : optional
        This recording's labels: states of shape ``(time,)`` / ``(time, individual)``, or behaviour masks with a
        ``behavior`` dim (see :func:`deepof_sk.stats.compute_occupancy`).
    fps : float, optional
        Output frame rate (default the recording's, else the video's, else 25).
    start : int, default 0
        First frame.
    frame_limit : int, optional
        Write at most this many frames.
    skeleton : "auto", Skeleton, preset name, list of edges or None, default "auto"
        Lines to draw ("auto": DeepOF's skeleton on the keypoints present; points only when none apply).
    arena : Arena, dict, "from_attrs" or None, default "from_attrs"
        Outline to draw.
    colors : sequence, optional
        Colour per animal (hex strings or BGR tuples; default Okabe-Ito, light colours first).
    show_time : bool, default True
        Print time and frame number.
    codec : str, optional
        FourCC code overriding the one chosen from the extension.

    Returns
    -------
    pathlib.Path
        The written file.

    Notes
    -----
    Frames where a keypoint is NaN simply do not draw it. Frames beyond the end of the video are black.
    """
    where = "export_annotated_video"
    if not isinstance(recording, xr.Dataset):
        raise TypeError(f"{where}: `recording` must be one poses xarray.Dataset; got {type(recording).__name__}.")
    cv2 = import_cv2(where)
    ann = _Annotator(recording, labels, fps=fps, skeleton=skeleton, arena=arena, colors=colors, where=where)
    n_time = recording.sizes[S.TIME]
    if not 0 <= int(start) < n_time:
        raise ValueError(f"{where}: `start`={start} is outside the recording's {n_time} frames.")
    stop = n_time if frame_limit is None else min(n_time, int(start) + int(frame_limit))
    size, offset = canvas_size(ann.pos[start:stop], ann.arena)
    source = FrameSource(cv2, video, size, where)
    if video is not None:
        offset = np.zeros(2)
    rate = fps or recording.attrs.get(S.FPS) or source.fps or 25.0
    writer = open_writer(cv2, path, rate, source.size, codec, where)
    scale = max(0.4, min(source.size) / 700)
    try:
        for t in range(int(start), stop):
            img = source.read(t)
            ann.draw(cv2, img, t, offset, scale, None, show_time)
            writer.write(img)
    finally:
        writer.release()
        source.close()
    return Path(path)


def _as_list(value, n: int, name: str, where: str) -> list:
    if value is None:
        return [None] * n
    if isinstance(value, (str, Path)) or not isinstance(value, Sequence):
        raise TypeError(f"{where}: `{name}` must be a list with one entry per recording.")
    value = list(value)
    if len(value) != n:
        raise ValueError(f"{where}: `{name}` has {len(value)} entries for {n} recordings.")
    return value


def export_bout_compilations(
    recordings,
    labels,
    output_dir,
    *,
    videos=None,
    behaviors=None,
    fps: float | None = None,
    min_duration: float = 0.5,
    frame_limit: int = 500,
    recording_ids: Sequence[str] | None = None,
    skeleton="auto",
    arena="from_attrs",
    colors=None,
    extension: str = ".mp4",
    codec: str | None = None,
) -> dict:
    """One video per behaviour (or cluster) that strings together its bouts across recordings.

    Bouts are taken in turn from each recording (the first bout of every recording, then the second, ...) until
    ``frame_limit`` frames are written, so a compilation shows many animals rather than one.

    Parameters
    ----------
    recordings : sequence of xarray.Dataset
        Poses in pixels.
    labels : sequence
        Per-recording labels (states or behaviour masks).
    output_dir : path-like
        Folder for the videos, named ``<behavior>.mp4`` (clusters: ``cluster_<k>.mp4``).
    videos : sequence of path-like, optional
        The recordings' videos (default: dark canvases). All recordings then need one, of the same frame size.
    behaviors : sequence, optional
        Behaviours or clusters to compile (default all).
    fps : float, optional
        Frame rate of the labels and of the output (default the recordings' ``attrs["fps"]``, else 25).
    min_duration : float, default 0.5
        Shortest bout kept, in seconds.
    frame_limit : int, default 500
        Most frames per compilation.
    recording_ids : sequence of str, optional
        Names printed on the clips (default ``attrs["recording_id"]`` or the position).
    skeleton, arena, colors, codec
        As for :func:`export_annotated_video`.
    extension : str, default ".mp4"
        Output container.

    Returns
    -------
    dict
        ``{behavior: path}`` of the written videos (behaviours without a long enough bout are skipped).
    """
    where = "export_bout_compilations"
    if isinstance(recordings, xr.Dataset):
        recordings = [recordings]
    recordings = list(recordings)
    n = len(recordings)
    label_list = _as_list(labels, n, "labels", where)
    video_list = _as_list(videos, n, "videos", where)
    cv2 = import_cv2(where)
    rates = [fps or ds.attrs.get(S.FPS) or 25.0 for ds in recordings]
    ids = list(recording_ids) if recording_ids is not None else [
        str(ds.attrs.get("recording_id", i)) for i, ds in enumerate(recordings)]
    bouts = find_bouts(label_list, fps=rates, recording_ids=ids)
    if bouts.empty:
        return {}
    bouts = bouts[bouts["duration_s"] >= min_duration]
    wanted = list(behaviors) if behaviors is not None else sorted(bouts["behavior"].unique(),
                                                                  key=lambda v: (str(type(v)), v))
    annotators = [
        _Annotator(ds, lab, fps=rates[i], skeleton=skeleton, arena=arena, colors=colors, where=where)
        for i, (ds, lab) in enumerate(zip(recordings, label_list, strict=True))
    ]
    if any(v is not None for v in video_list):
        if any(v is None for v in video_list):
            raise ValueError(f"{where}: give a video for every recording, or none.")
        sizes = {FrameSource(cv2, v, None, where).size for v in video_list}
        if len(sizes) > 1:
            raise ValueError(f"{where}: the videos differ in frame size {sorted(sizes)}; compile them separately.")
        size, offsets = sizes.pop(), [np.zeros(2)] * n
    else:
        allpos = np.concatenate([a.pos.reshape(-1, 2) for a in annotators])[None, None]
        arenas = [a.arena for a in annotators if a.arena is not None]
        size, offset = canvas_size(allpos, np.vstack(arenas) if arenas else None)
        offsets = [offset] * n
    out_dir = Path(output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    scale = max(0.4, min(size) / 700)
    for beh in wanted:
        sel = bouts[bouts["behavior"] == beh].copy()
        if sel.empty:
            continue
        sel["turn"] = sel.groupby("recording").cumcount()
        sel = sel.sort_values(["turn", "recording"], kind="stable")
        name = f"cluster_{beh}" if isinstance(beh, (int, np.integer)) else str(beh).replace(" ", "_")
        path = out_dir / f"{name}{extension}"
        writer = open_writer(cv2, path, float(np.median(rates)), size, codec, where)
        sources = {}
        count = 0
        try:
            for row in sel.itertuples(index=False):
                r = int(row.recording)
                if r not in sources:
                    sources[r] = FrameSource(cv2, video_list[r], size, where)
                who = "" if row.individual == "all" else f", {row.individual}"
                header = f"recording {ids[r]}{who}: bout {row.start_s:.1f}-{row.start_s + row.duration_s:.1f} s"
                for t in range(int(row.start), int(row.stop)):
                    if count >= frame_limit:
                        break
                    img = sources[r].read(t)
                    annotators[r].draw(cv2, img, t, offsets[r], scale, header, True)
                    writer.write(img)
                    count += 1
                if count >= frame_limit:
                    break
        finally:
            writer.release()
            for s in sources.values():
                s.close()
        written[beh.item() if isinstance(beh, np.generic) else beh] = path
    return written
