"""Build the pieces of a run from a resolved config: dataset, model, loss, optimizer, scheduler.

The data layer and the models are reached through the modules named in the config
(``data_cfg.api``, default ``gaitpose.data``; ``model_cfg.api``, default ``gaitpose.models``;
``loss_cfg.api``, default ``gaitpose.models.losses``), following the interfaces in the project
design. ``model_cfg.model`` / ``loss_cfg.type`` may also be ``"package.module:ClassName"``
for a user's own class. Keyword arguments are checked against the class signature, so a typo
fails at start-up with the key named.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import math
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from gaitpose import LABELS
from gaitpose.engine.config import ConfigError, ConfigFileError

_RESERVED = {"model_cfg": ("model", "api"), "loss_cfg": ("type", "api")}


def _import(module: str, what: str):
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"{what}: cannot import module {module!r} ({exc})") from None


def _resolve_class(name: str, api_module: str, registry_attr: str | None, what: str):
    if ":" in name:
        mod, _, attr = name.partition(":")
        obj = getattr(_import(mod, what), attr, None)
        if obj is None:
            raise ConfigError(f"{what}: module {mod!r} has no {attr!r}")
        return obj
    api = _import(api_module, what)
    registry = getattr(api, registry_attr, None) if registry_attr else None
    if isinstance(registry, Mapping):
        if name not in registry:
            close = difflib.get_close_matches(name, list(registry), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{what}: unknown name {name!r}{hint}; known: {', '.join(registry)}")
        return registry[name]
    obj = getattr(api, name, None)
    if obj is None:
        raise ConfigError(f"{what}: {api_module!r} has no {name!r}")
    return obj


def _check_kwargs(cls, kwargs: Mapping[str, Any], section: str) -> None:
    sig = inspect.signature(cls)
    params = sig.parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    for key in kwargs:
        if key not in params:
            close = difflib.get_close_matches(key, list(params), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"unknown config key '{section}.{key}': {getattr(cls, '__name__', cls)} takes no "
                f"argument {key!r}{hint}"
            )


def _accepts(cls, name: str) -> bool:
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def label_order(cfg: Mapping) -> list[str]:
    return [str(x).lower() for x in cfg["data_cfg"]["label_order"]]


def label_map(cfg: Mapping) -> torch.Tensor:
    """Maps the data layer's class ids (``gaitpose.LABELS`` order) to the config's label order."""
    order = label_order(cfg)
    return torch.tensor([order.index(name) for name in LABELS], dtype=torch.long)


# ---------------------------------------------------------------- data
def data_api(cfg: Mapping):
    return _import(cfg["data_cfg"]["api"], "data_cfg.api")


def ensure_dataset(cfg: Mapping) -> Path:
    """The dataset root; a synthetic cohort is made there first when ``data_cfg.synth`` says so.

    The cohort is written to a temporary folder beside the root and renamed into place, so an
    interrupted synthesis never leaves a half cohort that would later be taken as complete.
    """
    d = cfg["data_cfg"]
    root = d["dataset_root"]
    if not root:
        raise ConfigError("'data_cfg.dataset_root' is not set")
    root = Path(root).expanduser()
    if root.exists():
        return root
    spec = d.get("synth")
    if not spec:
        raise ConfigFileError(
            f"{root}: no such file or directory (data_cfg.dataset_root; data_cfg.synth would make a "
            "synthetic cohort there)"
        )
    make = _synth_function()
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.", dir=root.parent))
    try:
        make(tmp, **dict(spec))
        try:
            os.replace(tmp, root)
        except OSError:
            if not root.exists():  # another process may have won the race
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return root


def _synth_function():
    try:
        synth = importlib.import_module("gaitpose.synth")
    except ModuleNotFoundError as exc:
        raise ConfigError(f"data_cfg.synth needs gaitpose.synth ({exc})") from None
    for name in ("make_cohort", "synthesize_cohort", "generate_cohort", "make_dataset"):
        fn = getattr(synth, name, None)
        if callable(fn):
            return fn
    raise ConfigError("gaitpose.synth exposes no cohort function (expected make_cohort)")


def build_dataset(cfg: Mapping, modalities: tuple[str, ...], train: bool, seed: int | None = None):
    """The training (P×K clips) or evaluation (all frames in order) dataset of a config."""
    d = cfg["data_cfg"]
    api = data_api(cfg)
    root = ensure_dataset(cfg)
    kwargs: dict[str, Any] = {
        "split": "train" if train else cfg["evaluator_cfg"]["split"],
        "partition": d["dataset_partition"],
        "labels_csv": d["labels_csv"],
        "modalities": tuple(modalities),
        "layout": d["layout"],
        "seed": cfg["trainer_cfg"]["seed"] if seed is None else seed,
    }
    if d.get("pose_root"):
        kwargs["pose_root"] = d["pose_root"]
    if train:
        s = cfg["trainer_cfg"]["sampler"]
        kwargs.update(frames=s["frames_num_fixed"], sample_type=s["sample_type"])
    else:
        s = cfg["evaluator_cfg"]["sampler"]
        kwargs.update(sample_type=s["sample_type"], max_frames=s["frames_all_limit"])
    try:
        return api.GaitDataset(str(root), **kwargs)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        raise ConfigFileError(f"{root}: cannot open dataset ({exc})") from exc


# ---------------------------------------------------------------- model / loss
def model_class(cfg: Mapping):
    m = cfg["model_cfg"]
    return _resolve_class(str(m["model"]), m["api"], "MODEL_REGISTRY", "model_cfg.model")


def model_kwargs(cfg: Mapping, data_layout: str | None = None) -> dict[str, Any]:
    m = cfg["model_cfg"]
    kwargs = {k: v for k, v in m.items() if k not in _RESERVED["model_cfg"]}
    cls = model_class(cfg)
    if "num_classes" not in kwargs and _accepts(cls, "num_classes"):
        kwargs["num_classes"] = len(label_order(cfg))
    if "layout" not in kwargs and data_layout and _accepts(cls, "layout"):
        kwargs["layout"] = data_layout
    for k, v in list(kwargs.items()):
        if isinstance(v, list) and k in ("channels",):
            kwargs[k] = tuple(v)
    return kwargs


def build_model(cfg: Mapping, data_layout: str | None = None) -> torch.nn.Module:
    cls = model_class(cfg)
    kwargs = model_kwargs(cfg, data_layout)
    _check_kwargs(cls, kwargs, "model_cfg")
    return cls(**kwargs)


def model_modalities(cfg: Mapping) -> tuple[str, ...]:
    """Modalities the model consumes (``data_cfg.modalities`` when set, else the class's)."""
    mods = cfg["data_cfg"]["modalities"]
    if mods:
        return tuple(mods)
    cls = model_class(cfg)
    mods = getattr(cls, "modalities", None)
    if isinstance(mods, (tuple, list)):
        return tuple(mods)
    return tuple(build_model(cfg).modalities)


def build_loss(cfg: Mapping, distributed: bool = False) -> torch.nn.Module:
    lc = cfg["loss_cfg"]
    cls = _resolve_class(str(lc["type"]), lc["api"], None, "loss_cfg.type")
    kwargs = {k: v for k, v in lc.items() if k not in _RESERVED["loss_cfg"]}
    _check_kwargs(cls, kwargs, "loss_cfg")
    if distributed and "gather" not in kwargs and _accepts(cls, "gather"):
        kwargs["gather"] = True
    return cls(**kwargs)


# ---------------------------------------------------------------- optimisation
def build_optimizer(cfg: Mapping, params) -> torch.optim.Optimizer:
    o = cfg["optimizer_cfg"]
    solver = o["solver"]
    lr, wd = float(o["lr"]), float(o["weight_decay"])
    if solver == "SGD":
        return torch.optim.SGD(
            params, lr=lr, momentum=float(o["momentum"]), weight_decay=wd, nesterov=bool(o["nesterov"])
        )
    if solver in ("Adam", "AdamW"):
        betas = tuple(o["betas"]) if o["betas"] else (0.9, 0.999)
        cls = torch.optim.Adam if solver == "Adam" else torch.optim.AdamW
        return cls(params, lr=lr, weight_decay=wd, betas=betas)
    raise ConfigError(f"unknown 'optimizer_cfg.solver' {solver!r} (SGD, Adam, AdamW)")


def lr_factor(cfg: Mapping):
    """Learning-rate multiplier as a function of the iteration (warm-up, then the schedule)."""
    s = cfg["scheduler_cfg"]
    name = s["scheduler"]
    total = int(cfg["trainer_cfg"]["total_iter"])
    warm = int(s["warmup_iter"] or 0)
    gamma = float(s["gamma"])
    milestones = sorted(int(m) for m in (s["milestones"] or []))
    if name not in ("MultiStepLR", "CosineAnnealingLR", "constant"):
        raise ConfigError(
            f"unknown 'scheduler_cfg.scheduler' {name!r} (MultiStepLR, CosineAnnealingLR, constant)"
        )

    def factor(it: int) -> float:
        f = 1.0
        if warm and it < warm:
            f = (it + 1) / warm
        if name == "MultiStepLR":
            f *= gamma ** sum(it >= m for m in milestones)
        elif name == "CosineAnnealingLR":
            f *= 0.5 * (1.0 + math.cos(math.pi * min(it, total) / total))
        return f

    return factor


def build_scheduler(cfg: Mapping, optimizer: torch.optim.Optimizer):
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor(cfg))
