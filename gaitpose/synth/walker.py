"""A parametric 3D walker with a latent scoliosis severity.

Everything here is in the walker's own *body frame*, metres, with axes

* ``l`` — towards the subject's **left**,
* ``u`` — up (the ground is ``u = 0``),
* ``f`` — the walking direction (forward).

A subject (:class:`Subject`) carries anthropometrics, a habitual gait, a latent severity
and how that severity is expressed (postural cues shared by both modalities, a trunk
contour cue that only a silhouette shows, and gait cues that keypoints show best). A
sequence (:func:`simulate`) adds day-to-day variation and produces, per frame, the 33
MediaPipe joints and the torso cross-sections used to render the silhouette.

This is a pipeline check, not a biomechanical model of scoliosis: the cue sizes are chosen
so that classifiers have something to find in each modality, not from clinical data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

DEG = np.pi / 180.0

# Latent severity per class: overlapping ranges (negative < neutral < positive).
SEVERITY_RANGES: dict[str, tuple[float, float]] = {
    "negative": (0.0, 0.42),
    "neutral": (0.15, 0.68),
    "positive": (0.38, 1.0),
}

# Torso levels (fraction of the mid-hip → mid-shoulder line) used to render the trunk.
TORSO_LEVELS = np.array([0.0, 0.16, 0.4, 0.64, 0.86, 1.0])
N_SECTION = 8  # points per torso cross-section


@dataclass
class Subject:
    """One synthetic subject: body, habitual gait, severity and its expression.

    Lengths in metres, angles in degrees. ``convex`` is +1 when the curve's convex side is
    the subject's left, -1 when it is the right.
    """

    height: float
    girth: float
    shoulder_half: float
    hip_half: float
    torso: float
    thigh: float
    shank: float
    upper_arm: float
    forearm: float
    cadence: float
    step_length: float
    arm_swing: float
    arm_abduction: float
    sway: float
    severity: float
    convex: int
    expr_posture: float
    expr_contour: float
    expr_gait: float
    # static asymmetries (habitual + scoliosis), degrees / % torso / ratios
    shoulder_tilt: float
    pelvic_obliquity: float
    trunk_shift: float
    twist: float
    arm_log_ratio: float
    step_phase: float
    waist_asym: float
    spine_bow: float
    chest_asym: float

    def to_dict(self) -> dict:
        return asdict(self)


def _tri(rng: np.random.Generator, lo: float, hi: float) -> float:
    """A draw from a triangular-ish (Beta(2,2)) law on [lo, hi]: overlapping class ranges."""
    return float(lo + (hi - lo) * rng.beta(2.0, 2.0))


def sample_subject(rng: np.random.Generator, cls: str) -> Subject:
    """Draw a subject of class ``cls`` (negative / neutral / positive)."""
    H = float(np.clip(rng.normal(1.66, 0.09), 1.45, 1.95))
    sev = _tri(rng, *SEVERITY_RANGES[cls])
    convex = int(rng.choice([-1, 1]))
    e = 3.0 * rng.dirichlet([1.1, 1.1, 1.1])  # expression: posture, contour, gait (mean 1 each)
    c = convex * sev
    return Subject(
        height=H,
        girth=float(np.clip(rng.normal(1.0, 0.09), 0.8, 1.3)),
        shoulder_half=H * float(np.clip(rng.normal(0.106, 0.006), 0.09, 0.125)),
        hip_half=H * float(np.clip(rng.normal(0.064, 0.005), 0.05, 0.08)),
        torso=H * float(np.clip(rng.normal(0.29, 0.008), 0.26, 0.32)),
        thigh=H * float(np.clip(rng.normal(0.245, 0.007), 0.22, 0.27)),
        shank=H * float(np.clip(rng.normal(0.246, 0.007), 0.22, 0.27)),
        upper_arm=H * float(np.clip(rng.normal(0.186, 0.006), 0.16, 0.21)),
        forearm=H * float(np.clip(rng.normal(0.15, 0.005), 0.13, 0.17)),
        cadence=float(np.clip(rng.normal(112.0, 7.0), 92.0, 135.0)),
        step_length=H * float(np.clip(rng.normal(0.41, 0.03), 0.32, 0.5)),
        arm_swing=float(np.clip(rng.normal(20.0, 5.0), 8.0, 35.0)),
        arm_abduction=float(np.clip(rng.normal(9.0, 2.0), 4.0, 15.0)),
        sway=float(np.clip(rng.normal(0.022, 0.006), 0.008, 0.04)),
        severity=sev,
        convex=convex,
        expr_posture=float(e[0]),
        expr_contour=float(e[1]),
        expr_gait=float(e[2]),
        # posture: shared by keypoints and silhouettes
        shoulder_tilt=float(rng.normal(0.0, 1.3) + 5.0 * c * e[0]),
        pelvic_obliquity=float(rng.normal(0.0, 1.0) - 2.5 * c * e[0]),
        trunk_shift=float(rng.normal(0.0, 1.6) + 6.0 * c * e[0]),
        # gait / rotation: keypoints (thoraco-pelvic twist, arm swing, step timing)
        twist=float(rng.normal(0.0, 2.5) + 12.0 * c * e[2]),
        arm_log_ratio=float(rng.normal(0.0, 0.08) - 0.4 * c * e[2]),
        step_phase=float(rng.normal(0.0, 0.006) + 0.035 * c * e[2]),
        # trunk contour: silhouettes only (no keypoint sits on the waist or flank)
        waist_asym=float(rng.normal(0.0, 0.06) + 0.6 * c * e[1]),
        spine_bow=float(rng.normal(0.0, 0.012) + 0.12 * c * e[1]),
        chest_asym=float(rng.normal(0.0, 0.03) + 0.2 * c * e[1]),
    )


# ---------------------------------------------------------------------------- rotations
def _yaw(v: np.ndarray, a) -> np.ndarray:
    """Rotate about ``u``; positive moves the left side forward. v [..., 3], a broadcastable."""
    ca, sa = np.cos(a), np.sin(a)
    lat, u, f = v[..., 0], v[..., 1], v[..., 2]
    return np.stack([lat * ca - f * sa, u + 0 * a, lat * sa + f * ca], -1)


def _roll(v: np.ndarray, a) -> np.ndarray:
    """Rotate about ``f``; positive raises the left side."""
    ca, sa = np.cos(a), np.sin(a)
    lat, u, f = v[..., 0], v[..., 1], v[..., 2]
    return np.stack([lat * ca - u * sa, lat * sa + u * ca, f + 0 * a], -1)


def _pitch(v: np.ndarray, a) -> np.ndarray:
    """Rotate about ``l``; positive swings a downward vector forward (flexion)."""
    ca, sa = np.cos(a), np.sin(a)
    lat, u, f = v[..., 0], v[..., 1], v[..., 2]
    return np.stack([lat + 0 * a, u * ca + f * sa, -u * sa + f * ca], -1)


def _bump(phase: np.ndarray, centre: float, width: float) -> np.ndarray:
    """Periodic Gaussian bump of the cycle fraction ``phase`` (radians) around ``centre``."""
    d = (phase / (2 * np.pi) - centre + 0.5) % 1.0 - 0.5
    return np.exp(-0.5 * (d / width) ** 2)


def _vec(*xyz) -> np.ndarray:
    return np.asarray(xyz, dtype=np.float64)


@dataclass
class Motion:
    """Per-frame body-frame geometry of one sequence.

    Shapes:
        joints: [T, 33, 3] MediaPipe-33 joints (l, u, f) in metres
        torso: [T, len(TORSO_LEVELS), N_SECTION, 3] torso cross-section points
        head: [T, 3] head centre; head_radius: float (m)
        truth: dict of true per-sequence values (ASYMMETRY.md conventions)
    """

    joints: np.ndarray
    torso: np.ndarray
    head: np.ndarray
    head_radius: float
    truth: dict


@dataclass
class DayVariation:
    """One sequence's day-to-day variation around the subject's habits (all scalars).

    ``cadence`` steps/min; ``stride_t`` s per stride (two steps); ``p`` the fraction of a
    stride at which the right heel strikes (left at 0); ``shoulder_tilt``,
    ``pelvic_obliquity``, ``twist``, ``fwd_lean``, ``amp_l``, ``amp_r`` (arm swing
    amplitudes) in degrees; ``trunk_shift`` in % of the torso length; ``t0`` s, where in
    the stride the first frame falls.
    """

    cadence: float
    stride_t: float
    p: float
    shoulder_tilt: float
    pelvic_obliquity: float
    trunk_shift: float
    twist: float
    amp_l: float
    amp_r: float
    fwd_lean: float
    t0: float


def draw_day_variation(s: Subject, rng: np.random.Generator) -> DayVariation:
    """Draw the sequence's variation from ``rng`` (the draw order is part of the output)."""
    cadence = s.cadence * float(np.exp(rng.normal(0, 0.03)))
    stride_t = 120.0 / cadence
    p = 0.5 + s.step_phase + rng.normal(0, 0.004)
    st = s.shoulder_tilt + rng.normal(0, 0.5)
    po = s.pelvic_obliquity + rng.normal(0, 0.4)
    shift = s.trunk_shift + rng.normal(0, 0.6)
    twist = s.twist + rng.normal(0, 1.5)
    arm_lr = s.arm_log_ratio + rng.normal(0, 0.04)
    arm_amp = s.arm_swing * float(np.exp(rng.normal(0, 0.1)))
    amp_l, amp_r = arm_amp * np.exp(arm_lr / 2), arm_amp * np.exp(-arm_lr / 2)
    fwd_lean = rng.normal(4.0, 1.5)
    t0 = rng.uniform(0, stride_t)
    return DayVariation(cadence, stride_t, p, st, po, shift, twist, amp_l, amp_r, fwd_lean, t0)


def gait_phases(v: DayVariation, T: int, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Stride phases (radians, [T] each) of the left and right legs.

    The left heel strikes at phase 0 (mod 2π); the right leg lags by ``2π p``.
    """
    t = np.arange(T) / fps + v.t0
    phl = 2 * np.pi * t / v.stride_t
    phr = phl - 2 * np.pi * v.p
    return phl, phr


def hip_amplitude(s: Subject) -> float:
    """Hip flexion amplitude (degrees), scaled by the step length (20° at 0.41 H)."""
    return 20.0 * s.step_length / (0.41 * s.height)


def hip_flexion(ph: np.ndarray, hip_amp: float) -> np.ndarray:
    """Hip flexion (radians) at stride phase ``ph`` (radians); forward positive."""
    return (10.0 + hip_amp * np.cos(ph)) * DEG


def knee_flexion(ph: np.ndarray) -> np.ndarray:
    """Knee flexion (radians): loading response near 13 % and swing peak near 72 % of the stride."""
    return (3.0 + 15.0 * _bump(ph, 0.13, 0.07) + 57.0 * _bump(ph, 0.72, 0.11)) * DEG


def foot_pitch(ph: np.ndarray) -> np.ndarray:
    """Foot pitch (radians): toes up at heel strike, toes down at push-off (62 %)."""
    return (15.0 * _bump(ph, 0.0, 0.06) - 35.0 * _bump(ph, 0.62, 0.06)) * DEG


def pelvis_pose(s: Subject, v: DayVariation, phl: np.ndarray):
    """Pelvis per frame, before ground contact.

    Returns ``midhip, hip_l, hip_r`` ([T, 3], m) and ``pel_yaw, pel_roll`` ([T], radians).
    """
    T = len(phl)
    hip_h = s.thigh + s.shank + 0.039 * s.height
    sway = s.sway * np.sin(phl)
    pel_yaw = 4.0 * DEG * np.cos(phl)
    pel_roll = (v.pelvic_obliquity + 3.0 * np.sin(phl)) * DEG
    midhip = np.stack([sway, np.full(T, hip_h), np.zeros(T)], -1)
    hip_off = _yaw(_roll(np.broadcast_to(_vec(s.hip_half, 0, 0), (T, 3)), pel_roll), pel_yaw)
    return midhip, midhip + hip_off, midhip - hip_off, pel_yaw, pel_roll


def leg_chain(s: Subject, hip: np.ndarray, ph: np.ndarray, hip_amp: float):
    """Forward kinematics of one leg from its hip ([T, 3], m) and stride phase ([T], rad).

    Returns ``knee, ankle, heel, toe``, each [T, 3] in metres.
    """
    T, H = len(ph), s.height
    down = np.broadcast_to(_vec(0, -1, 0), (T, 3))
    th = hip_flexion(ph, hip_amp)
    knee = hip + s.thigh * _pitch(down, th)
    ankle = knee + s.shank * _pitch(down, th - knee_flexion(ph))
    fp = foot_pitch(ph)
    heel = ankle + _pitch(np.broadcast_to(_vec(0, -0.03 * H, -0.035 * H), (T, 3)), -fp)
    toe = ankle + _pitch(np.broadcast_to(_vec(0, -0.035 * H, 0.12 * H), (T, 3)), -fp)
    return knee, ankle, heel, toe


def trunk_pose(s: Subject, v: DayVariation, midhip: np.ndarray, pel_yaw: np.ndarray,
               phl: np.ndarray):
    """Trunk: lateral shift of mid-shoulder over mid-hip, forward lean, thoraco-pelvic twist.

    Returns ``midsh, sh_l, sh_r`` ([T, 3], m), ``d`` ([T], m: lateral offset of the
    mid-shoulder), ``th_yaw, sh_roll`` ([T], radians).
    """
    T = len(phl)
    d = v.trunk_shift / 100.0 * s.torso + 0.01 * s.torso * np.sin(phl)
    up = np.sqrt(np.maximum(s.torso**2 - d**2, 1e-6))
    lean = v.fwd_lean * DEG
    midsh = midhip + np.stack([d, up * np.cos(lean), up * np.sin(lean)], -1)
    th_yaw = v.twist * DEG - 0.5 * pel_yaw
    sh_roll = (v.shoulder_tilt + 1.0 * np.sin(phl + np.pi)) * DEG
    sh_off = _yaw(_roll(np.broadcast_to(_vec(s.shoulder_half, 0, 0), (T, 3)), sh_roll), th_yaw)
    return midsh, midsh + sh_off, midsh - sh_off, d, th_yaw, sh_roll


def arm_chain(s: Subject, sh: np.ndarray, ph: np.ndarray, amp: float, side: int,
              th_yaw: np.ndarray):
    """Forward kinematics of one arm from its shoulder ([T, 3], m).

    ``ph`` [T] is the phase of the *opposite* leg (radians), ``amp`` the swing amplitude
    (degrees), ``side`` +1 left / -1 right, ``th_yaw`` [T] the thorax yaw (radians).
    Returns ``elbow, wrist, pinky, index, thumb``, each [T, 3] in metres.
    """
    T, H = len(ph), s.height
    down = np.broadcast_to(_vec(0, -1, 0), (T, 3))
    flex = (3.0 + amp * np.cos(ph)) * DEG
    elbow_flex = np.maximum(5.0, 14.0 + 0.5 * amp * np.cos(ph)) * DEG
    abd = side * s.arm_abduction * DEG
    ua = _yaw(_roll(_pitch(down, flex), abd), th_yaw)
    fa = _yaw(_roll(_pitch(down, flex + elbow_flex), abd * 0.6), th_yaw)
    elbow = sh + s.upper_arm * ua
    wrist = elbow + s.forearm * fa
    side_v = _yaw(np.broadcast_to(_vec(side, 0, 0), (T, 3)), th_yaw)
    fwd_v = _yaw(np.broadcast_to(_vec(0, 0, 1), (T, 3)), th_yaw)
    pinky = wrist + 0.055 * H * fa + 0.012 * H * side_v
    index = wrist + 0.06 * H * fa - 0.006 * H * side_v + 0.01 * H * fwd_v
    thumb = wrist + 0.035 * H * fa + 0.02 * H * fwd_v
    return elbow, wrist, pinky, index, thumb


def head_and_face(s: Subject, midsh: np.ndarray, d: np.ndarray):
    """Head centre ([T, 3], m), partly re-centred over the pelvis, and the 11 face joints.

    Returns ``head`` and a list of 11 [T, 3] arrays in MediaPipe order (nose, eyes, ears,
    mouth).
    """
    T, H = len(d), s.height
    head = midsh + np.stack([-0.4 * d, np.full(T, 0.112 * H), np.full(T, 0.012 * H)], -1)

    def face(dl, du, df):
        return head + _vec(dl, du, df) * H / 1.66

    points = [
        face(0, -0.005, 0.1),
        face(0.015, 0.03, 0.085), face(0.032, 0.032, 0.08), face(0.048, 0.03, 0.07),
        face(-0.015, 0.03, 0.085), face(-0.032, 0.032, 0.08), face(-0.048, 0.03, 0.07),
        face(0.075, 0.01, 0.0), face(-0.075, 0.01, 0.0),
        face(0.025, -0.04, 0.085), face(-0.025, -0.04, 0.085),
    ]  # fmt: skip
    return head, points


def torso_sections(s: Subject, midhip, midsh, pel_yaw, pel_roll, th_yaw, sh_roll) -> np.ndarray:
    """Torso cross-sections [T, len(TORSO_LEVELS), N_SECTION, 3] (m) for the silhouette.

    Centres lie on the (bowed) spine line from ``midhip`` to ``midsh`` ([T, 3]); yaw and
    roll ([T], radians) are blended from pelvis to shoulders. The silhouette-only contour
    cue: a waist indentation on the concave side, a flank/rib bulge on the convex side.
    """
    T, H, lv = len(midhip), s.height, TORSO_LEVELS
    g = s.girth * H / 1.66
    half_w = np.array([0.175, 0.16, 0.128, 0.148, 0.155, 0.0]) * g
    half_w[-1] = s.shoulder_half + 0.03 * H
    half_d = np.array([0.11, 0.1, 0.09, 0.11, 0.1, 0.07]) * g
    asym = np.array([0.0, 0.25, 1.0, 0.35, 0.1, 0.0]) * s.waist_asym + np.array(
        [0, 0, 0, 1.0, 0.5, 0]
    ) * s.chest_asym
    w_left = half_w * (1 + asym / 2)
    w_right = half_w * (1 - asym / 2)
    bow = s.spine_bow * s.torso * np.sin(np.pi * lv)
    centres = midhip[:, None] + lv[None, :, None] * (midsh - midhip)[:, None]
    centres[..., 0] += bow[None]
    yaw_lv = pel_yaw[:, None] + lv[None] * (th_yaw - pel_yaw)[:, None] * np.ones_like(lv)
    roll_lv = pel_roll[:, None] + lv[None] * (sh_roll - pel_roll)[:, None]
    ang = 2 * np.pi * (np.arange(N_SECTION) + 0.5) / N_SECTION
    lat = np.where(np.cos(ang)[None] > 0, w_left[:, None], w_right[:, None]) * np.cos(ang)[None]
    dep = half_d[:, None] * np.sin(ang)[None]
    sect = np.stack([lat, np.zeros_like(lat), dep], -1)  # [L, S, 3]
    sect = np.broadcast_to(sect, (T, *sect.shape))
    return centres[:, :, None] + _yaw(_roll(sect, roll_lv[..., None]), yaw_lv[..., None])


def ground_offset(feet: np.ndarray, height: float) -> np.ndarray:
    """Vertical shift [T, 3] (m) that puts the lowest foot point of each frame on the floor.

    ``feet`` [T, K, 3] are the foot joints (heels, toes). After the shift the lowest one
    sits at ``u = 0.004 * height`` (the joint is a marker above the sole), so the shift
    makes the body's vertical bob.
    """
    T = len(feet)
    lift = feet[..., 1].min(1) - 0.004 * height
    return np.stack([np.zeros(T), -lift, np.zeros(T)], -1)


def simulate(s: Subject, T: int, fps: float, rng: np.random.Generator) -> Motion:
    """Walk ``T`` frames at ``fps``: day-to-day variation from ``rng``, timing in seconds.

    The forward progression is *not* included (the renderer moves the body frame along
    the path); feet are placed on the ground by shifting the body so the lowest foot
    point touches the floor (:func:`ground_offset`, which makes the vertical bob).
    """
    v = draw_day_variation(s, rng)
    hip_amp = hip_amplitude(s)
    phl, phr = gait_phases(v, T, fps)
    midhip, hip_l, hip_r, pel_yaw, pel_roll = pelvis_pose(s, v, phl)
    knee_l, ankle_l, heel_l, toe_l = leg_chain(s, hip_l, phl, hip_amp)
    knee_r, ankle_r, heel_r, toe_r = leg_chain(s, hip_r, phr, hip_amp)
    midsh, sh_l, sh_r, d, th_yaw, sh_roll = trunk_pose(s, v, midhip, pel_yaw, phl)
    # each arm swings with the opposite leg
    el_l, wr_l, pk_l, ix_l, tb_l = arm_chain(s, sh_l, phr, v.amp_l, +1, th_yaw)
    el_r, wr_r, pk_r, ix_r, tb_r = arm_chain(s, sh_r, phl, v.amp_r, -1, th_yaw)
    head, face = head_and_face(s, midsh, d)
    joints = np.stack(
        [
            *face,
            sh_l, sh_r, el_l, el_r, wr_l, wr_r, pk_l, pk_r, ix_l, ix_r, tb_l, tb_r,
            hip_l, hip_r, knee_l, knee_r, ankle_l, ankle_r, heel_l, heel_r, toe_l, toe_r,
        ],
        axis=1,
    )  # fmt: skip
    torso = torso_sections(s, midhip, midsh, pel_yaw, pel_roll, th_yaw, sh_roll)

    off = ground_offset(np.stack([heel_l, heel_r, toe_l, toe_r], 1), s.height)
    joints = joints + off[:, None]
    torso = torso + off[:, None, None]
    head = head + off

    truth = _truth(joints, v.p, v.stride_t, s, v.twist, v.amp_l, v.amp_r)
    return Motion(joints=joints.astype(np.float64), torso=torso, head=head,
                  head_radius=0.047 * s.height, truth=truth)


def _tilt(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """ASYMMETRY.md tilt in degrees, positive = the subject's left higher (body frame)."""
    return np.degrees(np.arctan2(left[..., 1] - right[..., 1], np.abs(left[..., 0] - right[..., 0])))


def _truth(joints, p, stride_t, s: Subject, twist, amp_l, amp_r) -> dict:
    """True per-sequence values, measured on the clean body-frame joints (frontal plane)."""
    sh_l, sh_r, hp_l, hp_r = joints[:, 11], joints[:, 12], joints[:, 23], joints[:, 24]
    ms, mh = (sh_l + sh_r) / 2, (hp_l + hp_r) / 2
    torso = np.hypot(ms[:, 0] - mh[:, 0], ms[:, 1] - mh[:, 1])
    shoulder_tilt = _tilt(sh_l, sh_r).mean()
    pelvic_obliquity = _tilt(hp_l, hp_r).mean()
    trunk_shift = (100 * (ms[:, 0] - mh[:, 0]) / torso).mean()
    lean = np.degrees(np.arctan2(ms[:, 0] - mh[:, 0], ms[:, 1] - mh[:, 1])).mean()
    arm_len = s.upper_arm + s.forearm

    def swing(w, sh):
        rel = w[:, 2] - sh[:, 2]
        return (rel.max() - rel.min()) / arm_len

    sw_l, sw_r = swing(joints[:, 15], sh_l), swing(joints[:, 16], sh_r)
    step_r, step_l = p * stride_t, (1 - p) * stride_t  # step ending at right / left heel strike
    return {
        "shoulder_tilt": float(shoulder_tilt),
        "pelvic_obliquity": float(pelvic_obliquity),
        "shoulder_pelvis_tilt": float(shoulder_tilt - pelvic_obliquity),
        "trunk_shift": float(trunk_shift),
        "trunk_lateral_lean": float(lean),
        "thoracopelvic_twist": float(twist),
        "arm_swing_left": float(sw_l),
        "arm_swing_right": float(sw_r),
        "arm_swing_asymmetry": float(200 * abs(sw_l - sw_r) / (sw_l + sw_r)),
        "step_time_left": float(step_l),
        "step_time_right": float(step_r),
        "step_time_asymmetry": float(200 * abs(step_l - step_r) / (step_l + step_r)),
        "step_time_asymmetry_ga": float(100 * abs(np.log(step_l / step_r))),
        "cadence": float(120.0 / stride_t),
        "waist_asymmetry": float(s.waist_asym),
    }
