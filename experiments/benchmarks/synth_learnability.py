"""Can small networks learn the synthetic cohort from each modality? (CPU, a few minutes.)

Trains three tiny models through the project's data layer (GaitDataset + PKSampler +
collate_clips) on the synthetic cohort's TRAIN_SET and reports 3-class accuracy and
positive-vs-negative AUC on its TEST_SET:

* silhouettes: a 3-layer CNN per frame, temporal max, strip pooling (a small ScoNet);
* skeleton: per-frame pose normalised by mid-hip and torso length plus left/right differences,
  a per-frame MLP, mean + max over the (unordered) frames;
* both: the two embeddings concatenated.

These are stand-ins for ScoNet / the skeleton GCN (which live in gaitpose.models), meant only to
check that each modality carries learnable but imperfect signal and that the two combine.

Run: PYTHONPATH=. python experiments/benchmarks/synth_learnability.py [--sequences 400] [--frames 60]
     [--iters 1500] [--clip 16] [-P 8] [-K 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn


class SilNet(nn.Module):
    def __init__(self, dim: int = 32) -> None:
        super().__init__()

        def block(i, o, s):
            return nn.Sequential(nn.Conv2d(i, o, 3, s, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU())

        self.conv = nn.Sequential(block(1, 8, 1), block(8, 16, 2), block(16, dim, 2))
        self.out_dim = dim * 16

    def forward(self, sils: torch.Tensor) -> torch.Tensor:  # [N, T, 64, 44]
        N, T = sils.shape[:2]
        f = self.conv(sils.reshape(N * T, 1, 64, 44))  # [NT, C, 16, 11]
        f = f.reshape(N, T, *f.shape[1:]).max(1).values  # temporal max
        f = f.mean(-1) + f.amax(-1)  # strips: [N, C, 16]
        return f.flatten(1)


def pose_frame_features(pose: torch.Tensor) -> torch.Tensor:
    """[N, T, 33, 3] px → [N, T, F]: joints relative to mid-hip in torso lengths, plus
    left-minus-right height differences and left/right mirror offsets of every joint pair
    (the "left/right difference" idea of SCONET.md for an asymmetry disease)."""
    from graphs import get_layout

    pairs = get_layout("mediapipe33").left_right
    li, ri = [a for a, _ in pairs], [b for _, b in pairs]
    xy, sc = pose[..., :2], pose[..., 2:]
    mid_hip = (xy[..., 23, :] + xy[..., 24, :]) / 2
    mid_sh = (xy[..., 11, :] + xy[..., 12, :]) / 2
    torso = (mid_sh - mid_hip).norm(dim=-1, keepdim=True).clamp_min(1.0)
    rel = (xy - mid_hip[..., None, :]) / torso[..., None, :] * (sc > 0)
    dy = rel[..., li, 1] - rel[..., ri, 1]
    dx = rel[..., li, 0] + rel[..., ri, 0]
    return torch.cat([rel.flatten(-2), dy, dx], -1)


class PoseNet(nn.Module):
    def __init__(self, dim: int = 128) -> None:
        super().__init__()
        from graphs import get_layout

        n_in = 66 + 2 * len(get_layout("mediapipe33").left_right)
        self.frame = nn.Sequential(nn.Linear(n_in, dim), nn.ReLU(), nn.Linear(dim, dim), nn.ReLU())
        self.out_dim = 2 * dim

    def forward(self, pose: torch.Tensor) -> torch.Tensor:  # [N, T, 33, 3]
        f = self.frame(pose_frame_features(pose))  # [N, T, C]
        return torch.cat([f.mean(1), f.amax(1)], 1)  # set pooling: clips are unordered


class Model(nn.Module):
    def __init__(self, modalities: tuple[str, ...]) -> None:
        super().__init__()
        self.modalities = modalities
        self.sil = SilNet() if "sils" in modalities else None
        self.pose = PoseNet() if "pose" in modalities else None
        d = (self.sil.out_dim if self.sil else 0) + (self.pose.out_dim if self.pose else 0)
        self.head = nn.Linear(d, 3)

    def forward(self, batch: dict) -> torch.Tensor:
        parts = []
        if self.sil is not None:
            parts.append(self.sil(batch["sils"]))
        if self.pose is not None:
            parts.append(self.pose(batch["pose"]))
        return self.head(torch.cat(parts, 1))


def run(root: Path, modalities: tuple[str, ...], iters: int, seed: int, frames: int = 30,
        P: int = 8, K: int = 4) -> tuple[float, float, float]:
    from sklearn.metrics import roc_auc_score
    from torch.utils.data import DataLoader

    from gaitpose.data import GaitDataset, PKSampler, collate_clips

    torch.manual_seed(seed)
    train = GaitDataset(root, split="train", modalities=modalities, frames=frames, seed=seed)
    test = GaitDataset(root, split="test", modalities=modalities)
    model = Model(modalities)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(train, batch_sampler=PKSampler(train, P, K, seed=seed), collate_fn=collate_clips)
    t0 = time.perf_counter()
    model.train()
    for _, batch in zip(range(iters), loader):
        loss = nn.functional.cross_entropy(model(batch), batch["labels"])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    probs, ys = [], []
    with torch.no_grad():
        for item in DataLoader(test, batch_size=8, collate_fn=collate_clips):
            probs.append(model(item).softmax(-1))
            ys.append(item["labels"])
    p, y = torch.cat(probs).numpy(), torch.cat(ys).numpy()
    acc = float((p.argmax(1) == y).mean())
    pn = y != 1
    auc = float(roc_auc_score(y[pn] == 2, p[pn, 2] - p[pn, 0]))
    return acc, auc, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sequences", type=int, default=400)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--iters", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--root", type=Path, default=None)
    ap.add_argument("--clip", type=int, default=16, help="training clip length (frames)")
    ap.add_argument("-P", type=int, default=8)
    ap.add_argument("-K", type=int, default=2)
    ap.add_argument("--runs", default="sils,pose,sils+pose", help="comma-separated modality sets")
    args = ap.parse_args()
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.root
        if root is None:
            from gaitpose.synth import make_cohort

            root = Path(tmp)
            make_cohort(root, sequences=args.sequences, frames=args.frames, seed=args.seed,
                        workers=2, progress=False)
        from gaitpose.data import GaitDataset

        test = GaitDataset(root, split="test", modalities=("pose",))
        y = np.array(test.labels)
        print(f"test set: {len(y)} sequences, classes {np.bincount(y, minlength=3).tolist()}, "
              f"majority {np.bincount(y).max() / len(y):.3f}")
        for mods in (tuple(r.split("+")) for r in args.runs.split(",")):
            acc, auc, dt = run(root, mods, args.iters, args.seed, args.clip, args.P, args.K)
            print(f"{'+'.join(mods):10s} 3-class accuracy {acc:.3f}  pos-vs-neg AUC {auc:.3f}  ({dt:.0f} s)")


if __name__ == "__main__":
    main()
