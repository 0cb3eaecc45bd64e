"""OpenGait trees: Sequence → tree → Sequence round trip, scanning, partitions."""

from __future__ import annotations

import numpy as np
import pytest

from gaitpose.io import Sequence, dump_pickle
from gaitpose.io.opengait import (
    OpenGaitFormatError,
    read_opengait_sequence,
    read_partition,
    scan_tree,
    write_opengait_sequence,
    write_partition,
)


def _seq(T=15, V=33, layout="mediapipe33", seed=0):
    rng = np.random.default_rng(seed)
    kp = np.concatenate([rng.uniform(10, 600, (T, V, 2)), rng.uniform(0.3, 1, (T, V, 1))], -1)
    kp = kp.astype(np.float32)
    kp[2, 5, :2] = np.nan
    kp[2, 5, 2] = 0
    kp[4] = np.nan
    kp[4, :, 2] = 0
    sils = rng.integers(0, 2, (T, 64, 64)).astype(np.uint8) * 255
    sils[4] = 0
    return Sequence(keypoints=kp, fps=30, image_size=(720, 1280), layout=layout, silhouettes=sils)


@pytest.mark.parametrize("V,layout", [(33, "mediapipe33"), (17, "coco17")])
def test_round_trip(tmp_path, V, layout):
    seq = _seq(V=V, layout=layout)
    folder = write_opengait_sequence(tmp_path, "00007", "positive", "front", seq)
    assert folder == tmp_path / "00007" / "positive" / "front"
    back = read_opengait_sequence(folder, fps=30, image_size=(720, 1280))
    assert back.layout == layout
    np.testing.assert_array_equal(back.keypoints, seq.keypoints)  # NaN where missing, both
    np.testing.assert_array_equal(back.silhouettes, seq.silhouettes)
    np.testing.assert_array_equal(back.detected, seq.detected)
    assert back.meta["class"] == "positive" and back.meta["id"] == "00007"


def test_scan_any_case_and_unnamed_pkl(tmp_path):
    dump_pickle(tmp_path / "001" / "Positive" / "000_180" / "000_180.pkl",
                np.zeros((5, 64, 44), np.uint8))
    dump_pickle(tmp_path / "000" / "NEGATIVE" / "v" / "pose.pkl", np.zeros((5, 17, 3), np.float32))
    recs = scan_tree(tmp_path)
    assert [(r.id, r.cls, r.label) for r in recs] == [("000", "negative", 0), ("001", "positive", 2)]
    assert "pose" in recs[0].paths and recs[1].other  # unnamed pkl classified by content
    seq = read_opengait_sequence(recs[1])
    assert seq.silhouettes.shape == (5, 64, 64)  # 64x44 cut padded back


def test_bad_pkl_named(tmp_path):
    dump_pickle(tmp_path / "0" / "neutral" / "v" / "pose.pkl", np.zeros((5, 4), np.float32))
    with pytest.raises(OpenGaitFormatError, match="pose.pkl"):
        read_opengait_sequence(tmp_path / "0" / "neutral" / "v")


def test_partition_round_trip(tmp_path):
    write_partition(tmp_path / "p.json", ["1", "2"], ["3"])
    assert read_partition(tmp_path / "p.json") == {"TRAIN_SET": ["1", "2"], "TEST_SET": ["3"]}
    (tmp_path / "bad.json").write_text('{"TRAIN": []}')
    with pytest.raises(OpenGaitFormatError, match="bad.json"):
        read_partition(tmp_path / "bad.json")
