"""From a keypoint array to per-frame signals, per-stride values and one row of features.

:func:`sequence_features` is the pure entry point (arrays in, dicts of arrays/scalars out)
that ``gaitpose features`` calls once per sequence. The column names it produces are the
ones described by :mod:`gaitpose.features.dictionary` (a test keeps the two in sync).

Steps (ASYMMETRY.md), one function each, in the order :func:`_sequence_features` calls them:
:func:`~gaitpose.features.clean.clean_keypoints` (score threshold → gap interpolation ≤ 0.15 s
→ Hampel → zero-lag Butterworth) → :func:`correct_camera_roll` → :func:`body_frame` (midpoints,
torso, facing per frame) → :func:`frontal_signals` and :func:`side_angles` (per-frame signals,
front/back signals only on front/back frames, joint angles only on side frames) →
:func:`gait_events` (front/back or side method, whichever view dominates) → strides and steps
(:func:`~gaitpose.features.events.strides_and_steps`, :func:`drop_across_jumps`) →
:func:`stride_table` → :func:`signal_statistics`, :func:`stride_statistics`,
:func:`step_statistics` → :func:`quality_control`, :func:`usability` → :func:`frame_table`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gaitpose.features import geometry as geo
from gaitpose.features.clean import JOINTS, QC_JOINTS, REQUIRED, clean_keypoints, track_jumps
from gaitpose.features.events import (
    Events,
    extrema_events,
    frontal_events,
    side_events,
    strides_and_steps,
)
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

#: Per-frame signals valid in front/back views (get _median, _mean, _iqr, _lhs_minus_rhs).
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
    """The steps of :func:`sequence_features`, each a function below."""
    joints, info = clean_keypoints(keypoints, fps, layout, params)
    n_frames = int(np.asarray(keypoints).shape[0])
    joints, roll = correct_camera_roll(joints, params)
    body = body_frame(joints, n_frames, fps, params)
    signals = frontal_signals(body, layout, world, info, fps, params)
    signals.update(side_angles(body))
    events = gait_events(body, fps, params)
    strides, steps = strides_and_steps(events, fps, params.min_stride_s, params.max_stride_s)
    strides, steps = drop_across_jumps(strides, info["breaks"]), drop_across_jumps(steps, info["breaks"])
    cycles = stride_table(strides, signals, body, fps, params.stride_coverage)
    row = signal_statistics(signals, cycles, events, n_frames, params.stride_coverage)
    row.update(stride_statistics(cycles))
    row.update(step_statistics(steps, cycles, events, fps, params, "left_foot_index" in joints))
    qc = quality_control(body, info, cycles, events, roll, layout, fps, n_frames, detected, params)
    row.update(qc)
    row["usable"], row["usable_reason"] = usability(qc, info, params)
    return SequenceFeatures(row=row, cycles=cycles, frames=frame_table(body, signals, events, fps))


# ----------------------------------------------------------------------------- steps
@dataclass
class Body:
    """Per-frame geometry shared by the steps (arrays [T, 2] or [T], pixels, image y down).

    Attributes:
        joints: cleaned (and roll-corrected) keypoints by name.
        mid_shoulder, mid_hip, torso: midpoints and torso length (NaN where not positive).
        sign: facing sign s (+1 facing the camera, −1 seen from behind).
        facing: per-frame facing (geometry.FRONT / BACK / SIDE, NaN unknown), smoothed.
        frontal, side: masks of front/back frames and of side frames.
        direction: walking direction along image x (+1 / −1) for the side view.
    """

    joints: dict[str, np.ndarray]
    mid_shoulder: np.ndarray
    mid_hip: np.ndarray
    torso: np.ndarray
    sign: np.ndarray
    facing: np.ndarray
    frontal: np.ndarray
    side: np.ndarray
    direction: np.ndarray

    def point(self, name: str) -> np.ndarray:
        """[T, 2] of a joint, all NaN when the layout lacks it."""
        j = self.joints.get(name)
        return j if j is not None else np.full((self.torso.size, 2), np.nan)

    def foot(self, lr: str) -> np.ndarray:
        """The heel, or the ankle when the layout has no heel (COCO-17)."""
        return self.point(f"{lr}_heel") if f"{lr}_heel" in self.joints else self.point(f"{lr}_ankle")

    def on_frontal(self, v: np.ndarray) -> np.ndarray:
        return np.where(self.frontal, v, np.nan)

    def on_side(self, v: np.ndarray) -> np.ndarray:
        return np.where(self.side, v, np.nan)


def correct_camera_roll(joints: dict[str, np.ndarray], params: FeatureParams):
    """De-rotate the keypoints by the leg-axis camera-roll estimate (when enabled).

    Returns:
        (joints, roll_deg): roll is NaN when it cannot be estimated.
    """
    roll = camera_roll(joints, params.side_ratio)
    if params.correct_roll and np.isfinite(roll):
        c, sn = np.cos(np.radians(-roll)), np.sin(np.radians(-roll))
        rot = np.array([[c, -sn], [sn, c]])
        joints = {n: v @ rot.T for n, v in joints.items()}
    return joints, roll


def body_frame(joints: dict[str, np.ndarray], n_frames: int, fps: float, params) -> Body:
    """Midpoints, torso length, facing per frame and walking direction."""
    nan2 = np.full((n_frames, 2), np.nan)
    ls, rs = joints.get("left_shoulder", nan2), joints.get("right_shoulder", nan2)
    lh, rh = joints.get("left_hip", nan2), joints.get("right_hip", nan2)
    mid_shoulder, mid_hip = geo.midpoint(ls, rs), geo.midpoint(lh, rh)
    torso = geo.torso_length(mid_shoulder, mid_hip)
    torso = np.where(torso > 0, torso, np.nan)
    facing = geo.smooth_facing(geo.facing(ls, rs, lh, rh, torso, params.side_ratio), int(fps))
    return Body(
        joints=joints, mid_shoulder=mid_shoulder, mid_hip=mid_hip, torso=torso,
        sign=geo.facing_sign(lh, rh), facing=facing,
        frontal=(facing == geo.FRONT) | (facing == geo.BACK), side=facing == geo.SIDE,
        direction=walking_direction(mid_hip[:, 0], fps),
    )  # fmt: skip


def frontal_signals(body: Body, layout, world, info, fps, params) -> dict[str, np.ndarray]:
    """The front/back per-frame signals of :data:`FRAME_SIGNALS` (NaN on other frames)."""
    p, on = body.point, body.on_frontal
    ls, rs, lh, rh = p("left_shoulder"), p("right_shoulder"), p("left_hip"), p("right_hip")
    ms, mh, torso, s = body.mid_shoulder, body.mid_hip, body.torso, body.sign
    ear = geo.midpoint(p("left_ear"), p("right_ear"))
    sig = {
        "shoulder_tilt": on(geo.tilt(ls, rs)),
        "shoulder_height_diff": on((rs[:, 1] - ls[:, 1]) / torso * 100.0),
        "pelvic_obliquity": on(geo.tilt(lh, rh)),
    }
    sig["shoulder_pelvis_tilt"] = sig["shoulder_tilt"] - sig["pelvic_obliquity"]
    sig["trunk_lateral_lean"] = on(geo.lean_angle(ms, mh, s))
    sig["trunk_shift"] = on(geo.lateral_offset(ms, mh, s, torso))
    sig["head_pelvis_offset"] = on(geo.lateral_offset(ear, mh, s, torso))
    sig["head_tilt"] = on(geo.tilt(p("left_ear"), p("right_ear")))
    sig["thoracopelvic_twist"] = on(_twist(world, layout, info, fps, params, torso.size))
    return sig


def side_angles(body: Body) -> dict[str, np.ndarray]:
    """Side-view hip (trunk−thigh) and knee (thigh−shank) angles, NaN on other frames."""
    p, d = body.point, body.direction
    trunk = geo.segment_angle_from_vertical(body.mid_shoulder, body.mid_hip, d)
    out = {}
    for lr in ("left", "right"):
        thigh = geo.segment_angle_from_vertical(p(f"{lr}_hip"), p(f"{lr}_knee"), d)
        shank = geo.segment_angle_from_vertical(p(f"{lr}_knee"), p(f"{lr}_ankle"), d)
        out[f"hip_angle_{lr}"] = body.on_side(wrap_deg(thigh - trunk))
        out[f"knee_angle_{lr}"] = body.on_side(wrap_deg(thigh - shank))
    return {k: out[k] for k in ANGLE_SIGNALS}


def gait_events(body: Body, fps: float, params: FeatureParams) -> Events:
    """Heel strikes (and side-view toe-offs) by the method of the dominant view."""
    n_fb, n_side = int(body.frontal.sum()), int(body.side.sum())
    if n_fb == 0 and n_side == 0:
        return Events()
    if n_fb >= n_side:
        ankle_y = body.point("left_ankle")[:, 1] - body.point("right_ankle")[:, 1]
        ankle_diff = body.on_frontal(body.sign * ankle_y / body.torso)
        if params.frontal_method == "extrema":  # the withdrawn rule, for comparisons only
            return extrema_events(ankle_diff, fps, params.min_stride_s)
        toe_l, toe_r = (body.joints.get(f"{lr}_foot_index") for lr in ("left", "right"))
        return frontal_events(
            body.foot("left"), body.foot("right"), body.torso, fps, params.min_stride_s,
            params.stationary_fraction, params.settle_torso, ankle_diff, params.max_stride_s,
            toe_l, toe_r, params.pitch_near_top, params.frontal_method,
        )  # fmt: skip

    def ahead(foot: np.ndarray) -> np.ndarray:  # foot minus pelvis along the walk, / torso
        return body.on_side(body.direction * (foot[:, 0] - body.mid_hip[:, 0]) / body.torso)

    has_toe = "left_foot_index" in body.joints and "right_foot_index" in body.joints
    return side_events(
        ahead(body.foot("left")), ahead(body.foot("right")),
        ahead(body.point("left_foot_index")) if has_toe else None,
        ahead(body.point("right_foot_index")) if has_toe else None,
        fps, params.min_stride_s,
    )  # fmt: skip


def drop_across_jumps(spans: list[tuple[str, int, int]], breaks: np.ndarray):
    """Strides or steps that do not span a jump of the tracked person."""
    if not breaks.size:
        return spans
    return [x for x in spans if not ((breaks > x[1]) & (breaks <= x[2])).any()]


def stride_table(strides, signals, body: Body, fps: float, cover: float) -> list[dict[str, Any]]:
    """One dict per stride: timing, mean and |mean| of each front/back signal, ROMs, sway,
    arm swing."""
    p = body.point
    stack = np.stack([signals[n] for n in FRAME_SIGNALS], 1)
    starts = np.array([a for _, a, _ in strides], int)
    ends = np.array([b for _, _, b in strides], int)
    means = segment_means(np.concatenate([stack, np.abs(stack)], 1), starts, ends, cover)
    hip_width = np.abs(p("left_hip")[:, 0] - p("right_hip")[:, 0])
    mid_hip_x = body.on_frontal(body.mid_hip[:, 0])
    arm_len = {
        lr: np.hypot(*(p(f"{lr}_elbow") - p(f"{lr}_shoulder")).T)
        + np.hypot(*(p(f"{lr}_wrist") - p(f"{lr}_elbow")).T)
        for lr in ("left", "right")
    }
    nsig, cycles = len(FRAME_SIGNALS), []
    for k, (foot, a, b) in enumerate(strides):
        sl = slice(a, b + 1)
        c: dict[str, Any] = {
            "stride": k, "side": foot, "start_frame": a, "end_frame": b,
            "start_s": a / fps, "stride_time": (b - a) / fps,
        }  # fmt: skip
        for j, name in enumerate(FRAME_SIGNALS):
            c[f"{name}_mean"] = float(means[k, j])
            c[f"{name}_abs_mean"] = float(means[k, nsig + j])
        c["shoulder_tilt_rom"] = covered_range(signals["shoulder_tilt"][sl], cover)
        c["pelvic_obliquity_rom"] = covered_range(signals["pelvic_obliquity"][sl], cover)
        c["ml_sway"] = ml_sway(mid_hip_x[sl], hip_width[sl], cover)
        for lr in ("left", "right"):
            c[f"arm_swing_{lr}"] = arm_swing(
                p(f"{lr}_shoulder")[sl], p(f"{lr}_wrist")[sl], arm_len[lr][sl], cover
            )
            c[f"hip_rom_{lr}"] = covered_range(signals[f"hip_angle_{lr}"][sl], cover)
            c[f"knee_rom_{lr}"] = covered_range(signals[f"knee_angle_{lr}"][sl], cover)
        cycles.append(c)
    return cycles


def signal_statistics(signals, cycles, events: Events, n_frames: int, cover: float) -> dict:
    """Per front/back signal: ``_median`` and ``_mean`` of the stride means, ``_abs_median``,
    ``_iqr`` over frames, ``_lhs_minus_rhs``. Without a complete stride the median and mean
    are taken over frames, when the signal covers at least ``cover`` of them."""
    row: dict[str, Any] = {}
    nan = float("nan")
    for name in FRAME_SIGNALS:
        x = signals[name]
        covered = bool(n_frames) and np.isfinite(x).mean() >= cover
        if cycles:
            means = [c[f"{name}_mean"] for c in cycles]
            row[f"{name}_median"] = nanmedian(means)
            row[f"{name}_mean"] = nanmean(means)
            row[f"{name}_abs_median"] = nanmedian([c[f"{name}_abs_mean"] for c in cycles])
        else:
            row[f"{name}_median"] = nanmedian(x) if covered else nan
            row[f"{name}_mean"] = nanmean(x) if covered else nan
            row[f"{name}_abs_median"] = nanmedian(np.abs(x)) if covered else nan
        row[f"{name}_iqr"] = iqr(x) if covered else nan
        row[f"{name}_lhs_minus_rhs"] = nanmean(x[events.hs_left]) - nanmean(x[events.hs_right])
    return row


def stride_statistics(cycles) -> dict[str, float]:
    """Medians over strides of the ROMs, sway, arm swing and joint ROMs, and their SIs."""

    def median_of(key: str) -> float:
        return nanmedian([c[key] for c in cycles])

    row = {f"{k}_median": median_of(k) for k in ("shoulder_tilt_rom", "pelvic_obliquity_rom", "ml_sway")}
    for stem in ("arm_swing", "hip_rom", "knee_rom"):
        left, right = median_of(f"{stem}_left"), median_of(f"{stem}_right")
        row[f"{stem}_left_median"] = left
        row[f"{stem}_right_median"] = right
        row["arm_swing_asymmetry_si" if stem == "arm_swing" else f"{stem}_si"] = symmetry_index(left, right)
    return row


def step_statistics(steps, cycles, events: Events, fps: float, params, has_toes: bool) -> dict:
    """Step and stride times, cadence, step-time asymmetry (GA, SI) and stance times."""
    left = nanmean([(b - a) / fps for f, a, b in steps if f == "left"])
    right = nanmean([(b - a) / fps for f, a, b in steps if f == "right"])
    stride_t = nanmean([c["stride_time"] for c in cycles])
    row = {
        "step_time_left_mean": left,
        "step_time_right_mean": right,
        "stride_time_mean": stride_t,
        "cadence_mean": 120.0 / stride_t if np.isfinite(stride_t) and stride_t > 0 else float("nan"),
        "step_time_asymmetry_ga": gait_asymmetry(left, right),
        "step_time_asymmetry_si": symmetry_index(left, right),
    }
    for lr, hs, to in (("left", events.hs_left, events.to_left), ("right", events.hs_right, events.to_right)):
        row[f"stance_time_{lr}_mean"] = stance_time(
            hs, to, fps, params.max_stride_s, events.method, has_toes
        )
    return row


def _facing_label(face: np.ndarray, majority: float) -> tuple[str, dict[str, float]]:
    """Sequence facing label (front/back/side, mixed, unknown) and the fraction of each view."""
    known = np.isfinite(face)
    fracs = {
        lbl: float((face[known] == val).mean()) if known.any() else 0.0
        for lbl, val in (("front", geo.FRONT), ("back", geo.BACK), ("side", geo.SIDE))
    }
    if not known.any():
        return "unknown", fracs
    best = max(fracs, key=fracs.get)
    return (best if fracs[best] >= majority else "mixed"), fracs


def quality_control(body, info, cycles, events, roll, layout, fps, n_frames, detected, params):
    """The ``qc_*`` columns."""
    det = np.asarray(detected, bool) if detected is not None else np.ones(n_frames, bool)
    any_valid = np.zeros(n_frames, bool)
    for v in info["raw_valid"].values():
        any_valid |= v
    facing, fracs = _facing_label(body.facing, params.facing_majority)
    n_left = sum(1 for c in cycles if c["side"] == "left")
    qc: dict[str, Any] = {
        "qc_layout": layout, "qc_fps": float(fps), "qc_frames": n_frames,
        "qc_duration_s": n_frames / fps,
        "qc_person_fraction": float((det & any_valid).mean()) if n_frames else 0.0,
    }  # fmt: skip
    for n in QC_JOINTS:
        qc[f"qc_valid_{n}"] = info["valid"].get(n, float("nan"))
    qc.update({
        "qc_interpolated_fraction": info["interpolated_fraction"],
        "qc_longest_gap_s": info["longest_gap_s"], "qc_facing": facing,
        "qc_front_fraction": fracs["front"], "qc_back_fraction": fracs["back"],
        "qc_side_fraction": fracs["side"], "qc_camera_roll_deg": roll,
        "qc_event_method": events.method, "qc_track_jumps": int(info["breaks"].size),
        "qc_strides_left": n_left, "qc_strides_right": len(cycles) - n_left,
        "qc_feature_basis": "strides" if cycles else "frames",
    })  # fmt: skip
    return qc


def usability(qc: dict, info, params: FeatureParams) -> tuple[bool, str]:
    """(usable, reason): the reasons a row should not be analysed, joined by '; '."""
    reasons = []
    person = qc["qc_person_fraction"]
    if person < params.min_person_fraction:
        reasons.append(f"person in only {person:.0%} of frames")
    low = [n for n in REQUIRED if info["valid"].get(n, 0.0) < params.min_keypoint_fraction]
    if low:
        reasons.append(
            f"keypoints valid in < {params.min_keypoint_fraction:.0%} of frames: {', '.join(low)}"
        )
    if qc["qc_track_jumps"]:
        reasons.append(
            f"the tracked person jumps {qc['qc_track_jumps']} time(s) (another person or a cut)"
        )
    if qc["qc_facing"] == "unknown":
        reasons.append("facing direction unknown")
    n_l, n_r = qc["qc_strides_left"], qc["qc_strides_right"]
    if min(n_l, n_r) < params.min_strides:
        reasons.append(f"fewer than {params.min_strides} strides per side (left {n_l}, right {n_r})")
    return not reasons, "; ".join(reasons)


def frame_table(body: Body, signals, events: Events, fps: float) -> dict[str, np.ndarray]:
    """The per-frame table: time, facing, torso, every signal, heel strikes (+1 L, −1 R)."""
    n = body.torso.size
    frames: dict[str, np.ndarray] = {
        "frame": np.arange(n), "time_s": np.arange(n) / fps,
        "facing": body.facing, "torso_px": body.torso,
    }  # fmt: skip
    frames.update(signals)
    hs = np.zeros(n, np.int8)
    hs[events.hs_left] = 1
    hs[events.hs_right] = -1
    frames["heel_strike"] = hs
    return frames


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
