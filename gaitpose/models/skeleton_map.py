"""Skeleton maps (SkeletonGait, Fan et al., AAAI 2024) through ScoNet's backbone under ScoNet-MT.

Each frame's keypoints become a 2-channel image of the silhouettes' size (64 x 44): channel 0
the joint map (a Gaussian around every joint), channel 1 the limb map (a Gaussian of the
distance to every bone segment), each pixel the maximum over joints / bones, weighted by the
keypoints' confidence. The maps then go through the silhouette stream's network (ResNet-9
with 2 input channels, temporal max, 16 horizontal strips) and ScoNet's heads.

Normalisation (ours; SkeletonGait centres and scales the skeleton likewise): per frame the
mid-hip (mean of the valid joints when a hip is missing) is put at the image centre; the
scale maps the sequence's median body height (vertical extent of the valid joints) to
``height - 2 * margin`` pixels, so tilts, shifts and asymmetries keep their proportions.
The maps are always rendered from COCO-17 (MediaPipe-33 input is converted), SkeletonGait's
layout: the face's 10 extra MediaPipe points would only blur the head.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from einops import rearrange
from torch import Tensor, nn

import graphs
from gaitpose.data.transforms import BatchAugment, scale_shift
from gaitpose.models.heads import (
    SeparateBNNecks,
    SeparateFCs,
    horizontal_pooling,
    init_like_opengait,
    temporal_max,
    visible_keypoints,
)
from gaitpose.models.resnet import ResNet9


class SkeletonMapRenderer(nn.Module):
    """Pose -> Gaussian joint and limb maps.

    Args:
        height, width: map size (64 x 44, the cropped silhouettes').
        sigma: Gaussian width in pixels.
        margin: pixels left above and below the median body height.

    Shapes:
        pose: [N, T, V, 3] (COCO-17 or MediaPipe-33; x, y pixels, score), seq_lens [N] or None
        -> maps [N, T, 2, height, width] in [0, 1] (padded frames all zero).
    """

    def __init__(self, height: int = 64, width: int = 44, sigma: float = 1.5, margin: float = 4.0):
        super().__init__()
        if sigma <= 0 or height <= 2 * margin:
            raise ValueError("need sigma > 0 and height > 2 * margin")
        self.height, self.width, self.sigma, self.margin = height, width, float(sigma), float(margin)
        self.layout = graphs.get_layout("coco17")
        lh, rh = self.layout.index("left_hip"), self.layout.index("right_hip")
        self.hips = (lh, rh)
        self.register_buffer("edges", torch.tensor(self.layout.edges, dtype=torch.long).T, persistent=False)

    def normalise(self, pose: Tensor, seq_lens: Tensor | None) -> tuple[Tensor, Tensor]:
        """Hip-centred coordinates in body heights and their validity.

        Returns:
            xy [N, T, V, 2] (x right, y down; 1 = the median body height), valid [N, T, V] float.
        """
        if pose.dim() == 4 and pose.shape[2] == 33:
            pose = graphs.mediapipe_to_coco(pose)
        if pose.dim() != 4 or pose.shape[2] != 17 or pose.shape[-1] < 3:
            raise ValueError(f"pose must be [N, T, 17 or 33, 3], got {tuple(pose.shape)}")
        xy, _, ok = visible_keypoints(pose, seq_lens)
        vf = ok.float()
        lh, rh = self.hips
        hips_ok = ok[..., lh] & ok[..., rh]
        mean_valid = xy.sum(2) / vf.sum(2, keepdim=True).clamp(min=1)
        centre = torch.where(hips_ok[..., None], 0.5 * (xy[..., lh, :] + xy[..., rh, :]), mean_valid)
        big = torch.finfo(xy.dtype).max
        y = xy[..., 1]
        extent = torch.where(ok, y, torch.full_like(y, -big)).amax(-1) - torch.where(
            ok, y, torch.full_like(y, big)
        ).amin(-1)
        extent = torch.where((ok.sum(-1) >= 2) & (extent > 0), extent, torch.full_like(extent, float("nan")))
        h = torch.nanmedian(extent, dim=1).values
        h = torch.where(torch.isfinite(h) & (h > 0), h, torch.ones_like(h))
        out = (xy - centre[:, :, None]) / h[:, None, None, None]
        return out * vf[..., None], vf

    def render(self, xy: Tensor, valid: Tensor, score: Tensor) -> Tensor:
        """Maps from normalised coordinates. [N, T, V, 2], [N, T, V], [N, T, V] -> [N, T, 2, H, W]."""
        k = self.height - 2 * self.margin
        px = xy[..., 0] * k + (self.width - 1) / 2  # column
        py = xy[..., 1] * k + (self.height - 1) / 2  # row
        w = score.clamp(0, 1) * valid
        rows = torch.arange(self.height, device=xy.device, dtype=xy.dtype)[:, None]
        cols = torch.arange(self.width, device=xy.device, dtype=xy.dtype)[None, :]
        inv = 1.0 / (2 * self.sigma**2)
        # distances split by axis ([.., 1, W] and [.., H, 1]): the full [.., H, W] grids
        # are formed only where needed (the map's cost is memory traffic)
        ex = cols - px[..., None, None]  # [n, t, v, 1, w]
        ey = rows - py[..., None, None]  # [n, t, v, h, 1]
        gx, gy = torch.exp(-ex * ex * inv), torch.exp(-ey * ey * inv)
        joint = ((w[..., None, None] * gy) * gx).amax(2)  # separable Gaussian, [n, t, h, w]
        a, b = self.edges  # bone end points
        dx, dy = (px[:, :, b] - px[:, :, a])[..., None, None], (py[:, :, b] - py[:, :, a])[..., None, None]
        inv_len = 1.0 / (dx * dx + dy * dy).clamp(min=1e-6)
        ax, ay = ex[:, :, a], ey[:, :, a]  # pixel minus the bone's start
        u = (ax * (dx * inv_len) + ay * (dy * inv_len)).clamp_(0, 1)  # nearest point on the bone
        d2 = (ax - u * dx).square_() + (ay - u * dy).square_()
        wb = torch.minimum(w[:, :, a], w[:, :, b])[..., None, None]
        limb = (wb * torch.exp(d2.mul_(-inv))).amax(2)
        return torch.stack([joint, limb], 2)

    def forward(
        self, pose: Tensor, seq_lens: Tensor | None = None, affine: tuple[Tensor, Tensor] | None = None
    ) -> Tensor:
        xy, valid = self.normalise(pose, seq_lens)
        if affine is not None:
            xy = scale_shift(xy, valid, *affine)
        if pose.shape[2] == 33:
            pose = graphs.mediapipe_to_coco(pose)
        return self.render(xy, valid, pose[..., 2].float())


class SkeletonMapScoNet(nn.Module):
    """ScoNet-MT on SkeletonGait's skeleton maps (the ``skeleton-map`` setting).

    Args:
        num_classes: 3.
        channels: ResNet-9 widths (reference 64, 128, 256, 512).
        parts: horizontal strips (16).
        embed_dim: part embedding width (256).
        layout: the data's pose layout (accepted for the config builder; maps are always
            rendered from COCO-17).
        sigma: Gaussian width of the maps in pixels.
        augment: training augmentation (mirror, scale, shift; see ``BatchAugment``).

    Shapes:
        pose: [N, T, V, 3], seq_lens [N] or None -> ``embeddings`` [N, embed_dim, parts],
        ``logits`` [N, num_classes, parts].
    """

    modalities: tuple[str, ...] = ("pose",)

    def __init__(
        self,
        num_classes: int = 3,
        channels: Sequence[int] = (64, 128, 256, 512),
        parts: int = 16,
        embed_dim: int = 256,
        layout: str = "coco17",
        sigma: float = 1.5,
        augment: Mapping | None = None,
    ):
        super().__init__()
        self.layout = graphs.get_layout(layout)
        self.render = SkeletonMapRenderer(sigma=sigma)
        self.augment = BatchAugment(self.render.layout.flip_index, **(augment or {}))
        self.backbone = ResNet9(channels, in_channels=2)
        self.parts = parts
        self.fcs = SeparateFCs(parts, self.backbone.out_channels, embed_dim)
        self.bnnecks = SeparateBNNecks(parts, embed_dim, num_classes)
        init_like_opengait(self)

    def forward(self, pose: Tensor, seq_lens: Tensor | None = None) -> dict[str, Tensor]:
        if pose.dim() == 4 and pose.shape[2] == 33:
            pose = graphs.mediapipe_to_coco(pose)
        _, pose = self.augment(None, pose)
        n, t = pose.shape[:2]
        maps = self.render(pose, seq_lens, self.augment.draw_affine(n, pose.device))
        x = self.backbone(rearrange(maps, "n t c h w -> (n t) c h w"))
        x = temporal_max(rearrange(x, "(n t) c h w -> n c t h w", n=n, t=t), seq_lens, dim=2)
        embeddings = self.fcs(horizontal_pooling(x, self.parts))
        _, logits = self.bnnecks(embeddings)
        return {"embeddings": embeddings, "logits": logits}
