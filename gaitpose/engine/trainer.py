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
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from gaitpose.engine import builders
from gaitpose.engine import distributed as gdist
from gaitpose.engine.checkpoint import (
    LATEST,
    find_resume,
    load_checkpoint,
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
        return _train(cfg, run_dir, info, device)
    finally:
        gdist.cleanup(info)


def _train(cfg: dict, run_dir: Path, info: gdist.DistInfo, device: torch.device) -> Path:
    tr = cfg["trainer_cfg"]
    seed = int(tr["seed"])
    total, save_every = int(tr["total_iter"]), int(tr["save_iter"])
    ckpt_dir = run_dir / "checkpoints"
    main = info.is_main
    amp = bool(tr["enable_float16"]) and device.type == "cuda"
    set_cpu_threads(tr.get("num_threads"), device)
    if tr["deterministic"]:
        torch.use_deterministic_algorithms(True, warn_only=True)
    elif device.type == "cuda" and tr.get("cudnn_benchmark", True):
        torch.backends.cudnn.benchmark = True  # training clips have one fixed shape

    resume_path = find_resume(run_dir)
    state = load_checkpoint(resume_path) if resume_path else None
    if main:
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(run_dir / "config.yaml", dump_config(cfg))

    # data first: ensure_dataset may synthesise the cohort (rank 0 only, the others wait)
    if main:
        builders.ensure_dataset(cfg)
    gdist.barrier(info)
    modalities = builders.model_modalities(cfg)
    dataset = builders.build_dataset(cfg, modalities, "train")
    subjects = sorted(set(dataset.subjects))
    if state is not None and state.get("subjects") and list(state["subjects"]) != subjects:
        raise RuntimeError(
            f"{resume_path}: the checkpoint was trained on other identities than this dataset's"
        )
    subject_id = {s: i for i, s in enumerate(subjects)}
    lmap = builders.label_map(cfg)

    seed_everything(seed)  # identical initial weights on every rank
    model = builders.build_model(cfg, getattr(dataset, "layout", None)).to(device)
    loss_fn = builders.build_loss(cfg, distributed=info.enabled).to(device)
    optimizer = builders.build_optimizer(cfg, model.parameters())
    scheduler = builders.build_scheduler(cfg, optimizer)
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    start = 0
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if state.get("scaler") and amp:
            scaler.load_state_dict(state["scaler"])
        start = int(state["iteration"])
        set_rng_state(state["rng"])
        if main:
            print(f"resuming {run_dir} from iteration {start}", file=sys.stderr)
    if info.enabled and device.type == "cuda":
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    net: torch.nn.Module = model
    if info.enabled:
        net = torch.nn.parallel.DistributedDataParallel(
            model,
            device_ids=[device.index] if device.type == "cuda" else None,
            find_unused_parameters=bool(tr["find_unused_parameters"]),
        )

    api = builders.data_api(cfg)
    p, k = tr["sampler"]["batch_size"]
    sampler = api.PKSampler(dataset, p, k, seed=seed, rank=info.rank, world_size=info.world_size)
    nw = int(cfg["data_cfg"]["num_workers"])
    loader = DataLoader(
        SeededItems(dataset),
        batch_sampler=KeyedBatches(sampler, start, seed, info.rank),
        collate_fn=api.collate_clips,
        num_workers=nw,
        pin_memory=device.type == "cuda",
        persistent_workers=False,
        multiprocessing_context=worker_context(device, nw),
    )
    logger = _Logger(run_dir, start, enabled=main)
    last_good = resume_path
    final = ckpt_dir / LATEST
    from tqdm.auto import tqdm

    bar = tqdm(
        total=total, initial=start, desc=f"train {run_dir.name}", unit="it",
        disable=not (main and tr["progress"]), dynamic_ncols=True,
    )
    t0 = time.perf_counter()
    it = start
    try:
        if start >= total:
            if main and not final.is_file():
                raise RuntimeError(f"{run_dir}: nothing to train and no checkpoint")
            return final
        for batch in loader:
            torch.manual_seed(derive_seed(seed, it, info.rank, 1 << 20))
            net.train()
            inputs = {m: batch[m].to(device, non_blocking=True) for m in modalities}
            seq_lens = batch["seq_lens"].to(device)
            labels = lmap[batch["labels"]].to(device)
            ids = torch.tensor([subject_id[s] for s in batch["subjects"]], device=device)
            with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
                out = net(**inputs, seq_lens=seq_lens)
            out = {key: (v.float() if torch.is_tensor(v) and v.is_floating_point() else v) for key, v in out.items()}
            loss, parts = loss_fn(out, labels, ids)
            finite = gdist.all_true(bool(torch.isfinite(loss.detach()).all()), info, device)
            if not finite:
                where = f"last good checkpoint kept: {last_good}" if last_good else "no checkpoint was written"
                raise TrainingDiverged(
                    f"{run_dir}: loss is {loss.item():.4g} (not finite) at iteration {it + 1}; "
                    f"training stopped ({where})"
                )
            lr = optimizer.param_groups[0]["lr"]
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if tr["clip_grad_norm"]:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), float(tr["clip_grad_norm"]))
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            it += 1

            figures = {"loss": _scalar(loss), **{k2: _scalar(v) for k2, v in parts.items()}}
            figures = gdist.mean_across(figures, info, device)
            row = {"iteration": it, **figures, "lr": float(lr), "seconds": time.perf_counter() - t0}
            logger.log(row)
            bar.update(1)
            if it % int(tr["log_iter"]) == 0 or it == total:
                bar.set_postfix(
                    loss=f"{figures['loss']:.3f}",
                    ce=f"{figures.get('ce', float('nan')):.3f}",
                    tri=f"{figures.get('triplet', float('nan')):.3f}",
                    act=f"{figures.get('active_frac', float('nan')):.2f}",
                    acc=f"{figures.get('acc', float('nan')):.2f}",
                    lr=f"{lr:.2g}",
                    refresh=False,
                )
            if it == total and int(tr["precise_bn_batches"]) > 0:
                _precise_bn(cfg, model, dataset, api, seed=seed, rank=info.rank,
                            world_size=info.world_size, device=device, amp=amp)
            if it % save_every == 0 or it == total:
                if main:
                    ckpt_state = {
                        "iteration": it,
                        "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(),
                        "scaler": scaler.state_dict() if amp else None,
                        "rng": rng_state(),
                        "labels": builders.label_order(cfg),
                        "subjects": subjects,
                        "model_name": str(cfg["model_cfg"]["model"]),
                        "modalities": list(modalities),
                        "config": {k2: v for k2, v in cfg.items() if not k2.startswith("_")},
                    }
                    save_checkpoint(final, ckpt_state)
                    if int(tr["keep_checkpoints"]) > 0:
                        snap = ckpt_dir / f"iter_{it:07d}.pt"
                        snap.unlink(missing_ok=True)
                        try:
                            os.link(final, snap)
                        except OSError:
                            save_checkpoint(snap, ckpt_state)
                        prune_iteration_checkpoints(ckpt_dir, int(tr["keep_checkpoints"]))
                last_good = final
                gdist.barrier(info)
            if it >= total:
                break
    finally:
        bar.close()
        logger.close()
    return final


def _precise_bn(
    cfg: Mapping, model: torch.nn.Module, dataset: Dataset, api: Any, *, seed: int,
    rank: int, world_size: int, device: torch.device, amp: bool,
) -> int:
    """Re-estimate the BN running statistics of ``model`` on ``trainer_cfg.precise_bn_batches``
    P×K training batches (``gaitpose.models.precise_bn``), deterministically.

    The batches come from their own sampler stream and item seeds (derived from the run's seed
    and a constant), so the result depends only on the final weights and the seed; the global
    RNG states are restored afterwards, so the checkpoint's RNG state is the training loop's.
    Each rank uses its own share of the batches (SyncBatchNorm, on CUDA DDP, averages them).

    Returns:
        the number of batches used.
    """
    from gaitpose.models import precise_bn

    tr = cfg["trainer_cfg"]
    n = int(tr["precise_bn_batches"])
    p, k = tr["sampler"]["batch_size"]
    saved = rng_state()
    stream_seed = derive_seed(seed, 0x9BE5)
    sampler = api.PKSampler(dataset, p, k, seed=stream_seed, rank=rank, world_size=world_size)
    loader = DataLoader(
        SeededItems(dataset),
        batch_sampler=KeyedBatches(sampler, 0, stream_seed, rank),
        collate_fn=api.collate_clips,
        num_workers=int(cfg["data_cfg"]["num_workers"]),
        persistent_workers=False,
        multiprocessing_context=worker_context(device, int(cfg["data_cfg"]["num_workers"])),
    )
    try:
        torch.manual_seed(stream_seed)
        with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
            used = precise_bn(model, loader, num_batches=n)
    finally:
        set_rng_state(saved)
    return used


def read_train_log(run_dir: str | os.PathLike) -> list[dict[str, float]]:
    """The rows of ``RUN/train_log.csv`` as floats (empty cells → NaN)."""
    with open(Path(run_dir) / "train_log.csv", newline="") as fh:
        return [{k: float(v) if v != "" else float("nan") for k, v in r.items()} for r in csv.DictReader(fh)]
