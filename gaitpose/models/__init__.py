"""Models: ScoNet (silhouettes), SkeletonGCN (skeleton graphs), FusionScoNet (both), losses.

Every model returns ``{"embeddings": [N, 256, P], "logits": [N, K, P]}`` (cosine logits,
unscaled); predict with ``out["logits"].mean(-1).argmax(-1)``. ``model.modalities`` names
the batch keys the forward takes.
"""

from gaitpose.models.fusion import FusionScoNet
from gaitpose.models.registry import MODEL_REGISTRY, build_model, register_model
from gaitpose.models.sconet import ScoNet
from gaitpose.models.skeleton import SkeletonGCN

__all__ = [
    "MODEL_REGISTRY",
    "FusionScoNet",
    "ScoNet",
    "SkeletonGCN",
    "build_model",
    "register_model",
]
