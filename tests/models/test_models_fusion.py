"""FusionScoNet: shapes, gradients into both streams, missing modalities, dropout, registry."""

import pytest
import torch
from modeltest_utils import NARROW, POSE_NARROW, param_grad_norm, silhouettes, walking_pose

from gaitpose.models import MODEL_REGISTRY, FusionScoNet, ScoNet, SkeletonGCN, build_model
from gaitpose.models.losses import ScoNetMTLoss


def _fusion(**kw):
    torch.manual_seed(0)
    return FusionScoNet(channels=NARROW, skeleton={"channels": POSE_NARROW}, **kw)


@pytest.mark.parametrize("fusion", ["concat", "gated"])
@pytest.mark.parametrize("layout", ["coco17", "mediapipe33"])
def test_shapes_and_gradients_reach_both_streams(fusion, layout):
    m = _fusion(fusion=fusion, layout=layout, modality_dropout=0.3)
    v = 17 if layout == "coco17" else 33
    sils, pose = silhouettes(4, 5), walking_pose(4, 5, layout)
    out = m(sils=sils, pose=pose, seq_lens=torch.tensor([5, 5, 4, 5]))
    assert out["embeddings"].shape == (4, 256, 16 + 9)
    assert out["logits"].shape == (4, 3, 16 + 9)
    assert pose.shape[2] == v
    total, _ = ScoNetMTLoss()(out, torch.tensor([0, 1, 2, 0]), torch.tensor([0, 1, 2, 0]))
    total.backward()
    assert param_grad_norm(m.sil.backbone) > 0
    assert param_grad_norm(m.pose.blocks) > 0
    if fusion == "gated":
        assert param_grad_norm(m.gate) > 0


@pytest.mark.parametrize("fusion", ["concat", "gated"])
def test_one_modality_masked_still_predicts(fusion):
    m = _fusion(fusion=fusion).eval()
    sils, pose = silhouettes(3, 4), walking_pose(3, 4)
    with torch.no_grad():
        full = m(sils=sils, pose=pose)
        only_s = m(sils=sils, pose=None)
        only_p = m(sils=None, pose=pose)
    assert only_s["logits"].shape == (3, 3, 16) and only_s["embeddings"].shape == (3, 256, 16)
    assert only_p["logits"].shape == (3, 3, 9) and only_p["embeddings"].shape == (3, 256, 9)
    for out in (only_s, only_p):
        pred = out["logits"].mean(-1).argmax(-1)
        assert pred.shape == (3,) and torch.isfinite(out["logits"]).all()
    if fusion == "concat":  # the present stream's parts are exactly its slice of the full output
        assert torch.allclose(only_s["logits"], full["logits"][..., :16], atol=1e-5)
        assert torch.allclose(only_p["logits"], full["logits"][..., 16:], atol=1e-5)
    with pytest.raises(ValueError):
        m(sils=None, pose=None)


def test_one_modality_in_training_mode():
    m = _fusion().train()
    out = m(sils=silhouettes(4, 3), pose=None)
    total, parts = ScoNetMTLoss()(out, torch.tensor([0, 1, 2, 1]), torch.arange(4))
    total.backward()
    assert torch.isfinite(total) and param_grad_norm(m.sil.backbone) > 0


def test_modality_dropout_zeroes_one_stream_when_training():
    m = _fusion(modality_dropout=1.0).train()
    sils, pose = silhouettes(6, 3), walking_pose(6, 3)
    emb_s = m.sil_fcs(m.sil(sils))
    emb_p = m.pose_fcs(m.pose(pose))
    torch.manual_seed(1)
    out = m(sils=sils, pose=pose)
    # with p = 1, every sample has one stream's tokens zeroed before the shared BN-neck:
    # the zeroed parts of all samples with the same dropped stream get identical logits
    lg = out["logits"].detach()
    sil_same = [
        (lg[i, :, :16] - lg[j, :, :16]).abs().max() < 1e-6
        for i in range(6)
        for j in range(6)
        if i != j
    ]
    pose_same = [
        (lg[i, :, 16:] - lg[j, :, 16:]).abs().max() < 1e-6
        for i in range(6)
        for j in range(6)
        if i != j
    ]
    assert any(sil_same) or any(pose_same)
    assert torch.allclose(out["embeddings"], torch.cat([emb_s, emb_p], -1), atol=1e-5)  # unscaled
    m.eval()  # no dropout at evaluation: deterministic
    with torch.no_grad():
        assert torch.equal(m(sils=sils, pose=pose)["logits"], m(sils=sils, pose=pose)["logits"])


def test_padding_with_seq_lens_matches_unpadded():
    m = _fusion().eval()
    sils, pose = silhouettes(2, 7, seed=4), walking_pose(2, 7, seed=4)
    with torch.no_grad():
        alone = m(sils=sils[:1, :4], pose=pose[:1, :4])
        both = m(sils=sils, pose=pose, seq_lens=torch.tensor([4, 7]))
    assert torch.allclose(both["logits"][0], alone["logits"][0], atol=1e-5)


def test_registry():
    assert set(MODEL_REGISTRY) >= {"ScoNet", "SkeletonGCN", "FusionScoNet"}
    assert isinstance(build_model("ScoNet", channels=list(NARROW)), ScoNet)
    assert isinstance(
        build_model("SkeletonGCN", layout="mediapipe33", skeleton={"channels": [8, 16]}), SkeletonGCN
    )
    m = build_model("FusionScoNet", channels=NARROW, skeleton={"channels": POSE_NARROW}, fusion="gated")
    assert m.modalities == ("sils", "pose")
    with pytest.raises(KeyError, match="FusionScoNet.*ScoNet.*SkeletonGCN"):
        build_model("sconet")
    with pytest.raises(ValueError, match="fusion"):
        build_model("FusionScoNet", fusion="sum")


@pytest.mark.parametrize("name", ["SkeletonGCN", "FusionScoNet"])
def test_autocast_bf16_cpu(name):
    kw = (
        {"skeleton": {"channels": POSE_NARROW}}
        if name == "SkeletonGCN"
        else {"channels": NARROW, "skeleton": {"channels": POSE_NARROW}}
    )
    m = build_model(name, **kw).train()
    batch = {"sils": silhouettes(4, 3), "pose": walking_pose(4, 3)}
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = m(**{k: batch[k] for k in m.modalities})
        loss, _ = ScoNetMTLoss()(out, torch.tensor([0, 1, 2, 0]), torch.tensor([0, 1, 2, 0]))
    loss.backward()
    assert out["logits"].dtype == torch.float32 and torch.isfinite(loss)


def test_gate_weights_the_streams_logits_after_the_bnneck():
    """Gated fusion scales each stream's part logits by 2*w: at the zero-initialised even split
    it equals concat with the same weights; a gate favouring one stream scales its logits."""
    g = _fusion(fusion="gated").eval()
    c = _fusion(fusion="concat").eval()
    c.load_state_dict({k: v for k, v in g.state_dict().items() if not k.startswith("gate.")})
    sils, pose = silhouettes(3, 4), walking_pose(3, 4)
    with torch.no_grad():
        even, ref = g(sils=sils, pose=pose)["logits"], c(sils=sils, pose=pose)["logits"]
        assert torch.allclose(even, ref, atol=1e-6)
        g.gate[-1].bias.copy_(torch.tensor([0.0, torch.log(torch.tensor(3.0))]))  # w = 0.25, 0.75
        out = g(sils=sils, pose=pose)["logits"]
    assert torch.allclose(out[..., :16], 0.5 * ref[..., :16], atol=1e-6)
    assert torch.allclose(out[..., 16:], 1.5 * ref[..., 16:], atol=1e-6)


def test_gate_does_not_scale_the_streams_gradients():
    """The streams learn from the unweighted logits: with an uneven gate, the gradient of the
    summed logits into the shared head equals concat's, while the gate still gets a gradient."""
    g = _fusion(fusion="gated").train()
    c = _fusion(fusion="concat").train()
    c.load_state_dict({k: v for k, v in g.state_dict().items() if not k.startswith("gate.")})
    with torch.no_grad():
        g.gate[-1].bias.copy_(torch.tensor([0.0, 2.0]))
    sils, pose = silhouettes(4, 3), walking_pose(4, 3)
    for m in (g, c):
        torch.manual_seed(0)
        (m(sils=sils, pose=pose)["logits"] * torch.arange(1.0, 4.0)[:, None]).sum().backward()
    assert torch.allclose(g.bnnecks.fc_bin.grad, c.bnnecks.fc_bin.grad, atol=1e-5)
    assert param_grad_norm(g.gate) > 0
