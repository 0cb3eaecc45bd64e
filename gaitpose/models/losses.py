"""ScoNet / ScoNet-MT objective: per-part cross-entropy on scaled cosine logits plus a
batch-all triplet loss on the part embeddings (numerics of OpenGait's ``CrossEntropyLoss``
and ``TripletLoss``).

* Cross-entropy: logits [N, K, P] times ``scale`` (16), label smoothing 0.1, averaged over
  the N * P (sample, part) pairs.
* Triplet (batch-all, Hermans et al. 2017): per part, Euclidean distances; every
  (anchor, positive, negative) with the anchor's identity on the positive — including the
  anchor itself as its own positive, as OpenGait does — and another identity on the
  negative; loss relu(d_ap - d_an + margin), averaged over the triplets with non-zero loss
  (0 for a part with none), then over parts. ``active_frac`` is the fraction of triplets
  with non-zero loss.
* Under DistributedDataParallel (``gather=True`` and an initialised process group with more
  than one rank) the triplet sees the embeddings and identities of all ranks (all_gather;
  the local slice keeps its gradient) and is multiplied by the world size, because DDP
  averages gradients over ranks (OpenGait's ``gather_and_scale_wrapper``).
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn


def gather_for_triplet(embeddings: Tensor, identities: Tensor) -> tuple[Tensor, Tensor, int]:
    """All-gather embeddings and identities over the default process group.

    The local slice is the input tensor itself, so gradients flow to this rank's samples;
    other ranks' slices are constants. Without an initialised group (or with one rank) the
    inputs come back unchanged.

    Shapes:
        embeddings: [n, C, P], identities: [n] -> [world * n, C, P], [world * n], world size.
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return embeddings, identities, 1
    world, rank = dist.get_world_size(), dist.get_rank()
    embs = [torch.empty_like(embeddings) for _ in range(world)]
    ids = [torch.empty_like(identities) for _ in range(world)]
    dist.all_gather(embs, embeddings.detach().contiguous())
    dist.all_gather(ids, identities.contiguous())
    embs[rank] = embeddings
    return torch.cat(embs, 0), torch.cat(ids, 0), world


def cross_entropy_parts(
    logits: Tensor, labels: Tensor, scale: float = 16.0, label_smoothing: float = 0.1
) -> Tensor:
    """Cross-entropy of every part's scaled logits against the sequence label, averaged.

    Shapes:
        logits: [N, K, P], labels: [N] -> scalar.
    """
    n, _, p = logits.shape
    target = labels.reshape(n, 1).expand(n, p)
    return F.cross_entropy(logits.float() * scale, target, label_smoothing=label_smoothing)


def triplet_batch_all(
    embeddings: Tensor, identities: Tensor, margin: float = 0.2
) -> tuple[Tensor, Tensor, Tensor]:
    """Batch-all triplet loss per part, averaged over non-zero triplets, then over parts.

    Returns:
        loss (scalar), fraction of triplets with non-zero loss (scalar, no grad),
        per-part loss [P].

    Shapes:
        embeddings: [N, C, P], identities: [N].
    """
    x = embeddings.float().permute(2, 0, 1)  # [p, n, c]
    sq = (x**2).sum(-1)
    d2 = sq[:, :, None] + sq[:, None, :] - 2 * x @ x.transpose(1, 2)
    d = F.relu(d2).sqrt()  # [p, n, n]
    same = identities[:, None] == identities[None, :]  # [n, n]
    valid = same[:, :, None] & ~same[:, None, :]  # [a, pos, neg]
    loss = F.relu(d[:, :, :, None] - d[:, :, None, :] + margin) * valid  # [p, a, pos, neg]
    loss = loss.flatten(1)
    nonzero = (loss > 0).sum(-1).float()
    per_part = torch.where(nonzero > 0, loss.sum(-1) / nonzero.clamp(min=1), loss.new_zeros(()))
    total = valid.sum() * x.shape[0]
    active = nonzero.sum() / total if total > 0 else loss.new_zeros(())
    return per_part.mean(), active.detach(), per_part


class ScoNetMTLoss(nn.Module):
    """ScoNet-MT objective ``ce_weight * CE + triplet_weight * triplet`` (ScoNet: weight 0).

    Args:
        ce_weight, triplet_weight: term weights (1, 1 for ScoNet-MT; triplet 0 for ScoNet).
        scale: cosine logit scale (16).
        label_smoothing: 0.1.
        margin: triplet margin (0.2).
        gather: all-gather embeddings over DDP ranks for the triplet term.

    Call:
        ``total, parts = loss_fn(out, labels, identities)`` with ``out`` a model output dict
        (``embeddings`` [N, C, P], ``logits`` [N, K, P]), labels LongTensor [N] and
        identities LongTensor [N] (required: the triplet's identities, which the trainer takes
        from the config's ``loss_cfg.identity`` — ``tree_id``, OpenGait's, or ``subject``; the
        loss refuses to fall back to class labels, which would make it a class-margin loss). ``parts``: detached tensors ``ce``, ``triplet``,
        ``active_frac`` and ``acc`` (accuracy of the batch with the prediction rule
        ``logits.mean(-1).argmax(-1)``).

    Per-stream losses: when ``out`` has ``streams`` (``FusionScoNet(fusion="late")``: a dict
    of per-stream ``{embeddings, logits}``), the objective is the sum of every stream's
    ScoNet-MT loss plus ``ce_weight`` times the cross-entropy of the fused prediction
    ``out["logits"]`` (when both streams are present); ``ce``, ``triplet`` and
    ``active_frac`` are then the streams' means, ``acc`` the fused prediction's.
    """

    def __init__(
        self,
        ce_weight: float = 1.0,
        triplet_weight: float = 1.0,
        scale: float = 16.0,
        label_smoothing: float = 0.1,
        margin: float = 0.2,
        gather: bool = False,
    ):
        super().__init__()
        self.ce_weight, self.triplet_weight = ce_weight, triplet_weight
        self.scale, self.label_smoothing, self.margin, self.gather = (
            scale, label_smoothing, margin, gather,
        )  # fmt: skip

    def forward(
        self, out: dict[str, Tensor], labels: Tensor, identities: Tensor | None = None
    ) -> tuple[Tensor, dict[str, Tensor]]:
        if identities is None:
            raise ValueError("ScoNetMTLoss needs the triplet identities (loss_cfg.identity: tree_id "
                             "or subject); it does not fall back to class labels")
        logits = out["logits"]
        labels = labels.to(logits.device).long()
        ids = identities.to(logits.device).long()
        streams = out.get("streams")
        if not streams:
            total, ce, trip, active = self._mt_terms(out, labels, ids)
        else:
            # one ScoNet-MT loss per stream (neither starves), plus the cross-entropy of the
            # fused prediction when there is one (its gradient reaches only the fusion weights)
            terms = [self._mt_terms(s, labels, ids) for s in streams.values()]
            total = sum(t[0] for t in terms)
            ce = torch.stack([t[1] for t in terms]).mean()
            trip = torch.stack([t[2] for t in terms]).mean()
            active = torch.stack([t[3] for t in terms]).mean()
            if len(streams) > 1:
                fused_ce = cross_entropy_parts(logits, labels, self.scale, self.label_smoothing)
                total = total + self.ce_weight * fused_ce
        with torch.no_grad():
            acc = (logits.float().mean(-1).argmax(-1) == labels).float().mean()
        parts = {"ce": ce.detach(), "triplet": trip.detach(), "active_frac": active, "acc": acc}
        return total, parts

    def _mt_terms(
        self, out: dict[str, Tensor], labels: Tensor, ids: Tensor
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """ScoNet-MT on one output (``embeddings``, ``logits``): total, ce, triplet, active."""
        logits, emb = out["logits"], out["embeddings"]
        ce = cross_entropy_parts(logits, labels, self.scale, self.label_smoothing)
        total = self.ce_weight * ce
        if self.triplet_weight > 0:
            world = 1
            if self.gather:
                emb, ids, world = gather_for_triplet(emb, ids)
            trip, active, _ = triplet_batch_all(emb, ids, self.margin)
            total = total + self.triplet_weight * trip * world
        else:
            with torch.no_grad():
                trip, active, _ = triplet_batch_all(emb.detach(), ids, self.margin)
        return total, ce, trip, active
