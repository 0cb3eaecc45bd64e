"""Finding and loading the inputs of ``gaitpose features``: Sequence ``.npz`` files, folders of
them, and OpenGait trees ``ROOT/<id>/<class>/<view>/<modality>.pkl`` with a pose modality.

A minimal reader kept inside the features package (the data helper has its own for torch
datasets); pkl files go through :func:`gaitpose.io.load_pickle` only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaitpose.io import load_pickle, load_sequence

__all__ = ["InputError", "SequenceInput", "LoadedSequence", "discover_inputs", "load_input"]

_LABELS = ("negative", "neutral", "positive")
_LAYOUTS = {33: "mediapipe33", 17: "coco17"}


class InputError(ValueError):
    """An input cannot be read (the message names the file and the reason)."""


@dataclass(frozen=True)
class SequenceInput:
    """One sequence to process."""

    id: str
    source: Path  #: the .npz file, or the OpenGait view folder
    kind: str  #: "npz" or "opengait"
    label: str = ""
    view: str = ""
    fps: float | None = None  #: known fps for OpenGait trees (cohort.json or --fps)
    fps_error: str = ""  #: why fps is unknown (OpenGait trees)


@dataclass
class LoadedSequence:
    """Arrays of one sequence. Shapes: keypoints [T, V, 3]; world [T, V, 3] or None; detected [T]."""

    keypoints: np.ndarray
    fps: float
    layout: str
    world: np.ndarray | None = None
    detected: np.ndarray | None = None
    label: str = ""
    meta: dict = field(default_factory=dict)  #: the Sequence's meta (npz inputs)


def _norm_label(name: str) -> str:
    low = name.lower()
    return low if low in _LABELS else name


def _tree_fps(root: Path, fps: float | None) -> tuple[float | None, str]:
    if fps is not None:
        return float(fps), ""
    meta = root / "cohort.json"
    if meta.is_file():
        try:
            value = json.loads(meta.read_text()).get("fps")
            if value is not None and float(value) > 0:
                return float(value), ""
            return None, f"{meta} has no positive 'fps'"
        except (OSError, ValueError, TypeError) as exc:
            return None, f"{meta} unreadable ({exc})"
    return (
        None,
        f"fps unknown for OpenGait tree {root}: pass --fps or put cohort.json (with fps) beside the tree",
    )


def discover_inputs(
    paths: list[str | os.PathLike], fps: float | None = None
) -> tuple[list[SequenceInput], list[str]]:
    """Expand files and folders into :class:`SequenceInput` items.

    Folders are searched recursively for ``*.npz`` files and for OpenGait view folders (a
    folder holding ``*.pkl`` files, three levels below the tree root). fps of a tree comes
    from ``fps`` when given, else from ``ROOT/cohort.json``.

    Returns:
        (items, errors): errors are one-line messages for paths that yield nothing.
    """
    items: list[SequenceInput] = []
    errors: list[str] = []
    seen: set[Path] = set()
    for p in map(Path, paths):
        if p.is_file():
            if p.suffix.lower() == ".npz":
                if p.resolve() not in seen:
                    seen.add(p.resolve())
                    items.append(SequenceInput(id=p.stem, source=p, kind="npz"))
            elif p.suffix.lower() == ".pkl":
                items.append(_tree_item(p.parent, fps))
            else:
                errors.append(f"{p}: not a Sequence .npz file, a pkl, or a folder")
            continue
        if not p.is_dir():
            errors.append(f"{p}: no such file or directory")
            continue
        found = 0
        for f in sorted(p.rglob("*.npz")):
            if f.name.startswith(".") or f.resolve() in seen:
                continue
            seen.add(f.resolve())
            items.append(SequenceInput(id=f.stem, source=f, kind="npz"))
            found += 1
        view_dirs = sorted({f.parent for f in p.rglob("*.pkl") if not f.name.startswith(".")})
        for vd in view_dirs:
            if vd.resolve() in seen:
                continue
            seen.add(vd.resolve())
            items.append(_tree_item(vd, fps))
            found += 1
        if not found:
            errors.append(f"{p}: no Sequence .npz files or OpenGait pkl files found")
    return items, errors


def _tree_item(view_dir: Path, fps: float | None) -> SequenceInput:
    cls_dir = view_dir.parent
    id_dir = cls_dir.parent
    root = id_dir.parent
    f, err = _tree_fps(root, fps)
    return SequenceInput(
        id=id_dir.name, source=view_dir, kind="opengait", label=_norm_label(cls_dir.name),
        view=view_dir.name, fps=f, fps_error=err,
    )  # fmt: skip


def _pose_pkl(view_dir: Path) -> np.ndarray:
    pkls = sorted(q for q in view_dir.glob("*.pkl") if not q.name.startswith("."))
    ordered = [q for q in pkls if "pose" in q.name.lower()] + [
        q for q in pkls if "pose" not in q.name.lower() and "sil" not in q.name.lower()
    ]
    for q in ordered:
        try:
            arr = load_pickle(q)
        except Exception as exc:  # noqa: BLE001 - report any unreadable pickle
            raise InputError(f"{q}: unreadable pkl ({exc})") from None
        if isinstance(arr, dict):
            arr = next((v for k, v in arr.items() if "keypoint" in str(k) or "pose" in str(k)), arr)
        arr = np.asarray(arr) if not isinstance(arr, dict) else None
        if arr is not None and arr.ndim == 3 and arr.shape[1] in _LAYOUTS and arr.shape[2] >= 3:
            return arr
    raise InputError(f"{view_dir}: no pose modality (a pkl with a [T, 17|33, 3] array)")


def load_input(item: SequenceInput) -> LoadedSequence:
    """Load the arrays of one input (raises :class:`InputError` naming the file)."""
    if item.kind == "npz":
        try:
            seq = load_sequence(item.source)
        except Exception as exc:  # noqa: BLE001 - SequenceFormatError or anything unexpected
            raise InputError(
                str(exc) if str(item.source) in str(exc) else f"{item.source}: {exc}"
            ) from None
        label = (
            seq.meta.get("class", seq.meta.get("label", "")) if isinstance(seq.meta, dict) else ""
        )
        return LoadedSequence(
            keypoints=seq.keypoints, fps=seq.fps, layout=seq.layout, world=seq.world,
            detected=seq.detected, label=_norm_label(str(label)) if label else "",
            meta=seq.meta if isinstance(seq.meta, dict) else {},
        )  # fmt: skip
    if item.fps is None:
        raise InputError(f"{item.source}: {item.fps_error}")
    arr = _pose_pkl(item.source).astype(np.float32)[..., :3]
    kp = arr.copy()
    missing = (kp[..., 2] <= 0) | ~np.isfinite(kp[..., :2]).all(-1)
    kp[missing, :2] = np.nan
    kp[missing, 2] = 0.0
    return LoadedSequence(
        keypoints=kp, fps=item.fps, layout=_LAYOUTS[kp.shape[1]], label=item.label
    )
