"""Short-run check: BN-neck running statistics lag, and ``precise_bn`` fixes it.

Trains a narrow SkeletonGCN for a few dozen SGD steps on synthetic walking skeletons whose
class is a shoulder tilt (-0.08, 0, +0.08 torso lengths), then measures held-out accuracy
(a) in eval mode with the running statistics, (b) with batch statistics, (c) in eval mode
after ``gaitpose.models.precise_bn``. Runs in seconds on one CPU core::

    PYTHONPATH=. python experiments/benchmarks/bn_lag_check.py [--steps 80] [--lr 0.05]
"""

from __future__ import annotations

import argparse
import math

import torch

import graphs
from gaitpose.models import SkeletonGCN, precise_bn
from gaitpose.models.losses import ScoNetMTLoss


def tilted_walkers(n: int, frames: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """COCO-17 walkers in pixels [n, T, 17, 3]; label = shoulder tilt class (n % 3)."""
    lay = graphs.get_layout("coco17")
    g = torch.Generator().manual_seed(seed)
    ys = {"nose": -1.6, "eye": -1.65, "ear": -1.6, "shoulder": -1.0, "elbow": -0.5,
          "wrist": -0.05, "hip": 0.0, "knee": 0.9, "ankle": 1.8}  # fmt: skip
    xs = {"nose": 0.0, "eye": 0.05, "ear": 0.1, "shoulder": 0.25, "elbow": 0.3,
          "wrist": 0.3, "hip": 0.15, "knee": 0.17, "ankle": 0.18}  # fmt: skip
    base = torch.zeros(17, 2)
    for j, name in enumerate(lay.names):
        key = name.split("_")[-1]
        base[j] = torch.tensor([xs[key] * (-1 if name.startswith("right") else 1), ys[key]])
    label = torch.arange(n) % 3
    t = torch.arange(frames).float()[None] * 0.4 + torch.rand(n, 1, generator=g) * 2 * math.pi
    xy = base.expand(n, frames, 17, 2).clone()
    for j, name in enumerate(lay.names):
        if name.split("_")[-1] in ("knee", "ankle", "wrist", "elbow"):
            xy[..., j, 0] += 0.3 * (1 if name.startswith("left") else -1) * torch.sin(t)
    tilt = (label.float() - 1) * 0.08
    xy[:, :, lay.index("left_shoulder"), 1] += tilt[:, None]
    xy[:, :, lay.index("right_shoulder"), 1] -= tilt[:, None]
    xy = xy + 0.02 * torch.randn(xy.shape, generator=g)
    xy = xy * (80 + 40 * torch.rand(n, 1, 1, 1, generator=g)) + 300 * torch.rand(
        n, 1, 1, 2, generator=g
    )
    score = torch.ones(n, frames, 17, 1)
    return torch.cat([xy, score], -1), label


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=80)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--graph-conv", default="dense", choices=["dense", "sparse", "partition"])
    args = ap.parse_args(argv)
    torch.manual_seed(args.seed)
    m = SkeletonGCN(skeleton={"channels": (16, 32), "graph_conv": args.graph_conv})
    opt = torch.optim.SGD(m.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    loss_fn = ScoNetMTLoss()
    for step in range(args.steps):
        pose, y = tilted_walkers(args.batch, 16, step)
        loss, parts = loss_fn(m(pose=pose), y, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(f"after {args.steps} steps: last train-batch accuracy {parts['acc'].item():.3f}")
    pose, y = tilted_walkers(90, 16, 10_000)

    def acc(train_mode: bool) -> float:
        m.train(train_mode)
        with torch.no_grad():
            pred = m(pose=pose)["logits"].mean(-1).argmax(-1)
        return (pred == y).float().mean().item()

    print(f"held-out accuracy, eval mode, running BN statistics: {acc(False):.3f}")
    print(f"held-out accuracy, batch BN statistics:              {acc(True):.3f}")
    calib = [{"pose": tilted_walkers(args.batch, 16, 5000 + s)[0]} for s in range(10)]
    precise_bn(m, calib)
    print(f"held-out accuracy, eval mode after precise_bn:       {acc(False):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
