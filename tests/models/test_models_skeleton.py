"""SkeletonGCN: shapes per layout, input normalisation, invariances, padding, dense = sparse."""

import pytest
import torch
from modeltest_utils import POSE_NARROW, walking_pose

import graphs
from gaitpose.models import SkeletonGCN
from gaitpose.models.skeleton import PoseNormalizer


@pytest.mark.parametrize("layout", ["coco17", "mediapipe33"])
@pytest.mark.parametrize("extra", [False, True])
def test_shapes(layout, extra):
    torch.manual_seed(0)
    m = SkeletonGCN(layout=layout, skeleton=dict(channels=POSE_NARROW, velocity=extra, bones=extra))
    v = graphs.get_layout(layout).num_joints
    out = m(walking_pose(3, 10, layout), seq_lens=torch.tensor([10, 6, 8]))
    assert out["embeddings"].shape == (3, 256, 9)
    assert out["logits"].shape == (3, 3, 9)
    assert m.modalities == ("pose",)
    with pytest.raises(ValueError, match=str(v)):
        m(torch.zeros(1, 4, v + 1, 3))


def test_normaliser_centre_scale_and_missing_joints():
    lay = graphs.get_layout("coco17")
    norm = PoseNormalizer(lay, velocity=True, bones=True)
    pose = walking_pose(2, 6, "coco17", seed=3)
    pose[0, 2, 7] = 0.0  # a missing joint
    pose[0, 4, 3, :2] = float("nan")  # NaN coordinates count as missing too
    pose[0, 4, 3, 2] = 0.0
    feats = norm(pose, seq_lens=torch.tensor([5, 6]))  # [n, c, t, v]
    assert feats.shape == (2, 3 + 2 + 2, 6, 17)
    assert torch.isfinite(feats).all()
    assert torch.all(feats[0, :, 2, 7] == 0) and torch.all(feats[0, :, 4, 3] == 0)
    assert torch.all(feats[0, :, 5] == 0)  # padded frame
    # the mid-hip is at the origin wherever both hips are present
    lh, rh = lay.index("left_hip"), lay.index("right_hip")
    both = (pose[..., lh, 2] > 0) & (pose[..., rh, 2] > 0)
    mid = 0.5 * (feats[:, :2, :, lh] + feats[:, :2, :, rh])  # [n, 2, t]
    assert mid.permute(0, 2, 1)[both & (torch.arange(6) < 5)].abs().max() < 1e-5
    # torso length (mid-shoulder to mid-hip) has median 1
    ls, rs = lay.index("left_shoulder"), lay.index("right_shoulder")
    torso = (
        0.5 * (feats[1, :2, :, ls] + feats[1, :2, :, rs])
        - 0.5 * (feats[1, :2, :, lh] + feats[1, :2, :, rh])
    ).norm(dim=0)
    ok = (pose[1, :, [lh, rh, ls, rs], 2] > 0).all(-1)
    assert abs(torso[ok].median().item() - 1) < 1e-5


@pytest.mark.parametrize("layout", ["coco17", "mediapipe33"])
def test_translation_and_scale_invariance(layout):
    torch.manual_seed(0)
    m = SkeletonGCN(layout=layout, skeleton=dict(channels=POSE_NARROW, velocity=True, bones=True)).eval()
    pose = walking_pose(2, 8, layout, seed=1)
    moved = pose.clone()
    present = pose[..., 2:] > 0
    moved[..., :2] = torch.where(
        present, pose[..., :2] * 2.7 + torch.tensor([-150.0, 90.0]), pose[..., :2]
    )
    with torch.no_grad():
        a, b = m(pose), m(moved)
    assert torch.allclose(a["logits"], b["logits"], atol=1e-4)
    assert torch.allclose(a["embeddings"], b["embeddings"], atol=1e-3 * a["embeddings"].abs().max())


@pytest.mark.parametrize("graph_conv", ["dense", "sparse"])
def test_padding_with_seq_lens_matches_unpadded(graph_conv):
    torch.manual_seed(0)
    m = SkeletonGCN(skeleton=dict(channels=POSE_NARROW, graph_conv=graph_conv)).eval()
    pose = walking_pose(2, 11, seed=2)
    padded = pose.clone()
    padded[0, 7:] = torch.rand(4, 17, 3) * 300  # garbage beyond the length
    with torch.no_grad():
        alone = m(pose[:1, :7])
        both = m(padded, seq_lens=torch.tensor([7, 11]))
    assert torch.allclose(both["logits"][0], alone["logits"][0], atol=1e-5)
    assert torch.allclose(both["embeddings"][0], alone["embeddings"][0], atol=1e-4)


def test_dense_and_message_passing_agree():
    torch.manual_seed(0)
    dense = SkeletonGCN(skeleton=dict(channels=POSE_NARROW, graph_conv="dense")).eval()
    sparse = SkeletonGCN(skeleton=dict(channels=POSE_NARROW, graph_conv="sparse")).eval()
    sparse.load_state_dict(dense.state_dict())
    with torch.no_grad():
        for blk in dense.encoder.blocks:  # non-uniform bone importance
            blk.edge_importance.uniform_(0.5, 1.5)
        for a, b in zip(dense.encoder.blocks, sparse.encoder.blocks):
            b.edge_importance.copy_(a.edge_importance)
        pose = walking_pose(2, 6)
        assert torch.allclose(dense(pose)["logits"], sparse(pose)["logits"], atol=1e-5)


def test_part_tokens_and_left_right_difference():
    m = SkeletonGCN(skeleton=dict(channels=POSE_NARROW))
    enc = m.encoder
    lay = enc.layout
    x = torch.zeros(1, 2, lay.num_joints)
    x[0, 0, list(lay.parts["left_leg"])] = 1.0
    tok = enc.part_tokens(x)  # order: 7 groups, then left-right arm, left-right leg
    assert tok.shape == (1, 2, 9)
    assert tok[0, 0, 5] == 2.0 and tok[0, 0, 6] == 0.0  # mean + max over the left leg
    assert tok[0, 0, 8] == 2.0 and tok[0, 0, 7] == 0.0
    assert torch.all(tok[0, 1] == 0)


def test_gradients_and_edge_importance_learn():
    m = SkeletonGCN(skeleton=dict(channels=POSE_NARROW))
    out = m(walking_pose(4, 6))
    out["logits"].sum().backward()
    assert all(
        b.edge_importance.grad is not None and b.edge_importance.grad.abs().sum() > 0
        for b in m.encoder.blocks
    )


def test_coco_model_runs_on_mediapipe_extractions():
    torch.manual_seed(0)
    m = SkeletonGCN(layout="coco17", skeleton=dict(channels=POSE_NARROW)).eval()
    mp = walking_pose(2, 5, "mediapipe33", seed=5)
    with torch.no_grad():
        a = m(mp)
        b = m(graphs.mediapipe_to_coco(mp))
    assert torch.equal(a["logits"], b["logits"])


def test_spatial_partition_operator():
    torch.manual_seed(0)
    m = SkeletonGCN(skeleton=dict(channels=POSE_NARROW, graph_conv="partition"), layout="mediapipe33").eval()
    pose = walking_pose(2, 9, "mediapipe33", seed=6)
    padded = pose.clone()
    padded[0, 6:] = 123.0
    with torch.no_grad():
        out = m(padded, seq_lens=torch.tensor([6, 9]))
        alone = m(pose[:1, :6])
    assert out["logits"].shape == (2, 3, 9)
    assert torch.allclose(out["logits"][0], alone["logits"][0], atol=1e-5)
    blk = m.encoder.blocks[1]
    # one output joint aggregates its own features and its neighbours' only
    x = torch.zeros(1, blk.gcn.in_channels, 1, 33)
    x[..., 0] = 1.0  # nose
    y = blk.spatial(x) - blk.spatial(torch.zeros_like(x))
    touched = (y.abs().sum((0, 1, 2)) > 0).nonzero().flatten().tolist()
    assert set(touched) <= {0, 1, 4} and 0 in touched  # nose, left_eye_inner, right_eye_inner
    m.train()
    m(pose)["logits"].sum().backward()
    assert blk.edge_importance.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="partition"):
        SkeletonGCN(skeleton=dict(graph_conv="chebyshev"))
