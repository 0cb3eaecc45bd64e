"""Gait events: cadence from known frequencies (front, back, side), heel strikes at the
constructed landing times and at constructed foot-pitch peaks, the sign of the foot pitch
walking towards and away from the camera, the fallbacks (a missed landing, toes missing or
flat, feet that never rest), step asymmetry."""

from __future__ import annotations

import numpy as np
import pytest

from gaitpose.features import sequence_features
from gaitpose.features.constructed import heel_strike_times, walker
from gaitpose.features.events import (
    alternate_strictly,
    extrema_events,
    foot_pitch,
    foot_speed,
    frontal_events,
    highest_within,
    pitch_events,
    pitch_peak_strikes,
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
    # the constructed walker's toes keep a fixed offset from the heels (no pitch): rest rule
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


# ----------------------------------------------------------------------------- foot pitch
FPS, STRIDE = 30.0, 30  # frames per stride


def pitch_signal(T: int, strikes: np.ndarray, toe_offs: np.ndarray, stance_bump: float = 0.0):
    """Constructed foot pitch (torso lengths): flat −0.1, a toe-up peak (+0.15, σ 2 frames) at
    each heel strike, a toe-down trough (−0.3, σ 3 frames) at each toe-off (and one 12 frames
    before the first strike: the clip starts in swing), and optionally a stance bump 9 frames
    after each strike (σ 2 frames)."""
    toe_offs = np.append(toe_offs, strikes[0] - 12)
    t = np.arange(T, dtype=float)
    x = np.full(T, -0.1)
    for s in strikes:
        x += 0.15 * np.exp(-0.5 * ((t - s) / 2.0) ** 2)
        x += stance_bump * np.exp(-0.5 * ((t - s - 9) / 2.0) ** 2)
    for o in toe_offs:
        x -= 0.3 * np.exp(-0.5 * ((t - o) / 3.0) ** 2)
    return x


def feet_from_pitch(pitch: np.ndarray, x0: float, torso: float = 200.0):
    """Heel fixed at (x0, 700) px, toe placed so that :func:`foot_pitch` returns ``pitch``."""
    T = pitch.size
    heel = np.stack([np.full(T, x0), np.full(T, 700.0)], 1)
    toe = np.stack([np.full(T, x0), 700.0 - pitch * torso], 1)
    return heel, toe


def test_heel_strike_is_the_first_near_top_pitch_peak_of_each_swing() -> None:
    T = 300
    strikes = np.arange(20, T - 10, STRIDE)
    pitch = pitch_signal(T, strikes, strikes + 18)
    assert pitch_peak_strikes(pitch, FPS).tolist() == strikes.tolist()
    # a higher bump later in stance (0.3 s on) is not the landing: the first near-top peak is
    bumpy = pitch_signal(T, strikes, strikes + 18, stance_bump=0.17)
    assert bumpy[strikes[0] + 9] > bumpy[strikes[0]]
    assert pitch_peak_strikes(bumpy, FPS).tolist() == strikes.tolist()
    # a clip that ends while the toe still rises gives no landing there
    cut = pitch[: strikes[-1] - 1]
    assert pitch_peak_strikes(cut, FPS).tolist() == strikes[:-1].tolist()


def test_a_split_flat_peak_is_moved_to_its_highest_frame() -> None:
    x = np.array([0.0, 1.0, 0.9, 1.1, 0.5, 0.0])
    assert highest_within(x, 1, 3, x.size) == 3  # within 3 frames of the first peak
    assert highest_within(x, 1, 1, x.size) == 1
    assert highest_within(np.array([0.0, 1.0, 0.9, 1.2]), 1, 3, 4) is None  # still rising at the end


def test_both_feet_pitching_give_frontal_pitch_events() -> None:
    T, torso = 300, np.full(300, 200.0)
    left_hs = np.arange(20, T - 10, STRIDE)
    right_hs = left_hs + STRIDE // 2
    heel_l, toe_l = feet_from_pitch(pitch_signal(T, left_hs, left_hs + 18), 600.0)
    heel_r, toe_r = feet_from_pitch(pitch_signal(T, right_hs, right_hs + 18), 680.0)
    ev = frontal_events(heel_l, heel_r, torso, FPS, toe_l=toe_l, toe_r=toe_r)
    assert ev.method == "frontal_pitch"
    assert ev.hs_left.tolist() == left_hs.tolist()
    assert ev.hs_right.tolist() == right_hs[right_hs < T - 12].tolist()


def test_a_foot_landing_twice_in_a_row_falls_back() -> None:
    T, torso = 300, np.full(300, 200.0)
    left_hs = np.arange(20, T - 10, STRIDE)
    right_hs = left_hs + STRIDE // 2
    # one right swing is not seen (no toe-off trough, no toe-up peak): the left foot then
    # lands twice in a row
    missed, toe_offs = np.delete(right_hs, 4), np.delete(right_hs + 18, 3)
    heel_l, toe_l = feet_from_pitch(pitch_signal(T, left_hs, left_hs + 18), 600.0)
    heel_r, toe_r = feet_from_pitch(pitch_signal(T, missed, toe_offs), 680.0)
    found = pitch_peak_strikes(foot_pitch(heel_r, toe_r, torso), FPS)
    assert found.tolist() == missed[missed < T - 12].tolist()
    assert pitch_events((heel_l, heel_r), (toe_l, toe_r), torso, FPS) is None
    ev = frontal_events(heel_l, heel_r, torso, FPS, toe_l=toe_l, toe_r=toe_r)
    assert ev.method == "frontal_rest"  # the heels never move here: no rests, no events
    # the same two left landings with the right foot unseen in between: not a miss
    lt, rt = np.array([20, 50, 80]), np.array([35, 95])
    seen = np.ones(T, bool)
    assert not alternate_strictly(lt, rt, seen)
    seen[55:75] = False
    assert alternate_strictly(lt, rt, seen)
    assert alternate_strictly(np.array([20, 50]), np.array([35, 65]))


def test_missing_or_flat_toes_use_the_rest_rule() -> None:
    T, torso = 240, np.full(240, 200.0)
    t = np.arange(T)

    def landing_heel(x0: float, first: int) -> np.ndarray:
        """A heel that swings 30 frames (up to 120 px up the image and back) and rests 30."""
        y = np.full(T, 500.0)
        for start in range(first, T, 60):
            swing = (t >= start) & (t < start + 30)
            y[swing] = 500.0 - 120.0 * np.sin(np.pi * (t[swing] - start) / 30)
        return np.stack([np.full(T, x0), y], 1)

    heel_l, heel_r = landing_heel(600.0, 0), landing_heel(680.0, 30)
    lands_l, lands_r = [30, 90, 150, 210], [60, 120, 180]  # a swing seen before, a rest after
    flat_l, flat_r = heel_l + np.array([0.0, 20.0]), heel_r + np.array([0.0, 20.0])
    for toe_l, toe_r in ((None, None), (flat_l, flat_r)):  # no toes; toes that never pitch
        ev = frontal_events(heel_l, heel_r, torso, FPS, toe_l=toe_l, toe_r=toe_r)
        assert ev.method == "frontal_rest"
        assert np.abs(ev.hs_left - lands_l).max() <= 1 and np.abs(ev.hs_right - lands_r).max() <= 1


@pytest.mark.parametrize("camera_x", [4.0, -4.0])  # in front of (towards) and behind (away)
def test_toe_up_raises_the_foot_pitch_towards_and_away_from_the_camera(camera_x: float) -> None:
    """A pinhole camera 1 m high looks along the walk (+x); the foot (0.2 m) pitches about the heel."""
    f, cy, height = 1100.0, 540.0, 1.0

    def image_y(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        depth = np.abs(camera_x - x)
        return cy + f * (height - y) / depth

    angles = np.radians([-20.0, 0.0, 20.0])
    heel_x, heel_y = np.zeros(3), np.full(3, 0.05)
    toe_x, toe_y = heel_x + 0.2 * np.cos(angles), heel_y + 0.2 * np.sin(angles)
    heel = np.stack([np.zeros(3), image_y(heel_x, heel_y)], 1)
    toe = np.stack([np.zeros(3), image_y(toe_x, toe_y)], 1)
    p = foot_pitch(heel, toe, np.full(3, 150.0))
    assert p[0] < p[1] < p[2]  # toe down < flat < toe up, whichever way the subject walks
    assert np.sign(p[1]) == (-1 if camera_x > 0 else 1)  # flat: toe below (front) / above (back)
