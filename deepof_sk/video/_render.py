"""Private: frame sources (a real video or a blank canvas) and the drawing of poses, arena, labels and time."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from .. import schema as S
from ..utils._optional import import_optional

_CODECS = {".mp4": "mp4v", ".avi": "MJPG", ".mov": "mp4v", ".mkv": "XVID"}


def import_cv2(where: str):
    return import_optional("cv2", where)


def hex_to_bgr(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    r, g, b = (int(c[i:i + 2], 16) for i in (0, 2, 4))
    return (b, g, r)


def open_writer(cv2, path, fps: float, size: tuple[int, int], codec: str | None, where: str):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fourcc = codec or _CODECS.get(path.suffix.lower(), "mp4v")
    writer = cv2.VideoWriter(os.fspath(path), cv2.VideoWriter_fourcc(*fourcc), float(fps), size)
    if not writer.isOpened():
        raise ValueError(
            f"{where}: OpenCV cannot write {str(path)!r} with codec {fourcc!r}; use a .mp4 (mp4v) or .avi (MJPG) "
            "file name, or pass codec=."
        )
    return writer


class FrameSource:
    """Frames of a real video (read sequentially, seeking only on jumps) or a blank canvas of a given size."""

    def __init__(self, cv2, video, size: tuple[int, int] | None, where: str):
        self.cv2 = cv2
        self.cap = None
        self.next_index = 0
        if video is not None:
            if not Path(video).is_file():
                raise FileNotFoundError(f"{where}: the video {str(video)!r} does not exist.")
            self.cap = cv2.VideoCapture(os.fspath(video))
            if not self.cap.isOpened():
                raise ValueError(f"{where}: OpenCV cannot open the video {str(video)!r}.")
            w = int(self.cap.get(cv2.CAP_PROP_FRAME_WIDTH))
            h = int(self.cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
            self.size = (w, h)
            self.n_frames = int(self.cap.get(cv2.CAP_PROP_FRAME_COUNT))
            self.fps = float(self.cap.get(cv2.CAP_PROP_FPS)) or None
        else:
            self.size = size
            self.n_frames = None
            self.fps = None

    def read(self, index: int) -> np.ndarray:
        w, h = self.size
        if self.cap is None:
            return np.full((h, w, 3), 28, dtype=np.uint8)
        if index != self.next_index:
            self.cap.set(self.cv2.CAP_PROP_POS_FRAMES, int(index))
        ok, frame = self.cap.read()
        self.next_index = index + 1
        if not ok or frame is None:
            return np.zeros((h, w, 3), dtype=np.uint8)
        return frame

    def close(self):
        if self.cap is not None:
            self.cap.release()


def pixel_positions(ds: xr.Dataset, where: str) -> np.ndarray:
    """Positions (time, individual, keypoint, 2) in pixels (mm recordings are scaled back with attrs px_per_mm)."""
    pos = ds[S.POSITION].transpose(S.TIME, S.INDIVIDUAL, S.KEYPOINT, S.SPACE).values[..., :2].astype(float)
    unit = ds.attrs.get(S.SPACE_UNIT, "pixels")
    if unit != "pixels":
        scale = ds.attrs.get("px_per_mm")
        if scale is None:
            raise ValueError(
                f"{where}: the recording is in {unit!r} without attrs['px_per_mm']; overlays need pixel coordinates "
                "(use the unscaled recording, or ArenaScaler.inverse_transform)."
            )
        pos = pos * float(scale)
    return pos


def canvas_size(pos: np.ndarray, arena_poly: np.ndarray | None, margin: int = 20):
    """(width, height) of a blank canvas holding every point, and the offset added to coordinates."""
    pts = pos.reshape(-1, 2)
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    if arena_poly is not None:
        pts = np.vstack([pts, arena_poly]) if len(pts) else arena_poly
    if not len(pts):
        return (320, 240), np.zeros(2)
    lo, hi = pts.min(0), pts.max(0)
    offset = margin - np.minimum(lo, 0.0)
    size = np.ceil(np.maximum(hi + offset + margin, 64)).astype(int)
    return (int(size[0]) + int(size[0]) % 2, int(size[1]) + int(size[1]) % 2), offset


def draw_poses(cv2, img, pts: np.ndarray, edges, colors, radius: int, thickness: int):
    """Skeleton lines and keypoint dots of every animal; pts (individual, keypoint, 2) in pixels."""
    for i in range(pts.shape[0]):
        color = colors[i % len(colors)]
        p = pts[i]
        for a, b in edges:
            if np.all(np.isfinite(p[[a, b]])):
                cv2.line(img, tuple(np.round(p[a]).astype(int)), tuple(np.round(p[b]).astype(int)), color,
                         thickness, cv2.LINE_AA)
        for k in range(p.shape[0]):
            if np.all(np.isfinite(p[k])):
                cv2.circle(img, tuple(np.round(p[k]).astype(int)), radius, color, -1, cv2.LINE_AA)


def draw_text_panel(cv2, img, lines, scale: float):
    """Lines of (text, BGR colour) in a translucent box at the top left."""
    if not lines:
        return
    font = cv2.FONT_HERSHEY_SIMPLEX
    thick = max(1, int(round(scale * 1.5)))
    sizes = [cv2.getTextSize(t, font, scale, thick)[0] for t, _ in lines]
    line_h = max(s[1] for s in sizes) + int(8 * scale) + 4
    w = max(s[0] for s in sizes) + 16
    h = line_h * len(lines) + 8
    h_img, w_img = img.shape[:2]
    w, h = min(w, w_img), min(h, h_img)
    roi = img[0:h, 0:w]
    roi[:] = (roi * 0.35).astype(np.uint8)
    for k, (text, color) in enumerate(lines):
        cv2.putText(img, text, (8, (k + 1) * line_h), font, scale, color, thick, cv2.LINE_AA)
