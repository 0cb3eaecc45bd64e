"""Images of a walk for the report, as ``data:`` URIs (the report embeds them; nothing is
fetched): key frames with the skeleton drawn, and a strip of silhouettes.

Key frames come from the video when it is at hand (the frames the keypoints belong to), else
the skeleton is drawn on a plain background (a Sequence file keeps no pixels).
"""

from __future__ import annotations

import base64
from pathlib import Path

import cv2
import numpy as np

from gaitpose.io.sequence import Sequence

FRAME_HEIGHT = 360  #: pixels of a key frame in the report
STRIP_FRAMES = 8


def data_uri(image_bgr: np.ndarray, kind: str = "jpg") -> str:
    """Encode an image as a ``data:image/...;base64,`` URI."""
    ok, buf = cv2.imencode(f".{kind}", image_bgr, [cv2.IMWRITE_JPEG_QUALITY, 85] if kind == "jpg" else [])
    if not ok:
        raise ValueError("cannot encode image")
    mime = "jpeg" if kind == "jpg" else kind
    return f"data:image/{mime};base64,{base64.b64encode(buf.tobytes()).decode('ascii')}"


def key_frame_indices(seq: Sequence, count: int = 3) -> list[int]:
    """Rows of ``seq`` at 20 %, 50 % and 80 % of the frames with a person (fewer if fewer)."""
    rows = np.flatnonzero(np.asarray(seq.detected, bool))
    if rows.size == 0:
        return []
    picks = [rows[int(round(q * (rows.size - 1)))] for q in np.linspace(0.2, 0.8, count)]
    return sorted(set(int(r) for r in picks))


def _video_frame(video: Path, frame_index: int) -> np.ndarray | None:
    cap = cv2.VideoCapture(str(video))
    try:
        cap.set(cv2.CAP_PROP_POS_FRAMES, int(frame_index))
        ok, frame = cap.read()
        return frame if ok else None
    finally:
        cap.release()


def _person_box(kp: np.ndarray, shape: tuple[int, int], margin: float = 0.35) -> tuple[int, int, int, int]:
    """Crop (x0, y0, x1, y1) around the valid keypoints, with a margin; the whole image if none."""
    h, w = shape
    ok = np.isfinite(kp[:, :2]).all(1) & (np.nan_to_num(kp[:, 2]) > 0)
    if not ok.any():
        return 0, 0, w, h
    x0, y0 = kp[ok, :2].min(0)
    x1, y1 = kp[ok, :2].max(0)
    mx, my = (x1 - x0) * margin + 10, (y1 - y0) * margin * 0.5 + 10
    return (int(max(0, x0 - mx)), int(max(0, y0 - my)), int(min(w, x1 + mx)), int(min(h, y1 + my)))


def key_frames(seq: Sequence, video: Path | None = None) -> list[dict[str, str]]:
    """Key frames with the skeleton overlay: ``[{"uri", "caption"}]``."""
    from gaitpose.pose.overlay import draw_pose

    out = []
    h, w = seq.image_size
    for row in key_frame_indices(seq):
        fi = int(seq.frame_index[row])
        frame = _video_frame(video, fi) if video is not None else None
        if frame is None:
            frame = np.full((h, w, 3), 236, np.uint8)
        kp = seq.keypoints[row]
        if seq.layout != "mediapipe33":
            kp = None  # the overlay draws MediaPipe-33 bones only
        if kp is not None:
            draw_pose(frame, kp)
        x0, y0, x1, y1 = _person_box(seq.keypoints[row], (h, w))
        crop = frame[y0:y1, x0:x1]
        scale = FRAME_HEIGHT / max(1, crop.shape[0])
        crop = cv2.resize(crop, (max(1, int(crop.shape[1] * scale)), FRAME_HEIGHT), interpolation=cv2.INTER_AREA)
        out.append({"uri": data_uri(crop), "caption": f"frame {fi} ({fi / seq.fps:.1f} s)"})
    return out


def silhouette_strip(seq: Sequence, count: int = STRIP_FRAMES) -> str | None:
    """``count`` silhouettes side by side (evenly spaced over the frames with a person), PNG."""
    if seq.silhouettes is None:
        return None
    rows = np.flatnonzero(np.asarray(seq.detected, bool) & (seq.silhouettes.reshape(seq.num_frames, -1).max(1) > 0))
    if rows.size == 0:
        return None
    picks = rows[np.linspace(0, rows.size - 1, min(count, rows.size)).round().astype(int)]
    tiles = [np.pad(255 - seq.silhouettes[r], 2, constant_values=200) for r in picks]
    strip = np.concatenate(tiles, axis=1)
    strip = cv2.resize(strip, (strip.shape[1] * 2, strip.shape[0] * 2), interpolation=cv2.INTER_NEAREST)
    return data_uri(cv2.cvtColor(strip, cv2.COLOR_GRAY2BGR), "png")
