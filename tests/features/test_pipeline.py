"""One sequence → one row: layouts, QC flags, the data dictionary covers every column."""

from __future__ import annotations

import numpy as np
import pytest

from gaitpose.features import sequence_features
from gaitpose.features.constructed import walker
from gaitpose.features.dictionary import describe, dictionary_rows
from graphs import mediapipe_to_coco

HEEL_TOE = ("stance_time_left_mean", "stance_time_right_mean")


def test_coco17_layout_gives_the_same_trunk_features_and_nan_for_toes() -> None:
    kp = walker(view="side", noise=0.3, seed=1)
    mp = sequence_features(kp, 30.0, "mediapipe33").row
    coco = sequence_features(mediapipe_to_coco(kp), 30.0, "coco17").row
    for c in HEEL_TOE:
        assert np.isfinite(mp[c]) and np.isnan(coco[c])
        assert "NaN" in describe(c)["caveats"] and "lacks" in describe(c)["keypoints_coco17"]
    assert coco["cadence_mean"] == pytest.approx(mp["cadence_mean"], rel=0.03)
    kpf = walker(view="front", shoulder_tilt=3.0, noise=0.0)
    a = sequence_features(kpf, 30.0, "mediapipe33").row
    b = sequence_features(mediapipe_to_coco(kpf), 30.0, "coco17").row
    assert b["shoulder_tilt_median"] == pytest.approx(a["shoulder_tilt_median"], abs=1e-6)
    assert set(a) == set(b)


def test_dictionary_describes_every_column() -> None:
    kp = walker(view="front", noise=0.3, seed=2)
    world = np.zeros((kp.shape[0], 33, 3), np.float32)
    row = sequence_features(kp, 30.0, "mediapipe33", world=world).row
    cols = ["id", "class", "view", "source", *row]
    rows = dictionary_rows(cols)
    assert [r["column"] for r in rows] == cols
    for r in rows:
        assert r["definition"], r["column"]
        if not r["column"].startswith(("qc_", "usable")) and r["column"] not in (
            "id",
            "class",
            "view",
            "source",
        ):
            assert r["unit"] and r["valid_view"] and r["source"] and r["caveats"], r["column"]
    with pytest.raises(KeyError):
        describe("not_a_feature")


def test_qc_flags_an_empty_sequence() -> None:
    kp = np.full((90, 33, 3), np.nan, np.float32)
    kp[..., 2] = 0
    row = sequence_features(kp, 30.0, "mediapipe33").row
    assert row["usable"] is False
    assert "person" in row["usable_reason"] and "keypoints" in row["usable_reason"]
    assert row["qc_person_fraction"] == 0 and row["qc_facing"] == "unknown"
    assert np.isnan(row["shoulder_tilt_median"]) and np.isnan(row["cadence_mean"])


def test_qc_counts_low_scores_gaps_and_short_sequences() -> None:
    kp = walker(view="front", T=300, noise=0.0)
    kp[50:110, 23, 2] = 0.2  # left hip below the score threshold for 2 s
    row = sequence_features(kp, 30.0, "mediapipe33").row
    assert row["qc_valid_left_hip"] == pytest.approx(1 - 60 / 300)
    assert row["qc_longest_gap_s"] == pytest.approx(2.0)
    short = sequence_features(walker(view="front", T=45), 30.0, "mediapipe33").row
    assert not short["usable"] and "strides" in short["usable_reason"]
    # frame fallback for the medians when there is no complete stride
    assert short["qc_feature_basis"] == "frames" and np.isfinite(short["shoulder_tilt_median"])


def test_short_gaps_are_filled_and_counted() -> None:
    kp = walker(view="front", noise=0.0)
    kp[100:103, 11, :2] = np.nan  # 3 frames = 0.1 s < 0.15 s
    kp[100:103, 11, 2] = 0
    res = sequence_features(kp, 30.0, "mediapipe33")
    assert np.isfinite(res.frames["shoulder_tilt"][100:103]).all()
    assert res.row["qc_interpolated_fraction"] > 0
    kp[200:210, 11, :2] = np.nan  # 10 frames = 0.33 s: left missing
    kp[200:210, 11, 2] = 0
    res = sequence_features(kp, 30.0, "mediapipe33")
    assert np.isnan(res.frames["shoulder_tilt"][200:210]).all()


def test_side_view_features() -> None:
    row = sequence_features(walker(view="side", noise=0.3, seed=4), 30.0, "mediapipe33").row
    assert row["qc_facing"] == "side"
    assert np.isnan(row["shoulder_tilt_median"])  # frontal measure: not valid from the side
    for c in (
        "hip_rom_left_median",
        "knee_rom_right_median",
        "arm_swing_left_median",
        "cadence_mean",
    ):
        assert np.isfinite(row[c]) and row[c] > 0, c
    assert row["hip_rom_si"] < 10


def test_a_jump_of_the_tracked_person_is_flagged_and_not_bridged() -> None:
    kp = walker(view="front", noise=0.0)
    kp[150:, :, 0] -= 500.0  # from frame 150 on, "another person" 500 px to the left
    res = sequence_features(kp, 30.0, "mediapipe33")
    assert res.row["qc_track_jumps"] == 1
    assert not res.row["usable"] and "jumps" in res.row["usable_reason"]
    assert all(not (c["start_frame"] < 150 <= c["end_frame"]) for c in res.cycles)
    # the smoothed trajectory does not ring across the jump
    x = res.frames["trunk_shift"]
    assert np.nanmax(np.abs(x)) < 1.0


def test_side_view_joint_angles_are_wrapped() -> None:
    kp = walker(view="side", noise=0.3, seed=5)
    kp[..., 0] = 1280.0 - kp[..., 0]  # walking towards -x
    row = sequence_features(kp, 30.0, "mediapipe33").row
    assert 0 < row["hip_rom_left_median"] < 90 and 0 < row["knee_rom_left_median"] < 90


@pytest.mark.parametrize("T", [0, 1, 2, 5, 16, 40])
@pytest.mark.parametrize("layout", ["mediapipe33", "coco17"])
def test_very_short_sequences_give_a_flagged_row(T: int, layout: str) -> None:
    kp = walker(T=max(T, 1))[:T]
    if layout == "coco17":
        kp = mediapipe_to_coco(kp)
    res = sequence_features(kp, 30.0, layout)
    assert res.row["usable"] is False and "strides" in res.row["usable_reason"]
    assert len(res.frames["frame"]) == T and not res.cycles
