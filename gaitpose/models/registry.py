"""Model registry: configs name models by string (``build_model("ScoNet", channels=...)``)."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from gaitpose.models.fusion import FusionScoNet
from gaitpose.models.sconet import ScoNet
from gaitpose.models.skeleton import SkeletonGCN
from gaitpose.models.skeleton_map import SkeletonMapScoNet

#: name -> factory (case-sensitive names).
MODEL_REGISTRY: dict[str, Callable[..., nn.Module]] = {
    "ScoNet": ScoNet,
    "SkeletonGCN": SkeletonGCN,
    "FusionScoNet": FusionScoNet,
    "SkeletonMapScoNet": SkeletonMapScoNet,
}


def register_model(name: str, factory: Callable[..., nn.Module]) -> None:
    """Add a model factory under ``name``; an existing name is an error (no silent overrides)."""
    if name in MODEL_REGISTRY:
        raise KeyError(f"model name {name!r} is already registered")
    MODEL_REGISTRY[name] = factory


def build_model(name: str, **kwargs) -> nn.Module:
    """Build the model registered as ``name`` with keyword arguments from a config.

    Raises:
        KeyError: unknown name (the message lists the registered names).
        TypeError: an argument the model does not take.
    """
    try:
        factory = MODEL_REGISTRY[name]
    except KeyError:
        raise KeyError(
            f"unknown model {name!r}; registered models: {', '.join(sorted(MODEL_REGISTRY))}"
        ) from None
    return factory(**kwargs)
