"""ScoNetMTLoss: hand-computed values on tiny constructed batches, DDP gather."""

import math

import pytest
import torch
import torch.multiprocessing as mp

from gaitpose.models.losses import (
    ScoNetMTLoss,
    cross_entropy_parts,
    gather_for_triplet,
    triplet_batch_all,
)


def test_cross_entropy_by_hand():
    logits = torch.tensor([[[0.5], [-0.5], [0.0]]])  # [N=1, K=3, P=1]
    z = [16 * 0.5, 16 * -0.5, 0.0]
    lse = math.log(sum(math.exp(v) for v in z))
    logp = [v - lse for v in z]
    eps = 0.1
    expect = -((1 - eps) * logp[0] + eps / 3 * sum(logp))
    got = cross_entropy_parts(logits, torch.tensor([0]), scale=16, label_smoothing=0.1)
    assert abs(got.item() - expect) < 1e-5
    # averaged over parts: a second part with the same logits gives the same value
    two = torch.cat([logits, logits], -1)
    assert abs(cross_entropy_parts(two, torch.tensor([0])).item() - expect) < 1e-5


def test_triplet_by_hand():
    # part 0: 1-D points a=0 (id 0), b=0.1 (id 0), c=0.25 (id 1); margin 0.2.
    # (anchor, positive incl. itself, negative) losses relu(d_ap - d_an + 0.2):
    #   a: (a,a,c) 0, (a,b,c) 0.05;  b: (b,a,c) 0.15, (b,b,c) 0.05;  c: (c,c,a) 0, (c,c,b) 0.05
    # -> 6 triplets, 4 non-zero, mean over non-zero 0.3 / 4 = 0.075.
    # part 1: far apart (distance 10 > margin): no active triplet, loss 0.
    emb = torch.tensor([[[0.0, 0.0]], [[0.1, 0.0]], [[0.25, 10.0]]])  # [N=3, C=1, P=2]
    ids = torch.tensor([0, 0, 1])
    loss, active, per_part = triplet_batch_all(emb, ids, margin=0.2)
    assert torch.allclose(per_part, torch.tensor([0.075, 0.0]), atol=1e-6)
    assert abs(loss.item() - 0.0375) < 1e-6
    assert abs(active.item() - 4 / 12) < 1e-6


def test_sconet_mt_total_and_sconet_ce_only():
    torch.manual_seed(0)
    out = {
        "embeddings": torch.randn(6, 8, 4, requires_grad=True),
        "logits": torch.rand(6, 3, 4) * 2 - 1,
    }
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    ids = torch.tensor([0, 0, 1, 1, 2, 2])
    total, parts = ScoNetMTLoss()(out, labels, ids)
    assert set(parts) == {"ce", "triplet", "active_frac", "acc"}
    assert torch.allclose(total, parts["ce"] + parts["triplet"])
    total.backward()
    assert out["embeddings"].grad.abs().sum() > 0
    ce_only, p2 = ScoNetMTLoss(triplet_weight=0.0)(out, labels, ids)
    assert torch.allclose(ce_only, p2["ce"]) and torch.allclose(p2["triplet"], parts["triplet"])
    weighted, _ = ScoNetMTLoss(ce_weight=0.5, triplet_weight=2.0)(out, labels, ids)
    assert torch.allclose(weighted, 0.5 * parts["ce"] + 2 * parts["triplet"])
    # accuracy with the prediction rule (mean over parts, argmax)
    logits = torch.zeros(2, 3, 4)
    logits[0, 1] = 1.0
    logits[1, 2] = 1.0
    _, p3 = ScoNetMTLoss()(
        {"embeddings": torch.zeros(2, 8, 4), "logits": logits}, torch.tensor([1, 0]), torch.tensor([0, 1])
    )
    assert p3["acc"].item() == 0.5


def test_gather_without_process_group_is_identity():
    e, i = torch.randn(4, 2, 3), torch.arange(4)
    e2, i2, world = gather_for_triplet(e, i)
    assert e2 is e and i2 is i and world == 1


def _ddp_worker(rank, world, init_file, emb, ids, results):
    torch.distributed.init_process_group(
        "gloo", init_method=f"file://{init_file}", rank=rank, world_size=world
    )
    n = emb.shape[0] // world
    local = emb[rank * n : (rank + 1) * n].clone().requires_grad_(True)
    out = {"embeddings": local, "logits": torch.zeros(n, 3, emb.shape[2])}
    total, parts = ScoNetMTLoss(ce_weight=0.0, gather=True)(
        out, torch.zeros(n, dtype=torch.long), ids[rank * n : (rank + 1) * n]
    )
    total.backward()
    results[rank] = (total.detach(), local.grad.clone())
    torch.distributed.destroy_process_group()


def _fake_two_ranks(monkeypatch, other):
    """Pretend to be rank 0 of 2; rank 1 holds ``other`` (a dict of tensors by shape)."""
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.distributed, "get_world_size", lambda: 2)
    monkeypatch.setattr(torch.distributed, "get_rank", lambda: 0)

    def all_gather(out, t):
        out[0].copy_(t)
        out[1].copy_(other[t.dtype])

    monkeypatch.setattr(torch.distributed, "all_gather", all_gather)


def test_gather_keeps_local_gradient_and_scales(monkeypatch):
    torch.manual_seed(0)
    emb = torch.randn(8, 4, 2) * 0.3
    ids = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    full = emb.clone().requires_grad_(True)
    loss, _, _ = triplet_batch_all(full, ids)
    loss.backward()
    _fake_two_ranks(monkeypatch, {emb.dtype: emb[4:], ids.dtype: ids[4:]})
    local = emb[:4].clone().requires_grad_(True)
    out = {"embeddings": local, "logits": torch.zeros(4, 3, 2)}
    total, _ = ScoNetMTLoss(ce_weight=0.0, gather=True)(
        out, torch.zeros(4, dtype=torch.long), ids[:4]
    )
    total.backward()
    assert torch.allclose(total, 2 * loss.detach(), atol=1e-6)  # world * full-batch loss
    assert torch.allclose(local.grad / 2, full.grad[:4], atol=1e-6)  # DDP then averages by 2


@pytest.mark.slow
def test_ddp_gather_matches_full_batch(tmp_path):
    torch.manual_seed(0)
    emb = torch.randn(8, 4, 2) * 0.3
    ids = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])  # positives live on the other rank
    full = emb.clone().requires_grad_(True)
    loss, _, _ = triplet_batch_all(full, ids)
    loss.backward()
    manager = mp.Manager()
    results = manager.dict()
    try:
        mp.spawn(_ddp_worker, args=(2, str(tmp_path / "pg"), emb, ids, results), nprocs=2)
    except Exception as exc:  # pragma: no cover - environment without gloo
        pytest.skip(f"gloo process group unavailable: {exc}")
    for rank in range(2):
        total, grad = results[rank]
        # each rank's loss is world * full-batch triplet; DDP's gradient averaging then
        # yields exactly the full-batch gradient on every sample
        assert torch.allclose(total, 2 * loss.detach(), atol=1e-6)
        assert torch.allclose(grad / 2, full.grad[rank * 4 : (rank + 1) * 4], atol=1e-6)


def test_refuses_to_run_without_identities():
    """No silent fallback to class labels as triplet identities."""
    out = {"embeddings": torch.randn(4, 8, 2), "logits": torch.randn(4, 3, 2)}
    with pytest.raises(ValueError, match="needs the triplet identities"):
        ScoNetMTLoss()(out, torch.tensor([0, 1, 2, 0]))
