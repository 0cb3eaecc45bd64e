"""Cleaning of keypoint trajectories (ASYMMETRY.md "Signal processing"): score threshold, jumps of
the tracked person, gap interpolation, Hampel filter, zero-lag Butterworth — per joint, vectorised.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gaitpose.features.params import FeatureParams
from gaitpose.features.signal import butter_lowpass, hampel, interpolate_gaps, runs
from graphs.layouts import get_layout

#: Joints used by the features (names of :mod:`graphs.layouts`); absent ones are NaN.
JOINTS: tuple[str, ...] = (
    "nose", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip
#: Joints needed for a sequence to be usable.
REQUIRED: tuple[str, ...] = (
    "left_shoulder", "right_shoulder", "left_hip", "right_hip", "left_ankle", "right_ankle",
)  # fmt: skip
#: Joints whose valid fraction is reported as a QC column (present in both layouts).
QC_JOINTS: tuple[str, ...] = REQUIRED + ("left_wrist", "right_wrist", "left_ear", "right_ear")


def clean_keypoints(
    keypoints: np.ndarray, fps: float, layout: str, params: FeatureParams | None = None
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Threshold, interpolate, Hampel-filter and low-pass the joints in :data:`JOINTS`.

    Args:
        keypoints: [T, V, 3] x px, y px, score (NaN or score 0 where missing).
        fps: frames per second.
        layout: ``mediapipe33`` or ``coco17``.

    Returns:
        (joints, info): joint name → [T, 2] smoothed pixels (NaN where missing; absent from the
        dict when the layout lacks the joint), and ``info`` with ``valid`` (name → raw valid
        fraction), ``interpolated_fraction``, ``longest_gap_s``, ``raw_valid`` (name → bool[T]).
    """
    params = params or FeatureParams()
    lay = get_layout(layout)
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.ndim != 3 or kp.shape[1] != lay.num_joints or kp.shape[2] < 3:
        raise ValueError(
            f"keypoints must be [T, {lay.num_joints}, 3] for {layout}, got {list(kp.shape)}"
        )
    names = [n for n in JOINTS if lay.has(n)]
    idx = [lay.index(n) for n in names]
    k = kp[:, idx, :]
    T = k.shape[0]
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(k[..., :2]).all(-1) & (k[..., 2] >= params.min_score)
    xy3 = np.where(ok[..., None], k[..., :2], np.nan)
    breaks = track_jumps(xy3, names, fps, params.jump_speed)
    xy = xy3.reshape(T, 2 * len(names))
    max_gap = int(round(params.max_gap_s * fps))
    smooth = np.full_like(xy, np.nan)
    interp = np.zeros(xy.shape, bool)
    bounds = [0, *breaks.tolist(), T]
    for a, b in zip(bounds[:-1], bounds[1:]):  # never smooth or interpolate across a jump
        filled, interp[a:b] = interpolate_gaps(xy[a:b], max_gap)
        filled, _ = hampel(filled, params.hampel_window, params.hampel_sigmas)
        smooth[a:b] = butter_lowpass(filled, fps, params.cutoff_hz, params.filter_order)
    smooth = smooth.reshape(T, len(names), 2)
    interp = interp.reshape(T, len(names), 2).any(-1)
    joints = {n: smooth[:, j] for j, n in enumerate(names)}
    req = [names.index(n) for n in REQUIRED if n in names]
    all_req = ok[:, req].all(-1) if T else np.zeros(0, bool)
    longest = max((b - a for a, b in runs(~all_req)), default=0)
    info = {
        "valid": {n: float(ok[:, j].mean()) if T else 0.0 for j, n in enumerate(names)},
        "raw_valid": {n: ok[:, j] for j, n in enumerate(names)},
        "interpolated_fraction": float(interp[:, req].mean()) if T else 0.0,
        "longest_gap_s": longest / fps,
        "breaks": breaks,
    }
    return joints, info


def track_jumps(xy: np.ndarray, names: list[str], fps: float, speed: float = 3.0) -> np.ndarray:
    """Frames where the tracked person jumps: the mid-hip moves, between consecutive frames with
    both hips (skipping missing ones), further than ``0.5 + speed × gap (s)`` torso lengths —
    an identity switch to another person or a cut. Walking moves it ~1 torso length per second.

    Args:
        xy: [T, J, 2] raw pixels (NaN where missing) of the joints ``names``.

    Returns:
        int [K] frame indices where a new segment starts (sorted).
    """
    need = ("left_hip", "right_hip", "left_shoulder", "right_shoulder")
    if not all(n in names for n in need):
        return np.zeros(0, int)
    lh, rh, ls, rs = (xy[:, names.index(n)] for n in need)
    mh = 0.5 * (lh + rh)
    torso = np.hypot(*(0.5 * (ls + rs) - mh).T)
    ok = np.isfinite(mh).all(-1) & np.isfinite(torso) & (torso > 0)
    t = np.nonzero(ok)[0]
    if t.size < 2:
        return np.zeros(0, int)
    step = np.hypot(*(mh[t[1:]] - mh[t[:-1]]).T)
    scale = np.maximum(torso[t[1:]], torso[t[:-1]])
    gap_s = (t[1:] - t[:-1]) / fps
    jump = step > (0.5 + speed * gap_s) * scale
    return t[1:][jump].astype(int)
