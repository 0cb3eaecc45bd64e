"""Per-frame geometry of the trunk and limbs (pixels, image y down), vectorised over frames.

Conventions (ASYMMETRY.md, "Geometry conventions"):

* tilt of a left/right pair = ``atan2(y_R - y_L, |x_L - x_R|)`` in degrees, positive when the
  subject's LEFT side is higher in the image (image y points down);
* facing sign ``s = sign(x_left_hip - x_right_hip)``: +1 facing the camera, -1 seen from behind;
  lateral (x) measures are multiplied by ``s`` so their sign is anatomical (positive = towards
  the subject's left);
* lengths are normalised by the torso length ``T = |mid-shoulder - mid-hip|`` per frame.

All functions take arrays ``[T, 2]`` (x, y per frame, NaN where missing) and return ``[T]``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "FRONT",
    "BACK",
    "SIDE",
    "facing",
    "facing_sign",
    "smooth_facing",
    "lateral_offset",
    "lean_angle",
    "midpoint",
    "segment_angle_from_vertical",
    "tilt",
    "torso_length",
    "twist_angle",
]

FRONT, BACK, SIDE = 1.0, -1.0, 0.0


def tilt(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Tilt of the left/right pair in degrees, positive = subject's left higher.

    Shapes:
        left, right: [T, 2] (x, y pixels) → [T]
    """
    dy = right[:, 1] - left[:, 1]
    dx = np.abs(left[:, 0] - right[:, 0])
    return np.degrees(np.arctan2(dy, dx))


def midpoint(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mid-point of two joints. Shapes: [T, 2], [T, 2] → [T, 2]."""
    return 0.5 * (a + b)


def torso_length(mid_shoulder: np.ndarray, mid_hip: np.ndarray) -> np.ndarray:
    """``|mid-shoulder - mid-hip|`` in pixels. Shapes: [T, 2], [T, 2] → [T]."""
    return np.hypot(*(mid_shoulder - mid_hip).T)


def facing_sign(left_hip: np.ndarray, right_hip: np.ndarray) -> np.ndarray:
    """``sign(x_left_hip - x_right_hip)``: +1 facing the camera, -1 from behind (NaN if unknown)."""
    d = left_hip[:, 0] - right_hip[:, 0]
    return np.where(np.isfinite(d), np.sign(d), np.nan)


def facing(
    left_shoulder: np.ndarray,
    right_shoulder: np.ndarray,
    left_hip: np.ndarray,
    right_hip: np.ndarray,
    torso: np.ndarray,
    side_ratio: float = 0.25,
) -> np.ndarray:
    """Facing direction per frame: :data:`FRONT` (1), :data:`BACK` (-1), :data:`SIDE` (0), NaN.

    The signed body width (mean of the left-minus-right x of the shoulders and of the hips,
    over the torso length) is near 0 in a side view. A frame is SIDE when ``|width| <
    side_ratio`` or when the hips and the width disagree in sign; otherwise FRONT/BACK by the
    hips' sign (the facing sign ``s``).

    Shapes:
        joints: [T, 2]; torso: [T] → [T]
    """
    ws = (left_shoulder[:, 0] - right_shoulder[:, 0]) / torso
    wh = (left_hip[:, 0] - right_hip[:, 0]) / torso
    width = np.nanmean(np.stack([ws, wh]), axis=0) if len(torso) else ws
    s = np.sign(wh)
    out = np.where(np.abs(width) < side_ratio, SIDE, s)
    out = np.where((np.sign(width) != s) & np.isfinite(width), SIDE, out)
    return np.where(np.isfinite(width) & np.isfinite(torso), out, np.nan)


def smooth_facing(face: np.ndarray, window: int) -> np.ndarray:
    """Running median of the facing codes over ``window`` frames (valid frames only), rounded
    back to FRONT / BACK / SIDE: removes isolated mislabelled frames (e.g. a side-view frame
    whose far hip is displaced by noise). NaN frames stay NaN.

    Shapes: [T] → [T]
    """
    from gaitpose.features.signal import sliding

    half = max(int(window) // 2, 1)
    if face.shape[0] == 0:
        return face
    w = np.sort(sliding(face[:, None].astype(float), half)[:, 0], axis=-1)
    n = np.isfinite(w).sum(-1)
    lo = np.take_along_axis(w, np.clip((n - 1) // 2, 0, None)[:, None], -1)[:, 0]
    hi = np.take_along_axis(w, np.clip(n // 2, 0, None)[:, None], -1)[:, 0]
    med = np.fix(0.5 * (lo + hi))  # a tie between two codes goes towards SIDE (0)
    return np.where(np.isfinite(face) & (n > 0), med, np.nan)


def lateral_offset(
    top: np.ndarray, bottom: np.ndarray, s: np.ndarray, torso: np.ndarray
) -> np.ndarray:
    """``s * (x_top - x_bottom) / T * 100`` (% torso), positive = ``top`` towards subject's left.

    Shapes: [T, 2], [T, 2], [T], [T] → [T]
    """
    return s * (top[:, 0] - bottom[:, 0]) / torso * 100.0


def lean_angle(top: np.ndarray, bottom: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``s * atan2(x_top - x_bottom, y_bottom - y_top)`` in degrees (lean to the subject's left > 0).

    Shapes: [T, 2], [T, 2], [T] → [T]
    """
    return s * np.degrees(np.arctan2(top[:, 0] - bottom[:, 0], bottom[:, 1] - top[:, 1]))


def segment_angle_from_vertical(a: np.ndarray, b: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Angle (deg) of the segment a→b from the downward vertical, positive towards the walking
    direction (``direction`` = +1 walking towards +x, -1 towards -x).

    Shapes: [T, 2], [T, 2], [T] → [T]
    """
    v = b - a
    return np.degrees(np.arctan2(direction * v[:, 0], v[:, 1]))


def twist_angle(ls: np.ndarray, rs: np.ndarray, lh: np.ndarray, rh: np.ndarray) -> np.ndarray:
    """Thoraco-pelvic twist (deg) from 3-D world landmarks: the angle of the shoulder line minus
    that of the hip line in the horizontal (x, z) plane, positive = left shoulder forward of the
    pelvis (thorax turned to the subject's right).

    Independent of the camera being in front of or behind the subject (a rotation about the
    vertical axis); mirroring flips its sign. MediaPipe world z grows away from the camera.

    Shapes: [T, 3] each (x, y, z metres) → [T]
    """

    def line_angle(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        v = left - right
        return np.arctan2(v[:, 2], v[:, 0])

    d = line_angle(ls, rs) - line_angle(lh, rh)
    d = (d + np.pi) % (2 * np.pi) - np.pi
    return -np.degrees(d)
