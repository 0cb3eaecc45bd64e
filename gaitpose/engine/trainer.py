"""The training loop: P×K batches, ScoNet-MT objective, AMP, DDP, checkpoints, exact resume.

Reproducibility. Randomness is a function of (seed, iteration, rank, position) rather than
of a stream that runs through the whole training: each clip is loaded with the global RNGs
seeded from (seed, iteration, rank, position in batch), and each step's model-side randomness
(dropout, modality dropout) from (seed, iteration, rank). The P×K sampler is a deterministic
stream from its seed, and resuming skips its first ``iteration`` batches (index lists only,
nothing is loaded). So a run stopped at a checkpoint and resumed reproduces the loss trace of
an uninterrupted run on CPU, with any number of data-loader workers. (RNG states are also saved
in each checkpoint and restored.)
"""

from __future__ import annotations

import csv
import itertools
import os
import random
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from gaitpose.engine import builders
from gaitpose.engine import distributed as gdist
from gaitpose.engine.checkpoint import (
    LATEST,
    check_resumable,
    find_resume,
    load_checkpoint,
    load_resume_weights,
    prune_iteration_checkpoints,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from gaitpose.engine.config import base_config, dump_config, load_config
from gaitpose.io.atomic import atomic_write_text

LOG_COLUMNS = ("iteration", "loss", "ce", "triplet", "active_frac", "acc", "lr", "seconds")


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the run stopped, the last good checkpoint is kept."""


def derive_seed(*values: int) -> int:
    """A well-mixed 32-bit seed from a tuple of non-negative ints."""
    return int(np.random.SeedSequence([int(v) & 0xFFFFFFFF for v in values]).generate_state(1)[0])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def set_cpu_threads(n: int | None, device: torch.device) -> None:
    """Limit torch's intra-op CPU threads (on a shared machine, 1 thread per process avoids
    the OpenMP oversubscription that makes 2-thread steps many times slower; with a GPU, the
    cells of an experiment run at once share the cores the same way)."""
    if n:
        torch.set_num_threads(int(n))


def worker_context(device: torch.device, num_workers: int):
    """DataLoader workers' multiprocessing context: ``forkserver`` once CUDA is in use.

    Workers forked from a process that has initialised CUDA inherit its threads' state; on the
    H200 they aborted at shutdown ("terminate called without an active exception", "DataLoader
    worker ... killed by signal: Aborted"). A fork server started before CUDA (with torch and the
    data layer preloaded, so workers start in milliseconds) gives clean workers. CPU runs keep
    the platform default (fork on Linux)."""
    if num_workers <= 0 or device.type != "cuda":
        return None
    import multiprocessing as mp

    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["torch", "gaitpose.data"])
    return ctx


class SeededItems(Dataset):
    """Wraps a dataset: item ``(seed, index)`` seeds the global RNGs, then returns ``ds[index]``.

    The data layer's random frame choice thus depends only on the key, not on which worker
    process loads it or on what was loaded before.
    """

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int]):
        seed, index = key
        seed_everything(seed)
        # a dataset that draws from its own numpy Generator gets a fresh one for this key
        for attr in ("rng", "_rng"):
            if hasattr(self.dataset, attr):
                current = getattr(self.dataset, attr)
                if current is None or isinstance(current, np.random.Generator):
                    setattr(self.dataset, attr, np.random.default_rng(seed))
                    break
        return self.dataset[index]


class KeyedBatches:
    """Batch sampler: the P×K sampler's batches from ``start`` on, each index keyed by a seed."""

    def __init__(self, sampler: Iterable[list[int]], start: int, seed: int, rank: int):
        self.sampler, self.start, self.seed, self.rank = sampler, start, seed, rank

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        stream = itertools.islice(iter(self.sampler), self.start, None)
        for it, batch in enumerate(stream, start=self.start):
            yield [(derive_seed(self.seed, it, self.rank, pos), int(i)) for pos, i in enumerate(batch)]


class _Logger:
    """CSV (+ TensorBoard when installed) log of the per-iteration training figures."""

    def __init__(self, run_dir: Path, resume_from: int, enabled: bool):
        self.enabled = enabled
        self.path = run_dir / "train_log.csv"
        self.tb = None
        if not enabled:
            return
        rows: list[dict[str, str]] = []
        if self.path.is_file():  # drop rows after the checkpoint we resume from
            with open(self.path, newline="") as fh:
                rows = [r for r in csv.DictReader(fh) if int(r["iteration"]) <= resume_from]
        text = ",".join(LOG_COLUMNS) + "\n" + "".join(
            ",".join(r.get(c, "") for c in LOG_COLUMNS) + "\n" for r in rows
        )
        atomic_write_text(self.path, text)
        self.fh = open(self.path, "a", newline="")
        self.writer = csv.DictWriter(self.fh, fieldnames=LOG_COLUMNS, extrasaction="ignore")
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(log_dir=str(run_dir / "tensorboard"), purge_step=resume_from + 1)
        except Exception:  # tensorboard not installed
            self.tb = None

    def log(self, row: Mapping[str, float]) -> None:
        if not self.enabled:
            return
        self.writer.writerow({k: (f"{v:.8g}" if isinstance(v, float) else v) for k, v in row.items()})
        self.fh.flush()
        if self.tb is not None:
            step = int(row["iteration"])
            for k, v in row.items():
                if k not in ("iteration", "seconds") and v is not None:
                    self.tb.add_scalar(f"train/{k}", float(v), step)

    def close(self) -> None:
        if self.enabled:
            self.fh.close()
            if self.tb is not None:
                self.tb.close()


def _scalar(v: Any) -> float:
    if isinstance(v, torch.Tensor):
        return float(v.detach().float().mean().item())
    return float(v)


def default_run_dir(cfg: Mapping) -> Path:
    src = cfg.get("_source", "config")
    stem = Path(src).stem if src != "config" else "run"
    return Path("runs") / stem


def train(
    config: str | os.PathLike | Mapping,
    run_dir: str | os.PathLike | None = None,
    overrides: Iterable[str] | Mapping[str, Any] = (),
) -> Path:
    """Train (or resume) a run; return the path of its final checkpoint.

    Three named steps: :func:`setup` (config, data, model, optimiser, resume), :func:`loop`
    (the iterations, with the periodic checkpoints) and :func:`finish` (precise BN and the final
    checkpoint).

    Args:
        config: YAML path or config dict (an experiment config trains its base config: the
            ``experiment`` grid is ignored).
        run_dir: where checkpoints, logs and the resolved config go (default ``runs/<stem>``).
            A run directory holding ``checkpoints/latest.pt`` resumes from it.
        overrides: ``"key=value"`` strings (``trainer.total_iter=6``) or a dotted-key mapping.

    Raises:
        TrainingDiverged: the loss became NaN/inf (the last good checkpoint is kept).
        ConfigError: a bad config key (named in the message).
    """
    cfg = base_config(load_config(config, overrides))
    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(cfg)
    info, device = gdist.setup(cfg["trainer_cfg"]["device"])
    try:
        run = setup(cfg, run_dir, info, device)
        if run.iteration >= run.total:
            if info.is_main and not run.final.is_file():
                raise RuntimeError(f"{run_dir}: nothing to train and no checkpoint")
            return run.final
        loop(run)
        return finish(run)
    finally:
        gdist.cleanup(info)


@dataclass
class Run:
    """Everything one training needs, made by :func:`setup` and advanced by :func:`loop`."""

    cfg: dict
    run_dir: Path
    info: gdist.DistInfo
    device: torch.device
    amp: bool  # float16 autocast with a gradient scaler (CUDA)
    autocast_dtype: torch.dtype | None  # float16 (CUDA), bfloat16 (cpu_bf16) or None
    modalities: tuple[str, ...]
    dataset: Dataset
    identity_names: list[str]  # the triplet identities, sorted (saved in checkpoints)
    identity_of: torch.Tensor  # dataset index → identity number
    model: torch.nn.Module  # what is saved (SyncBatchNorm on CUDA DDP)
    net: torch.nn.Module  # what is called: the model, wrapped for DDP when distributed
    loss_fn: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    scaler: Any
    iteration: int
    last_good: Path | None

    @property
    def total(self) -> int:
        return int(self.cfg["trainer_cfg"]["total_iter"])

    @property
    def seed(self) -> int:
        return int(self.cfg["trainer_cfg"]["seed"])

    @property
    def final(self) -> Path:
        return self.run_dir / "checkpoints" / LATEST


# ---------------------------------------------------------------- setup
def setup(cfg: dict, run_dir: Path, info: gdist.DistInfo, device: torch.device) -> Run:
    """Torch settings, the run folder, the training data, the model and its optimiser, all
    restored from ``run_dir``'s latest checkpoint when there is one."""
    tr = cfg["trainer_cfg"]
    dtype = autocast_dtype(tr, device)
    amp = dtype is torch.float16  # float16 needs the gradient scaler
    configure_torch(tr, device)
    resume_path = find_resume(run_dir)
    state = load_checkpoint(resume_path) if resume_path else None
    if info.is_main:
        builders.ensure_dataset(cfg)  # may synthesise the cohort: rank 0 only, the others wait
    gdist.barrier(info)
    modalities = builders.model_modalities(cfg)
    dataset = builders.build_dataset(cfg, modalities, "train")
    names, identity_of = triplet_identities(cfg, dataset)
    if state is not None:
        check_resumable(state, resume_path, names)  # before config.yaml is rewritten
    if info.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(run_dir / "config.yaml", dump_config(cfg))
    seed_everything(int(tr["seed"]))  # identical initial weights on every rank
    model = builders.build_model(cfg, getattr(dataset, "layout", None)).to(device)
    optimizer = builders.build_optimizer(cfg, model.parameters())
    run = Run(cfg=cfg, run_dir=run_dir, info=info, device=device, amp=amp, autocast_dtype=dtype,
              modalities=modalities,
              dataset=dataset, identity_names=names, identity_of=identity_of, model=model, net=model,
              loss_fn=builders.build_loss(cfg, distributed=info.enabled).to(device), optimizer=optimizer,
              scheduler=builders.build_scheduler(cfg, optimizer),
              scaler=torch.amp.GradScaler("cuda", enabled=amp), iteration=0, last_good=resume_path)
    if state is not None:
        restore(run, state, resume_path)
    run.model, run.net = wrap_for_ddp(model, info, device, bool(tr["find_unused_parameters"]))
    return run


def native_cpu_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AMX-BF16 tiles or AVX512-BF16)."""
    cpu = torch.cpu
    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)


def autocast_dtype(tr: Mapping, device: torch.device) -> torch.dtype | None:
    """The training autocast dtype: float16 on CUDA with ``enable_float16``, bfloat16 on a CPU
    with ``cpu_bf16`` and native bf16 units (emulated bf16 is slower than float32), else None."""
    if device.type == "cuda":
        return torch.float16 if tr["enable_float16"] else None
    if device.type == "cpu" and tr.get("cpu_bf16") and native_cpu_bf16():
        return torch.bfloat16
    return None


def mixed_precision(run: Run):
    """The autocast context of the run's forward passes (a no-op without mixed precision)."""
    dtype = run.autocast_dtype
    return torch.autocast(run.device.type, dtype=dtype or torch.float32, enabled=dtype is not None)


def configure_torch(tr: Mapping, device: torch.device) -> None:
    """CPU threads, deterministic algorithms or cuDNN's autotuner, as the config says."""
    set_cpu_threads(tr.get("num_threads"), device)
    if tr["deterministic"]:
        torch.use_deterministic_algorithms(True, warn_only=True)
    elif device.type == "cuda" and tr.get("cudnn_benchmark", True):
        torch.backends.cudnn.benchmark = True  # training clips have one fixed shape


def triplet_identities(cfg: Mapping, dataset) -> tuple[list[str], torch.Tensor]:
    """The triplet loss's identity of every training sequence (``loss_cfg.identity``):
    ``tree_id`` — the OpenGait tree's top-level id, as OpenGait's loader gives it (on
    Scoliosis1K one per sequence) — or ``subject``.

    Returns:
        the sorted identity names and, per dataset index, the identity's number.
    """
    kind = cfg["loss_cfg"].get("identity", "subject")
    per_item = [str(x) for x in (dataset.subjects if kind == "subject" else getattr(dataset, "tree_ids", dataset.ids))]
    names = sorted(set(per_item))
    number = {n: i for i, n in enumerate(names)}
    return names, torch.tensor([number[x] for x in per_item], dtype=torch.long)


def restore(run: Run, state: Mapping, path: Path) -> None:
    """Weights, optimiser, scheduler, AMP scaler, iteration and RNG states of a checkpoint."""
    load_resume_weights(run.model, state, path, run.cfg)  # names the settings when they do not fit
    run.optimizer.load_state_dict(state["optimizer"])
    run.scheduler.load_state_dict(state["scheduler"])
    if state.get("scaler") and run.amp:
        run.scaler.load_state_dict(state["scaler"])
    run.iteration = int(state["iteration"])
    set_rng_state(state["rng"])
    if run.info.is_main:
        print(f"resuming {run.run_dir} from iteration {run.iteration}", file=sys.stderr)


def wrap_for_ddp(model: torch.nn.Module, info: gdist.DistInfo, device: torch.device,
                 find_unused: bool) -> tuple[torch.nn.Module, torch.nn.Module]:
    """(model, the module to call): when distributed, the model with SyncBatchNorm (CUDA) and
    its DistributedDataParallel wrapper; else the model twice."""
    if not info.enabled:
        return model, model
    if device.type == "cuda":
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    net = torch.nn.parallel.DistributedDataParallel(
        model, device_ids=[device.index] if device.type == "cuda" else None,
        find_unused_parameters=find_unused,
    )
    return model, net


def training_loader(run: Run, start: int, seed: int) -> DataLoader:
    """P×K batches from iteration ``start`` on, every clip seeded by (seed, iteration, rank,
    position) — see the module docstring."""
    from gaitpose.data import PKSampler, collate_clips

    p, k = run.cfg["trainer_cfg"]["sampler"]["batch_size"]
    nw = int(run.cfg["data_cfg"]["num_workers"])
    sampler = PKSampler(run.dataset, p, k, seed=seed, rank=run.info.rank, world_size=run.info.world_size,
                        identities=[run.identity_names[i] for i in run.identity_of.tolist()])
    return DataLoader(
        SeededItems(run.dataset), batch_sampler=KeyedBatches(sampler, start, seed, run.info.rank),
        collate_fn=collate_clips, num_workers=nw, pin_memory=run.device.type == "cuda",
        persistent_workers=False, multiprocessing_context=worker_context(run.device, nw),
    )


# ---------------------------------------------------------------- loop
def loop(run: Run) -> None:
    """Iterations ``run.iteration`` → ``total``: a step, its log row, and the periodic
    checkpoints (the last one is :func:`finish`'s)."""
    from gaitpose.progress import Progress

    tr = run.cfg["trainer_cfg"]
    main = run.info.is_main
    logger = _Logger(run.run_dir, run.iteration, enabled=main)
    bar = Progress(run.total, f"train {run.run_dir.name}", "it", initial=run.iteration,
                   enabled=main and tr["progress"])
    t0 = time.perf_counter()
    try:
        for batch in training_loader(run, run.iteration, run.seed):
            lr = run.optimizer.param_groups[0]["lr"]
            figures = step(run, batch)
            logger.log({"iteration": run.iteration, **figures, "lr": float(lr), "seconds": time.perf_counter() - t0})
            bar.update(1)
            if run.iteration % int(tr["log_iter"]) == 0 or run.iteration == run.total:
                bar.set_postfix(refresh=False, **progress_fields(figures, lr))
            if run.iteration >= run.total:
                break
            if run.iteration % int(tr["save_iter"]) == 0:
                save(run)
    finally:
        bar.close()
        logger.close()


def step(run: Run, batch: Mapping) -> dict[str, float]:
    """One optimisation step on a batch; returns the loss figures averaged over ranks."""
    tr, device = run.cfg["trainer_cfg"], run.device
    torch.manual_seed(derive_seed(run.seed, run.iteration, run.info.rank, 1 << 20))
    run.net.train()
    inputs = {m: batch[m].to(device, non_blocking=True) for m in run.modalities}
    labels = builders.label_map(run.cfg)[batch["labels"]].to(device)
    ids = run.identity_of[batch["index"]].to(device)
    with mixed_precision(run):
        out = run.net(**inputs, seq_lens=batch["seq_lens"].to(device))
    out = {key: (v.float() if torch.is_tensor(v) and v.is_floating_point() else v) for key, v in out.items()}
    loss, parts = run.loss_fn(out, labels, ids)
    if not gdist.all_true(bool(torch.isfinite(loss.detach()).all()), run.info, device):
        where = f"last good checkpoint kept: {run.last_good}" if run.last_good else "no checkpoint was written"
        raise TrainingDiverged(f"{run.run_dir}: loss is {loss.item():.4g} (not finite) at iteration "
                               f"{run.iteration + 1}; training stopped ({where})")
    run.optimizer.zero_grad(set_to_none=True)
    run.scaler.scale(loss).backward()
    if tr["clip_grad_norm"]:
        run.scaler.unscale_(run.optimizer)
        torch.nn.utils.clip_grad_norm_(run.model.parameters(), float(tr["clip_grad_norm"]))
    run.scaler.step(run.optimizer)
    run.scaler.update()
    run.scheduler.step()
    run.iteration += 1
    figures = {"loss": _scalar(loss), **{k: _scalar(v) for k, v in parts.items()}}
    return gdist.mean_across(figures, run.info, device)


def progress_fields(figures: Mapping[str, float], lr: float) -> dict[str, str]:
    """The figures shown after the progress count: loss, its parts, accuracy, learning rate."""
    short = {"loss": "loss", "ce": "ce", "triplet": "tri", "active_frac": "act", "acc": "acc"}
    fields = {s: f"{figures.get(k, float('nan')):.3f}" for k, s in short.items()}
    return {**fields, "lr": f"{lr:.2g}"}


# ---------------------------------------------------------------- finish
def finish(run: Run) -> Path:
    """After the last iteration: precise BN (``trainer_cfg.precise_bn_batches``), the
    skeleton streams' measure read-outs (``skeleton.measure_readout``), then the final
    checkpoint."""
    if int(run.cfg["trainer_cfg"]["precise_bn_batches"]) > 0:
        _precise_bn(run)
    _fit_measure_readouts(run)
    save(run)
    return run.final


def save(run: Run) -> None:
    """``checkpoints/latest.pt`` and an ``iter_<n>.pt`` snapshot (rank 0), pruned to
    ``trainer_cfg.keep_checkpoints``; every rank waits for it."""
    tr = run.cfg["trainer_cfg"]
    if run.info.is_main:
        state = {
            "iteration": run.iteration, "model": run.model.state_dict(),
            "optimizer": run.optimizer.state_dict(), "scheduler": run.scheduler.state_dict(),
            "scaler": run.scaler.state_dict() if run.amp else None, "rng": rng_state(),
            "labels": builders.label_order(run.cfg), "subjects": run.identity_names,
            "model_name": str(run.cfg["model_cfg"]["model"]), "modalities": list(run.modalities),
            "config": {k: v for k, v in run.cfg.items() if not k.startswith("_")},
        }
        save_checkpoint(run.final, state)
        keep = int(tr["keep_checkpoints"])
        if keep > 0:
            snap = run.final.parent / f"iter_{run.iteration:07d}.pt"
            snap.unlink(missing_ok=True)
            try:
                os.link(run.final, snap)
            except OSError:
                save_checkpoint(snap, state)
            prune_iteration_checkpoints(run.final.parent, keep)
    run.last_good = run.final
    gdist.barrier(run.info)


def _precise_bn(run: Run) -> int:
    """Re-estimate the BN running statistics of the model on ``trainer_cfg.precise_bn_batches``
    P×K training batches (``gaitpose.models.precise_bn``), deterministically.

    The batches come from their own sampler stream and item seeds (derived from the run's seed
    and a constant), so the result depends only on the final weights and the seed; the global
    RNG states are restored afterwards, so the checkpoint's RNG state is the training loop's.
    Each rank uses its own share of the batches (SyncBatchNorm, on CUDA DDP, averages them).

    Returns:
        the number of batches used.
    """
    from gaitpose.models import precise_bn

    saved = rng_state()
    stream_seed = derive_seed(run.seed, 0x9BE5)
    try:
        torch.manual_seed(stream_seed)
        with mixed_precision(run):
            return precise_bn(run.model, training_loader(run, 0, stream_seed),
                              num_batches=int(run.cfg["trainer_cfg"]["precise_bn_batches"]))
    finally:
        set_rng_state(saved)


def _fit_measure_readouts(run: Run) -> int:
    """Fit every skeleton stream's measure read-out on the training clips, each clip once
    (poses only, however many modalities the model reads; the data layer's frame choice seeded
    from the run's seed; the global RNG states are restored afterwards). Returns the number of
    clips (0: no read-out in the model)."""
    from gaitpose.models.skeleton import SkeletonEncoder

    encoders = [m for m in run.model.modules() if isinstance(m, SkeletonEncoder) and m.measure_readout is not None]
    if not encoders:
        return 0
    saved = rng_state()
    try:
        items = SeededItems(builders.build_dataset(run.cfg, ("pose",), "train"))
        seed = derive_seed(run.seed, 0x4EAD)
        clips = [(item["pose"], item["label"]) for item in (items[(seed, i)] for i in range(len(items)))]
    finally:
        set_rng_state(saved)
    for encoder in encoders:
        encoder.fit_measure_readout(clips)
    return len(clips)


def read_train_log(run_dir: str | os.PathLike) -> list[dict[str, float]]:
    """The rows of ``RUN/train_log.csv`` as floats (empty cells → NaN)."""
    with open(Path(run_dir) / "train_log.csv", newline="") as fh:
        return [{k: float(v) if v != "" else float("nan") for k, v in r.items()} for r in csv.DictReader(fh)]
