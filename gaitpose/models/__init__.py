"""Models: ScoNet (silhouettes), SkeletonGCN (skeleton graphs), SkeletonMapScoNet (skeleton
maps through ScoNet), FusionScoNet (both), losses.

Every model returns ``{"embeddings": [N, 256, P], "logits": [N, K, P]}`` (cosine logits,
unscaled); predict with ``out["logits"].mean(-1).argmax(-1)``. ``model.modalities`` names
the batch keys the forward takes. Submodules load on first use, so that
``gaitpose.models.losses`` does not import torch-geometric.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gaitpose.models.bn import precise_bn
    from gaitpose.models.fusion import FusionScoNet
    from gaitpose.models.registry import MODEL_REGISTRY, build_model, register_model
    from gaitpose.models.sconet import ScoNet
    from gaitpose.models.skeleton import SkeletonGCN, SkeletonOptions
    from gaitpose.models.skeleton_map import SkeletonMapScoNet

_WHERE = {
    "ScoNet": "gaitpose.models.sconet",
    "SkeletonGCN": "gaitpose.models.skeleton",
    "SkeletonOptions": "gaitpose.models.skeleton",
    "SkeletonMapScoNet": "gaitpose.models.skeleton_map",
    "FusionScoNet": "gaitpose.models.fusion",
    "MODEL_REGISTRY": "gaitpose.models.registry",
    "build_model": "gaitpose.models.registry",
    "register_model": "gaitpose.models.registry",
    "precise_bn": "gaitpose.models.bn",
}

__all__ = [
    "MODEL_REGISTRY",
    "FusionScoNet",
    "ScoNet",
    "SkeletonGCN",
    "SkeletonMapScoNet",
    "SkeletonOptions",
    "build_model",
    "precise_bn",
    "register_model",
]


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'gaitpose.models' has no attribute {name!r}")
