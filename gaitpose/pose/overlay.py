"""Overlay video: the chosen person's skeleton and silhouette outline in colour, everybody else in
grey with their track number (so a user can see the choice and pick another), OpenCV mp4v."""

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
OTHER_COLOR = (170, 170, 170)


def draw_pose(
    frame_bgr: np.ndarray,
    keypoints: np.ndarray | None,
    person: PersonMask | None = None,
    min_score: float = 0.3,
    colors: tuple[tuple[int, int, int], tuple[int, int, int]] = (BONE_COLOR, JOINT_COLOR),
) -> np.ndarray:
    """Draw the skeleton and the silhouette outline on ``frame_bgr`` in place.

    Args:
        frame_bgr: uint8 [H, W, 3] BGR frame (modified and returned).
        keypoints: float [33, 3] x px, y px, score (NaN when missing) or None.
        person: the chosen person mask (its outline is drawn) or None.
        min_score: joints below this visibility are not drawn.
        colors: BGR colours of the bones and the joints.
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
                cv2.line(frame_bgr, tuple(pts[a]), tuple(pts[b]), colors[0], thick, cv2.LINE_AA)
        for i in np.flatnonzero(ok):
            cv2.circle(frame_bgr, tuple(pts[i]), thick + 1, colors[1], -1, cv2.LINE_AA)
    return frame_bgr


def _label(frame_bgr: np.ndarray, keypoints: np.ndarray, text: str, color: tuple[int, int, int]) -> None:
    """Write ``text`` above the person's highest keypoint."""
    kp = np.asarray(keypoints)
    ok = np.isfinite(kp[:, :2]).all(1)
    if not ok.any():
        return
    x, y = kp[ok, 0].mean(), kp[ok, 1].min()
    scale = max(frame_bgr.shape[:2]) / 1200
    org = (int(x), max(int(y - 10 * scale), int(20 * scale)))
    cv2.putText(frame_bgr, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), max(2, round(4 * scale)), cv2.LINE_AA)
    cv2.putText(frame_bgr, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, color, max(1, round(2 * scale)), cv2.LINE_AA)


def draw_frame(
    frame_rgb: np.ndarray,
    chosen: np.ndarray | None,
    person: PersonMask | None,
    others: list[tuple[np.ndarray, int | None]],
    track: int | None = None,
) -> np.ndarray:
    """One overlay frame (BGR): the others in grey with their track numbers, then the chosen person.

    Args:
        frame_rgb: uint8 [H, W, 3] RGB frame.
        chosen: keypoints [33, 3] of the chosen person, or None when absent in this frame.
        person: the chosen person's mask (outline), or None.
        others: (keypoints [33, 3], track number or None) of everybody else.
        track: the chosen track's number (written beside the person), None on the single path.
    """
    bgr = cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR)
    for kp, tid in others:
        draw_pose(bgr, kp, None, colors=(OTHER_COLOR, OTHER_COLOR))
        if tid is not None:
            _label(bgr, kp, f"#{tid}", OTHER_COLOR)
    if chosen is not None or person is not None:
        draw_pose(bgr, chosen, person)
        if chosen is not None and track is not None:
            _label(bgr, chosen, f"#{track} chosen", BONE_COLOR)
    return bgr


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
