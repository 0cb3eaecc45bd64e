"""The model's answer for one walk: calibrated probabilities, the screening score, the
verdict at the stored operating point, and which body parts drove it.

A walk's logits are the model's part logits averaged over parts (and over test windows when
the config cuts them), times the training loss's scale, divided by the calibration's
temperature. The contribution of part p to the decision is its share of the score's logit
margin — for P(positive): ``z_positive - mean(z_other)``; for P(positive + neutral):
``mean(z_positive, z_neutral) - z_negative`` — which, being linear in the part logits, splits
exactly into one term per part: ``scale / (T · P) × margin_p``. Positive terms push towards
referral.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gaitpose import LABELS
from gaitpose.engine.calibration import score_classes, softmax
from gaitpose.io.sequence import Sequence

#: approximate body region of each of the 16 silhouette strips (top to bottom; silhouettes
#: are scaled to the body's height, so strip k covers rows 4k..4k+3 of 64)
STRIP_REGIONS = ("head", "head", "neck", "shoulders", "upper trunk", "upper trunk", "mid trunk",
                 "lower trunk", "pelvis", "hips", "thighs", "thighs", "knees", "shins", "shins", "feet")


@dataclass
class Prediction:
    """One walk's model output (``probabilities`` by class name)."""

    probabilities: dict[str, float]
    score: float
    threshold: float | None
    calibrated: bool
    verdict: str
    contributions: list[dict[str, Any]] = field(default_factory=list)


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def part_names(model: torch.nn.Module, modalities: tuple[str, ...]) -> list[str]:
    """Names of the model's parts in logit order (silhouette strips, then skeleton tokens)."""
    from gaitpose.models.skeleton import DIFF_TOKENS, PART_GROUPS

    strips = [f"silhouette strip {k + 1}/16 ({STRIP_REGIONS[k]})" for k in range(16)]
    tokens = [f"skeleton: {g.replace('_', ' ')}" for g in PART_GROUPS]
    tokens += [f"skeleton: {a.replace('_', ' ')} minus {b.replace('_', ' ')}" for a, b in DIFF_TOKENS]
    names = (strips if "sils" in modalities else []) + (tokens if "pose" in modalities else [])
    return names


class Screener:
    """A checkpoint loaded once, answering for one walk at a time.

    Args:
        checkpoint: a gaitpose checkpoint (its stored config builds the model).
    """

    def __init__(self, checkpoint: str | Path):
        from gaitpose.engine import builders
        from gaitpose.engine.checkpoint import (
            CheckpointError,
            is_gaitpose_checkpoint,
            load_checkpoint,
        )
        from gaitpose.engine.config import base_config, load_config
        from gaitpose.engine.evaluator import _load_weights, logit_scale

        self.path = Path(checkpoint)
        state = load_checkpoint(self.path)
        if not is_gaitpose_checkpoint(state) or not state.get("config"):
            raise CheckpointError(f"{self.path}: not a gaitpose checkpoint with its config")
        self.cfg = base_config(load_config(state["config"]))
        self.modalities = builders.model_modalities(self.cfg)
        layout = self.cfg["model_cfg"].get("layout") or self.cfg["data_cfg"].get("layout")
        self.layout = str(layout) if layout else None
        self.model = builders.build_model(self.cfg, self.layout)
        order = _load_weights(self.model, state, self.path, self.cfg)
        self.model.eval()
        self.columns = [order.index(name) for name in LABELS]
        self.scale = logit_scale(self.cfg)
        self.calibration: dict | None = state.get("calibration")
        self.identity = self._identity(state)
        self.names = part_names(self.model, self.modalities)

    def _identity(self, state: Mapping[str, Any]) -> dict[str, Any]:
        from gaitpose.engine.calibrator import training_data

        cal = self.calibration or {}
        data = cal.get("training_data") or training_data(self.cfg)
        return {
            "checkpoint": str(self.path),
            "sha256": file_sha256(self.path),
            "model": str(self.cfg["model_cfg"]["model"]),
            "iteration": state.get("iteration"),
            "training_data": data,
            "synthetic": bool(data.get("synthetic")),
            "calibrated": bool(cal),
            "calibration_date": cal.get("date"),
            "temperature": cal.get("temperature"),
            "score": cal.get("score", "positive"),
            "threshold": cal.get("threshold"),
            "target_specificity": cal.get("target_specificity"),
        }

    @property
    def domain(self) -> dict[str, Any] | None:
        return (self.calibration or {}).get("domain")

    # ------------------------------------------------------------------ inputs
    def model_inputs(self, seq: Sequence) -> dict[str, torch.Tensor]:
        """The walk as the data layer gives a test sequence: [1, T, 64, 44] / [1, T, V, 3]."""
        from gaitpose.data.dataset import align_modalities, crop_sils
        from gaitpose.io.opengait import pose_to_pkl

        det = np.asarray(seq.detected, bool)
        sils = pose = None
        if "sils" in self.modalities:
            sils = np.asarray(seq.silhouettes, np.uint8).copy()
            sils[~det] = 0
        if "pose" in self.modalities:
            pose = pose_to_pkl(seq.keypoints)
            pose[~det] = 0
            if self.layout == "coco17" and pose.shape[1] == 33:
                from graphs import mediapipe_to_coco

                pose = np.ascontiguousarray(mediapipe_to_coco(pose))
        sils, pose = align_modalities(sils, pose)
        limit = int(self.cfg["evaluator_cfg"]["sampler"]["frames_all_limit"])
        out = {}
        if sils is not None:
            out["sils"] = torch.from_numpy(crop_sils(sils[:limit]))[None]
        if pose is not None:
            out["pose"] = torch.from_numpy(np.ascontiguousarray(pose[:limit], np.float32))[None]
        return out

    @torch.no_grad()
    def part_logits(self, seq: Sequence) -> np.ndarray:
        """Part logits [C, P] (columns of ``gaitpose.LABELS``), averaged over test windows."""
        from gaitpose.engine.evaluator import window_starts

        inputs = self.model_inputs(seq)
        n = next(iter(inputs.values())).shape[1]
        s = self.cfg["evaluator_cfg"]["sampler"]
        clip = s.get("clip_frames") or n
        starts = window_starts(n, clip, s.get("clip_stride") or clip)
        k = min(clip, n)
        batch = {m: torch.cat([x[:, a:a + k] for a in starts]) for m, x in inputs.items()}
        lens = torch.full((len(starts),), k, dtype=torch.long)
        out = self.model(**{m: batch.get(m) for m in self.modalities}, seq_lens=lens)["logits"].float()
        lg = out.mean(0).numpy().astype(np.float64)  # [C, P]
        return lg[self.columns]

    # ------------------------------------------------------------------ answer
    def predict(self, seq: Sequence) -> Prediction:
        lg = self.part_logits(seq) * self.scale  # [C, P]
        cal = self.calibration
        temp = float(cal["temperature"]) if cal else 1.0
        probs = softmax(lg.mean(axis=1)[None], temp)[0]
        score_name = cal["score"] if cal else "positive"
        idx = [LABELS.index(c) for c in score_classes(score_name)]
        score = float(probs[idx].sum())
        if cal:
            thr = float(cal["threshold"])
            verdict = "refer" if score >= thr else "no referral"
        else:
            thr, verdict = None, "uncalibrated"
        return Prediction(
            probabilities={name: float(p) for name, p in zip(LABELS, probs)},
            score=score, threshold=thr, calibrated=bool(cal), verdict=verdict,
            contributions=self.contributions(lg, idx, temp),
        )

    def contributions(self, lg: np.ndarray, idx: list[int], temp: float) -> list[dict[str, Any]]:
        """Each part's term of the score's logit margin (see the module docstring)."""
        others = [k for k in range(lg.shape[0]) if k not in idx]
        margin = lg[idx].mean(axis=0) - lg[others].mean(axis=0)  # [P]
        terms = margin / (temp * lg.shape[1])
        names = self.names if len(self.names) == len(terms) else [f"part {p + 1}" for p in range(len(terms))]
        return [{"part": n, "contribution": float(v)} for n, v in zip(names, terms)]
