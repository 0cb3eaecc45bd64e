"""Batching of clips: stack equal-length training clips, zero-pad test sequences."""

from __future__ import annotations

import torch


def _stack_or_pad(tensors: list[torch.Tensor]) -> torch.Tensor:
    T = max(t.shape[0] for t in tensors)
    if all(t.shape[0] == T for t in tensors):
        return torch.stack(tensors)
    out = tensors[0].new_zeros((len(tensors), T, *tensors[0].shape[1:]))
    for i, t in enumerate(tensors):
        out[i, : t.shape[0]] = t
    return out


def collate_clips(items: list[dict]) -> dict:
    """Batch dataset items.

    Returns:
        dict with ``"sils"`` [N, T, 64, 44] and/or ``"pose"`` [N, T, V, 3] (stacked when the
        clips have equal length, else zero-padded to the longest), ``"labels"`` LongTensor [N],
        ``"seq_lens"`` LongTensor [N], ``"ids"`` and ``"subjects"`` lists of str,
        ``"index"`` LongTensor [N].
    """
    if not items:
        raise ValueError("collate_clips needs at least one item")
    batch: dict = {}
    for m in ("sils", "pose"):
        if m in items[0]:
            batch[m] = _stack_or_pad([it[m] for it in items])
    batch["labels"] = torch.tensor([int(it["label"]) for it in items], dtype=torch.long)
    batch["seq_lens"] = torch.tensor([int(it["seq_len"]) for it in items], dtype=torch.long)
    batch["ids"] = [str(it["id"]) for it in items]
    batch["subjects"] = [str(it["subject"]) for it in items]
    batch["index"] = torch.tensor([int(it["index"]) for it in items], dtype=torch.long)
    return batch
