"""ScoNet: shapes, OpenGait names and round trip, initialisation, padding, autocast."""

import pytest
import torch
from modeltest_utils import NARROW, silhouettes

from gaitpose.models import ScoNet


def test_shapes_and_names():
    torch.manual_seed(0)
    m = ScoNet(channels=NARROW)
    out = m(silhouettes(2, 4))
    assert out["embeddings"].shape == (2, 256, 16)
    assert out["logits"].shape == (2, 3, 16)
    assert out["logits"].abs().max() <= 1 + 1e-5  # cosine logits, not scaled
    assert m.modalities == ("sils",)
    sd = m.opengait_state_dict()
    for key in ("Backbone.forward_block.conv1.conv.weight",
                "Backbone.forward_block.layer2.0.downsample.0.weight",
                "FCs.fc_bin", "BNNecks.fc_bin", "BNNecks.bn1d.running_mean"):  # fmt: skip
        assert key in sd
    assert sd["FCs.fc_bin"].shape == (16, NARROW[-1], 256)
    assert sd["BNNecks.fc_bin"].shape == (16, 256, 3)


def test_reference_parameter_count():
    # OpenGait's ScoNet at its reference width has 7,014,592 parameters (parity script)
    assert sum(p.numel() for p in ScoNet().parameters()) == 7_014_592


def test_state_dict_round_trip_and_strict_loading():
    a, b = ScoNet(channels=NARROW), ScoNet(channels=NARROW)
    sd = a.opengait_state_dict()
    b.load_opengait({"model": {"module." + k: v for k, v in sd.items()}})
    assert all(torch.equal(v, b.opengait_state_dict()[k]) for k, v in sd.items())
    with pytest.raises(ValueError, match="shape mismatch"):
        ScoNet(channels=(4, 8, 8, 32)).load_opengait(sd)
    bad = dict(sd)
    bad.pop("FCs.fc_bin")
    bad["Extra.weight"] = torch.zeros(1)
    with pytest.raises(KeyError, match="FCs.fc_bin"):
        b.load_opengait(bad)


def test_load_from_checkpoint_file(tmp_path):
    a = ScoNet(channels=NARROW)
    path = tmp_path / "ScoNet-20000.pt"
    torch.save({"model": a.opengait_state_dict(), "iteration": 20000}, path)
    b = ScoNet(channels=NARROW).load_opengait(path).eval()
    x = silhouettes(1, 3)
    assert torch.allclose(a.eval()(x)["logits"], b(x)["logits"])


def test_initialisation_like_opengait():
    torch.manual_seed(0)
    m = ScoNet()
    bn_w = torch.cat(
        [mod.weight.detach() for mod in m.modules() if isinstance(mod, torch.nn.BatchNorm2d)]
    )
    assert abs(bn_w.mean().item() - 1) < 0.01 and abs(bn_w.std().item() - 0.02) < 0.005
    assert all(
        mod.bias.abs().sum() == 0 for mod in m.modules() if isinstance(mod, torch.nn.BatchNorm2d)
    )
    w = m.backbone.layer3[0].conv1.weight  # xavier-uniform bound sqrt(6 / (fan_in + fan_out))
    bound = (6 / (w.shape[1] * 9 + w.shape[0] * 9)) ** 0.5
    assert w.abs().max() <= bound and w.abs().max() > 0.9 * bound


def test_padding_with_seq_lens_matches_unpadded():
    torch.manual_seed(0)
    m = ScoNet(channels=NARROW).eval()
    x = silhouettes(2, 6, seed=1)
    short = m(x[:1, :3])
    padded = x.clone()
    padded[0, 3:] = 0.7  # garbage in the padding must not matter
    both = m(padded, seq_lens=torch.tensor([3, 6]))
    assert torch.allclose(both["logits"][0], short["logits"][0], atol=1e-5)
    assert torch.allclose(both["embeddings"][0], short["embeddings"][0], atol=1e-5)
    assert torch.allclose(both["logits"][1], m(x[1:])["logits"][0], atol=1e-5)


def test_autocast_bf16_cpu():
    m = ScoNet(channels=NARROW).eval()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = m(silhouettes(2, 3))
    assert out["logits"].dtype == torch.float32  # cosine normalisation in float32
    assert torch.isfinite(out["logits"]).all()


def test_uint8_input_is_scaled():
    m = ScoNet(channels=NARROW).eval()
    x = silhouettes(1, 3)
    with torch.no_grad():
        assert torch.allclose(m((x * 255).to(torch.uint8))["logits"], m(x)["logits"], atol=1e-6)
    with pytest.raises(ValueError, match="N, T, H, W"):
        m(x[0])
