"""Part-based heads shared by every model: temporal max, horizontal pooling, separate FCs,
separate BN-necks with cosine logits (ScoNet / GaitBase vocabulary).

The numerics follow OpenGait's modules (``HorizontalPoolingPyramid``, ``PackSequenceWrapper``,
``SeparateFCs``, ``SeparateBNNecks``) so that their checkpoints load unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def time_mask(seq_lens: Tensor | None, frames: int, batch: int, device) -> Tensor | None:
    """Boolean [N, T] mask of valid frames (``t < seq_lens[i]``), or None without lengths."""
    if seq_lens is None:
        return None
    seq_lens = torch.as_tensor(seq_lens, device=device).reshape(-1)
    if seq_lens.numel() != batch:
        raise ValueError(f"seq_lens has {seq_lens.numel()} entries for a batch of {batch}")
    if bool((seq_lens < 1).any()):
        raise ValueError("seq_lens must be >= 1 for every sequence")
    return torch.arange(frames, device=device).unsqueeze(0) < seq_lens.unsqueeze(1)


def visible_keypoints(pose: Tensor, seq_lens: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """Keypoints split into positions, scores and where they are usable.

    A joint is usable where its score is > 0, its position and score are finite and its frame
    lies within ``seq_lens``; positions of unusable joints are set to 0.

    Shapes:
        pose: [N, T, V, >=3] (x, y, score) -> xy [N, T, V, 2] float, score [N, T, V] float,
        valid [N, T, V] bool.
    """
    pose = pose.float()
    n, t = pose.shape[:2]
    xy, score = pose[..., :2], pose[..., 2]
    valid = (score > 0) & torch.isfinite(xy).all(-1) & torch.isfinite(score)
    tmask = time_mask(seq_lens, t, n, pose.device)
    if tmask is not None:
        valid = valid & tmask[:, :, None]
    return torch.where(valid[..., None], xy, torch.zeros_like(xy)), score, valid


def temporal_max(x: Tensor, seq_lens: Tensor | None = None, dim: int = 2) -> Tensor:
    """Max over the time axis, over each sequence's first ``seq_lens[i]`` frames only.

    Equivalent to OpenGait's ``PackSequenceWrapper(torch.max)`` on packed sequences.

    Args:
        x: features with batch on axis 0 and time on axis ``dim``.
        seq_lens: LongTensor [N] of valid lengths, or None (all frames valid).

    Shapes:
        x: [N, ..., T, ...] -> [N, ...] (axis ``dim`` removed).
    """
    if seq_lens is None:
        return x.max(dim=dim)[0]
    n, t = x.shape[0], x.shape[dim]
    mask = time_mask(seq_lens, t, n, x.device)
    shape = [1] * x.dim()
    shape[0], shape[dim] = n, t
    x = x.masked_fill(~mask.view(shape), torch.finfo(x.dtype).min)
    return x.max(dim=dim)[0]


def horizontal_pooling(x: Tensor, bins: int = 16) -> Tensor:
    """Horizontal pyramid pooling with one level: ``bins`` strips, mean + max over each.

    Shapes:
        x: [N, C, H, W] (H divisible by ``bins``: row-major strips of H // bins rows) -> [N, C, bins].
    """
    n, c = x.shape[:2]
    z = x.reshape(n, c, bins, -1)
    return z.mean(-1) + z.max(-1)[0]


class SeparateFCs(nn.Module):
    """One linear map (no bias) per part.

    Args:
        parts: number of parts P.
        in_channels: input width C_in.
        out_channels: output width C_out.

    Shapes:
        x: [N, C_in, P] -> [N, C_out, P].
    """

    def __init__(self, parts: int, in_channels: int, out_channels: int):
        super().__init__()
        self.fc_bin = nn.Parameter(
            nn.init.xavier_uniform_(torch.zeros(parts, in_channels, out_channels))
        )

    def forward(self, x: Tensor) -> Tensor:
        out = torch.einsum("ncp,pcd->ndp", x, self.fc_bin.to(x.dtype))
        return out.contiguous()


class SeparateBNNecks(nn.Module):
    """BN-neck over the flattened part features, then per-part cosine classifiers.

    ``BatchNorm1d(C * P)`` on the [N, C*P] view, L2-normalised features times L2-normalised
    class weights (computed in float32, also under autocast). The logits are cosines in
    [-1, 1], NOT multiplied by the loss scale.

    Args:
        parts: number of parts P.
        in_channels: feature width C.
        num_classes: number of classes K.

    Shapes:
        x: [N, C, P] -> (features after BN and L2 norm [N, C, P], logits [N, K, P]).
    """

    def __init__(self, parts: int, in_channels: int, num_classes: int):
        super().__init__()
        self.fc_bin = nn.Parameter(
            nn.init.xavier_uniform_(torch.zeros(parts, in_channels, num_classes))
        )
        self.bn1d = nn.BatchNorm1d(in_channels * parts)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        n, c, p = x.shape
        with torch.autocast(device_type=x.device.type, enabled=False):
            x = self.bn1d(x.float().reshape(n, c * p)).reshape(n, c, p)
            feature = F.normalize(x, dim=1)
            weight = F.normalize(self.fc_bin.float(), dim=1)
            logits = torch.einsum("ncp,pck->nkp", feature, weight)
        return feature, logits.contiguous()


def init_like_opengait(module: nn.Module) -> None:
    """OpenGait's initialisation: Xavier-uniform conv/linear weights (bias 0), BN weight
    N(1, 0.02) and bias 0. ``SeparateFCs``/``SeparateBNNecks`` weights are Xavier at build."""
    for m in module.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)) and m.affine:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
