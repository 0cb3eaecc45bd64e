"""``gaitpose calibrate``: fit the temperature and the operating point on the validation split
and store them in the checkpoint.

The ``calibration`` entry is plain floats, strings, lists and dicts, so the checkpoint still
loads with ``torch.load(weights_only=True)``::

    temperature, score, score_classes, target_specificity, threshold, split, n, n_subjects,
    validation (sensitivity / specificity / 2×2 table at the threshold), before / after
    (ece, brier, nll, brier_score), date (UTC ISO), logit_scale, training_data, domain

``domain`` says what the model was trained on (view, frame rate, walk length), which the
screening quality gate compares a new walk with.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from gaitpose.engine import calibration as cal
from gaitpose.engine.checkpoint import (
    CheckpointError,
    is_gaitpose_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from gaitpose.engine.config import ConfigError, base_config, load_config
from gaitpose.io.atomic import atomic_write_text

CALIBRATION_VERSION = 1


def validation_split() -> str:
    """The split calibration reads (never the test split: the threshold must be fixed before testing)."""
    return "val"


def training_data(cfg: Mapping) -> dict[str, Any]:
    """What the model was trained on: the dataset root, and the synthetic cohort's description
    (``cohort.json``) when the root is one."""
    d = cfg["data_cfg"]
    root = Path(str(d["dataset_root"] or ""))
    info: dict[str, Any] = {"dataset_root": str(root), "dataset_name": str(d.get("dataset_name") or ""),
                            "synthetic": bool(d.get("synth")), "view": None, "fps": None, "frames": None}
    meta_path = root / "cohort.json"
    if meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            meta = {}
        if meta.get("generator") == "gaitpose.synth":
            info["synthetic"] = True
            info["generator"] = f"gaitpose.synth {meta.get('generator_version', '')}".strip()
        for key in ("view", "fps", "frames", "sequences", "subjects", "seed"):
            if key in meta:
                info[key] = meta[key]
    return info


def training_domain(cfg: Mapping, data: Mapping[str, Any]) -> dict[str, Any]:
    """The walks the model was trained on, as the quality gate checks them: view, frame rate
    and length (None where the training data do not say)."""
    ev = cfg["evaluator_cfg"]["sampler"]
    frames = data.get("frames")
    return {
        "view": data.get("view"),
        "fps": data.get("fps"),
        "frames": frames,
        "min_frames": int(cfg["trainer_cfg"]["sampler"]["frames_num_fixed"]),
        "max_frames_read": int(ev.get("frames_all_limit") or 0) or None,
    }


def _fit(logits: np.ndarray, y: np.ndarray, subjects: list[str], score: str, target: float) -> dict[str, Any]:
    temp = cal.fit_temperature(logits, y)
    probs = cal.softmax(logits, temp)
    s = cal.screening_score(probs, score)
    truth = cal.referable(y, score)
    thr = cal.threshold_at_specificity(s, truth, target)
    table = cal.confusion_2x2(s, truth, thr)
    sens, spec = cal.sens_spec(table)
    return {
        "temperature": temp,
        "threshold": thr,
        "validation": {"table": table, "sensitivity": sens, "specificity": spec},
        "before": cal.calibration_measures(logits, y, 1.0, score),
        "after": cal.calibration_measures(logits, y, temp, score),
        "n": int(len(y)),
        "n_subjects": int(len(set(subjects))),
    }


def calibrate(
    config: str | os.PathLike | Mapping | None,
    checkpoint: str | os.PathLike,
    target_specificity: float = 0.90,
    score: str = "positive",
    out: str | os.PathLike | None = None,
    overrides: Iterable[str] | Mapping[str, Any] = (),
    progress: bool = True,
) -> dict[str, Any]:
    """Fit the temperature and the threshold on the validation split; write the checkpoint
    (``out``, default: the input checkpoint, replaced atomically) with a ``calibration`` entry,
    and beside it ``<stem>.calibration.json`` and ``<stem>.reliability.png``.

    Returns:
        The ``calibration`` entry.
    """
    from gaitpose.engine.evaluator import predict_split

    cal.score_classes(score)
    if not 0.0 < target_specificity < 1.0:
        raise ConfigError(f"--target-specificity must lie in (0, 1), got {target_specificity}")
    path = Path(checkpoint)
    state = load_checkpoint(path)
    if not is_gaitpose_checkpoint(state):
        raise CheckpointError(f"{path}: only gaitpose checkpoints can store a calibration")
    if config is None:
        config = state.get("config") or None
        if config is None:
            raise ConfigError(f"{path}: holds no config; pass one")
    cfg = base_config(load_config(config, overrides))
    split = validation_split()
    pred = predict_split(cfg, state, path, split=split, progress=progress)
    fitted = _fit(pred["logits"], pred["labels"], pred["subjects"], score, target_specificity)
    data = training_data(cfg)
    entry = {
        "version": CALIBRATION_VERSION,
        "method": "temperature scaling (NLL on the validation split)",
        "score": score,
        "score_classes": list(cal.score_classes(score)),
        "target_specificity": float(target_specificity),
        "split": split,
        "date": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "logit_scale": float(pred["logit_scale"]),
        "training_data": data,
        "domain": training_domain(cfg, data),
        **fitted,
    }
    state["calibration"] = entry
    target = Path(out) if out is not None else path
    save_checkpoint(target, state)  # the training's own entries (torch_version too) are kept
    stem = target.with_suffix("")
    atomic_write_text(Path(f"{stem}.calibration.json"), json.dumps(entry, indent=2) + "\n")
    cal.plot_reliability(pred["logits"], pred["labels"], entry["temperature"], f"{stem}.reliability.png", score,
                         title=f"validation split, {entry['n']} sequences / {entry['n_subjects']} subjects")
    return entry


def format_calibration(entry: Mapping[str, Any]) -> str:
    """Human-readable summary of a calibration entry."""
    b, a, v = entry["before"], entry["after"], entry["validation"]
    t = v["table"]
    return "\n".join([
        f"validation split: {entry['n']} sequences, {entry['n_subjects']} subjects",
        f"temperature {entry['temperature']:.4f}",
        f"{'':<8}{'ECE':>8}{'Brier':>8}{'NLL':>8}",
        f"{'before':<8}{b['ece']:>8.4f}{b['brier']:>8.4f}{b['nll']:>8.4f}",
        f"{'after':<8}{a['ece']:>8.4f}{a['brier']:>8.4f}{a['nll']:>8.4f}",
        f"screening score P({entry['score']}); refer when score >= {entry['threshold']:.4f} "
        f"(target specificity {entry['target_specificity']:.2f})",
        f"on validation: sensitivity {_num(v['sensitivity'])}, specificity {_num(v['specificity'])} "
        f"(TP {t['tp']} FP {t['fp']} FN {t['fn']} TN {t['tn']})",
    ])


def _num(x) -> str:
    return "n/a" if x is None else f"{x:.3f}"
