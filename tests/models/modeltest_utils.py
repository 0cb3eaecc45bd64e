"""Small synthetic inputs for the model tests (narrow widths, few frames)."""

from __future__ import annotations

import math

import torch

import graphs

NARROW = (4, 8, 8, 16)  # ResNet-9 widths for fast CPU tests
POSE_NARROW = (8, 16)


def walking_pose(n: int, t: int, layout: str = "coco17", seed: int = 0) -> torch.Tensor:
    """Rough walking skeletons in pixels [n, t, V, 3] with a few missing joints (score 0)."""
    lay = graphs.get_layout(layout)
    g = torch.Generator().manual_seed(seed)
    base = {  # (x, y) in torso units, y down, mid-hip at the origin
        "nose": (0.0, -1.6), "eye": (0.05, -1.65), "ear": (0.1, -1.6), "mouth": (0.03, -1.5),
        "shoulder": (0.25, -1.0), "elbow": (0.3, -0.5), "wrist": (0.3, -0.05),
        "pinky": (0.3, 0.05), "index": (0.3, 0.06), "thumb": (0.28, 0.02),
        "hip": (0.15, 0.0), "knee": (0.17, 0.9), "ankle": (0.18, 1.8), "heel": (0.15, 1.85),
        "foot_index": (0.25, 1.9),
    }  # fmt: skip
    pts = torch.zeros(lay.num_joints, 2)
    for j, name in enumerate(lay.names):
        key = next(k for k in sorted(base, key=len, reverse=True) if k in name)
        x, y = base[key]
        side = -1.0 if ("right" in name) else 1.0
        pts[j] = torch.tensor([side * x, y])
    phase = torch.rand(n, 1, generator=g) * 2 * math.pi
    tt = torch.arange(t).float()[None] * 0.4 + phase  # [n, t]
    swing = torch.zeros(n, t, lay.num_joints, 2)
    for j, name in enumerate(lay.names):
        if any(k in name for k in ("knee", "ankle", "heel", "foot", "wrist", "elbow")):
            s = 1.0 if "left" in name else -1.0
            swing[..., j, 0] = 0.3 * s * torch.sin(tt)
    xy = pts[None, None] + swing + 0.02 * torch.randn(n, t, lay.num_joints, 2, generator=g)
    scale = 80 + 40 * torch.rand(n, 1, 1, 1, generator=g)
    offset = torch.tensor([320.0, 240.0]) + 50 * torch.randn(n, 1, 1, 2, generator=g)
    xy = xy * scale + offset
    score = 0.5 + 0.5 * torch.rand(n, t, lay.num_joints, 1, generator=g)
    pose = torch.cat([xy, score], -1)
    missing = torch.rand(n, t, lay.num_joints, generator=g) < 0.05
    pose[missing] = 0.0
    return pose


def silhouettes(n: int, t: int, seed: int = 0) -> torch.Tensor:
    """Blob-like silhouettes in [0, 1], [n, t, 64, 44]."""
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n * t, 1, 8, 6, generator=g)
    up = torch.nn.functional.interpolate(low, size=(64, 44), mode="bilinear", align_corners=False)
    return (up > 0.55).float().reshape(n, t, 64, 44)


def param_grad_norm(module: torch.nn.Module) -> float:
    return sum(p.grad.abs().sum().item() for p in module.parameters() if p.grad is not None)
