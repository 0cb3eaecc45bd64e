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
from gaitpose.features.events import Events, frontal_events, side_events, strides_and_steps
from gaitpose.features.signal import butter_lowpass, hampel, interpolate_gaps, runs
from graphs.layouts import get_layout

__all__ = [
    "FRAME_SIGNALS",
    "SIGNED_SIGNALS",
    "FeatureParams",
    "SequenceFeatures",
    "clean_keypoints",
    "sequence_features",
]

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


@dataclass(frozen=True)
class FeatureParams:
    """Processing parameters (ASYMMETRY.md defaults). Times in seconds."""

    min_score: float = 0.5  #: keypoints with a lower score are missing
    max_gap_s: float = 0.15  #: longest gap to interpolate
    hampel_window: int = 7  #: frames
    hampel_sigmas: float = 3.0  #: scaled MADs
    cutoff_hz: float = 6.0  #: Butterworth cut-off
    filter_order: int = 4
    side_ratio: float = 0.25  #: |body width| / torso below which a frame is a side view
    min_stride_s: float = 0.4
    max_stride_s: float = 2.5
    min_strides: int = 3  #: per side, for ``usable``
    min_person_fraction: float = 0.5
    min_keypoint_fraction: float = 0.5
    stride_coverage: float = 0.5  #: fraction of valid frames a stride needs for its mean
    facing_majority: float = 0.7  #: fraction of frames for a sequence facing label (else mixed)
    correct_roll: bool = True  #: de-rotate front/back views by the leg-axis camera roll estimate
    jump_speed: float = 3.0  #: torso lengths per second above which the tracked person "jumps"


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


# ----------------------------------------------------------------------------- cleaning
def clean_keypoints(
    keypoints: np.ndarray, fps: float, layout: str, params: FeatureParams = FeatureParams()
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


# ----------------------------------------------------------------------------- helpers
def _nanmedian(x) -> float:
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else float("nan")


def _nanmean(x) -> float:
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(np.mean(x)) if x.size else float("nan")


def _iqr(x) -> float:
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if not x.size:
        return float("nan")
    q1, q3 = np.percentile(x, [25, 75])
    return float(q3 - q1)


def symmetry_index(left: float, right: float) -> float:
    """Robinson 1987: ``2 |L - R| / (L + R) * 100`` (%), for positive quantities."""
    den = left + right
    return (
        float(2 * abs(left - right) / den * 100) if np.isfinite(den) and den > 0 else float("nan")
    )


def gait_asymmetry(left: float, right: float) -> float:
    """Plotnik 2007: ``|ln(L / R)| * 100`` (%), for positive quantities."""
    if not (np.isfinite(left) and np.isfinite(right)) or left <= 0 or right <= 0:
        return float("nan")
    return float(abs(np.log(left / right)) * 100)


def _segment_means(x: np.ndarray, start: np.ndarray, end: np.ndarray, cover: float) -> np.ndarray:
    """Mean of each column of ``x`` over frames ``start..end`` (inclusive), ignoring NaN; NaN
    where fewer than ``cover`` of the frames are valid. Vectorised with cumulative sums.

    Shapes: x [T, C], start/end [K] → [K, C]
    """
    f = np.isfinite(x)
    cs = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(np.where(f, x, 0.0), 0)])
    cn = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(f, 0)])
    if not len(start):
        return np.zeros((0, x.shape[1]))
    tot = cs[end + 1] - cs[start]
    n = cn[end + 1] - cn[start]
    length = (end - start + 1)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        m = tot / n
    return np.where((n > 0) & (n / length >= cover), m, np.nan)


def _covered_range(x: np.ndarray, cover: float) -> float:
    f = np.isfinite(x)
    return float(x[f].max() - x[f].min()) if x.size and f.mean() >= cover else float("nan")


def _arm_swing(sh: np.ndarray, wr: np.ndarray, arm_length: np.ndarray, cover: float) -> float:
    """Range of the wrist relative to the shoulder along its main direction / arm length.

    Shapes: sh, wr [N, 2] (one stride), arm_length [N] → scalar
    """
    r = wr - sh
    f = np.isfinite(r).all(-1)
    if not r.size or f.mean() < cover or f.sum() < 3:
        return float("nan")
    rv = r[f] - r[f].mean(0)
    _, vecs = np.linalg.eigh(rv.T @ rv)
    proj = rv @ vecs[:, -1]
    length = _nanmedian(arm_length)
    return float((proj.max() - proj.min()) / length) if length > 0 else float("nan")


def _ml_sway(mh_x: np.ndarray, hip_width: np.ndarray, cover: float) -> float:
    """Range of the linearly detrended mid-hip x over a stride / hip width."""
    f = np.isfinite(mh_x)
    if not mh_x.size or f.mean() < cover or f.sum() < 3:
        return float("nan")
    t = np.nonzero(f)[0].astype(float)
    y = mh_x[f]
    tc = t - t.mean()
    slope = (tc @ (y - y.mean())) / (tc @ tc)
    res = y - slope * tc
    w = _nanmedian(hip_width)
    return float((res.max() - res.min()) / w) if w > 0 else float("nan")


def _wrap(deg: np.ndarray) -> np.ndarray:
    """Angles (deg) wrapped into [-180, 180)."""
    return (deg + 180.0) % 360.0 - 180.0


def _walking_direction(mh_x: np.ndarray, fps: float) -> np.ndarray:
    """Per-frame sign of the 1-s smoothed horizontal velocity of the mid-hip (+1 towards +x)."""
    T = mh_x.shape[0]
    if T < 2:
        return np.ones(T)
    v = np.gradient(mh_x) if np.isfinite(mh_x).sum() > 1 else np.full(T, np.nan)
    k = min(max(int(round(fps)), 1), T)
    vf = np.where(np.isfinite(v), v, 0.0)
    n = np.convolve(np.isfinite(v).astype(float), np.ones(k), "same")
    with np.errstate(invalid="ignore", divide="ignore"):
        vs = np.convolve(vf, np.ones(k), "same") / n
    glob = np.sign(np.nanmedian(v)) if np.isfinite(v).any() else 1.0
    glob = glob if glob != 0 else 1.0
    d = np.sign(vs)
    return np.where(np.isfinite(d) & (d != 0), d, glob)


def camera_roll(joints: dict[str, np.ndarray], side_ratio: float = 0.25) -> float:
    """Camera roll (deg) from the mean leg axis in front/back frames [S].

    A level camera sees the hip→ankle axis of each leg, averaged over both legs and over the
    gait cycle, as vertical (the legs swing in the sagittal plane, which a front or back view
    sees edge-on); a rolled camera rotates it. Positive = the image content is rotated
    clockwise on screen (the ``x cos r - y sin r`` convention with y down), which lowers the
    subject's left side when facing the camera. NaN without front/back frames or leg joints.

    Args:
        joints: name → [T, 2] pixels (as returned by :func:`clean_keypoints`).
    """
    need = ("left_hip", "right_hip", "left_ankle", "right_ankle", "left_shoulder", "right_shoulder")
    if not all(n in joints for n in need):
        return float("nan")
    ls, rs, lh, rh = (
        joints[n] for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
    )
    torso = geo.torso_length(geo.midpoint(ls, rs), geo.midpoint(lh, rh))
    face = geo.facing(ls, rs, lh, rh, np.where(torso > 0, torso, np.nan), side_ratio)
    frontal = (face == geo.FRONT) | (face == geo.BACK)
    ang = []
    for lr in ("left", "right"):
        d = joints[f"{lr}_ankle"] - joints[f"{lr}_hip"]
        ang.append(np.degrees(np.arctan2(d[:, 0], d[:, 1])))
    mean = np.where(frontal, 0.5 * (ang[0] + ang[1]), np.nan)
    return -_nanmedian(mean)


# ----------------------------------------------------------------------------- main
def sequence_features(
    keypoints: np.ndarray,
    fps: float,
    layout: str,
    world: np.ndarray | None = None,
    detected: np.ndarray | None = None,
    params: FeatureParams = FeatureParams(),
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
        return _sequence_features(keypoints, float(fps), layout, world, detected, params)


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

    direction = _walking_direction(mh[:, 0], fps)
    thigh_l = geo.segment_angle_from_vertical(LH, P("left_knee"), direction)
    thigh_r = geo.segment_angle_from_vertical(RH, P("right_knee"), direction)
    trunk = geo.segment_angle_from_vertical(ms, mh, direction)
    shank_l = geo.segment_angle_from_vertical(P("left_knee"), P("left_ankle"), direction)
    shank_r = geo.segment_angle_from_vertical(P("right_knee"), P("right_ankle"), direction)
    sd = lambda v: np.where(side, v, np.nan)  # noqa: E731
    sig["hip_angle_left"] = sd(_wrap(thigh_l - trunk))
    sig["hip_angle_right"] = sd(_wrap(thigh_r - trunk))
    sig["knee_angle_left"] = sd(_wrap(thigh_l - shank_l))
    sig["knee_angle_right"] = sd(_wrap(thigh_r - shank_r))

    # ---------------------------------------------------------------- events
    n_fb, n_side = int(frontal.sum()), int(side.sum())
    if n_fb == 0 and n_side == 0:
        ev = Events()
    elif n_fb >= n_side:
        e = fr(s * (P("left_ankle")[:, 1] - P("right_ankle")[:, 1]) / torso)
        ev = frontal_events(e, fps, params.min_stride_s)
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
    stride_means = _segment_means(
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
        c["shoulder_tilt_rom"] = _covered_range(sig["shoulder_tilt"][sl], cov)
        c["pelvic_obliquity_rom"] = _covered_range(sig["pelvic_obliquity"][sl], cov)
        c["ml_sway"] = _ml_sway(mh_fx[sl], hip_w[sl], cov)
        for lr in ("left", "right"):
            c[f"arm_swing_{lr}"] = _arm_swing(
                P(f"{lr}_shoulder")[sl], P(f"{lr}_wrist")[sl], arm_len[lr][sl], cov
            )
            c[f"hip_rom_{lr}"] = _covered_range(sig[f"hip_angle_{lr}"][sl], cov)
            c[f"knee_rom_{lr}"] = _covered_range(sig[f"knee_angle_{lr}"][sl], cov)
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
            row[f"{name}_median"] = _nanmedian(means)
            row[f"{name}_abs_median"] = _nanmedian(absm)
        else:  # no complete stride: frame medians, when the signal covers enough frames
            row[f"{name}_median"] = _nanmedian(x) if frame_ok[name] else float("nan")
            row[f"{name}_abs_median"] = _nanmedian(np.abs(x)) if frame_ok[name] else float("nan")
        row[f"{name}_iqr"] = _iqr(x) if frame_ok[name] else float("nan")
        row[f"{name}_lhs_minus_rhs"] = _nanmean(x[ev.hs_left]) - _nanmean(x[ev.hs_right])

    def cyc(key: str) -> float:
        return _nanmedian([c[key] for c in cycles])

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
    row["step_time_left_mean"] = _nanmean(st_l)
    row["step_time_right_mean"] = _nanmean(st_r)
    stride_t = _nanmean([c["stride_time"] for c in cycles])
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
        row[f"stance_time_{lr}_mean"] = _stance(
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


def _stance(
    hs: np.ndarray, to: np.ndarray, fps: float, max_s: float, method: str, has_toes: bool
) -> float:
    """Mean time from a heel strike to the next toe-off of the same foot (side view, toes needed)."""
    if method != "side" or not has_toes or not len(hs) or not len(to):
        return float("nan")
    out = []
    for t in hs:
        later = to[to > t]
        if later.size and (later[0] - t) / fps < max_s:
            out.append((later[0] - t) / fps)
    return _nanmean(out)


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
