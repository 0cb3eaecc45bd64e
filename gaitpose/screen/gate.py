"""The quality gate: is this walk good enough, and like enough to the training walks, to judge?

A walk passes when every check below passes; otherwise its verdict is ``insufficient video``
with every failed check as a reason, and no probability is given for it.

Checks (thresholds in :class:`GateParams`):

* strides: at least ``min_strides`` complete strides on each side (gait events of the
  features pipeline);
* person: a person found in at least ``min_person_fraction`` of the frames;
* track: no jump of the tracked person (keypoints: the mid-hip leaps between frames), and,
  when the Sequence's meta records tracking (several people, the chosen track), no switch of
  the chosen track;
* keypoint confidence: the trunk and leg keypoints valid (score >= 0.5) in at least
  ``min_keypoint_fraction`` of the frames, and their mean confidence at least
  ``min_confidence`` where a person was found;
* the training domain (the ``domain`` stored by ``gaitpose calibrate``): the same view
  (a model trained on frontal walks does not judge a side view), a frame rate within a factor
  ``fps_tolerance`` of the training one, and at least ``min_duration_fraction`` of the
  training walks' duration (and the training clip length in frames);
* the model's inputs: silhouettes present when the model reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gaitpose.features.clean import REQUIRED
from gaitpose.features.pipeline import sequence_features
from gaitpose.io.sequence import Sequence
from graphs.layouts import get_layout


@dataclass(frozen=True)
class GateParams:
    """Thresholds of the quality gate."""

    min_strides: int = 2  #: complete strides per side (a 5 s walk at a normal cadence has 2–4)
    min_person_fraction: float = 0.8
    min_keypoint_fraction: float = 0.5
    min_confidence: float = 0.5
    fps_tolerance: float = 1.5  #: walk fps within [train / tol, train * tol]
    min_duration_fraction: float = 0.5  #: of the training walks' duration


@dataclass
class GateResult:
    """Outcome of :func:`quality_gate`: ``qc`` values shown in the report, ``reasons`` (empty
    when passed), ``features`` (the walk's feature row, QC columns included)."""

    passed: bool
    reasons: list[str]
    qc: dict[str, Any]
    features: dict[str, Any] = field(default_factory=dict)


def tracking_meta(meta: Mapping[str, Any]) -> dict[str, Any]:
    """People seen, chosen track and track switches from a Sequence's meta, when recorded
    (keys ``tracking`` or ``tracks``, each a dict); empty when the extraction did not track."""
    for key in ("tracking", "tracks", "track"):
        t = meta.get(key)
        if isinstance(t, Mapping):
            out: dict[str, Any] = {}
            for name, keys in (("people", ("people", "num_people", "people_count", "persons")),
                               ("chosen_track", ("chosen_track", "chosen", "track_id", "subject_track")),
                               ("switches", ("switches", "track_switches", "num_switches", "id_switches"))):
                for k in keys:
                    if k in t:
                        out[name] = t[k]
                        break
            return out
    return {}


def keypoint_confidence(seq: Sequence) -> float:
    """Mean score of the required (trunk and leg) keypoints over the frames with a person."""
    lay = get_layout(seq.layout)
    idx = [lay.index(n) for n in REQUIRED if lay.has(n)]
    det = np.asarray(seq.detected, bool)
    if not det.any() or not idx:
        return 0.0
    scores = np.nan_to_num(seq.keypoints[det][:, idx, 2], nan=0.0)
    return float(scores.mean())


def _domain_reasons(row: Mapping[str, Any], domain: Mapping[str, Any] | None, p: GateParams,
                    qc: dict[str, Any]) -> list[str]:
    """Does the walk fit the training walks (view, frame rate, length)?"""
    if not domain:
        qc["domain_checked"] = "no (the model records no training domain: run gaitpose calibrate)"
        return []
    reasons = []
    view, fps, frames = domain.get("view"), domain.get("fps"), domain.get("frames")
    qc["training_view"], qc["training_fps"], qc["training_frames"] = view, fps, frames
    facing = row.get("qc_facing")
    if view and facing != view:
        seen = {"mixed": "the view changes during the walk", "unknown": "the view cannot be told"}.get(
            str(facing), f"a {facing} view")
        reasons.append(f"{seen}; the model was trained on {view}-view walks only")
    if fps:
        lo, hi = float(fps) / p.fps_tolerance, float(fps) * p.fps_tolerance
        if not lo <= float(row["qc_fps"]) <= hi:
            reasons.append(f"frame rate {row['qc_fps']:.1f} fps; the model was trained at {float(fps):.0f} fps "
                           f"(accepted {lo:.0f}–{hi:.0f})")
    need_s = p.min_duration_fraction * float(frames) / float(fps) if frames and fps else None
    if need_s and float(row["qc_duration_s"]) < need_s:
        reasons.append(f"walk lasts {row['qc_duration_s']:.1f} s; at least {need_s:.1f} s needed "
                       f"(training walks: {float(frames) / float(fps):.1f} s)")
    min_frames = domain.get("min_frames")
    if min_frames and int(row["qc_frames"]) < int(min_frames):
        reasons.append(f"{row['qc_frames']} frames; the model reads clips of {min_frames}")
    qc["domain_checked"] = "yes"
    return reasons


def _walk_reasons(row: Mapping[str, Any], conf: float, track: Mapping[str, Any], p: GateParams) -> list[str]:
    """Is the walk itself good enough (strides, person, track, keypoints)?"""
    reasons = []
    n_l, n_r = int(row["qc_strides_left"]), int(row["qc_strides_right"])
    if min(n_l, n_r) < p.min_strides:
        reasons.append(f"too few complete strides: left {n_l}, right {n_r} (at least {p.min_strides} a side)")
    if row["qc_person_fraction"] < p.min_person_fraction:
        reasons.append(f"person found in {row['qc_person_fraction']:.0%} of the frames "
                       f"(at least {p.min_person_fraction:.0%})")
    if int(row["qc_track_jumps"]):
        reasons.append(f"the tracked person jumps {row['qc_track_jumps']} time(s) (another person or a cut)")
    if track.get("switches"):
        reasons.append(f"the chosen track switches {track['switches']} time(s) between people")
    low = [n for n in REQUIRED if not row.get(f"qc_valid_{n}", 0.0) >= p.min_keypoint_fraction]
    if low:
        reasons.append(f"keypoints found in under {p.min_keypoint_fraction:.0%} of the frames: {', '.join(low)}")
    if conf < p.min_confidence:
        reasons.append(f"mean keypoint confidence {conf:.2f} (at least {p.min_confidence:.2f})")
    return reasons


def quality_gate(seq: Sequence, domain: Mapping[str, Any] | None = None, needs_silhouettes: bool = False,
                 params: GateParams | None = None) -> GateResult:
    """Run every check on one walk; see the module docstring."""
    p = params or GateParams()
    row = sequence_features(seq.keypoints, seq.fps, seq.layout, seq.world, seq.detected).row
    conf = keypoint_confidence(seq)
    track = tracking_meta(seq.meta)
    qc: dict[str, Any] = {k: row[k] for k in row if k.startswith("qc_")}
    qc["keypoint_confidence"] = conf
    qc.update({f"tracking_{k}": v for k, v in track.items()})
    reasons = _walk_reasons(row, conf, track, p) + _domain_reasons(row, domain, p, qc)
    if needs_silhouettes and seq.silhouettes is None:
        reasons.append("no silhouettes in this Sequence file; the model reads them")
    features = {k: v for k, v in row.items() if not k.startswith("qc_") and k not in ("usable", "usable_reason")}
    return GateResult(passed=not reasons, reasons=reasons, qc=qc, features=features)
