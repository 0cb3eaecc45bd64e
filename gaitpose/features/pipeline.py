"""From a keypoint array to per-frame signals, per-stride values and one row of features.

:func:`sequence_features` is the pure entry point (arrays in, dicts of arrays/scalars out)
that ``gaitpose features`` calls once per sequence. The column names it produces are the
ones described by :mod:`gaitpose.features.dictionary` (a test keeps the two in sync).

Steps (ASYMMETRY.md): score threshold → gap interpolation (≤ 0.15 s) → Hampel filter →
zero-lag Butterworth → facing per frame → per-frame signals (front/back signals only on
front/back frames, joint angles only on side frames) → gait events (frontal or side method,
whichever view dominates) → strides → per-stride values → per-sequence statistics + QC.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gaitpose.features import geometry as geo
from gaitpose.features.clean import JOINTS, QC_JOINTS, REQUIRED, clean_keypoints, track_jumps
from gaitpose.features.events import Events, frontal_events, side_events, strides_and_steps
from gaitpose.features.measures import (
    arm_swing,
    camera_roll,
    covered_range,
    gait_asymmetry,
    iqr,
    ml_sway,
    nanmean,
    nanmedian,
    segment_means,
    stance_time,
    symmetry_index,
    walking_direction,
    wrap_deg,
)
from gaitpose.features.params import FeatureParams
from gaitpose.features.signal import butter_lowpass, interpolate_gaps
from graphs.layouts import get_layout

__all__ = [
    "FRAME_SIGNALS",
    "JOINTS",
    "QC_JOINTS",
    "REQUIRED",
    "SIGNED_SIGNALS",
    "FeatureParams",
    "SequenceFeatures",
    "camera_roll",
    "clean_keypoints",
    "gait_asymmetry",
    "sequence_features",
    "symmetry_index",
    "track_jumps",
]

#: Per-frame signals valid in front/back views (get _median, _iqr, _lhs_minus_rhs).
FRAME_SIGNALS: tuple[str, ...] = (
    "shoulder_tilt", "shoulder_height_diff", "pelvic_obliquity", "shoulder_pelvis_tilt",
    "trunk_lateral_lean", "trunk_shift", "head_pelvis_offset", "head_tilt", "thoracopelvic_twist",
)  # fmt: skip
#: Signed signals that cross zero: no SI; an ``_abs_median`` column besides the signed ones.
SIGNED_SIGNALS: tuple[str, ...] = FRAME_SIGNALS
#: Side-view joint angles (per-stride range → ROM).
ANGLE_SIGNALS: tuple[str, ...] = (
    "hip_angle_left",
    "hip_angle_right",
    "knee_angle_left",
    "knee_angle_right",
)


@dataclass
class SequenceFeatures:
    """Result of :func:`sequence_features`.

    Attributes:
        row: column → value, one row of the features table (features + ``qc_*`` + usable).
        cycles: one dict per stride (per-cycle table rows).
        frames: column → [T] array (per-frame table).
    """

    row: dict[str, Any]
    cycles: list[dict[str, Any]] = field(default_factory=list)
    frames: dict[str, np.ndarray] = field(default_factory=dict)


# ----------------------------------------------------------------------------- main
def sequence_features(
    keypoints: np.ndarray,
    fps: float,
    layout: str,
    world: np.ndarray | None = None,
    detected: np.ndarray | None = None,
    params: FeatureParams | None = None,
) -> SequenceFeatures:
    """All features of one sequence.

    Args:
        keypoints: [T, V, 3] x px, y px (image y down), score; NaN or score 0 where missing.
        fps: frames per second (> 0).
        layout: ``mediapipe33`` or ``coco17``.
        world: optional [T, V, 3] world landmarks (metres) for the thoraco-pelvic twist.
        detected: optional bool [T], a person was found (default: any valid keypoint).
        params: processing parameters.

    Returns:
        :class:`SequenceFeatures` (row, per-stride cycles, per-frame signals).
    """
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _sequence_features(
            keypoints, float(fps), layout, world, detected, params or FeatureParams()
        )


def _sequence_features(keypoints, fps, layout, world, detected, params) -> SequenceFeatures:
    J, info = clean_keypoints(keypoints, fps, layout, params)
    T = int(np.asarray(keypoints).shape[0])
    nan2 = np.full((T, 2), np.nan)
    roll = camera_roll(J, params.side_ratio)
    if params.correct_roll and np.isfinite(roll):
        c, sn = np.cos(np.radians(-roll)), np.sin(np.radians(-roll))
        rot = np.array([[c, -sn], [sn, c]])
        J = {n: v @ rot.T for n, v in J.items()}

    def P(name: str) -> np.ndarray:
        return J.get(name, nan2)

    LS, RS, LH, RH = P("left_shoulder"), P("right_shoulder"), P("left_hip"), P("right_hip")
    ms, mh = geo.midpoint(LS, RS), geo.midpoint(LH, RH)
    torso = geo.torso_length(ms, mh)
    torso = np.where(torso > 0, torso, np.nan)
    s = geo.facing_sign(LH, RH)
    face = geo.smooth_facing(geo.facing(LS, RS, LH, RH, torso, params.side_ratio), int(fps))
    frontal = (face == geo.FRONT) | (face == geo.BACK)
    side = face == geo.SIDE

    def fr(v: np.ndarray) -> np.ndarray:
        return np.where(frontal, v, np.nan)

    sig: dict[str, np.ndarray] = {}
    sig["shoulder_tilt"] = fr(geo.tilt(LS, RS))
    sig["shoulder_height_diff"] = fr((RS[:, 1] - LS[:, 1]) / torso * 100.0)
    sig["pelvic_obliquity"] = fr(geo.tilt(LH, RH))
    sig["shoulder_pelvis_tilt"] = sig["shoulder_tilt"] - sig["pelvic_obliquity"]
    sig["trunk_lateral_lean"] = fr(geo.lean_angle(ms, mh, s))
    sig["trunk_shift"] = fr(geo.lateral_offset(ms, mh, s, torso))
    ear = geo.midpoint(P("left_ear"), P("right_ear"))
    sig["head_pelvis_offset"] = fr(geo.lateral_offset(ear, mh, s, torso))
    sig["head_tilt"] = fr(geo.tilt(P("left_ear"), P("right_ear")))
    sig["thoracopelvic_twist"] = fr(_twist(world, layout, info, fps, params, T))

    direction = walking_direction(mh[:, 0], fps)
    thigh_l = geo.segment_angle_from_vertical(LH, P("left_knee"), direction)
    thigh_r = geo.segment_angle_from_vertical(RH, P("right_knee"), direction)
    trunk = geo.segment_angle_from_vertical(ms, mh, direction)
    shank_l = geo.segment_angle_from_vertical(P("left_knee"), P("left_ankle"), direction)
    shank_r = geo.segment_angle_from_vertical(P("right_knee"), P("right_ankle"), direction)
    sd = lambda v: np.where(side, v, np.nan)  # noqa: E731
    sig["hip_angle_left"] = sd(wrap_deg(thigh_l - trunk))
    sig["hip_angle_right"] = sd(wrap_deg(thigh_r - trunk))
    sig["knee_angle_left"] = sd(wrap_deg(thigh_l - shank_l))
    sig["knee_angle_right"] = sd(wrap_deg(thigh_r - shank_r))

    # ---------------------------------------------------------------- events
    n_fb, n_side = int(frontal.sum()), int(side.sum())
    if n_fb == 0 and n_side == 0:
        ev = Events()
    elif n_fb >= n_side:
        heel_l = P("left_heel") if "left_heel" in J else P("left_ankle")
        heel_r = P("right_heel") if "right_heel" in J else P("right_ankle")
        ev = frontal_events(
            heel_l, heel_r, torso, fps, params.min_stride_s,
            params.stationary_fraction, params.settle_torso,
            fr(s * (P("left_ankle")[:, 1] - P("right_ankle")[:, 1]) / torso),
        )  # fmt: skip
    else:
        heel_l = P("left_heel") if "left_heel" in J else P("left_ankle")
        heel_r = P("right_heel") if "right_heel" in J else P("right_ankle")

        def rel(foot: np.ndarray) -> np.ndarray:
            return sd(direction * (foot[:, 0] - mh[:, 0]) / torso)

        has_toe = "left_foot_index" in J and "right_foot_index" in J
        ev = side_events(
            rel(heel_l), rel(heel_r),
            rel(P("left_foot_index")) if has_toe else None,
            rel(P("right_foot_index")) if has_toe else None,
            fps, params.min_stride_s,
        )  # fmt: skip
    strides, steps = strides_and_steps(ev, fps, params.min_stride_s, params.max_stride_s)
    brk = info["breaks"]
    if brk.size:  # a stride or step across a jump of the tracked person is not one
        strides = [x for x in strides if not ((brk > x[1]) & (brk <= x[2])).any()]
        steps = [x for x in steps if not ((brk > x[1]) & (brk <= x[2])).any()]

    # ---------------------------------------------------------------- per stride
    hip_w = np.abs(LH[:, 0] - RH[:, 0])
    mh_fx = np.where(frontal, mh[:, 0], np.nan)
    cov = params.stride_coverage
    cycles: list[dict[str, Any]] = []
    arm_len = {
        lr: np.hypot(*(P(f"{lr}_elbow") - P(f"{lr}_shoulder")).T)
        + np.hypot(*(P(f"{lr}_wrist") - P(f"{lr}_elbow")).T)
        for lr in ("left", "right")
    }
    nsig = len(FRAME_SIGNALS)
    stack = np.stack([sig[n] for n in FRAME_SIGNALS], 1)
    stride_means = segment_means(
        np.concatenate([stack, np.abs(stack)], 1),
        np.array([a for _, a, _ in strides], int),
        np.array([b for _, _, b in strides], int),
        cov,
    )
    for k, (foot, a, b) in enumerate(strides):
        sl = slice(a, b + 1)
        c: dict[str, Any] = {
            "stride": k, "side": foot, "start_frame": a, "end_frame": b,
            "start_s": a / fps, "stride_time": (b - a) / fps,
        }  # fmt: skip
        for j, name in enumerate(FRAME_SIGNALS):
            c[f"{name}_mean"] = float(stride_means[k, j])
            c[f"{name}_abs_mean"] = float(stride_means[k, nsig + j])
        c["shoulder_tilt_rom"] = covered_range(sig["shoulder_tilt"][sl], cov)
        c["pelvic_obliquity_rom"] = covered_range(sig["pelvic_obliquity"][sl], cov)
        c["ml_sway"] = ml_sway(mh_fx[sl], hip_w[sl], cov)
        for lr in ("left", "right"):
            c[f"arm_swing_{lr}"] = arm_swing(
                P(f"{lr}_shoulder")[sl], P(f"{lr}_wrist")[sl], arm_len[lr][sl], cov
            )
            c[f"hip_rom_{lr}"] = covered_range(sig[f"hip_angle_{lr}"][sl], cov)
            c[f"knee_rom_{lr}"] = covered_range(sig[f"knee_angle_{lr}"][sl], cov)
        cycles.append(c)

    # ---------------------------------------------------------------- per sequence
    row: dict[str, Any] = {}
    basis = "strides" if cycles else "frames"
    frame_ok = {n: np.isfinite(sig[n]).mean() >= cov if T else False for n in FRAME_SIGNALS}
    for name in FRAME_SIGNALS:
        x = sig[name]
        means = [c[f"{name}_mean"] for c in cycles]
        absm = [c[f"{name}_abs_mean"] for c in cycles]
        if cycles:
            row[f"{name}_median"] = nanmedian(means)
            row[f"{name}_abs_median"] = nanmedian(absm)
        else:  # no complete stride: frame medians, when the signal covers enough frames
            row[f"{name}_median"] = nanmedian(x) if frame_ok[name] else float("nan")
            row[f"{name}_abs_median"] = nanmedian(np.abs(x)) if frame_ok[name] else float("nan")
        row[f"{name}_iqr"] = iqr(x) if frame_ok[name] else float("nan")
        row[f"{name}_lhs_minus_rhs"] = nanmean(x[ev.hs_left]) - nanmean(x[ev.hs_right])

    def cyc(key: str) -> float:
        return nanmedian([c[key] for c in cycles])

    for key in ("shoulder_tilt_rom", "pelvic_obliquity_rom", "ml_sway"):
        row[f"{key}_median"] = cyc(key)
    for stem in ("arm_swing", "hip_rom", "knee_rom"):
        left, right = cyc(f"{stem}_left"), cyc(f"{stem}_right")
        row[f"{stem}_left_median"] = left
        row[f"{stem}_right_median"] = right
        si_name = "arm_swing_asymmetry_si" if stem == "arm_swing" else f"{stem}_si"
        row[si_name] = symmetry_index(left, right)
    st_l = [(b - a) / fps for f, a, b in steps if f == "left"]
    st_r = [(b - a) / fps for f, a, b in steps if f == "right"]
    row["step_time_left_mean"] = nanmean(st_l)
    row["step_time_right_mean"] = nanmean(st_r)
    stride_t = nanmean([c["stride_time"] for c in cycles])
    row["stride_time_mean"] = stride_t
    row["cadence_mean"] = (
        120.0 / stride_t if np.isfinite(stride_t) and stride_t > 0 else float("nan")
    )
    row["step_time_asymmetry_ga"] = gait_asymmetry(
        row["step_time_left_mean"], row["step_time_right_mean"]
    )
    row["step_time_asymmetry_si"] = symmetry_index(
        row["step_time_left_mean"], row["step_time_right_mean"]
    )
    for lr, hs, to in (("left", ev.hs_left, ev.to_left), ("right", ev.hs_right, ev.to_right)):
        row[f"stance_time_{lr}_mean"] = stance_time(
            hs, to, fps, params.max_stride_s, ev.method, "left_foot_index" in J
        )

    # ---------------------------------------------------------------- QC
    det = np.asarray(detected, bool) if detected is not None else np.ones(T, bool)
    any_valid = np.zeros(T, bool)
    for v in info["raw_valid"].values():
        any_valid |= v
    person = float((det & any_valid).mean()) if T else 0.0
    known = np.isfinite(face)
    fracs = {
        lbl: float((face[known] == val).mean()) if known.any() else 0.0
        for lbl, val in (("front", geo.FRONT), ("back", geo.BACK), ("side", geo.SIDE))
    }
    if not known.any():
        facing_lbl = "unknown"
    else:
        best = max(fracs, key=fracs.get)
        facing_lbl = best if fracs[best] >= params.facing_majority else "mixed"
    n_l = sum(1 for c in cycles if c["side"] == "left")
    n_r = len(cycles) - n_l
    qc: dict[str, Any] = {
        "qc_layout": layout,
        "qc_fps": float(fps),
        "qc_frames": T,
        "qc_duration_s": T / fps,
        "qc_person_fraction": person,
    }
    for n in QC_JOINTS:
        qc[f"qc_valid_{n}"] = info["valid"].get(n, float("nan"))
    qc.update(
        {
            "qc_interpolated_fraction": info["interpolated_fraction"],
            "qc_longest_gap_s": info["longest_gap_s"],
            "qc_facing": facing_lbl,
            "qc_front_fraction": fracs["front"],
            "qc_back_fraction": fracs["back"],
            "qc_side_fraction": fracs["side"],
            "qc_camera_roll_deg": roll,
            "qc_event_method": ev.method,
            "qc_track_jumps": int(info["breaks"].size),
            "qc_strides_left": n_l,
            "qc_strides_right": n_r,
            "qc_feature_basis": basis,
        }
    )
    reasons = []
    if person < params.min_person_fraction:
        reasons.append(f"person in only {person:.0%} of frames")
    low = [n for n in REQUIRED if info["valid"].get(n, 0.0) < params.min_keypoint_fraction]
    if low:
        reasons.append(
            "keypoints valid in < {:.0%} of frames: {}".format(
                params.min_keypoint_fraction, ", ".join(low)
            )
        )
    if info["breaks"].size:
        reasons.append(
            f"the tracked person jumps {info['breaks'].size} time(s) (another person or a cut)"
        )
    if facing_lbl == "unknown":
        reasons.append("facing direction unknown")
    if min(n_l, n_r) < params.min_strides:
        reasons.append(
            f"fewer than {params.min_strides} strides per side (left {n_l}, right {n_r})"
        )
    row.update(qc)
    row["usable"] = not reasons
    row["usable_reason"] = "; ".join(reasons)

    frames: dict[str, np.ndarray] = {
        "frame": np.arange(T),
        "time_s": np.arange(T) / fps,
        "facing": face,
        "torso_px": torso,
    }
    frames.update(sig)
    hs = np.zeros(T, np.int8)
    hs[ev.hs_left] = 1
    hs[ev.hs_right] = -1
    frames["heel_strike"] = hs
    return SequenceFeatures(row=row, cycles=cycles, frames=frames)


def _twist(world, layout, info, fps, params, T) -> np.ndarray:
    """Thoraco-pelvic twist per frame from world landmarks (NaN without them)."""
    if world is None:
        return np.full(T, np.nan)
    lay = get_layout(layout)
    w = np.asarray(world, np.float64)
    names = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
    if w.shape[:2] != (T, lay.num_joints) or not all(lay.has(n) for n in names):
        return np.full(T, np.nan)
    pts = []
    for n in names:
        p = w[:, lay.index(n), :3].copy()
        p[~info["raw_valid"][n]] = np.nan
        pts.append(p)
    flat = np.concatenate(pts, axis=1)
    flat, _ = interpolate_gaps(flat, int(round(params.max_gap_s * fps)))
    flat = butter_lowpass(flat, fps, params.cutoff_hz, params.filter_order)
    ls, rs, lh, rh = (flat[:, 3 * i : 3 * i + 3] for i in range(4))
    return geo.twist_angle(ls, rs, lh, rh)
