"""Step times for the measure token (gaitpose.models.step_timing): constructed pitch signals
with known strike times, and recorded walking (gaitkit's 3-D trials, projected)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import graphs
from gaitpose.models.heads import visible_keypoints
from gaitpose.models.measure_tokens import MEASURE_NAMES, ClipMeasures
from gaitpose.models.step_timing import fill_gaps, pitch_peaks, step_time_log_ratio

T = 90


def bumps(times: list[float], width: float = 2.5) -> torch.Tensor:
    """A pitch signal [1, T] with a Gaussian bump (height 1) at each (sub-frame) time."""
    t = torch.arange(T, dtype=torch.float64)
    return sum(torch.exp(-0.5 * ((t - c) / width) ** 2) for c in times)[None]


LEFT, RIGHT = [10.3, 43.6, 76.9], [28.2, 61.5]  # left steps 15.4, right steps 17.9 frames


def test_strikes_are_placed_between_frames():
    ok = torch.ones(1, T, dtype=torch.bool)
    got = pitch_peaks(bumps(LEFT), ok)[0]
    found = got[~torch.isnan(got)]
    assert found.numel() == 3
    assert torch.allclose(found, torch.tensor(LEFT, dtype=found.dtype), atol=0.1)


def test_step_time_ratio_of_constructed_strikes():
    ok = torch.ones(1, T, dtype=torch.bool)
    got = step_time_log_ratio(bumps(LEFT), ok, bumps(RIGHT), ok)
    want = math.log(((43.6 - 28.2) + (76.9 - 61.5)) / 2 / ((28.2 - 10.3) + (61.5 - 43.6)) * 2)
    assert abs(float(got) - want) < 0.01
    # swapping the feet flips the sign; one foot never landing gives 0
    assert abs(float(step_time_log_ratio(bumps(RIGHT), ok, bumps(LEFT), ok)) + want) < 0.01
    assert (
        float(step_time_log_ratio(bumps(LEFT), ok, torch.zeros(1, T, dtype=torch.float64), ok))
        == 0.0
    )


def test_dropouts_are_bridged_and_spurious_strikes_left_out():
    ok = torch.ones(1, T, dtype=torch.bool)
    clean = float(step_time_log_ratio(bumps(LEFT), ok, bumps(RIGHT), ok))
    holes = ok.clone()
    holes[0, 42:45] = False  # a 3-frame dropout over the second left strike
    x, filled = fill_gaps(bumps(LEFT), holes)
    line = bumps(LEFT)[0, 41] + (bumps(LEFT)[0, 45] - bumps(LEFT)[0, 41]) * torch.arange(1, 4) / 4
    assert filled.all() and torch.allclose(x[0, 42:45], line)
    # a hole across the very peak flattens its top: the strike stays, with less precision
    assert abs(float(step_time_log_ratio(bumps(LEFT), holes, bumps(RIGHT), ok)) - clean) < 0.05
    long_gap = ok.clone()
    long_gap[0, 30:40] = False  # longer than MAX_GAP: stays unseen
    assert not fill_gaps(bumps(LEFT), long_gap)[1][0, 30:40].any()
    # a spurious right "strike" 2 frames after a left one makes a 2-frame step: left out
    noisy = bumps(RIGHT) + bumps([45.6])
    assert abs(float(step_time_log_ratio(bumps(LEFT), ok, noisy, ok)) - clean) < 0.03


def test_a_layout_without_feet_has_no_step_measure():
    pose = torch.rand(2, 20, 17, 3) * 100
    pose[..., 2] = 1.0
    m = ClipMeasures(graphs.get_layout("coco17"))(pose)
    assert (m[:, MEASURE_NAMES.index("step_time_log_ratio")] == 0).all()


def _reference_log_ratio(ref: dict[str, np.ndarray]) -> float:
    events = sorted([(t, "left") for t in ref["left"]] + [(t, "right") for t in ref["right"]])
    steps = {"left": [], "right": []}
    for (a, side_a), (b, side_b) in zip(events, events[1:]):
        if side_a != side_b:
            steps[side_b].append(b - a)
    return float(np.log(np.mean(steps["left"]) / np.mean(steps["right"])))


@pytest.mark.parametrize("view", ["front", "back", "side"])
@pytest.mark.parametrize("trial", ["healthy", "stroke"])
def test_recorded_walks_strikes_and_step_ratio(rm, trial: str, view: str):
    """Projected 3-D markers (2 px noise, dropouts), 30 fps: every reference heel strike (Zeni
    et al. 2008, on the markers) away from the clip ends is found within 0.06 s, and the step
    ratio is within 0.15 of the markers' (0.047 on the stroke trial, 0 on the healthy one; a
    2.5-4.5 s trial holds 2-3 steps a side and a frame is 6 % of a step). Without the dropout
    bridging and the median-step check, ratios of +-1.5 came out here."""
    tr = rm.load_trial(trial)
    ref = rm.zeni_heel_strikes(tr)
    points, t = rm.resample(rm.mediapipe_points(tr), tr.fps, 30.0)
    layout = graphs.get_layout("mediapipe33")
    measures = ClipMeasures(layout)
    for seed in range(3):
        kp = rm.degrade(
            rm.project(points, rm.camera_for(view, 1.0, tr)), np.random.default_rng(seed)
        )
        pose = torch.tensor(np.nan_to_num(kp), dtype=torch.float32)[None]
        xy, _, valid = visible_keypoints(pose)
        joints = {k: xy[:, :, j] for k, j in measures.joints.items()}
        seen = {k: valid[:, :, j] for k, j in measures.joints.items()}
        pitch = measures.foot_pitch(joints, seen, measures.torso_length(joints, seen))
        for side in ("left", "right"):
            found = pitch_peaks(*pitch[side])[0]
            times = found[~torch.isnan(found)].numpy() / 30.0
            inside = ref[side][(ref[side] > t[0] + 0.1) & (ref[side] < t[-1] - 0.1)]
            assert inside.size >= 1
            assert max(np.abs(times - r).min() for r in inside) <= 0.06, (side, seed)
        ratio = float(measures(pose)[0, MEASURE_NAMES.index("step_time_log_ratio")])
        assert abs(ratio - _reference_log_ratio(ref)) <= 0.15, seed
