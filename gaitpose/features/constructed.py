"""Constructed walkers with known geometry (MediaPipe-33), for tests and benchmarks."""

from __future__ import annotations

import numpy as np

from graphs.layouts import get_layout

LAY = get_layout("mediapipe33")


def walker(
    T: int = 300,
    fps: float = 30.0,
    stride_hz: float = 0.9,
    view: str = "front",
    shoulder_tilt: float = 0.0,
    pelvic_obliquity: float = 0.0,
    trunk_shift: float = 0.0,
    torso: float = 200.0,
    foot_amp: float = 50.0,
    step_phase: float = 0.0,
    seed: int | None = None,
    noise: float = 0.0,
) -> np.ndarray:
    """[T, 33, 3] keypoints (x px, y px, score 1) of a subject walking towards (``front``) or away
    from (``back``) the camera, or across it (``side``, walking towards +x).

    Angles in degrees (positive = subject's left higher), ``trunk_shift`` in % torso (positive =
    shoulders towards the subject's left). Front/back: each foot rests for the first
    ``STANCE`` of its stride and swings (rises by ``foot_amp`` px and lands) in the rest, so its
    heel strikes are at the frames :func:`heel_strike_times` gives. Side: the feet oscillate
    along the walk at ``stride_hz``. ``step_phase`` (rad) delays the right foot's cycle
    relative to the left one's half-cycle.
    """
    t = np.arange(T) / fps
    k = np.zeros((T, 33, 3))
    k[..., 2] = 1.0
    cx, hip_y = 640.0, 500.0
    sgn = {"front": 1.0, "back": -1.0, "side": 0.0}[view]
    hip_half, sh_half = 0.22 * torso, 0.4 * torso

    def put(name, x, y):
        j = LAY.index(name)
        k[:, j, 0] = x
        k[:, j, 1] = y

    shift = trunk_shift / 100 * torso
    ms_x = cx + sgn * shift
    ms_y = hip_y - torso
    po, st = np.radians(pelvic_obliquity), np.radians(shoulder_tilt)
    phase_l = 2 * np.pi * stride_hz * t
    phase_r = phase_l + np.pi + step_phase
    if view == "side":
        walk = cx - 300 + 120 * t  # px/s towards +x
        put("left_hip", walk + 2, hip_y)
        put("right_hip", walk - 2, hip_y)
        put("left_shoulder", walk + 3, ms_y)
        put("right_shoulder", walk - 3, ms_y)
        for lr, ph in (("left", phase_l), ("right", phase_r)):
            fx = walk + 60 * np.cos(ph)
            put(f"{lr}_knee", walk + 30 * np.cos(ph) + 10, hip_y + 0.5 * torso)
            put(f"{lr}_ankle", fx, hip_y + torso)
            put(f"{lr}_heel", fx - 10, hip_y + torso + 5)
            put(f"{lr}_foot_index", fx + 20, hip_y + torso + 5)
            put(f"{lr}_elbow", walk - 20 * np.cos(ph), ms_y + 0.4 * torso)
            put(f"{lr}_wrist", walk - 40 * np.cos(ph), ms_y + 0.8 * torso)
            put(f"{lr}_ear", walk + 20, ms_y - 0.35 * torso)
        put("nose", walk + 30, ms_y - 0.3 * torso)
    else:
        for lr, d, ph in (("left", 1.0, phase_l), ("right", -1.0, phase_r)):
            hx = cx + sgn * d * hip_half
            put(f"{lr}_hip", hx, hip_y - d * hip_half * np.tan(po))
            put(f"{lr}_shoulder", ms_x + sgn * d * sh_half, ms_y - d * sh_half * np.tan(st))
            lift = foot_amp * swing_lift(ph)
            put(f"{lr}_knee", hx, hip_y + 0.5 * torso - 0.5 * lift)
            ay = hip_y + torso - lift
            put(f"{lr}_ankle", hx, ay)
            put(f"{lr}_heel", hx, ay + 5)
            put(f"{lr}_foot_index", hx, ay + 15)
            put(
                f"{lr}_elbow",
                ms_x + sgn * d * (sh_half + 10),
                ms_y + 0.4 * torso + 8 * np.cos(ph + np.pi),
            )
            put(
                f"{lr}_wrist",
                ms_x + sgn * d * (sh_half + 15),
                ms_y + 0.8 * torso + 15 * np.cos(ph + np.pi),
            )
            put(f"{lr}_ear", ms_x + sgn * d * 0.12 * torso, ms_y - 0.35 * torso)
        put("nose", ms_x, ms_y - 0.3 * torso)
    if noise:
        rng = np.random.default_rng(seed)
        k[..., :2] += rng.normal(0, noise, size=k[..., :2].shape)
    return k.astype(np.float32)


#: Fraction of a stride a constructed foot rests (front/back views).
STANCE = 0.6


def swing_lift(phase: np.ndarray) -> np.ndarray:
    """Foot lift (0–1) over a stride phase in radians: 0 in stance (the first ``STANCE`` of the
    stride, from the heel strike at phase 0), a half-sine in swing, landing with speed."""
    u = np.mod(phase / (2 * np.pi), 1.0)
    return np.where(u < STANCE, 0.0, np.sin(np.pi * (u - STANCE) / (1 - STANCE)))


def heel_strike_times(T: int, fps: float, stride_hz: float, step_phase: float = 0.0):
    """Heel-strike times (s) of :func:`walker`'s feet in front/back views: (left, right)."""
    dur = T / fps
    left = np.arange(0.0, dur, 1.0 / stride_hz)
    right = left + (np.pi + step_phase) / (2 * np.pi * stride_hz)
    return left, right[right < dur]


def mirror(kp: np.ndarray, width: float = 1280.0) -> np.ndarray:
    """Mirror an image horizontally: x → width − x and swap left/right joint labels."""
    out = kp[:, list(LAY.flip_index)].copy()
    out[..., 0] = width - out[..., 0]
    return out
