"""Evaluate a checkpoint on a config's validation or test split: whole sequences, all frames in order.

Accepts gaitpose checkpoints and OpenGait ScoNet checkpoints (a dict whose ``model`` entry is
a state dict in OpenGait's parameter names, loaded through ``ScoNet.load_opengait``). A
modality can be removed at test time (``drop_modalities``) for models that accept a missing
stream (the fusion model), to measure what each stream contributes.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from gaitpose import LABELS
from gaitpose.data import collate_clips
from gaitpose.engine import builders
from gaitpose.engine.checkpoint import (
    CheckpointError,
    is_gaitpose_checkpoint,
    is_opengait_checkpoint,
    load_checkpoint,
)
from gaitpose.engine.config import ConfigError, base_config, load_config
from gaitpose.engine.distributed import resolve_device
from gaitpose.engine.metrics import classification_report, probabilities, write_report
from gaitpose.io.atomic import atomic_write_text


def _load_weights(model: torch.nn.Module, state: dict, path: Path, cfg: Mapping) -> list[str]:
    """Load weights into ``model``; return the label order of the checkpoint's logits."""
    if is_gaitpose_checkpoint(state):
        try:
            model.load_state_dict(state["model"])
        except RuntimeError as exc:
            first = str(exc).splitlines()[0]
            raise CheckpointError(f"{path}: weights do not fit the config's model ({first})") from None
        return [str(x) for x in state.get("labels") or LABELS]
    if is_opengait_checkpoint(state):
        loader = getattr(model, "load_opengait", None)
        if loader is None:
            raise CheckpointError(
                f"{path}: an OpenGait checkpoint can only be loaded into ScoNet "
                f"(model_cfg.model is {cfg['model_cfg']['model']!r})"
            )
        try:
            loader(state["model"])
        except (RuntimeError, KeyError, ValueError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise CheckpointError(f"{path}: cannot load OpenGait weights ({first})") from None
        order = cfg["evaluator_cfg"]["checkpoint_label_order"] or builders.label_order(cfg)
        return [str(x).lower() for x in order]
    raise CheckpointError(f"{path}: neither a gaitpose nor an OpenGait checkpoint (no 'model' entry)")


def logit_scale(cfg: Mapping) -> float:
    """The factor the training loss applies to the model's logits before its softmax
    (``loss_cfg``'s loss ``scale`` attribute; 1 for a loss without one)."""
    try:
        return float(getattr(builders.build_loss(cfg), "scale", 1.0))
    except Exception:  # noqa: BLE001 - an unbuildable loss (e.g. OpenGait-only kwargs): unscaled
        return 1.0


def _forward(model, inputs: dict, seq_lens: torch.Tensor, amp: bool, device: torch.device):
    with torch.autocast(device.type, dtype=torch.float16, enabled=amp and device.type == "cuda"):
        return model(**inputs, seq_lens=seq_lens)


def _part_mean(out: dict) -> torch.Tensor:
    lg = out["logits"].float()
    return lg.mean(-1) if lg.ndim == 3 else lg


def window_starts(length: int, clip: int, stride: int) -> list[int]:
    """Start frames of the test windows of a ``length``-frame sequence (the last one ends at the
    last frame; one window when the sequence is no longer than ``clip``)."""
    if clip <= 0 or stride <= 0:
        raise ValueError("clip_frames and clip_stride must be positive")
    if length <= clip:
        return [0]
    starts = list(range(0, length - clip + 1, stride))
    if starts[-1] != length - clip:
        starts.append(length - clip)
    return starts


def _windows_logits(model, item: dict, length: int, clip: int, stride: int, amp: bool,
                    device: torch.device) -> torch.Tensor:
    """Mean over the windows of one sequence of the part-averaged logits [C]."""
    starts = window_starts(length, clip, stride)
    n = min(clip, length)
    inputs = {m: None if x is None else torch.stack([x[s:s + n] for s in starts]) for m, x in item.items()}
    lens = torch.full((len(starts),), n, dtype=torch.long, device=device)
    return _part_mean(_forward(model, inputs, lens, amp, device)).mean(0)


@torch.no_grad()
def predict(
    model: torch.nn.Module,
    dataset,
    collate_fn,
    modalities: tuple[str, ...],
    device: torch.device,
    batch_size: int = 1,
    amp: bool = False,
    drop: Iterable[str] = (),
    num_workers: int = 0,
    progress: bool = True,
    clip_frames: int | None = None,
    clip_stride: int | None = None,
) -> dict[str, Any]:
    """Part-averaged logits of every sequence.

    With ``clip_frames``, each sequence is cut into windows of that many frames, starting every
    ``clip_stride`` frames (default ``clip_frames``; the last window ends at the last frame), and
    the windows' part-averaged logits are averaged: models that pool over time with a maximum
    are then tested on clips as long as the ones they were trained on, and still see the whole
    sequence. A sequence shorter than ``clip_frames`` is one window.

    Returns:
        ``logits`` float64 [N, C], ``labels`` int [N] (data-layer order), ``ids`` list[str].
    """
    from tqdm.auto import tqdm

    drop = set(drop)
    from gaitpose.engine.trainer import worker_context

    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=collate_fn,
                        num_workers=num_workers,
                        multiprocessing_context=worker_context(device, num_workers))
    model.eval()
    logits, labels, ids = [], [], []
    for batch in tqdm(loader, desc="evaluate", unit="seq", disable=not progress, dynamic_ncols=True):
        inputs = {m: (None if m in drop else batch[m].to(device)) for m in modalities}
        seq_lens = batch["seq_lens"].to(device)
        if clip_frames:
            lg = torch.stack([
                _windows_logits(model, {m: None if x is None else x[i] for m, x in inputs.items()},
                                int(seq_lens[i]), clip_frames, clip_stride or clip_frames, amp, device)
                for i in range(len(seq_lens))
            ])
        else:
            lg = _part_mean(_forward(model, inputs, seq_lens, amp, device))
        logits.append(lg.cpu().double())
        labels.append(batch["labels"].cpu())
        ids.extend(batch["ids"])
    return {
        "logits": torch.cat(logits).numpy() if logits else np.zeros((0, 0)),
        "labels": torch.cat(labels).numpy() if labels else np.zeros(0, dtype=np.int64),
        "ids": ids,
    }


def evaluation_config(config, state: Mapping, path: Path, overrides, split: str | None) -> dict:
    """The resolved config of an evaluation (the checkpoint's own when ``config`` is None),
    with ``evaluator_cfg.split`` set to ``split`` when given."""
    if config is None:
        if not is_gaitpose_checkpoint(state) or not state.get("config"):
            raise ConfigError(f"{path}: holds no config; pass one")
        config = state["config"]
    cfg = base_config(load_config(config, overrides))
    if split is not None:
        if split not in ("val", "test"):
            raise ConfigError(f"split must be val or test, got {split!r}")
        cfg["evaluator_cfg"]["split"] = split
    return cfg


def _provenance(cfg: Mapping, state: Mapping, path: Path, drop, ckpt_labels) -> dict:
    """What a report was computed from: checkpoint, data, split, test-time options."""
    d, ev = cfg["data_cfg"], cfg["evaluator_cfg"]
    iteration = state.get("iteration", -1)
    return dict(
        checkpoint=str(path),
        checkpoint_format="gaitpose" if is_gaitpose_checkpoint(state) else "opengait",
        iteration=int(iteration) if isinstance(iteration, int) else -1,
        dataset_name=str(d["dataset_name"]),
        dataset_root=str(d["dataset_root"]),
        partition=str(d["dataset_partition"] or "ROOT/partition.json (if present)"),
        val_carve=d.get("val_carve"),
        split=ev["split"],
        dropped_modalities=list(drop),
        label_order=list(LABELS),
        checkpoint_label_order=ckpt_labels,
        test_clip_frames=ev["sampler"].get("clip_frames"),
        test_clip_stride=ev["sampler"].get("clip_stride"),
        model=str(cfg["model_cfg"]["model"]),
    )


def write_predictions(path: Path, ids, subjects, labels, probs: np.ndarray) -> None:
    """One row per sequence: id, subject, true and predicted class, class probabilities."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "subject", "true", "pred", *[f"p_{name}" for name in LABELS]])
    for sid, subj, y, pr in zip(ids, subjects, labels, probs):
        w.writerow([sid, subj, LABELS[int(y)], LABELS[int(pr.argmax())], *[f"{p:.5f}" for p in pr]])
    atomic_write_text(path, buf.getvalue())


def evaluate(
    config: str | os.PathLike | Mapping | None,
    checkpoint: str | os.PathLike,
    out: str | os.PathLike | None = None,
    overrides: Iterable[str] | Mapping[str, Any] = (),
    drop_modalities: Iterable[str] = (),
    progress: bool = True,
    split: str | None = None,
) -> dict:
    """Metrics of ``checkpoint`` on the config's validation or test split.

    Args:
        config: YAML path / dict; None uses the config stored in a gaitpose checkpoint.
        checkpoint: a gaitpose checkpoint or an OpenGait ScoNet checkpoint.
        out: metrics JSON path; beside it go ``<stem>.confusion.png``, ``<stem>.per_class.csv``
            / ``.md`` and ``<stem>.predictions.csv``.
        overrides: config overrides (as for training).
        drop_modalities: streams to remove at test time (e.g. ``("pose",)``).
        split: ``"val"`` or ``"test"``; None: ``evaluator_cfg.split`` (default test).

    Returns:
        :func:`gaitpose.engine.metrics.classification_report` plus ``checkpoint``, ``partition``,
        ``split``, ``dropped_modalities``, ``label_order`` and ``iteration``.
    """
    path = Path(checkpoint)
    state = load_checkpoint(path)
    cfg = evaluation_config(config, state, path, overrides, split)
    device = resolve_device(cfg["trainer_cfg"]["device"])
    from gaitpose.engine.trainer import set_cpu_threads

    set_cpu_threads(cfg["trainer_cfg"].get("num_threads"), device)
    modalities = builders.model_modalities(cfg)
    drop = tuple(drop_modalities)
    unknown = set(drop) - set(modalities)
    if unknown:
        raise ConfigError(f"cannot drop {sorted(unknown)}: the model uses {list(modalities)}")
    if drop and len(drop) == len(modalities):
        raise ConfigError("cannot drop every modality")
    dataset = builders.build_dataset(cfg, modalities, cfg["evaluator_cfg"]["split"])
    model = builders.build_model(cfg, getattr(dataset, "layout", None))
    ckpt_labels = _load_weights(model, state, path, cfg)
    if sorted(ckpt_labels) != sorted(LABELS):
        raise CheckpointError(f"{path}: label order {ckpt_labels} is not a permutation of {list(LABELS)}")
    ev = cfg["evaluator_cfg"]
    pred = predict(
        model.to(device), dataset, collate_clips, modalities, device,
        batch_size=int(ev["sampler"]["batch_size"]), amp=bool(ev["enable_float16"]), drop=drop,
        num_workers=int(cfg["data_cfg"]["num_workers"]), progress=progress,
        clip_frames=ev["sampler"].get("clip_frames"), clip_stride=ev["sampler"].get("clip_stride"),
    )
    # logits columns in the checkpoint's label order → report in gaitpose.LABELS order
    logits = pred["logits"][:, [ckpt_labels.index(name) for name in LABELS]]
    # probabilities as the model was trained to give them: the loss scales the (cosine) logits
    # before its softmax (ScoNet-MT: 16), so softmax(scale * logits), not softmax(logits)
    # (near-uniform: a positive walk would read p_positive ≈ 0.35)
    scale = logit_scale(cfg)
    subjects = list(getattr(dataset, "subjects", pred["ids"]))
    report = classification_report(pred["labels"], logits, labels=LABELS, bootstrap=int(ev["bootstrap"]),
                                   seed=0, subjects=subjects, logit_scale=scale)
    report.update(_provenance(cfg, state, path, drop, ckpt_labels))
    if out is not None:
        out = Path(out)
        title = f"{out.stem}: acc {report['accuracy']:.3f}, macro-F1 {report['macro_f1']:.3f}"
        write_report(report, out, title=title)
        write_predictions(Path(f"{out.with_suffix('')}.predictions.csv"), pred["ids"], subjects,
                          pred["labels"], probabilities(logits, scale))
    return report
