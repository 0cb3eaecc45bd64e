"""Geometry conventions: known tilts, anatomical signs front/back, mirroring, roll correction."""

from __future__ import annotations

import numpy as np
import pytest

from gaitpose.features import geometry as geo
from gaitpose.features import sequence_features
from gaitpose.features.constructed import mirror, walker

LATERAL = (
    "shoulder_tilt",
    "pelvic_obliquity",
    "trunk_shift",
    "trunk_lateral_lean",
    "shoulder_height_diff",
)


@pytest.mark.parametrize("angle", [-20.0, -3.0, 0.0, 4.5, 30.0])
@pytest.mark.parametrize("facing_camera", [True, False])
def test_tilt_of_a_pair_of_points(angle: float, facing_camera: bool) -> None:
    w = 100.0
    r = np.radians(angle)
    sx = 1.0 if facing_camera else -1.0  # the subject's left is at +x when facing the camera
    left = np.array(
        [[500 + sx * w * np.cos(r), 300 - w * np.sin(r)]]
    )  # image y down: higher = smaller y
    right = np.array([[500 - sx * w * np.cos(r), 300 + w * np.sin(r)]])
    np.testing.assert_allclose(geo.tilt(left, right), [angle], atol=1e-9)


def test_facing_classification() -> None:
    T = 4
    z = np.zeros((T, 2))
    ls = z + [[560, 300]]
    rs = z + [[440, 300]]
    lh = z + [[530, 500]]
    rh = z + [[470, 500]]
    torso = np.full(T, 200.0)
    assert (geo.facing(ls, rs, lh, rh, torso) == geo.FRONT).all()
    assert (geo.facing(rs, ls, rh, lh, torso) == geo.BACK).all()
    side = geo.facing(
        ls * [0, 1] + [502, 0],
        rs * [0, 1] + [498, 0],
        lh * [0, 1] + [501, 0],
        rh * [0, 1] + [499, 0],
        torso,
    )
    assert (side == geo.SIDE).all()


def _row(kp, **kw):
    return sequence_features(kp, 30.0, "mediapipe33", **kw).row


INJECTED = dict(shoulder_tilt=4.0, pelvic_obliquity=-2.5, trunk_shift=6.0)


def test_injected_values_are_recovered() -> None:
    row = _row(walker(view="front", noise=0.5, seed=1, **INJECTED))
    assert row["shoulder_tilt_median"] == pytest.approx(4.0, abs=0.3)
    assert row["pelvic_obliquity_median"] == pytest.approx(-2.5, abs=0.3)
    assert row["shoulder_pelvis_tilt_median"] == pytest.approx(6.5, abs=0.4)
    assert row["trunk_shift_median"] == pytest.approx(6.0, abs=0.5)
    assert row["shoulder_tilt_abs_median"] == pytest.approx(4.0, abs=0.3)
    assert row["usable"], row["usable_reason"]


def test_front_and_back_give_the_same_anatomical_sign() -> None:
    front = _row(walker(view="front", noise=0.5, seed=2, **INJECTED))
    back = _row(walker(view="back", noise=0.5, seed=3, **INJECTED))
    assert front["qc_facing"] == "front" and back["qc_facing"] == "back"
    for stem in LATERAL:
        f, b = front[f"{stem}_median"], back[f"{stem}_median"]
        assert np.sign(f) == np.sign(b) != 0, stem
        assert f == pytest.approx(b, abs=0.1 * abs(f) + 0.3), stem


@pytest.mark.parametrize("view", ["front", "back"])
def test_mirroring_flips_lateral_measures(view: str) -> None:
    kp = walker(view=view, noise=0.0, **INJECTED)
    a, b = _row(kp), _row(mirror(kp))
    assert b["qc_facing"] == a["qc_facing"] == view
    for stem in LATERAL:
        assert b[f"{stem}_median"] == pytest.approx(-a[f"{stem}_median"], abs=1e-6), stem
        assert b[f"{stem}_abs_median"] == pytest.approx(a[f"{stem}_abs_median"], abs=1e-6), stem


@pytest.mark.parametrize("roll", [-3.0, 2.0])
def test_camera_roll_is_estimated_and_removed(roll: float) -> None:
    kp = walker(view="front", noise=0.0, **INJECTED)
    r = np.radians(roll)
    c = np.array([640.0, 360.0])
    xy = kp[..., :2] - c
    rot = np.array([[np.cos(r), -np.sin(r)], [np.sin(r), np.cos(r)]])
    kp_rolled = kp.copy()
    kp_rolled[..., :2] = xy @ rot.T + c
    rolled = _row(kp_rolled)
    assert rolled["qc_camera_roll_deg"] == pytest.approx(roll, abs=0.05)
    assert rolled["shoulder_tilt_median"] == pytest.approx(4.0, abs=0.05)
    assert rolled["trunk_shift_median"] == pytest.approx(6.0, abs=0.1)
    raw = sequence_features(kp_rolled, 30.0, "mediapipe33", params=_no_roll()).row
    assert raw["shoulder_tilt_median"] == pytest.approx(4.0 - roll, abs=0.05)  # roll adds −s·r
    assert raw["shoulder_pelvis_tilt_median"] == pytest.approx(6.5, abs=0.05)  # cancels roll


def _no_roll():
    from gaitpose.features import FeatureParams

    return FeatureParams(correct_roll=False)


def test_twist_from_world_landmarks_sign() -> None:
    T = 3
    # left shoulder forward (towards the camera, smaller z) when facing the camera
    ls = np.tile([0.2, -0.5, -0.05], (T, 1))
    rs = np.tile([-0.2, -0.5, 0.05], (T, 1))
    lh = np.tile([0.1, 0.0, 0.0], (T, 1))
    rh = np.tile([-0.1, 0.0, 0.0], (T, 1))
    front = geo.twist_angle(ls, rs, lh, rh)
    assert (front > 0).all()
    # the same pose seen from behind: x and z negated (rotation by 180° about the vertical)
    flip = np.array([-1.0, 1.0, -1.0])
    back = geo.twist_angle(ls * flip, rs * flip, lh * flip, rh * flip)
    np.testing.assert_allclose(back, front, atol=1e-9)
