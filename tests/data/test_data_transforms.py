"""Training augmentation: mirroring swaps left/right joints and keeps the label, both
modalities are mirrored for the same samples, scale/shift act on normalised coordinates."""

import pytest
import torch

import graphs
from gaitpose.data.transforms import BatchAugment, mirror_pose, mirror_sils, scale_shift


def _coco_pose(n: int = 1, t: int = 3) -> torch.Tensor:
    """A standing COCO-17 skeleton in pixels, left shoulder 10 px higher than the right."""
    lay = graphs.get_layout("coco17")
    pose = torch.zeros(n, t, 17, 3)
    pts = {
        "nose": (100, 40), "left_shoulder": (120, 70), "right_shoulder": (80, 80),
        "left_elbow": (125, 110), "right_elbow": (75, 120), "left_hip": (112, 150),
        "right_hip": (88, 150), "left_knee": (113, 200), "right_knee": (87, 200),
    }  # fmt: skip
    for name, (x, y) in pts.items():
        pose[..., lay.index(name), :] = torch.tensor([x, y, 0.9])
    return pose


def test_mirror_swaps_joints_reflects_x_and_keeps_the_asymmetry_magnitude():
    lay = graphs.get_layout("coco17")
    pose = _coco_pose()
    out = mirror_pose(pose, lay.flip_index)
    ls, rs = lay.index("left_shoulder"), lay.index("right_shoulder")
    valid = pose[0, 0, :, 2] > 0
    cx = pose[0, 0, valid, 0].mean()
    # the new left shoulder is the old right one, reflected about the joints' mean x
    assert torch.allclose(out[0, 0, ls], torch.tensor([2 * cx - 80, 80, 0.9]))
    assert torch.allclose(out[0, 0, rs], torch.tensor([2 * cx - 120, 70, 0.9]))
    # the subject's left is still on the image's right of the right side (a mirrored walk)
    assert out[0, 0, ls, 0] > out[0, 0, rs, 0]
    # the shoulder tilt (left minus right height) changes sign, not size: the convex side is
    # swapped, the severity (which sets the class) is not
    tilt = lambda p: (p[0, 0, rs, 1] - p[0, 0, ls, 1]).item()  # noqa: E731 (+ = left higher)
    assert tilt(out) == pytest.approx(-tilt(pose))
    # missing joints stay exactly zero, and mirroring twice is the identity
    missing = ~valid
    assert torch.all(out[0, 0, torch.tensor(lay.flip_index)[missing]] == 0)
    assert torch.allclose(mirror_pose(out, lay.flip_index), pose, atol=1e-4)


def test_batch_augment_mirrors_both_modalities_for_the_same_samples():
    lay = graphs.get_layout("coco17")
    aug = BatchAugment(lay.flip_index, mirror=0.5).train()
    n = 32
    pose = _coco_pose(n)
    sils = torch.zeros(n, 3, 64, 44)
    sils[..., 10:50, 5:15] = 1.0  # a blob on the image's left
    torch.manual_seed(0)
    s2, p2 = aug(sils, pose)
    flipped_sils = s2[:, 0, 30, 35] == 1.0
    flipped_pose = ~torch.isclose(p2[:, 0, 0, 0], pose[:, 0, 0, 0]) | ~torch.isclose(
        p2[:, 0, lay.index("left_shoulder"), 1], pose[:, 0, lay.index("left_shoulder"), 1]
    )
    assert 0 < flipped_sils.sum() < n  # some, not all
    assert torch.equal(flipped_sils, flipped_pose)
    assert torch.equal(s2[flipped_sils], mirror_sils(sils[flipped_sils]))
    # eval mode: identity, and no scale/shift drawn
    aug.eval()
    s3, p3 = aug(sils, pose)
    assert s3 is sils and p3 is pose and aug.draw_affine(n, "cpu") is None


def test_scale_shift_on_normalised_coordinates_keeps_missing_joints_zero():
    xy = torch.tensor([[[[1.0, 2.0], [0.0, 0.0]]]])  # [1, 1, 2, 2], second joint missing
    valid = torch.tensor([[[1.0, 0.0]]])
    out = scale_shift(xy, valid, torch.tensor([2.0]), torch.tensor([[0.5, -1.0]]))
    assert torch.allclose(out, torch.tensor([[[[2.5, 3.0], [0.0, 0.0]]]]))
    aug = BatchAugment(None, scale=0.1, shift=0.05).train()
    factor, shift = aug.draw_affine(1000, "cpu")
    assert factor.min() >= 0.9 and factor.max() <= 1.1 and shift.abs().max() <= 0.05
    with pytest.raises(ValueError, match="mirror"):
        BatchAugment(None, mirror=1.5)
