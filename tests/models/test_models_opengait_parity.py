"""Agreement with numbers produced by OpenGait's own ScoNet code (committed fixture).

The fixture was written by ``experiments/parity/check_opengait.py OPENGAIT_DIR
--save-fixture tests/models/data/opengait_sconet_ref.pt``: OpenGait's ScoNet (their
modules, their init, their forward) at width (8, 16, 16, 32), embed 32, a [2, 5, 64, 44]
input; their state dict and outputs (eval, packed lengths [3, 5], train mode) and their
TripletLoss / CrossEntropyLoss values.
"""

import copy
from pathlib import Path

import pytest
import torch

from gaitpose.models import ScoNet
from gaitpose.models.losses import ScoNetMTLoss

FIXTURE = Path(__file__).parent / "data" / "opengait_sconet_ref.pt"


@pytest.fixture(scope="module")
def ref():
    return torch.load(FIXTURE, map_location="cpu", weights_only=True)


@pytest.fixture(scope="module")
def model(ref):
    return ScoNet(channels=ref["channels"], embed_dim=ref["embed_dim"]).load_opengait(
        ref["state_dict"]
    )


def test_fixture_is_small():
    assert FIXTURE.stat().st_size < 300 * 1024


def test_eval_outputs_match_opengait(ref, model):
    sils = ref["sils_u8"].float() / 255.0
    with torch.no_grad():
        out = model.eval()(sils)
    assert (out["embeddings"] - ref["eval"]["embeddings"]).abs().max() < 1e-4
    assert (out["logits"] - ref["eval"]["logits"]).abs().max() < 1e-4


def test_packed_sequences_match_padded(ref, model):
    sils = ref["sils_u8"].float() / 255.0
    lens = ref["seq_lens"]
    padded = torch.zeros_like(sils)
    for i, n in enumerate(lens.tolist()):
        padded[i, :n] = sils[i, :n]
    with torch.no_grad():
        out = model.eval()(padded, seq_lens=lens)
    assert (out["embeddings"] - ref["packed"]["embeddings"]).abs().max() < 1e-4
    assert (out["logits"] - ref["packed"]["logits"]).abs().max() < 1e-4


def test_train_mode_outputs_match_opengait(ref, model):
    m = copy.deepcopy(model).train()
    out = m(ref["sils_u8"].float() / 255.0)
    assert (out["logits"].detach() - ref["train"]["logits"]).abs().max() < 1e-4


def test_state_dict_round_trip_exact(ref, model):
    back = model.opengait_state_dict()
    assert set(back) == set(ref["state_dict"])
    assert all(torch.equal(back[k], v) for k, v in ref["state_dict"].items())


def test_losses_match_opengait(ref):
    r = ref["loss"]
    _, parts = ScoNetMTLoss()(
        {"embeddings": r["embeddings"], "logits": r["logits"]}, r["labels"], r["pids"]
    )
    assert abs(parts["triplet"].item() - r["triplet"].item()) < 1e-6
    assert abs(parts["ce"].item() - r["ce"].item()) < 1e-6
