"""pyskl skeleton annotation pkls (read and written).

Format (pyskl's ``tools/data`` convention)::

    {"split": {"train": [frame_dir, ...], "test": [...]},
     "annotations": [{"frame_dir": str, "total_frames": T, "img_shape": (h, w),
                      "original_shape": (h, w), "label": int,
                      "keypoint": float32 [M, T, V, 2], "keypoint_score": float32 [M, T, V]}]}

gaitpose writes one person (M = 1); missing joints are ``x = y = 0, score = 0`` (read back
as NaN). Reading takes the first person (M index 0) of each annotation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gaitpose.io.safe_pickle import dump_pickle, load_pickle
from gaitpose.io.sequence import Sequence, SequenceFormatError

LAYOUT_BY_JOINTS = {33: "mediapipe33", 17: "coco17"}


class PysklFormatError(ValueError):
    """A pkl is not a pyskl annotation file (message names the file)."""


@dataclass
class PysklItem:
    """One annotation: its name (``frame_dir``), label (-1 unknown), split name, sequence."""

    name: str
    label: int
    split: str | None
    sequence: Sequence


def sequence_to_annotation(seq: Sequence, frame_dir: str, label: int = -1) -> dict:
    """One Sequence → a pyskl annotation dict (M = 1)."""
    kp = np.array(seq.keypoints, np.float32, copy=True)
    bad = ~np.isfinite(kp[..., :2]).all(-1) | ~(kp[..., 2] > 0)
    kp[bad] = 0.0
    return {
        "frame_dir": str(frame_dir),
        "total_frames": int(seq.num_frames),
        "img_shape": tuple(int(v) for v in seq.image_size),
        "original_shape": tuple(int(v) for v in seq.image_size),
        "label": int(label),
        "keypoint": np.ascontiguousarray(kp[None, ..., :2]),
        "keypoint_score": np.ascontiguousarray(kp[None, ..., 2]),
    }


def write_pyskl(
    path: str | os.PathLike,
    items: list[tuple[str, Sequence, int]],
    split: dict[str, list[str]] | None = None,
) -> Path:
    """Write ``[(frame_dir, sequence, label), ...]`` as one pyskl pkl (atomic, protocol 4).

    ``split`` defaults to ``{"all": [every frame_dir]}``.
    """
    anns = [sequence_to_annotation(seq, name, label) for name, seq, label in items]
    if split is None:
        split = {"all": [a["frame_dir"] for a in anns]}
    dump_pickle(path, {"split": {k: list(v) for k, v in split.items()}, "annotations": anns})
    return Path(path)


def is_pyskl(obj) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("annotations"), list)


def annotation_to_sequence(ann: dict, fps: float = 30.0, where: str = "") -> Sequence:
    """One pyskl annotation → Sequence (first person; score-0 joints become NaN)."""
    try:
        kp = np.asarray(ann["keypoint"], np.float32)
    except KeyError:
        raise PysklFormatError(f"{where}: annotation without 'keypoint'") from None
    if kp.ndim == 3:
        kp = kp[None]
    if kp.ndim != 4 or kp.shape[-1] not in (2, 3):
        raise PysklFormatError(f"{where}: keypoint must be [M, T, V, 2], got {list(kp.shape)}")
    if kp.shape[-1] == 3:
        xy, score = kp[0, ..., :2], kp[0, ..., 2]
    else:
        xy = kp[0]
        if "keypoint_score" in ann:
            score = np.asarray(ann["keypoint_score"], np.float32)
            score = score[0] if score.ndim == 3 else score
        else:
            score = (~((xy[..., 0] == 0) & (xy[..., 1] == 0))).astype(np.float32)
    V = xy.shape[1]
    if V not in LAYOUT_BY_JOINTS:
        raise PysklFormatError(f"{where}: {V} joints (expected 17 or 33)")
    out = np.concatenate([xy, score[..., None]], -1).astype(np.float32)
    bad = ~(out[..., 2] > 0) | ~np.isfinite(out[..., :2]).all(-1)
    out[bad, :2] = np.nan
    out[bad, 2] = 0.0
    shape = ann.get("original_shape") or ann.get("img_shape") or (0, 0)
    try:
        return Sequence(keypoints=out, fps=fps, image_size=tuple(shape), layout=LAYOUT_BY_JOINTS[V],
                        meta={"source": where, "format": "pyskl", "frame_dir": str(ann.get("frame_dir", ""))})
    except SequenceFormatError as exc:
        raise PysklFormatError(f"{where}: {exc}") from None


def read_pyskl(path: str | os.PathLike, fps: float = 30.0) -> list[PysklItem]:
    """Read a pyskl pkl → one :class:`PysklItem` per annotation."""
    path = Path(path)
    obj = load_pickle(path)
    if not is_pyskl(obj):
        raise PysklFormatError(f"{path}: not a pyskl annotation file (no 'annotations' list)")
    split_of: dict[str, str] = {}
    for name, members in (obj.get("split") or {}).items():
        for m in members:
            split_of.setdefault(str(m), str(name))
    items = []
    for k, ann in enumerate(obj["annotations"]):
        name = str(ann.get("frame_dir", f"{path.stem}_{k:05d}"))
        seq = annotation_to_sequence(ann, fps, f"{path} [{name}]")
        items.append(PysklItem(name, int(ann.get("label", -1)), split_of.get(name), seq))
    return items
