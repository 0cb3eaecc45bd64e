"""Training configs: OpenGait's YAML vocabulary, defaults, ``--set`` overrides, validation.

A config is a dict of sections. Where OpenGait has a name for something, it is used here
(``data_cfg``, ``model_cfg.model``, ``optimizer_cfg.solver``, ``scheduler_cfg.scheduler``,
``trainer_cfg.total_iter`` / ``save_iter`` / ``log_iter`` / ``enable_float16``, sampler
``batch_size: [P, K]``, ``frames_num_fixed``, ``sample_type``, ``frames_all_limit``).

Known keys are validated on load; an unknown or ill-typed key raises :class:`ConfigError`
naming the key (and a close match). ``model_cfg`` and ``loss_cfg`` take the keyword
arguments of the model / loss class: those are checked against the class signature when
the model is built. Overrides use dotted keys with short aliases
(``trainer.total_iter=6`` = ``trainer_cfg.total_iter=6``); values are parsed as YAML.
"""

from __future__ import annotations

import copy
import difflib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from gaitpose import LABELS


class ConfigError(ValueError):
    """A config key is unknown, missing or of the wrong type (the message names it)."""


class ConfigFileError(ConfigError):
    """A file or folder of the config (the config itself, its dataset) is missing or unreadable:
    an input error (exit 1), not bad usage. The message starts with its path."""


#: keys whose content is validated elsewhere
FREE_KEYS = {"experiment", "data_cfg.synth"}

#: Defaults and, implicitly, the schema: every known key with its default value.
DEFAULTS: dict[str, Any] = {
    "data_cfg": {
        "dataset_name": "",
        "dataset_root": None,  # OpenGait tree or folder of Sequence .npz files
        "dataset_partition": None,  # partition JSON; None: ROOT/partition.json when present
        "labels_csv": None,  # for Sequence folders: CSV id,class[,subject]
        "pose_root": None,  # second OpenGait tree with the pose pkls (Scoliosis1K-Pose)
        "modalities": None,  # None: the model's modalities
        "layout": None,  # None: keep the data's; "coco17": convert MediaPipe-33
        "num_workers": 0,
        "label_order": list(LABELS),
        "synth": None,  # {sequences, frames, seed, view}: make the cohort when dataset_root is missing
        # {fraction, seed}: for a partition without VAL_SET, carve one from TRAIN_SET (whole
        # subjects, stratified by class; gaitpose.io.splits.carve_validation); TEST_SET untouched
        "val_carve": None,
        "api": "gaitpose.data",  # module with GaitDataset (the package's own: a plain import in builders)
    },
    "model_cfg": {"model": "ScoNet", "api": "gaitpose.models"},  # + the model's kwargs
    # + the loss's kwargs; identity: the triplet's identities, "subject" or "tree_id" (the
    # OpenGait tree's top-level id, as OpenGait's loader gives them; one per sequence on Scoliosis1K)
    "loss_cfg": {"type": "ScoNetMTLoss", "api": "gaitpose.models.losses", "identity": "subject"},
    "optimizer_cfg": {
        "solver": "SGD",
        "lr": 0.1,
        "momentum": 0.9,
        "weight_decay": 5.0e-4,
        "betas": None,  # Adam/AdamW only
        "nesterov": False,
    },
    "scheduler_cfg": {
        "scheduler": "MultiStepLR",  # MultiStepLR | CosineAnnealingLR | constant
        "milestones": [10000, 14000, 18000],
        "gamma": 0.1,
        "warmup_iter": 0,
    },
    "trainer_cfg": {
        "seed": 0,
        "total_iter": 20000,
        "save_iter": 1000,
        "log_iter": 10,
        "enable_float16": True,  # mixed precision (float16) on CUDA
        # bfloat16 autocast for training on a CPU with native bf16 matrix units (AMX-BF16 or
        # AVX512-BF16; float32 elsewhere): ~1.3-1.9x faster train steps on such a CPU
        "cpu_bf16": False,
        "clip_grad_norm": None,
        "device": "auto",  # auto | cpu | cuda | cuda:N
        "num_threads": None,  # torch intra-op CPU threads (None: torch's default); also set
        # with a GPU when several cells share the machine's cores
        "cudnn_benchmark": True,  # CUDA: let cuDNN pick the fastest convolution per shape
        "progress": True,
        "deterministic": False,
        "keep_checkpoints": 1,  # iteration checkpoints kept besides latest.pt
        "find_unused_parameters": False,  # DDP: set true for a model that skips parameters
        # after the last iteration, re-estimate every BatchNorm's running statistics on this many
        # training batches with the final weights (gaitpose.models.precise_bn; 0 disables)
        "precise_bn_batches": 20,
        "sampler": {
            "type": "TripletSampler",
            "batch_size": [8, 8],  # [P identities, K clips each]
            "frames_num_fixed": 30,
            "sample_type": "fixed_unordered",
        },
    },
    "evaluator_cfg": {
        "split": "test",
        "bootstrap": 1000,
        "enable_float16": True,
        "checkpoint_label_order": None,  # label order of a foreign (OpenGait) checkpoint
        "sampler": {
            "batch_size": 1,
            "sample_type": "all_ordered",
            "frames_all_limit": 720,
            # multi-clip testing: split each test sequence into windows of clip_frames frames
            # (every clip_stride frames; default clip_frames) and average the logits over the
            # windows. None: one pass over the whole sequence (OpenGait's protocol)
            "clip_frames": None,
            "clip_stride": None,
        },
    },
    "experiment": None,  # grid definition, validated by gaitpose.engine.experiment
}

#: sections whose extra keys are passed to a class and checked against its signature later
OPEN_SECTIONS = {"model_cfg", "loss_cfg"}

ALIASES = {
    "data": "data_cfg",
    "model": "model_cfg",
    "loss": "loss_cfg",
    "optimizer": "optimizer_cfg",
    "scheduler": "scheduler_cfg",
    "trainer": "trainer_cfg",
    "evaluator": "evaluator_cfg",
}

#: expected types of known keys (by dotted name); None always allowed where the default is None
_TYPES: dict[str, tuple[type, ...]] = {
    "trainer_cfg.total_iter": (int,),
    "trainer_cfg.save_iter": (int,),
    "trainer_cfg.log_iter": (int,),
    "trainer_cfg.seed": (int,),
    "trainer_cfg.keep_checkpoints": (int,),
    "trainer_cfg.enable_float16": (bool,),
    "trainer_cfg.cpu_bf16": (bool,),
    "trainer_cfg.clip_grad_norm": (int, float),
    "trainer_cfg.device": (str,),
    "trainer_cfg.num_threads": (int,),
    "trainer_cfg.cudnn_benchmark": (bool,),
    "trainer_cfg.find_unused_parameters": (bool,),
    "trainer_cfg.precise_bn_batches": (int,),
    "trainer_cfg.sampler.batch_size": (list, tuple),
    "trainer_cfg.sampler.frames_num_fixed": (int,),
    "trainer_cfg.sampler.sample_type": (str,),
    "evaluator_cfg.sampler.batch_size": (int,),
    "evaluator_cfg.sampler.frames_all_limit": (int,),
    "evaluator_cfg.sampler.clip_frames": (int,),
    "evaluator_cfg.sampler.clip_stride": (int,),
    "evaluator_cfg.bootstrap": (int,),
    "optimizer_cfg.lr": (int, float),
    "optimizer_cfg.momentum": (int, float),
    "optimizer_cfg.weight_decay": (int, float),
    "optimizer_cfg.solver": (str,),
    "scheduler_cfg.milestones": (list, tuple),
    "scheduler_cfg.gamma": (int, float),
    "scheduler_cfg.warmup_iter": (int,),
    "data_cfg.num_workers": (int,),
    "data_cfg.modalities": (list, tuple),
    "data_cfg.label_order": (list, tuple),
    "data_cfg.synth": (dict,),
    "data_cfg.val_carve": (dict,),
    "data_cfg.dataset_root": (str,),
    "data_cfg.dataset_partition": (str,),
    "data_cfg.labels_csv": (str,),
    "data_cfg.pose_root": (str,),
    "model_cfg.model": (str,),
    "loss_cfg.type": (str,),
}


def _suggest(key: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def deep_merge(base: dict, update: Mapping) -> dict:
    """A copy of ``base`` with ``update`` merged in recursively (dicts merge, the rest replaces)."""
    out = copy.deepcopy(base)
    for k, v in update.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def canonical_key(dotted: str) -> str:
    """``trainer.total_iter`` → ``trainer_cfg.total_iter`` (section aliases expanded)."""
    head, _, rest = dotted.partition(".")
    head = ALIASES.get(head, head)
    return f"{head}.{rest}" if rest else head


def parse_override(item: str) -> tuple[str, Any]:
    """``"trainer.total_iter=6"`` → ``("trainer_cfg.total_iter", 6)`` (value parsed as YAML)."""
    if "=" not in item:
        raise ConfigError(f"override {item!r} is not of the form key=value")
    key, _, raw = item.partition("=")
    key = key.strip()
    if not key:
        raise ConfigError(f"override {item!r} has an empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise ConfigError(f"override {item!r}: value is not valid YAML ({exc})") from None
    return canonical_key(key), value


def set_dotted(cfg: dict, key: str, value: Any) -> None:
    """Set ``cfg[a][b][c] = value`` for ``key = "a.b.c"`` (creating dicts on the way)."""
    parts = key.split(".")
    node = cfg
    for i, p in enumerate(parts[:-1]):
        nxt = node.get(p)
        if nxt is None:
            nxt = node[p] = {}
        elif not isinstance(nxt, dict):
            raise ConfigError(f"cannot set {key!r}: {'.'.join(parts[: i + 1])!r} is not a section")
        node = nxt
    node[parts[-1]] = value


def get_dotted(cfg: Mapping, key: str, default: Any = None) -> Any:
    node: Any = cfg
    for p in canonical_key(key).split("."):
        if not isinstance(node, Mapping) or p not in node:
            return default
        node = node[p]
    return node


def _validate(cfg: Mapping, schema: Mapping, prefix: str, source: str) -> None:
    for key, value in cfg.items():
        name = f"{prefix}{key}"
        if key not in schema:
            if prefix.rstrip(".") in OPEN_SECTIONS:
                continue
            raise ConfigError(f"{source}: unknown config key {name!r}{_suggest(key, schema)}")
        spec = schema[key]
        if name in FREE_KEYS:
            continue
        if isinstance(spec, dict):
            if value is None:
                continue
            if not isinstance(value, Mapping):
                raise ConfigError(f"{source}: {name!r} must be a mapping, got {type(value).__name__}")
            _validate(value, spec, f"{name}.", source)
            continue
        types = _TYPES.get(name)
        if types is None or value is None:
            continue
        if bool in types and not isinstance(value, bool):
            raise ConfigError(f"{source}: {name!r} must be true or false, got {value!r}")
        if bool not in types and isinstance(value, bool):
            raise ConfigError(f"{source}: {name!r} must be {types[0].__name__}, got {value!r}")
        if not isinstance(value, types):
            want = " or ".join(t.__name__ for t in types)
            raise ConfigError(f"{source}: {name!r} must be {want}, got {value!r}")


def _validate_val_carve(vc, source: str) -> None:
    if vc is None:
        return
    if set(vc) != {"fraction", "seed"}:
        raise ConfigError(f"{source}: 'data_cfg.val_carve' takes exactly fraction and seed, got {sorted(vc)}")
    f, s = vc["fraction"], vc["seed"]
    if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f < 1:
        raise ConfigError(f"{source}: 'data_cfg.val_carve.fraction' must be in (0, 1), got {f!r}")
    if isinstance(s, bool) or not isinstance(s, int):
        raise ConfigError(f"{source}: 'data_cfg.val_carve.seed' must be an integer, got {s!r}")


def validate(cfg: Mapping, source: str = "config") -> None:
    """Raise :class:`ConfigError` naming the first unknown or ill-typed key."""
    if not isinstance(cfg, Mapping):
        raise ConfigError(f"{source}: a config must be a mapping of sections")
    _validate(cfg, DEFAULTS, "", source)
    tr = cfg["trainer_cfg"]
    bs = tr["sampler"]["batch_size"]
    if len(bs) != 2 or not all(isinstance(b, int) and b > 0 for b in bs):
        raise ConfigError(f"{source}: 'trainer_cfg.sampler.batch_size' must be [P, K], got {bs!r}")
    if tr["sampler"]["type"] != "TripletSampler":
        raise ConfigError(f"{source}: 'trainer_cfg.sampler.type' must be TripletSampler (the P×K sampler, "
                          f"the only one), got {tr['sampler']['type']!r}")
    for key in ("total_iter", "save_iter", "log_iter"):
        if tr[key] <= 0:
            raise ConfigError(f"{source}: 'trainer_cfg.{key}' must be positive, got {tr[key]!r}")
    _validate_val_carve(cfg["data_cfg"]["val_carve"], source)
    if cfg["loss_cfg"].get("identity") not in ("subject", "tree_id"):
        raise ConfigError(f"{source}: 'loss_cfg.identity' must be subject or tree_id, got {cfg['loss_cfg'].get('identity')!r}")
    if cfg["evaluator_cfg"]["split"] not in ("val", "test"):
        raise ConfigError(f"{source}: 'evaluator_cfg.split' must be val or test, got {cfg['evaluator_cfg']['split']!r}")
    order = [str(x).lower() for x in cfg["data_cfg"]["label_order"]]
    if sorted(order) != sorted(LABELS):
        raise ConfigError(
            f"{source}: 'data_cfg.label_order' must be a permutation of {list(LABELS)}, got {order!r}"
        )


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """One line: the parser's problem and where (PyYAML's own message spans several lines)."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark else problem


def load_config(
    config: str | os.PathLike | Mapping,
    overrides: Iterable[str] | Mapping[str, Any] = (),
) -> dict:
    """Defaults ← YAML file (or dict) ← overrides, validated.

    Args:
        config: path of a YAML file, or a dict of sections (aliases allowed at the top level).
        overrides: ``"key=value"`` strings or a ``{dotted_key: value}`` mapping.

    Returns:
        the resolved config (every known key present); ``_source`` holds the file path.
    """
    source = "config"
    if isinstance(config, Mapping):
        raw = copy.deepcopy(dict(config))
    else:
        path = Path(config)
        source = str(path)
        if not path.is_file():
            what = "a folder, not a YAML config" if path.is_dir() else "no such file or directory"
            raise ConfigFileError(f"{path}: {what}")
        try:
            raw = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigFileError(f"{path}: not valid YAML ({_yaml_problem(exc)})") from None
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise ConfigFileError(f"{path}: cannot read ({reason})") from None
        if not isinstance(raw, dict):
            raise ConfigFileError(f"{path}: a config must be a mapping of sections")
    raw.pop("_source", None)
    raw = {ALIASES.get(k, k): v for k, v in raw.items()}
    cfg = deep_merge(DEFAULTS, raw)
    items = overrides.items() if isinstance(overrides, Mapping) else map(parse_override, overrides)
    for key, value in items:
        key = canonical_key(key)
        section = key.split(".")[0]
        if section not in DEFAULTS:
            raise ConfigError(f"override {key!r}: unknown section {section!r}{_suggest(section, DEFAULTS)}")
        set_dotted(cfg, key, value)
    validate(cfg, source)
    cfg["_source"] = source
    return cfg


def base_config(cfg: Mapping) -> dict:
    """The config without its experiment grid (what ``gaitpose train`` trains)."""
    out = copy.deepcopy(dict(cfg))
    out["experiment"] = None
    return out


def dump_config(cfg: Mapping) -> str:
    """YAML text of a resolved config (stable key order)."""
    clean = {k: v for k, v in cfg.items() if not k.startswith("_")}
    return yaml.safe_dump(clean, sort_keys=False, default_flow_style=None)
