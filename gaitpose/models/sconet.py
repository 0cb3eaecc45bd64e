"""ScoNet / ScoNet-MT silhouette network (Zhou et al., MICCAI 2024), re-implemented.

Per-frame ResNet-9 -> temporal max (per sequence length) -> 16-strip horizontal pooling
(mean + max) -> separate FCs (512 -> 256 per strip) -> separate BN-necks with cosine logits.
ScoNet and ScoNet-MT share the network; they differ in the objective (see ``losses``).

OpenGait checkpoints load with ``ScoNet.load_opengait``; ``opengait_state_dict`` writes one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import torch
from einops import rearrange
from torch import Tensor, nn

from gaitpose.models.heads import (
    SeparateBNNecks,
    SeparateFCs,
    horizontal_pooling,
    init_like_opengait,
    temporal_max,
)
from gaitpose.models.resnet import ResNet9

# our prefix -> OpenGait's prefix (first match wins)
_OPENGAIT_PREFIXES: tuple[tuple[str, str], ...] = (
    ("backbone.conv1.weight", "Backbone.forward_block.conv1.conv.weight"),
    ("backbone.", "Backbone.forward_block."),
    ("fcs.", "FCs."),
    ("bnnecks.", "BNNecks."),
)


def _to_opengait(key: str) -> str:
    for ours, theirs in _OPENGAIT_PREFIXES:
        if key == ours or (ours.endswith(".") and key.startswith(ours)):
            return theirs + key[len(ours) :] if ours.endswith(".") else theirs
    raise KeyError(key)


def _from_opengait(key: str) -> str:
    for ours, theirs in _OPENGAIT_PREFIXES:
        if key == theirs or (theirs.endswith(".") and key.startswith(theirs)):
            return ours + key[len(theirs) :] if theirs.endswith(".") else ours
    raise KeyError(key)


class SilhouetteEncoder(nn.Module):
    """ScoNet's silhouette stream up to the part tokens (no heads).

    Args:
        channels: ResNet-9 stage widths.
        parts: number of horizontal strips.

    Shapes:
        sils: [N, T, H, W] float in [0, 1] (H=64, W=44; uint8 is divided by 255),
        seq_lens [N] -> [N, channels[-1], parts].
    """

    def __init__(self, channels: Sequence[int] = (64, 128, 256, 512), parts: int = 16):
        super().__init__()
        self.backbone = ResNet9(channels)
        self.parts = parts
        self.out_channels = self.backbone.out_channels

    def forward(self, sils: Tensor, seq_lens: Tensor | None = None) -> Tensor:
        if sils.dim() == 5 and sils.shape[2] == 1:
            sils = sils[:, :, 0]
        if sils.dim() != 4:
            raise ValueError(f"sils must be [N, T, H, W], got shape {tuple(sils.shape)}")
        if not sils.is_floating_point():  # uint8 masks: scale to [0, 1] as the data layer does
            sils = sils.float() / 255.0
        n, t = sils.shape[:2]
        x = self.backbone(rearrange(sils, "n t h w -> (n t) 1 h w"))
        x = rearrange(x, "(n t) c h w -> n c t h w", n=n, t=t)
        x = temporal_max(x, seq_lens, dim=2)  # [n, c, h, w]
        return horizontal_pooling(x, self.parts)


class ScoNet(nn.Module):
    """ScoNet: silhouettes -> part embeddings and cosine logits.

    Args:
        num_classes: 3 (negative, neutral, positive).
        parts: horizontal strips (16).
        channels: ResNet-9 widths (reference 64, 128, 256, 512; narrow for CPU).
        embed_dim: width of the part embeddings (256).

    Shapes:
        sils: [N, T, 64, 44] float in [0, 1]; seq_lens: LongTensor [N] or None.
        returns ``embeddings`` [N, embed_dim, parts] (separate-FC output, before the BN-neck,
        as OpenGait's ``embed_1``) and ``logits`` [N, num_classes, parts] (cosines, unscaled).
    """

    modalities: tuple[str, ...] = ("sils",)

    def __init__(
        self,
        num_classes: int = 3,
        parts: int = 16,
        channels: Sequence[int] = (64, 128, 256, 512),
        embed_dim: int = 256,
    ):
        super().__init__()
        self.num_classes, self.parts, self.channels = num_classes, parts, tuple(channels)
        self.encoder = SilhouetteEncoder(channels, parts)
        self.fcs = SeparateFCs(parts, self.encoder.out_channels, embed_dim)
        self.bnnecks = SeparateBNNecks(parts, embed_dim, num_classes)
        init_like_opengait(self)

    # the backbone is addressed as ``self.backbone`` for OpenGait-compatible names
    @property
    def backbone(self) -> ResNet9:
        return self.encoder.backbone

    def forward(self, sils: Tensor, seq_lens: Tensor | None = None) -> dict[str, Tensor]:
        feat = self.encoder(sils, seq_lens)
        embeddings = self.fcs(feat)
        _, logits = self.bnnecks(embeddings)
        return {"embeddings": embeddings, "logits": logits}

    # ---- OpenGait checkpoints -------------------------------------------------------------
    def _our_state_dict(self) -> dict[str, Tensor]:
        return {
            k.replace("encoder.backbone.", "backbone.", 1): v for k, v in self.state_dict().items()
        }

    def opengait_state_dict(self) -> dict[str, Tensor]:
        """This model's weights under OpenGait's ScoNet parameter names (detached copies)."""
        return {_to_opengait(k): v.detach().clone() for k, v in self._our_state_dict().items()}

    def load_opengait(self, state_dict_or_path: Mapping[str, Tensor] | str | os.PathLike) -> ScoNet:
        """Load OpenGait ScoNet weights exactly (strict: every tensor, every shape).

        Args:
            state_dict_or_path: an OpenGait checkpoint path (a dict with key ``model``,
                loaded with ``torch.load(weights_only=True)``), such a dict, or the model
                state dict itself. A ``module.`` prefix (DDP) is stripped.

        Returns:
            self.
        """
        sd = state_dict_or_path
        if isinstance(sd, (str, os.PathLike)):
            sd = torch.load(sd, map_location="cpu", weights_only=True)
        if "model" in sd and isinstance(sd["model"], Mapping):
            sd = sd["model"]
        sd = {k.removeprefix("module."): v for k, v in sd.items()}
        ours = self._our_state_dict()
        converted, unexpected = {}, []
        for k, v in sd.items():
            try:
                converted[_from_opengait(k)] = v
            except KeyError:
                unexpected.append(k)
        missing = sorted(set(ours) - set(converted))
        unexpected += sorted(set(converted) - set(ours))
        if missing or unexpected:
            raise KeyError(
                "OpenGait state dict does not match this ScoNet "
                f"(channels={self.channels}, parts={self.parts}, classes={self.num_classes}): "
                f"missing {[_to_opengait(k) for k in missing][:8]}, unexpected {unexpected[:8]}"
            )
        for k, v in converted.items():
            if tuple(v.shape) != tuple(ours[k].shape):
                raise ValueError(
                    f"shape mismatch for {_to_opengait(k)}: checkpoint {tuple(v.shape)}, "
                    f"model {tuple(ours[k].shape)} (check channels/parts/num_classes)"
                )
        converted = {
            k.replace("backbone.", "encoder.backbone.", 1): v for k, v in converted.items()
        }
        self.load_state_dict(converted, strict=True)
        return self
