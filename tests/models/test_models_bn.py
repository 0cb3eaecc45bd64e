"""precise_bn: BN statistics re-estimated from batches with the final weights."""

import copy

import torch
from modeltest_utils import NARROW, POSE_NARROW, silhouettes, walking_pose

from gaitpose.models import FusionScoNet, SkeletonGCN, precise_bn


def test_bnneck_statistics_equal_embedding_moments():
    torch.manual_seed(0)
    m = SkeletonGCN(skeleton=dict(channels=POSE_NARROW))
    batches = [
        {"pose": walking_pose(6, 5, seed=s), "seq_lens": torch.full((6,), 5)} for s in (1, 2)
    ]
    with torch.no_grad():  # stale statistics
        m.bnnecks.bn1d.running_mean.fill_(3.0)
        m.bnnecks.bn1d.running_var.fill_(9.0)
    params = copy.deepcopy(list(m.parameters()))
    m.train()
    assert precise_bn(m, batches) == 2
    assert m.training and m.bnnecks.bn1d.momentum == 0.1
    assert all(torch.equal(a, b) for a, b in zip(params, m.parameters()))
    ref = copy.deepcopy(m).train()  # train-mode embeddings: every BN on batch statistics
    with torch.no_grad():
        emb = torch.cat([ref(**b)["embeddings"].flatten(1) for b in batches])
    assert torch.allclose(m.bnnecks.bn1d.running_mean, emb.mean(0), atol=1e-5)
    per_batch_var = torch.stack([emb[:6].var(0), emb[6:].var(0)]).mean(0)  # unbiased, averaged
    assert torch.allclose(m.bnnecks.bn1d.running_var, per_batch_var, rtol=1e-3, atol=1e-6)


def test_fusion_calibration_ignores_modality_dropout_and_limits_batches():
    torch.manual_seed(0)
    m = FusionScoNet(channels=NARROW, skeleton={"channels": POSE_NARROW}, modality_dropout=1.0).eval()
    b = {"sils": silhouettes(4, 3), "pose": walking_pose(4, 3), "seq_lens": torch.full((4,), 3)}
    assert precise_bn(m, [b, b, b], num_batches=1) == 1
    a = m.bnnecks.bn1d.running_mean.clone()
    precise_bn(m, [b])
    assert torch.equal(a, m.bnnecks.bn1d.running_mean)  # deterministic: no dropout used
    assert not m.training
    assert precise_bn(m, []) == 0 and torch.equal(a, m.bnnecks.bn1d.running_mean)
