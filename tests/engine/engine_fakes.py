"""Tiny stand-ins for the data layer and the models, following the project's INTERFACES exactly.

Used by the engine tests through the config's ``data_cfg.api`` / ``model_cfg.api`` /
``loss_cfg.api`` hooks, so the engine is tested fast and on its own. Test code only.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

V = 5  # joints of the fake skeleton


# ----------------------------------------------------------------------------- data
def _sequence(cls: int, length: int, rs: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    """Silhouettes [T, 64, 44] whose bright band depends on the class; poses [T, V, 3]."""
    sils = rs.rand(length, 64, 44).astype(np.float32) * 0.3
    sils[:, 8 + 16 * cls : 24 + 16 * cls, 10:34] += 0.6
    pose = rs.rand(length, V, 3).astype(np.float32)
    pose[:, :, 0] += 2.0 * cls
    pose[:, :, 2] = 1.0
    return np.clip(sils, 0, 1), pose


class GaitDataset(torch.utils.data.Dataset):
    """In-memory cohort: 3 classes × ``per_class`` subjects × 2 sequences (root must exist)."""

    def __init__(self, root, split="train", partition=None, labels_csv=None, modalities=("sils", "pose"),
                 frames=30, sample_type="fixed_unordered", max_frames=720, layout=None, seed=0,
                 per_class=4):
        rs = np.random.RandomState(1234)
        self.modalities, self.frames, self.sample_type, self.max_frames = tuple(modalities), frames, sample_type, max_frames
        self.layout = layout or "fake5"
        self.num_joints = V
        self.items = []
        for cls in range(3):
            for s in range(per_class):
                subject = f"c{cls}s{s}"
                part = "test" if s == per_class - 1 else "val" if s == per_class - 2 else "train"
                if split != "all" and split != part:
                    continue
                for k in range(2):
                    length = int(rs.randint(12, 20))
                    self.items.append((f"{subject}-{k}", subject, cls, *_sequence(cls, length, rs)))
        self.labels = [it[2] for it in self.items]
        self.ids = [it[0] for it in self.items]
        self.subjects = [it[1] for it in self.items]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        sid, subject, cls, sils, pose = self.items[i]
        if self.sample_type == "fixed_unordered":
            idx = np.random.choice(len(sils), self.frames, replace=len(sils) < self.frames)
        else:
            idx = np.arange(min(len(sils), self.max_frames))
        item = {"label": cls, "index": i, "id": sid, "subject": subject, "seq_len": len(idx)}
        if "sils" in self.modalities:
            item["sils"] = torch.from_numpy(sils[idx])
        if "pose" in self.modalities:
            item["pose"] = torch.from_numpy(pose[idx])
        return item


class PKSampler(torch.utils.data.Sampler):
    """Infinite P×K batches from a seed; rank r takes every world_size-th element of a batch."""

    def __init__(self, ds, P, K, seed=0, rank=0, world_size=1):
        assert (P * K) % world_size == 0
        self.ds, self.P, self.K, self.seed, self.rank, self.world = ds, P, K, seed, rank, world_size
        self.by_subject = {}
        for i, s in enumerate(ds.subjects):
            self.by_subject.setdefault(s, []).append(i)

    def __iter__(self):
        rng = np.random.default_rng(self.seed)
        subjects = sorted(self.by_subject)
        while True:
            chosen = rng.choice(len(subjects), self.P, replace=len(subjects) < self.P)
            batch = []
            for c in chosen:
                pool = self.by_subject[subjects[c]]
                batch += [pool[j] for j in rng.choice(len(pool), self.K, replace=len(pool) < self.K)]
            yield batch[self.rank :: self.world]


def collate_clips(items):
    out = {
        "labels": torch.tensor([it["label"] for it in items]),
        "seq_lens": torch.tensor([it["seq_len"] for it in items]),
        "ids": [it["id"] for it in items],
        "subjects": [it["subject"] for it in items],
        "index": torch.tensor([it["index"] for it in items]),
    }
    t = max(it["seq_len"] for it in items)
    for m in ("sils", "pose"):
        if m in items[0]:
            padded = []
            for it in items:
                x = it[m]
                pad = torch.zeros((t - x.shape[0], *x.shape[1:]), dtype=x.dtype)
                padded.append(torch.cat([x, pad]))
            out[m] = torch.stack(padded)
    return out


# ----------------------------------------------------------------------------- models
def _tmax(x: torch.Tensor, seq_lens) -> torch.Tensor:
    """Temporal max over the first seq_lens[i] frames.  x: [N, T, D] → [N, D]."""
    if seq_lens is None:
        return x.max(1).values
    mask = torch.arange(x.shape[1], device=x.device)[None, :] < seq_lens[:, None]
    return x.masked_fill(~mask[..., None], float("-inf")).max(1).values


class FakeNet(nn.Module):
    """2 part tokens per stream, cosine logits; optional NaN / crash after n training forwards."""

    registry_name = "FakeNet"

    def __init__(self, num_classes=3, streams=("sils", "pose"), width=8, dropout=0.1,
                 nan_after=None, crash_after=None, layout=None):
        super().__init__()
        self.modalities = tuple(streams)
        self.calls = 0
        self.nan_after, self.crash_after = nan_after, crash_after
        self.sil = nn.Linear(64 * 44 // 16, 2 * width) if "sils" in streams else None
        self.pose = nn.Linear(V * 3, 2 * width) if "pose" in streams else None
        self.drop = nn.Dropout(dropout)
        self.bn = nn.BatchNorm1d(width)
        self.cls = nn.Parameter(torch.randn(width, num_classes))
        self.width = width

    def forward(self, sils=None, pose=None, seq_lens=None):
        if self.training:
            self.calls += 1
            if self.crash_after is not None and self.calls > self.crash_after:
                raise RuntimeError("simulated crash")
        tokens = []
        if self.sil is not None and sils is not None:
            x = F.avg_pool2d(sils.flatten(0, 1)[:, None], 4).flatten(1)
            x = self.sil(x).unflatten(0, sils.shape[:2])
            tokens.append(_tmax(x, seq_lens).view(-1, self.width, 2))
        if self.pose is not None and pose is not None:
            x = self.pose(pose.flatten(2))
            tokens.append(_tmax(x, seq_lens).view(-1, self.width, 2))
        emb = self.drop(torch.cat(tokens, -1))  # [N, W, P]
        feat = self.bn(emb.mean(-1))[..., None] + emb
        logits = torch.einsum("nwp,wc->ncp", F.normalize(feat, dim=1), F.normalize(self.cls, dim=0))
        if self.training and self.nan_after is not None and self.calls > self.nan_after:
            logits = logits * float("nan")
        return {"embeddings": emb, "logits": logits}

    # OpenGait-style names: 'Head.cls' etc. (a stand-in for ScoNet.load_opengait)
    def opengait_state_dict(self):
        return {f"OG.{k}": v for k, v in self.state_dict().items()}

    def load_opengait(self, sd):
        self.load_state_dict({k[3:]: v for k, v in sd.items()})


MODEL_REGISTRY = {"FakeNet": FakeNet}
modalities_note = "FakeNet's modalities come from its 'streams' argument"


def build_model(name, **kwargs):
    return MODEL_REGISTRY[name](**kwargs)


class FakeMTLoss(nn.Module):
    """Scaled cosine CE (per part, averaged) + a batch-all triplet on part-averaged embeddings."""

    def __init__(self, ce_weight=1.0, triplet_weight=1.0, scale=16.0, margin=0.2, gather=False):
        super().__init__()
        self.ce_weight, self.triplet_weight, self.scale, self.margin = ce_weight, triplet_weight, scale, margin

    def forward(self, out, labels, identities):
        logits = out["logits"] * self.scale
        p = logits.shape[-1]
        ce = F.cross_entropy(logits, labels[:, None].expand(-1, p))
        emb = out["embeddings"].mean(-1)
        d = torch.cdist(emb, emb)
        same = identities[:, None] == identities[None, :]
        trip = (d[:, :, None] - d[:, None, :] + self.margin).relu()
        valid = same[:, :, None] & ~same[:, None, :]
        losses = trip[valid]
        active = (losses > 0).float()
        triplet = losses.sum() / active.sum().clamp(min=1)
        total = self.ce_weight * ce + self.triplet_weight * triplet
        acc = (out["logits"].mean(-1).argmax(-1) == labels).float().mean()
        return total, {"ce": ce.detach(), "triplet": triplet.detach(),
                       "active_frac": active.mean() if len(losses) else torch.tensor(0.0), "acc": acc}
