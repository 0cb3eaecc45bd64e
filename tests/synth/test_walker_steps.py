"""The walker's named steps (gaitpose.synth.walker): properties on constructed cases."""

from __future__ import annotations

import numpy as np
import pytest

from gaitpose.synth.walker import (
    DayVariation,
    arm_chain,
    draw_day_variation,
    gait_phases,
    ground_offset,
    hip_amplitude,
    knee_flexion,
    leg_chain,
    pelvis_pose,
    sample_subject,
    simulate,
    trunk_pose,
)


@pytest.fixture
def subject():
    return sample_subject(np.random.default_rng(11), "positive")


def _variation(cadence=120.0, p=0.53, t0=0.25) -> DayVariation:
    return DayVariation(cadence=cadence, stride_t=120.0 / cadence, p=p, shoulder_tilt=2.0,
                        pelvic_obliquity=-1.0, trunk_shift=3.0, twist=5.0, amp_l=18.0,
                        amp_r=22.0, fwd_lean=4.0, t0=t0)


def test_gait_phases_follow_the_cadence():
    # 120 steps/min = one stride per second; at 30 fps a stride is 30 frames
    v = _variation(cadence=120.0, p=0.53, t0=0.25)
    phl, phr = gait_phases(v, T=91, fps=30.0)
    assert phl[0] == pytest.approx(np.pi / 2)  # t0 = a quarter stride
    np.testing.assert_allclose(phl[30:] - phl[:-30], 2 * np.pi)
    # the right heel strikes p of a stride after the left: right step p * stride_t seconds
    np.testing.assert_allclose(phl - phr, 2 * np.pi * 0.53)
    # left heel strikes (phase crossing a multiple of 2π) one stride apart
    strikes = np.flatnonzero(np.diff(np.floor(phl / (2 * np.pi))) > 0)
    np.testing.assert_array_equal(np.diff(strikes), 30)


def test_knee_flexes_most_in_swing():
    ph = np.linspace(0, 2 * np.pi, 1000, endpoint=False)
    k = knee_flexion(ph)
    assert ph[np.argmax(k)] / (2 * np.pi) == pytest.approx(0.72, abs=0.01)
    assert k.min() >= 3.0 * np.pi / 180 - 1e-12  # never hyper-extends


def test_limb_chains_keep_their_bone_lengths(subject):
    v = _variation()
    phl, phr = gait_phases(v, T=60, fps=30.0)
    midhip, hip_l, hip_r, pel_yaw, _ = pelvis_pose(subject, v, phl)
    np.testing.assert_allclose(np.linalg.norm(hip_l - hip_r, axis=1), 2 * subject.hip_half)
    knee, ankle, heel, toe = leg_chain(subject, hip_r, phr, hip_amplitude(subject))
    np.testing.assert_allclose(np.linalg.norm(knee - hip_r, axis=1), subject.thigh)
    np.testing.assert_allclose(np.linalg.norm(ankle - knee, axis=1), subject.shank)
    H = subject.height
    np.testing.assert_allclose(np.linalg.norm(heel - ankle, axis=1), H * np.hypot(0.03, 0.035))
    np.testing.assert_allclose(np.linalg.norm(toe - ankle, axis=1), H * np.hypot(0.035, 0.12))
    midsh, sh_l, _, _, th_yaw, _ = trunk_pose(subject, v, midhip, pel_yaw, phl)
    np.testing.assert_allclose(np.linalg.norm(midsh - midhip, axis=1), subject.torso)
    elbow, wrist, *_ = arm_chain(subject, sh_l, phr, v.amp_l, +1, th_yaw)
    np.testing.assert_allclose(np.linalg.norm(elbow - sh_l, axis=1), subject.upper_arm)
    np.testing.assert_allclose(np.linalg.norm(wrist - elbow, axis=1), subject.forearm)
    assert (elbow[:, 0] > sh_l[:, 0] - 0.05).all()  # left arm abducted to the left


def test_ground_offset_puts_the_lowest_foot_point_on_the_floor():
    rng = np.random.default_rng(0)
    feet = rng.normal(0.3, 0.2, size=(25, 4, 3))
    off = ground_offset(feet, height=1.5)
    assert off.shape == (25, 3)
    np.testing.assert_array_equal(off[:, [0, 2]], 0.0)  # vertical only
    np.testing.assert_allclose((feet + off[:, None])[..., 1].min(1), 0.004 * 1.5)


def test_simulate_feet_on_floor_and_rng_only_in_the_day_variation(subject):
    m = simulate(subject, T=45, fps=30.0, rng=np.random.default_rng(5))
    feet_u = m.joints[:, [29, 30, 31, 32], 1]  # heels and toes
    np.testing.assert_allclose(feet_u.min(1), 0.004 * subject.height, atol=1e-12)
    assert (feet_u > 0).all()
    # every draw of a sequence happens in draw_day_variation (the generator's byte-identity)
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    simulate(subject, T=45, fps=30.0, rng=a)
    draw_day_variation(subject, b)
    assert a.bit_generator.state == b.bit_generator.state
