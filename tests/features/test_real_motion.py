"""The real-motion harness (experiments/validation/real_motion.py) on one recorded trial.

Data: gaitkit's bundled walking trials (PyPI package gaitkit, test extra); the ``rm`` fixture
(tests/conftest.py) skips with a message when gaitkit is not installed.
"""

from __future__ import annotations

import numpy as np
import pytest


def test_walker_frame_and_projection_are_anatomical(rm) -> None:
    tr = rm.load_trial("parkinson")
    m = tr.markers
    pelvis = (m["left_hip"] + m["right_hip"]) / 2
    assert pelvis[-1, 0] - pelvis[0, 0] > 1.0  # walks along +x
    assert (pelvis[:, 1] > 0.7).all() and (np.abs(m["left_heel"][:, 1]) < 0.3).all()  # y up
    assert (m["right_hip"] - m["left_hip"]).mean(0)[2] > 0.1  # z = subject's right
    P = rm.mediapipe_points(tr)
    front = rm.project(P, rm.camera_for("front", 1.0, tr))
    back = rm.project(P, rm.camera_for("back", 1.0, tr))
    # facing the camera the subject's left hip is on the image's right, seen from behind not
    assert (front[:, 23, 0] > front[:, 24, 0]).all() and (back[:, 23, 0] < back[:, 24, 0]).all()
    assert (front[:, 27, 1] > front[:, 23, 1]).all()  # ankles below hips (image y down)


def test_zeni_reference_matches_the_annotated_heel_strikes(rm) -> None:
    tr = rm.load_trial("parkinson")
    ref = rm.zeni_heel_strikes(tr)
    for side in ("left", "right"):
        ann = np.array(tr.annotated_hs[side]) / tr.fps
        assert ref[side].size == ann.size
        assert np.abs(ref[side] - ann).max() < 0.07


@pytest.mark.parametrize("view", ["front", "back", "side"])
@pytest.mark.parametrize("trial", ["stroke", "parkinson"])
def test_heel_strikes_from_the_projection_are_within_50_ms(rm, view: str, trial: str) -> None:
    tr = rm.load_trial(trial)
    row = rm.run_case(tr, view, 30.0, 1.0, seed=0)["row"]
    assert row["event_method"] == ("side" if view == "side" else "frontal_pitch")
    assert row["hs_matched"] >= 4
    assert row["hs_mean_abs_err_s"] <= 0.05 and row["hs_max_abs_err_s"] <= 0.1
    assert abs(row["cadence_err_pct"]) < 5


def test_the_3d_foot_pitch_peaks_at_the_zeni_heel_strike(rm) -> None:
    # the physical basis of the front/back rule: toe up (dorsiflexed foot) at heel strike
    for name in rm.TRIALS:
        rows = rm.pitch_peak_offsets(rm.load_trial(name))
        offsets = np.array([r["offset_s"] for r in rows])
        assert np.isfinite(offsets).all() and np.abs(offsets).max() <= 0.07
