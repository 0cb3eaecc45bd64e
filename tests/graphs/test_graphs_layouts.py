"""Layouts: names, pairs, parts, and the MediaPipe-33 -> COCO-17 map."""

import numpy as np
import pytest
import torch

import graphs
from graphs.layouts import MEDIAPIPE33_TO_COCO17


@pytest.mark.parametrize("name", ["mediapipe33", "coco17"])
def test_layout_structure(name):
    lay = graphs.get_layout(name)
    v = lay.num_joints
    assert v == {"mediapipe33": 33, "coco17": 17}[name]
    assert all(0 <= i < v and 0 <= j < v and i != j for i, j in lay.edges)
    for left, right in lay.left_right:
        a, b = lay.names[left], lay.names[right]
        assert "left" in a and "right" in b and a.replace("left", "right") == b
    assert set(lay.parts) == {
        "head",
        "trunk",
        "pelvis",
        "left_arm",
        "right_arm",
        "left_leg",
        "right_leg",
    }
    assert all(len(j) > 0 for j in lay.parts.values())
    # every named left joint has its right partner (mouth_left / mouth_right included)
    lefts = {lay.names[a] for a, _ in lay.left_right}
    assert lefts == {n for n in lay.names if "left" in n}
    flip = lay.flip_index
    assert sorted(flip) == list(range(v)) and all(flip[flip[i]] == i for i in range(v))
    ei = lay.edge_index
    assert ei.dtype == torch.long and ei.shape == (2, 2 * len(lay.edges))


def test_mouth_pair_in_mediapipe():
    lay = graphs.get_layout("mediapipe33")
    assert (lay.index("mouth_left"), lay.index("mouth_right")) in lay.left_right
    assert lay.flip_index[lay.index("mouth_left")] == lay.index("mouth_right")


def test_mediapipe_to_coco_matches_names():
    mp, coco = graphs.get_layout("mediapipe33"), graphs.get_layout("coco17")
    for k, name in enumerate(coco.names):
        assert mp.names[MEDIAPIPE33_TO_COCO17[k]] == name
    kp = np.random.default_rng(0).random((4, 33, 3)).astype(np.float32)
    out = graphs.mediapipe_to_coco(kp)
    assert out.shape == (4, 17, 3)
    assert np.array_equal(out[:, coco.index("left_knee")], kp[:, mp.index("left_knee")])
    assert torch.equal(graphs.mediapipe_to_coco(torch.from_numpy(kp)), torch.from_numpy(out))
    with pytest.raises(ValueError):
        graphs.mediapipe_to_coco(kp[:, :17])


def test_unknown_layout():
    with pytest.raises(KeyError, match="coco17"):
        graphs.get_layout("openpose25")
