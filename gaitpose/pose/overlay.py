"""Overlay video: frames with the skeleton and the silhouette outline drawn (OpenCV, mp4v)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from gaitpose.pose.person_mask import PersonMask
from graphs.layouts import MEDIAPIPE33_EDGES

BONE_COLOR = (0, 220, 255)  # BGR
JOINT_COLOR = (0, 90, 255)
OUTLINE_COLOR = (255, 120, 0)


def draw_pose(
    frame_bgr: np.ndarray,
    keypoints: np.ndarray | None,
    person: PersonMask | None = None,
    min_score: float = 0.3,
) -> np.ndarray:
    """Draw the skeleton and the silhouette outline on ``frame_bgr`` in place.

    Args:
        frame_bgr: uint8 [H, W, 3] BGR frame (modified and returned).
        keypoints: float [33, 3] x px, y px, score (NaN when missing) or None.
        person: the chosen person mask (its outline is drawn) or None.
        min_score: joints below this visibility are not drawn.
    """
    h, w = frame_bgr.shape[:2]
    thick = max(1, round(max(h, w) / 400))
    if person is not None:
        contours, _ = cv2.findContours(person.crop, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        if contours:
            cv2.drawContours(frame_bgr, contours, -1, OUTLINE_COLOR, thick, offset=(person.x0, person.y0))
    if keypoints is not None:
        kp = np.asarray(keypoints)
        ok = np.isfinite(kp[:, :2]).all(1) & (kp[:, 2] >= min_score)
        pts = np.nan_to_num(kp[:, :2]).round().astype(int)
        for a, b in MEDIAPIPE33_EDGES:
            if ok[a] and ok[b]:
                cv2.line(frame_bgr, tuple(pts[a]), tuple(pts[b]), BONE_COLOR, thick, cv2.LINE_AA)
        for i in np.flatnonzero(ok):
            cv2.circle(frame_bgr, tuple(pts[i]), thick + 1, JOINT_COLOR, -1, cv2.LINE_AA)
    return frame_bgr


class OverlayWriter:
    """Write overlay frames to ``path`` with the mp4v codec (the caller makes it atomic).

    Args:
        path: output file (``.mp4``).
        fps: frame rate.
        size: (height, width).
    """

    def __init__(self, path: str | os.PathLike, fps: float, size: tuple[int, int]) -> None:
        self.path = Path(path)
        h, w = size
        self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (w, h))
        if not self._writer.isOpened():
            raise OSError(f"cannot open an mp4v video writer for {self.path}")

    def write(self, frame_bgr: np.ndarray) -> None:
        self._writer.write(frame_bgr)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
