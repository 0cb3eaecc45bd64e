"""Process-group helpers for ``torchrun`` (DistributedDataParallel).

``torchrun --nproc_per_node=N -m gaitpose train CONFIG`` sets ``WORLD_SIZE``, ``RANK`` and
``LOCAL_RANK``; :func:`setup` then joins the group with NCCL on GPUs and gloo on CPU (so the
distributed path runs and is tested anywhere). A single process needs no group at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    backend: str | None = None
    owns_group: bool = False  # this code created the process group (and destroys it)

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def resolve_device(spec: str, local_rank: int = 0) -> torch.device:
    """``auto`` → ``cuda:LOCAL_RANK`` when CUDA is present, else CPU; explicit specs pass through.

    Raises:
        ConfigError: a device this machine does not have (``cuda`` without a GPU, ``cuda:3`` with
            two) or a name torch does not know; the message says what to set instead.
    """
    from gaitpose.engine.config import ConfigError

    spec = (spec or "auto").lower()
    if spec == "auto":
        spec = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(spec)
    except RuntimeError:
        raise ConfigError(f"trainer_cfg.device {spec!r} is not a device name (auto, cpu, cuda or cuda:N)") from None
    if device.type != "cuda":
        return device
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        why = "this torch is built without CUDA" if torch.version.cuda is None else "no CUDA GPU is visible"
        raise ConfigError(
            f"trainer_cfg.device is {spec!r} but {why} (torch {torch.__version__}); "
            "use --set trainer.device=cpu or trainer.device=auto"
        )
    if device.index is None:
        return torch.device("cuda", local_rank % count)
    if device.index >= count:
        raise ConfigError(f"trainer_cfg.device is {spec!r} but this machine has {count} CUDA device(s)")
    return device


def setup(device_spec: str) -> tuple[DistInfo, torch.device]:
    """Join the torchrun process group when ``WORLD_SIZE > 1``; pick the device of this rank."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(device_spec, local_rank)
    if world <= 1:
        return DistInfo(), device
    backend = "nccl" if device.type == "cuda" else "gloo"
    owns = False
    if not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend=backend)
        owns = True
    info = DistInfo(
        rank=dist.get_rank(),
        local_rank=local_rank,
        world_size=dist.get_world_size(),
        backend=dist.get_backend(),
        owns_group=owns,
    )
    return info, device


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def all_true(flag: bool, info: DistInfo, device: torch.device) -> bool:
    """Whether ``flag`` holds on every rank (one all-reduce)."""
    if not info.enabled:
        return flag
    t = torch.tensor([0.0 if flag else 1.0], device=device)
    dist.all_reduce(t)
    return bool(t.item() == 0)


def mean_across(values: dict[str, float], info: DistInfo, device: torch.device) -> dict[str, float]:
    """Average scalar logs over ranks (for display only)."""
    if not info.enabled or not values:
        return values
    keys = sorted(values)
    t = torch.tensor([float(values[k]) for k in keys], device=device, dtype=torch.float64)
    dist.all_reduce(t)
    t /= info.world_size
    return dict(zip(keys, t.tolist()))


def cleanup(info: DistInfo) -> None:
    if info.owns_group and dist.is_initialized():
        dist.destroy_process_group()
