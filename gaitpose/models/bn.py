"""Precise BatchNorm statistics (Wu & Johnson, "Rethinking 'Batch' in BatchNorm", 2021).

The BN-neck's cosine logits depend on features whose batch variance is small next to their
shared offset, so running statistics that lag behind fast-changing weights (short runs, high
learning rate) can send every evaluation sample to one class although the training-mode
accuracy is good. Re-estimating all BN statistics with the final weights before evaluation or
checkpointing removes that lag; the reference's 20k-iteration schedule with learning-rate decay
makes it unnecessary there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch
from torch import nn

_BN = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


@torch.no_grad()
def precise_bn(model: nn.Module, batches: Iterable[Mapping], num_batches: int | None = None) -> int:
    """Recompute every BatchNorm's running mean/var as the average over ``batches``.

    Only the BN layers run in training mode (everything else, e.g. dropout and modality
    dropout, in eval mode); parameters are not touched. The model's train/eval state and the
    BN momenta are restored afterwards.

    Args:
        model: a model with ``modalities`` (ScoNet, SkeletonGCN, FusionScoNet) or any module
            called as ``model(**inputs, seq_lens=...)``.
        batches: collated batch dicts (keys from ``model.modalities`` and optionally
            ``seq_lens``), e.g. a training DataLoader.
        num_batches: stop after this many batches (None: all of ``batches``).

    Returns:
        the number of batches used (0 leaves the statistics unchanged).
    """
    bns = [m for m in model.modules() if isinstance(m, _BN) and m.track_running_stats]
    if not bns:
        return 0
    was_training = model.training
    saved = [(m, m.momentum, m.running_mean.clone(), m.running_var.clone()) for m in bns]
    modalities = getattr(model, "modalities", None)
    device = next(model.parameters()).device
    model.eval()
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average
        m.train()
    used = 0
    try:
        for batch in batches:
            if num_batches is not None and used >= num_batches:
                break
            keys = modalities or [k for k in batch if k not in ("seq_lens",)]
            inputs = {k: batch[k].to(device) for k in keys}
            seq_lens = batch.get("seq_lens")
            model(**inputs, seq_lens=None if seq_lens is None else seq_lens.to(device))
            used += 1
    finally:
        for m, momentum, mean, var in saved:
            m.momentum = momentum
            if used == 0:
                m.running_mean.copy_(mean)
                m.running_var.copy_(var)
        model.train(was_training)
    return used
