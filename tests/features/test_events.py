"""Gait events: cadence from known frequencies (front, back, side), heel strikes at the
constructed landing times, the fallback for feet that never rest, step asymmetry."""

from __future__ import annotations

import numpy as np
import pytest

from gaitpose.features import sequence_features
from gaitpose.features.constructed import heel_strike_times, walker
from gaitpose.features.events import (
    extrema_events,
    foot_speed,
    frontal_events,
    regular_strikes,
    stationary_onsets,
    strides_and_steps,
)
from gaitpose.features.pipeline import gait_asymmetry, symmetry_index


@pytest.mark.parametrize("view", ["front", "back", "side"])
@pytest.mark.parametrize("stride_hz", [0.75, 0.95, 1.2])
def test_sinusoidal_ankles_give_the_cadence(view: str, stride_hz: float) -> None:
    kp = walker(view=view, stride_hz=stride_hz, noise=0.5, seed=7)
    row = sequence_features(kp, 30.0, "mediapipe33").row
    assert row["qc_event_method"] == ("side" if view == "side" else "frontal_rest")
    assert row["cadence_mean"] == pytest.approx(120.0 * stride_hz, rel=0.02)
    assert row["stride_time_mean"] == pytest.approx(1.0 / stride_hz, rel=0.02)
    assert min(row["qc_strides_left"], row["qc_strides_right"]) >= 3


@pytest.mark.parametrize("view", ["front", "back"])
@pytest.mark.parametrize("fps", [30.0, 60.0])
def test_heel_strikes_are_where_the_constructed_feet_land(view: str, fps: float) -> None:
    stride_hz = 0.9
    kp = walker(T=int(10 * fps), fps=fps, view=view, stride_hz=stride_hz, noise=1.0, seed=3)
    hs = sequence_features(kp, fps, "mediapipe33").frames["heel_strike"]
    t = np.arange(hs.size) / fps
    for code, truth in zip((1, -1), heel_strike_times(hs.size, fps, stride_hz)):
        found = t[hs == code]
        truth = truth[(truth > 0.5) & (truth < t[-1] - 0.5)]  # a visible swing before, rest after
        err = np.array([np.min(np.abs(found - x)) for x in truth])
        assert err.max() <= 0.05, err


def test_a_foot_at_rest_gives_no_event_and_one_landing_gives_one() -> None:
    fps, T = 30.0, 90
    torso = np.full(T, 200.0)
    foot = np.zeros((T, 2))
    assert stationary_onsets(foot, torso, fps)[0].size == 0  # never moves
    foot[:30, 1] = -12.0 * (30 - np.arange(30))  # 12 px/frame, lands at frame 30 and rests
    foot[:, 1] += 500.0
    on, _ = stationary_onsets(foot, torso, fps)
    assert on.tolist() == [30]  # the first frame within 0.05 torso (10 px) of the resting place
    assert np.nanmax(foot_speed(foot, torso, fps)) == pytest.approx(12 * 30 / 200)


def test_feet_that_never_rest_fall_back_to_the_extrema_rule() -> None:
    # sinusoidal ankles (no stance): no regular rests → the withdrawn extrema rule, said so
    fps, T, f = 30.0, 300, 1.0
    t = np.arange(T) / fps
    torso = np.full(T, 200.0)
    left = np.stack([np.full(T, 600.0), 700 + 12 * np.cos(2 * np.pi * f * t)], 1)
    right = np.stack([np.full(T, 680.0), 700 - 12 * np.cos(2 * np.pi * f * t)], 1)
    e = (left[:, 1] - right[:, 1]) / torso
    ev = frontal_events(left, right, torso, fps, ankle_diff=e)
    assert ev.method == "frontal_extrema"
    assert np.diff(ev.hs_left).mean() == pytest.approx(fps / f, rel=0.05)
    assert regular_strikes(np.array([0, 30, 60]), np.array([15, 45]), 70, 75)
    assert not regular_strikes(np.array([0, 30, 75]), np.array([15, 45]), 80, 75)  # a missed one
    assert not regular_strikes(np.array([0, 30, 60]), np.array([15, 45]), 150, 75)  # stops early
    assert not regular_strikes(np.array([0, 30, 60]), np.array([15, 45]), 70, 25)  # too slow


def test_uneven_steps_give_the_step_asymmetry() -> None:
    fps, period = 30.0, 1.0
    t = np.arange(int(12 * fps)) / fps
    e = np.zeros_like(t)
    for k in range(13):  # left strikes at k·P, right strikes 0.4·P later
        e += np.exp(-0.5 * ((t - k * period) / 0.08) ** 2)
        e -= np.exp(-0.5 * ((t - (k + 0.4) * period) / 0.08) ** 2)
    ev = extrema_events(e, fps)
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
