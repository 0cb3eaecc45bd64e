"""Gait events: cadence from known frequencies (front, back, side), step asymmetry."""

from __future__ import annotations

import numpy as np
import pytest

from gaitpose.features import sequence_features
from gaitpose.features.constructed import walker
from gaitpose.features.events import frontal_events, strides_and_steps
from gaitpose.features.pipeline import gait_asymmetry, symmetry_index


@pytest.mark.parametrize("view", ["front", "back", "side"])
@pytest.mark.parametrize("stride_hz", [0.75, 0.95, 1.2])
def test_sinusoidal_ankles_give_the_cadence(view: str, stride_hz: float) -> None:
    kp = walker(view=view, stride_hz=stride_hz, noise=0.5, seed=7)
    row = sequence_features(kp, 30.0, "mediapipe33").row
    assert row["qc_event_method"] == ("side" if view == "side" else "frontal")
    assert row["cadence_mean"] == pytest.approx(120.0 * stride_hz, rel=0.02)
    assert row["stride_time_mean"] == pytest.approx(1.0 / stride_hz, rel=0.02)
    assert min(row["qc_strides_left"], row["qc_strides_right"]) >= 3


def test_left_heel_strike_is_the_left_foot_leading() -> None:
    # walking towards the camera the leading (left) foot is lowest in the image at its strike
    fps, f = 30.0, 1.0
    kp = walker(view="front", stride_hz=f, noise=0.0)
    res = sequence_features(kp, fps, "mediapipe33")
    hs = res.frames["heel_strike"]
    lt = np.nonzero(hs == 1)[0]
    left_ankle_y = kp[:, 27, 1]
    right_ankle_y = kp[:, 28, 1]
    assert (left_ankle_y[lt] > right_ankle_y[lt]).all()


def test_uneven_steps_give_the_step_asymmetry() -> None:
    fps, period = 30.0, 1.0
    t = np.arange(int(12 * fps)) / fps
    e = np.zeros_like(t)
    for k in range(13):  # left strikes at k·P, right strikes 0.4·P later
        e += np.exp(-0.5 * ((t - k * period) / 0.08) ** 2)
        e -= np.exp(-0.5 * ((t - (k + 0.4) * period) / 0.08) ** 2)
    ev = frontal_events(e, fps)
    strides, steps = strides_and_steps(ev, fps)
    left = np.mean([(b - a) / fps for s, a, b in steps if s == "left"])
    right = np.mean([(b - a) / fps for s, a, b in steps if s == "right"])
    assert left == pytest.approx(0.6, abs=0.04) and right == pytest.approx(0.4, abs=0.04)
    assert gait_asymmetry(left, right) == pytest.approx(100 * np.log(1.5), abs=8)
    assert symmetry_index(0.6, 0.4) == pytest.approx(40.0)
    assert len(strides) >= 18


def test_missing_events_do_not_make_double_strides() -> None:
    fps = 30.0
    kp = walker(view="front", stride_hz=1.0, noise=0.0)
    kp[100:130, 27:29, :2] = np.nan  # both ankles lost for one second (> 0.15 s: not filled)
    kp[100:130, 27:29, 2] = 0
    res = sequence_features(kp, fps, "mediapipe33")
    durations = [c["stride_time"] for c in res.cycles]
    assert durations and max(durations) < 1.2
    assert res.row["cadence_mean"] == pytest.approx(120.0, rel=0.02)
