"""Build the pieces of a run from a resolved config: dataset, model, loss, optimizer, scheduler.

The package's own data layer, models and losses are plain imports (:data:`OWN_MODULES`). A
config may name another module instead (``data_cfg.api``, ``model_cfg.api``, ``loss_cfg.api``:
a user's own dataset, model or loss with the same interface; the tests' fakes), imported only
then; ``model_cfg.model`` / ``loss_cfg.type`` may also be ``"package.module:ClassName"``. Keyword arguments are checked against the class signature, so a typo
fails at start-up with the key named.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from gaitpose import LABELS
from gaitpose import data as gaitpose_data
from gaitpose import models as gaitpose_models
from gaitpose.engine.config import ConfigError, ConfigFileError
from gaitpose.models import losses as gaitpose_losses

#: the modules the config's default ``api`` keys name, imported plainly
OWN_MODULES = {
    "gaitpose.data": gaitpose_data,
    "gaitpose.models": gaitpose_models,
    "gaitpose.models.losses": gaitpose_losses,
}

_RESERVED = {"model_cfg": ("model", "api"), "loss_cfg": ("type", "api", "identity")}


def _import(module: str, what: str):
    if module in OWN_MODULES:
        return OWN_MODULES[module]
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

    :func:`gaitpose.synth.make_cohort` writes to a temporary folder and renames it into place,
    so an interrupted synthesis never leaves a half cohort that would later be taken as
    complete. An existing root made by ``data_cfg.synth`` must match it (same generator
    version and arguments): a stale cohort is refused rather than silently reused.
    """
    d = cfg["data_cfg"]
    root = d["dataset_root"]
    if not root:
        raise ConfigError("'data_cfg.dataset_root' is not set")
    root = Path(root).expanduser()
    spec = d.get("synth")
    if root.exists():
        if spec:
            check_cohort(root, spec)
        return root
    if not spec:
        raise ConfigFileError(
            f"{root}: no such file or directory (data_cfg.dataset_root; data_cfg.synth would make a "
            "synthetic cohort there)"
        )
    from gaitpose.synth import make_cohort

    try:
        make_cohort(root, **dict(spec))
    except TypeError as exc:
        raise ConfigError(f"data_cfg.synth: {exc}") from None
    except OSError:
        if not root.exists():  # another process may have won the race
            raise
    return root


#: ``data_cfg.synth`` arguments that change a cohort, as cohort.json records them
COHORT_ARGUMENTS: tuple[str, ...] = ("sequences", "frames", "seed", "view", "test_fraction", "val_fraction")


def check_cohort(root: Path, spec: Mapping) -> None:
    """Refuse a synthetic cohort at ``root`` that ``data_cfg.synth`` would not have made."""
    import json

    from gaitpose.synth import GENERATOR_VERSION

    try:
        meta = json.loads((root / "cohort.json").read_text())
    except (OSError, ValueError):
        raise ConfigError(f"{root}: no readable cohort.json, but data_cfg.synth is set; "
                          f"delete the folder to make the cohort again") from None
    keys = [k for k in COHORT_ARGUMENTS if k in spec]
    made = {"generator_version": meta.get("generator_version"), **{k: meta.get(k) for k in keys}}
    want = {"generator_version": GENERATOR_VERSION, **{k: spec[k] for k in keys}}
    if made != want:
        raise ConfigError(f"{root}: the cohort there was made with {made}, data_cfg.synth asks for {want}; "
                          f"delete the folder to make it again")


def build_dataset(cfg: Mapping, modalities: tuple[str, ...], split: str, seed: int | None = None):
    """The dataset of ``split``: ``"train"`` (P×K clips) or ``"val"`` / ``"test"`` (all frames
    in order). ``"val"`` reads the partition's ``VAL_SET`` or, without one, the part of
    ``TRAIN_SET`` that ``data_cfg.val_carve`` carves off (then excluded from ``"train"``)."""
    if split not in ("train", "val", "test"):
        raise ConfigError(f"split must be train, val or test, got {split!r}")
    d = cfg["data_cfg"]
    api = data_api(cfg)
    root = ensure_dataset(cfg)
    kwargs: dict[str, Any] = {
        "split": split,
        "partition": d["dataset_partition"],
        "labels_csv": d["labels_csv"],
        "modalities": tuple(modalities),
        "layout": d["layout"],
        "seed": cfg["trainer_cfg"]["seed"] if seed is None else seed,
    }
    if d.get("pose_root"):
        kwargs["pose_root"] = d["pose_root"]
    if d.get("val_carve"):
        kwargs["val_carve"] = dict(d["val_carve"])
    if split == "train":
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
