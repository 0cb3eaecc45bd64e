"""The variant: skeleton maps, late fusion with per-stream losses, skeleton options once,
joint/bone/motion input streams, spaced silhouette frames."""

import math

import pytest
import torch
from modeltest_utils import NARROW, POSE_NARROW, param_grad_norm, silhouettes, walking_pose

import graphs
from gaitpose.models import FusionScoNet, SkeletonGCN, SkeletonMapScoNet, build_model
from gaitpose.models.fusion import contiguous_frames, spaced_frames
from gaitpose.models.losses import ScoNetMTLoss, cross_entropy_parts
from gaitpose.models.skeleton import PoseNormalizer, SkeletonOptions
from gaitpose.models.skeleton_map import SkeletonMapRenderer

SIGMA = 1.5


def _pose_with(points: dict[str, tuple[float, float]], t: int = 1) -> torch.Tensor:
    lay = graphs.get_layout("coco17")
    pose = torch.zeros(1, t, 17, 3)
    for name, (x, y) in points.items():
        pose[0, :, lay.index(name)] = torch.tensor([x, y, 1.0])
    return pose


def test_skeleton_map_renders_a_constructed_pose_where_it_should():
    # mid-hip at (200, 300) px, body from y=188 (nose) to y=412 (ankle): height 224 px,
    # drawn as 64 - 2*4 = 56 map pixels -> 0.25 map px per image px, mid-hip at the centre
    pose = _pose_with({
        "nose": (200, 188), "left_hip": (220, 300), "right_hip": (180, 300),
        "left_knee": (220, 356), "left_ankle": (220, 412),
    })  # fmt: skip
    maps = SkeletonMapRenderer(sigma=SIGMA)(pose)[0, 0]  # [2, 64, 44]
    assert maps.shape == (2, 64, 44)
    r0, c0 = 31.5, 21.5  # image centre (rows, cols)
    expect = {  # joint -> (row, col) in the map
        "nose": (r0 - 28, c0), "left_hip": (r0, c0 + 5), "right_hip": (r0, c0 - 5),
        "left_knee": (r0 + 14, c0 + 5), "left_ankle": (r0 + 28, c0 + 5),
    }  # fmt: skip
    for name, (r, c) in expect.items():
        # the four pixels around the joint's sub-pixel position share the peak value
        value = maps[0, int(math.floor(r)), int(math.floor(c))].item()
        assert value == pytest.approx(math.exp(-0.5 / (2 * SIGMA**2)), rel=1e-4), name
    # nothing far from every joint, e.g. the top-left corner and where the right leg would be
    assert maps[0, 0, 0] < 1e-6 and maps[0, int(r0 + 14), int(c0 - 5)] < 1e-3
    # limb map: the thigh (left hip -> left knee) is lit half-way, the joint map is not
    mid = (int(r0 + 7), int(c0 + 5))
    assert maps[1][mid] == pytest.approx(math.exp(-0.25 / (2 * SIGMA**2)), rel=1e-4)
    assert maps[0][mid] < 0.01
    # no limb to the missing right knee; a missing joint (score 0) draws nothing
    assert maps[1, int(r0 + 7), int(c0 - 5)] < 1e-3
    pose_missing = pose.clone()
    pose_missing[0, :, graphs.get_layout("coco17").index("nose"), 2] = 0
    m2 = SkeletonMapRenderer(sigma=SIGMA)(pose_missing)[0, 0]
    assert m2[0, 3, 21] < 1e-6


def test_skeleton_map_model_shapes_padding_and_mediapipe_input():
    torch.manual_seed(0)
    m = SkeletonMapScoNet(channels=NARROW, layout="mediapipe33").eval()
    pose = walking_pose(2, 6, "mediapipe33")
    out = m(pose, seq_lens=torch.tensor([6, 4]))
    assert out["logits"].shape == (2, 3, 16) and out["embeddings"].shape == (2, 256, 16)
    alone = m(pose[1:, :4])
    assert torch.allclose(out["logits"][1], alone["logits"][0], atol=1e-5)
    assert build_model("SkeletonMapScoNet", channels=NARROW).modalities == ("pose",)


def test_skeleton_options_written_once_and_checked():
    opt = SkeletonOptions.of({"channels": [8, 16], "velocity": True})
    assert opt.channels == (8, 16) and opt.velocity and not opt.bones
    a = SkeletonGCN(skeleton=opt)
    b = FusionScoNet(channels=NARROW, skeleton=opt)
    assert a.encoder.options == b.pose.options == opt
    with pytest.raises(ValueError, match="did you mean 'velocity'"):
        SkeletonOptions.of({"velocty": True})


def test_joint_bone_and_motion_streams():
    lay = graphs.get_layout("coco17")
    pose = walking_pose(1, 5, "coco17", seed=2)
    pose[..., 2] = 1.0  # all joints present
    full = PoseNormalizer(lay, velocity=True, bones=True, bone_motion=True)(pose)
    assert full.shape == (1, 3 + 2 + 2 + 2, 5, 17)
    vel, bone, bmot = full[:, 3:5], full[:, 5:7], full[:, 7:9]
    assert torch.allclose(vel[:, :, 1:], full[:, :2, 1:] - full[:, :2, :-1], atol=1e-6)
    assert torch.allclose(bmot[:, :, 1:], bone[:, :, 1:] - bone[:, :, :-1], atol=1e-6)
    assert torch.all(vel[:, :, 0] == 0) and torch.all(bmot[:, :, 0] == 0)


def test_spaced_frames():
    x = torch.arange(2 * 12).reshape(2, 12).float()[..., None]
    out = spaced_frames(x, torch.tensor([12, 5]), 4)[..., 0]
    assert out[0].tolist() == [1, 4, 7, 10]  # floor((i + 0.5) * 12 / 4)
    assert out[1].tolist() == [12, 13, 15, 16]  # 5 valid frames: 0, 1, 3, 4 (offset 12)


def test_contiguous_frames():
    x = torch.arange(2 * 12).reshape(2, 12).float()[..., None]
    lens = torch.tensor([12, 3])
    first = contiguous_frames(x, lens, 4, random=False)[..., 0]
    assert first[0].tolist() == [0, 1, 2, 3]
    assert first[1].tolist() == [12, 13, 14, 14]  # 3 valid frames: the last one repeats
    torch.manual_seed(0)
    starts = set()
    for _ in range(50):
        out = contiguous_frames(x, lens, 4, random=True)[..., 0]
        assert (out[0].diff() == 1).all() and 0 <= out[0, 0] <= 8  # a run inside the 12 frames
        starts.add(int(out[0, 0]))
    assert len(starts) > 3


def test_sil_window_gives_the_silhouette_stream_consecutive_frames():
    torch.manual_seed(0)
    m = FusionScoNet(channels=NARROW, skeleton={"channels": POSE_NARROW}, fusion="late",
                     sil_frames=3, sil_window="window").eval()  # fmt: skip
    sils = silhouettes(2, 8)
    only = m(sils=sils, pose=None)["logits"]
    assert torch.allclose(only, m(sils=sils[:, :3], pose=None)["logits"], atol=1e-6)
    with pytest.raises(ValueError, match="sil_window"):
        FusionScoNet(channels=NARROW, sil_frames=3, sil_window="middle")


def _late(**kw):
    torch.manual_seed(0)
    return FusionScoNet(channels=NARROW, skeleton={"channels": POSE_NARROW}, fusion="late", **kw)


def test_late_fusion_prediction_is_the_weighted_mean_and_a_missing_stream_works():
    m = _late(sil_frames=3).eval()
    with torch.no_grad():
        m.fusion_logits.copy_(torch.tensor([0.1, -0.1]))
    sils, pose = silhouettes(3, 6), walking_pose(3, 6)
    out = m(sils=sils, pose=pose)
    ls = out["streams"]["sils"]["logits"].mean(-1)
    lp = out["streams"]["pose"]["logits"].mean(-1)
    w = torch.softmax(10 * torch.tensor([0.1, -0.1]), 0)  # WEIGHT_SCALE 10
    assert torch.allclose(m.stream_weights(), w)
    assert out["logits"].shape == (3, 3, 1)
    assert torch.allclose(out["logits"][..., 0], w[0] * ls + w[1] * lp, atol=1e-6)
    # one stream missing: that stream's own part logits, equal to its share of the full output
    only_s, only_p = m(sils=sils, pose=None), m(sils=None, pose=pose)
    assert only_s["logits"].shape == (3, 3, 16) and only_p["logits"].shape == (3, 3, 9)
    assert torch.allclose(only_s["logits"], out["streams"]["sils"]["logits"], atol=1e-6)
    assert torch.allclose(only_p["logits"], out["streams"]["pose"]["logits"], atol=1e-6)
    # the silhouette stream sees 3 evenly spaced frames: equal to giving it those frames
    sub = m(sils=spaced_frames(sils, None, 3), pose=None)
    assert torch.allclose(sub["logits"], only_s["logits"], atol=1e-6)


def test_late_fusion_modality_dropout_leaves_one_stream_per_sample():
    m = _late(modality_dropout=1.0).train()
    torch.manual_seed(1)
    out = m(sils=silhouettes(8, 4), pose=walking_pose(8, 4))
    fused = out["logits"][..., 0]
    ls = out["streams"]["sils"]["logits"].mean(-1).detach()
    lp = out["streams"]["pose"]["logits"].mean(-1).detach()
    is_s = torch.isclose(fused, ls, atol=1e-6).all(1)
    is_p = torch.isclose(fused, lp, atol=1e-6).all(1)
    assert torch.all(is_s ^ is_p) and is_s.any() and is_p.any()


def test_per_stream_losses_and_the_fusion_weights_gradient():
    m = _late(augment={"mirror": 0.5, "scale": 0.1, "shift": 0.05}).train()
    labels, ids = torch.tensor([0, 1, 2, 0, 1, 2]), torch.tensor([0, 1, 2, 0, 1, 2])
    out = m(sils=silhouettes(6, 4), pose=walking_pose(6, 4))
    loss_fn = ScoNetMTLoss()
    total, parts = loss_fn(out, labels, ids)
    s, p = out["streams"]["sils"], out["streams"]["pose"]
    expect = (
        loss_fn({"logits": s["logits"], "embeddings": s["embeddings"]}, labels, ids)[0]
        + loss_fn({"logits": p["logits"], "embeddings": p["embeddings"]}, labels, ids)[0]
        + cross_entropy_parts(out["logits"], labels)
    )
    assert torch.allclose(total, expect)
    assert set(parts) == {"ce", "triplet", "active_frac", "acc"}
    total.backward()
    assert param_grad_norm(m.sil.backbone) > 0 and param_grad_norm(m.pose.blocks) > 0
    assert m.fusion_logits.grad.abs().sum() > 0
    # the fused cross-entropy alone moves only the fusion weights (the streams are detached)
    m.zero_grad()
    out = m(sils=silhouettes(6, 4), pose=walking_pose(6, 4))
    cross_entropy_parts(out["logits"], labels).backward()
    assert m.fusion_logits.grad.abs().sum() > 0
    assert param_grad_norm(m.sil) == 0 and param_grad_norm(m.pose) == 0


def test_a_fixed_silhouette_share_replaces_the_learned_weights():
    m = _late(sil_weight=0.7)
    assert not hasattr(m, "fusion_logits")
    assert torch.allclose(m.stream_weights(), torch.tensor([0.7, 0.3]))
    sils, pose = silhouettes(3, 6), walking_pose(3, 6)
    out = m.eval()(sils=sils, pose=pose)
    ls = out["streams"]["sils"]["logits"].mean(-1)
    lp = out["streams"]["pose"]["logits"].mean(-1)
    assert torch.allclose(out["logits"][..., 0], 0.7 * ls + 0.3 * lp, atol=1e-6)
    # training: the stream losses train the streams; the fused term has nothing to move
    m.train()
    labels, ids = torch.tensor([0, 1, 2, 0, 1, 2]), torch.tensor([0, 1, 2, 0, 1, 2])
    total, _ = ScoNetMTLoss()(m(sils=silhouettes(6, 4), pose=walking_pose(6, 4)), labels, ids)
    total.backward()
    assert param_grad_norm(m.sil.backbone) > 0 and param_grad_norm(m.pose.blocks) > 0
    for bad in ({"sil_weight": 1.5}, {"sil_weight": 0.5, "fusion": "concat"}):
        with pytest.raises(ValueError, match="sil_weight"):
            FusionScoNet(channels=NARROW, skeleton={"channels": POSE_NARROW}, **{"fusion": "late", **bad})
