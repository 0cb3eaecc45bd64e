"""Label-preserving augmentation of training batches (silhouettes and poses together).

* **Left–right mirroring** (probability ``mirror``): the pose's x coordinates are negated
  about each frame's joint mean and the left/right joints swap places
  (``graphs.Layout.flip_index``), and the silhouettes are flipped horizontally — the same
  samples in both modalities. On the synthetic cohort (and in scoliosis) the convex side is
  left or right at random, so a mirrored walk is a valid walk of the same class.
* **Random scale** (``scale``: factor drawn from [1 - s, 1 + s] per sample) and **small
  translation** (``shift``: per sample, in the stream's normalised units — torso lengths for
  the graph stream, body heights for the skeleton map) of the pose, applied by each stream
  *after* its normalisation (``scale_shift``; a change of the pixel coordinates would be
  normalised away), as pyskl's ``RandomScale`` acts on normalised keypoints.
* **No in-plane rotation**: it would erase the shoulder and pelvic tilts, the main cues.

Batched torch operations with torch's global RNG: the engine seeds every step's model
randomness from (seed, iteration, rank), so runs stay reproducible and resumable. Applied by
the models in training mode only (``BatchAugment``; precise BN and evaluation run in eval
mode, unaugmented).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn


def mirror_pose(pose: Tensor, flip_index: Sequence[int]) -> Tensor:
    """Mirror poses left–right: x reflected about each frame's mean over valid joints, joints
    swapped with their left/right partner. Missing joints (score <= 0) stay exactly zero.

    Shapes:
        pose: [..., V, C>=3] (x, y, score, ...) -> same shape.
    """
    valid = (pose[..., 2] > 0).to(pose.dtype)
    cx = (pose[..., 0] * valid).sum(-1, keepdim=True) / valid.sum(-1, keepdim=True).clamp(min=1)
    out = pose.clone()
    out[..., 0] = (2 * cx - pose[..., 0]) * valid
    return out[..., list(flip_index), :]


def mirror_sils(sils: Tensor) -> Tensor:
    """Flip silhouettes horizontally. Shapes: [..., H, W] -> [..., H, W]."""
    return sils.flip(-1)


def scale_shift(xy: Tensor, valid: Tensor, factor: Tensor, shift: Tensor) -> Tensor:
    """Scale normalised coordinates about the origin and move them, per sample.

    Applied by the streams after their own normalisation (which would undo a change of the
    pixel coordinates' scale or position): missing joints stay exactly zero.

    Shapes:
        xy: [N, T, V, 2], valid: [N, T, V] float, factor: [N], shift: [N, 2] -> [N, T, V, 2].
    """
    return (xy * factor[:, None, None, None] + shift[:, None, None, :]) * valid[..., None]


class BatchAugment(nn.Module):
    """Augment a training batch in place of the data layer (see the module docstring).

    Args:
        flip_index: the pose layout's left/right permutation (None: no pose in the model).
        mirror: probability of mirroring a sample (both modalities).
        scale: relative range of the random pose scale (0: off).
        shift: random pose translation, as a fraction of the person's height (0: off).

    Call: ``sils, pose = aug(sils, pose)`` (either may be None) mirrors;
    ``aug.draw_affine(n, device)`` gives the scale/shift the stream applies after its
    normalisation. Identity / None in eval mode.
    """

    def __init__(
        self,
        flip_index: Sequence[int] | None = None,
        mirror: float = 0.0,
        scale: float = 0.0,
        shift: float = 0.0,
    ):
        super().__init__()
        for name, v in (("mirror", mirror), ("scale", scale), ("shift", shift)):
            if not 0.0 <= float(v) <= 1.0:
                raise ValueError(f"augment {name} must be in [0, 1], got {v}")
        self.flip_index = None if flip_index is None else tuple(int(i) for i in flip_index)
        self.mirror, self.scale, self.shift = float(mirror), float(scale), float(shift)

    @property
    def active(self) -> bool:
        return self.training and self.mirror > 0

    def forward(self, sils: Tensor | None, pose: Tensor | None) -> tuple[Tensor | None, Tensor | None]:
        if not self.active:
            return sils, pose
        ref = sils if sils is not None else pose
        flip = torch.rand(ref.shape[0], device=ref.device) < self.mirror  # the same samples in both
        if sils is not None:
            sils = torch.where(flip.view(-1, *[1] * (sils.dim() - 1)), mirror_sils(sils), sils)
        if pose is not None and self.flip_index is not None:
            pose = torch.where(flip.view(-1, 1, 1, 1), mirror_pose(pose, self.flip_index), pose)
        return sils, pose

    def draw_affine(self, n: int, device) -> tuple[Tensor, Tensor] | None:
        """Per-sample scale factors [N] and shifts [N, 2] for ``scale_shift`` (None when off)."""
        if not (self.training and (self.scale > 0 or self.shift > 0)):
            return None
        factor = 1 + self.scale * (2 * torch.rand(n, device=device) - 1)
        return factor, self.shift * (2 * torch.rand(n, 2, device=device) - 1)
