"""OpenGait trees: ``ROOT/<id>/<class>/<view>/<modality>.pkl`` (read and written).

Each pkl holds one numpy array: silhouettes uint8 [T, 64, 64] (or OpenGait's 64×44
cut), pose float32 [T, V, 3] (x px, y px, score) or [T, V, 2]. Class folders are
``negative`` / ``neutral`` / ``positive`` in any case. Pose pkls are stored NaN-free:
missing joints are ``x = y = 0, score = 0``; readers turn score-0 joints back into NaN.

Partitions: ``{"TRAIN_SET": [ids], "TEST_SET": [ids]}``, optionally ``"VAL_SET"``. Every pkl is read through the
restricted unpickler :func:`gaitpose.io.load_pickle`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaitpose import LABELS
from gaitpose.io.atomic import atomic_write_text
from gaitpose.io.safe_pickle import dump_pickle, load_pickle
from gaitpose.io.sequence import Sequence, SequenceFormatError

SILS_NAMES = ("sils", "sil", "silhouette", "silhouettes")
POSE_NAMES = ("pose", "poses", "skeleton", "keypoints", "pose17", "pose33")
LAYOUT_BY_JOINTS = {33: "mediapipe33", 17: "coco17"}


class OpenGaitFormatError(ValueError):
    """A pkl or tree does not follow the OpenGait layout (message names the file)."""


@dataclass
class OpenGaitRecord:
    """One sequence folder of a tree: ``root/<id>/<class>/<view>/``.

    ``paths`` maps a modality (``"sils"``, ``"pose"``) to its pkl; pkls whose name does not
    say the modality are listed in ``other`` and classified by content when read.
    """

    id: str
    cls: str  # lower-case class name when it is one of LABELS, else the folder name
    view: str
    folder: Path
    paths: dict[str, Path] = field(default_factory=dict)
    other: list[Path] = field(default_factory=list)

    @property
    def label(self) -> int | None:
        return LABELS.index(self.cls) if self.cls in LABELS else None


def _modality_of_name(stem: str) -> str | None:
    s = stem.lower()
    if s in SILS_NAMES or s.startswith("sil"):
        return "sils"
    if s in POSE_NAMES or s.startswith("pose") or "keypoint" in s or "skel" in s:
        return "pose"
    return None


def scan_tree(root: str | os.PathLike) -> list[OpenGaitRecord]:
    """List the sequences of an OpenGait tree (sorted by id, class, view).

    Args:
        root: the tree root (``root/<id>/<class>/<view>/*.pkl``).

    Returns:
        one :class:`OpenGaitRecord` per ``<view>`` folder holding at least one pkl.
    """
    root = Path(root)
    if not root.is_dir():
        raise OpenGaitFormatError(f"{root}: not a folder")
    out: list[OpenGaitRecord] = []
    for id_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for cls_dir in sorted(p for p in id_dir.iterdir() if p.is_dir()):
            cls = cls_dir.name.lower() if cls_dir.name.lower() in LABELS else cls_dir.name
            for view_dir in sorted(p for p in cls_dir.iterdir() if p.is_dir()):
                pkls = sorted(view_dir.glob("*.pkl"))
                if not pkls:
                    continue
                rec = OpenGaitRecord(id=id_dir.name, cls=cls, view=view_dir.name, folder=view_dir)
                for p in pkls:
                    m = _modality_of_name(p.stem)
                    if m and m not in rec.paths:
                        rec.paths[m] = p
                    else:
                        rec.other.append(p)
                out.append(rec)
    return out


def classify_array(arr: np.ndarray) -> str | None:
    """``"sils"`` for [T, H, W] integer images, ``"pose"`` for [T, V, 2|3] keypoints, else None."""
    a = np.asarray(arr)
    if a.ndim == 3 and a.shape[-1] in (2, 3) and a.shape[1] in LAYOUT_BY_JOINTS:
        return "pose"
    if a.ndim == 3 and a.shape[1] >= 32 and a.shape[2] >= 32:
        return "sils"
    return None


def _as_array(obj, path: Path) -> np.ndarray:
    if isinstance(obj, dict):  # e.g. {"keypoints": ...} or {"pose": ...}
        for key in ("keypoints", "keypoint", "pose", "sils", "silhouettes", "data"):
            if key in obj:
                return np.asarray(obj[key])
        raise OpenGaitFormatError(f"{path}: a dict without a keypoints/pose/sils array")
    if isinstance(obj, (list, tuple)) and len(obj) and isinstance(obj[0], np.ndarray):
        return np.asarray(obj[0]) if len(obj) == 1 else np.stack(obj)
    if not isinstance(obj, np.ndarray):
        raise OpenGaitFormatError(f"{path}: expected a numpy array, got {type(obj).__name__}")
    return obj


def load_record_arrays(rec: OpenGaitRecord, modalities=("sils", "pose")) -> dict[str, np.ndarray]:
    """Load the requested modalities of a record as raw arrays (pose keeps zeros, no NaN)."""
    out: dict[str, np.ndarray] = {}
    for m in modalities:
        if m in rec.paths:
            out[m] = _as_array(load_pickle(rec.paths[m]), rec.paths[m])
    missing = [m for m in modalities if m not in out]
    for p in rec.other if missing else []:
        arr = _as_array(load_pickle(p), p)
        kind = classify_array(arr)
        if kind in missing and kind not in out:
            out[kind] = arr
    return out


def pose_from_pkl(arr: np.ndarray, path: str | os.PathLike = "") -> np.ndarray:
    """A pkl pose array [T, V, 2|3] → Sequence keypoints float32 [T, V, 3] with NaN where missing.

    A joint is missing when its score is 0 (or, for [T, V, 2] input, when x = y = 0).
    """
    a = np.asarray(arr, dtype=np.float32)
    if a.ndim != 3 or a.shape[-1] not in (2, 3):
        raise OpenGaitFormatError(f"{path}: pose must be [T, V, 2|3], got {list(a.shape)}")
    if a.shape[-1] == 2:
        score = (~((a[..., 0] == 0) & (a[..., 1] == 0))).astype(np.float32)
        a = np.concatenate([a, score[..., None]], -1)
    kp = a.copy()
    bad = (kp[..., 2] <= 0) | ~np.isfinite(kp[..., :2]).all(-1)
    kp[bad, :2] = np.nan
    kp[bad, 2] = 0.0
    return kp


def pose_to_pkl(kp: np.ndarray) -> np.ndarray:
    """Sequence keypoints [T, V, 3] (NaN where missing) → NaN-free pkl form (x = y = 0, score 0)."""
    out = np.array(kp, dtype=np.float32, copy=True)
    bad = ~np.isfinite(out[..., :2]).all(-1) | ~(out[..., 2] > 0)
    out[bad] = 0.0
    return out


def sils_to_64(arr: np.ndarray, path: str | os.PathLike = "") -> np.ndarray:
    """Silhouettes [T, H, W] → uint8 [T, 64, 64]: 64×44 cuts are padded back, others resized."""
    a = np.asarray(arr)
    if a.ndim != 3:
        raise OpenGaitFormatError(f"{path}: silhouettes must be [T, H, W], got {list(a.shape)}")
    if a.dtype != np.uint8:
        a = (a * 255 if a.size and a.max() <= 1 else a).clip(0, 255).astype(np.uint8)
    if a.shape[1:] == (64, 64):
        return a
    if a.shape[1:] == (64, 44):
        return np.pad(a, ((0, 0), (0, 0), (10, 10)))
    import cv2

    return np.stack([cv2.resize(f, (64, 64), interpolation=cv2.INTER_AREA) for f in a]) if len(a) else np.zeros((0, 64, 64), np.uint8)


def match_by_position(n_from: int, n_to: int) -> np.ndarray:
    """Indices into a length-``n_to`` sequence for each of ``n_from`` frames, by relative position."""
    if n_from <= 0 or n_to <= 0:
        return np.zeros(0, np.int64)
    if n_from == 1:
        return np.zeros(1, np.int64)
    return np.round(np.arange(n_from) * (n_to - 1) / (n_from - 1)).astype(np.int64)


def _root_meta(root: Path) -> dict:
    p = root / "cohort.json"
    if p.is_file():
        try:
            return json.loads(p.read_text())
        except (OSError, json.JSONDecodeError):
            return {}
    return {}


def read_opengait_sequence(
    rec: OpenGaitRecord | str | os.PathLike,
    fps: float | None = None,
    image_size: tuple[int, int] | None = None,
) -> Sequence:
    """Read one tree sequence as a :class:`Sequence`.

    Args:
        rec: a record from :func:`scan_tree`, or a ``<id>/<class>/<view>`` folder.
        fps, image_size: defaults from the tree's ``cohort.json`` when present, else 30 fps
            and the keypoints' extent.

    When silhouettes and pose differ in length, silhouettes are matched to the pose frames
    by relative position. With silhouettes only, keypoints are all missing (COCO-17).
    """
    if not isinstance(rec, OpenGaitRecord):
        folder = Path(rec)
        recs = [r for r in scan_tree(folder.parents[2]) if r.folder == folder]
        if not recs:
            raise OpenGaitFormatError(f"{folder}: no pkl files")
        rec = recs[0]
    meta_root = _root_meta(rec.folder.parents[2])
    arrays = load_record_arrays(rec)
    if not arrays:
        raise OpenGaitFormatError(f"{rec.folder}: no silhouette or pose pkl found")
    sils = sils_to_64(arrays["sils"], rec.folder) if "sils" in arrays else None
    if "pose" in arrays:
        kp = pose_from_pkl(arrays["pose"], rec.paths.get("pose", rec.folder))
        if kp.shape[1] not in LAYOUT_BY_JOINTS:
            raise OpenGaitFormatError(f"{rec.folder}: pose has {kp.shape[1]} joints (expected 17 or 33)")
        layout = LAYOUT_BY_JOINTS[kp.shape[1]]
        if sils is not None and len(sils) != len(kp):
            sils = sils[match_by_position(len(kp), len(sils))]
    else:
        kp = np.full((len(sils), 17, 3), np.nan, np.float32)
        kp[..., 2] = 0
        layout = "coco17"
    if "pose" in arrays:
        detected = np.isfinite(kp[..., 0]).any(-1)
    else:
        detected = sils.reshape(len(sils), -1).max(1) > 0
    if fps is None:
        fps = float(meta_root.get("fps", 30.0))
    if image_size is None:
        if "image_size" in meta_root:
            image_size = tuple(int(v) for v in meta_root["image_size"])
        else:
            ext = np.nanmax(kp[..., :2].reshape(-1, 2), 0) if np.isfinite(kp[..., 0]).any() else np.zeros(2)
            image_size = (int(np.ceil(ext[1])) + 1, int(np.ceil(ext[0])) + 1)
    try:
        return Sequence(
            keypoints=kp,
            fps=fps,
            image_size=image_size,
            layout=layout,
            detected=detected,
            silhouettes=sils,
            meta={"source": str(rec.folder), "id": rec.id, "class": rec.cls, "view": rec.view,
                  "format": "opengait"},
        )
    except SequenceFormatError as exc:
        raise OpenGaitFormatError(f"{rec.folder}: {exc}") from None


def write_opengait_sequence(
    root: str | os.PathLike,
    seq_id: str,
    cls: str,
    view: str,
    seq: Sequence,
    modalities=("sils", "pose"),
) -> Path:
    """Write ``seq`` as ``root/<seq_id>/<cls>/<view>/{sils,pose}.pkl`` (atomic); returns the folder.

    Pose is stored NaN-free (missing joints x = y = 0, score 0); silhouettes as uint8 [T, 64, 64].
    """
    folder = Path(root) / str(seq_id) / str(cls) / str(view)
    if "pose" in modalities:
        dump_pickle(folder / "pose.pkl", pose_to_pkl(seq.keypoints))
    if "sils" in modalities and seq.silhouettes is not None:
        dump_pickle(folder / "sils.pkl", np.asarray(seq.silhouettes, np.uint8))
    return folder


def read_partition(path: str | os.PathLike) -> dict[str, list[str]]:
    """Read a partition JSON → ``{"TRAIN_SET": [...], "TEST_SET": [...]}`` (ids as strings),
    with ``"VAL_SET"`` too when the file has one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise OpenGaitFormatError(f"{path}: not a readable partition JSON ({exc})") from None
    if not isinstance(data, dict) or "TRAIN_SET" not in data or "TEST_SET" not in data:
        raise OpenGaitFormatError(f"{path}: a partition needs TRAIN_SET and TEST_SET lists")
    keys = ("TRAIN_SET", "VAL_SET", "TEST_SET") if "VAL_SET" in data else ("TRAIN_SET", "TEST_SET")
    part = {k: [str(i) for i in data[k]] for k in keys}
    for a, b in (("TRAIN_SET", "TEST_SET"), ("TRAIN_SET", "VAL_SET"), ("VAL_SET", "TEST_SET")):
        both = set(part.get(a, ())) & set(part.get(b, ()))
        if both:
            raise OpenGaitFormatError(f"{path}: id {sorted(both)[0]} is in both {a} and {b}")
    return part


def write_partition(
    path: str | os.PathLike, train: list[str], test: list[str], val: list[str] | None = None
) -> None:
    """Write a partition JSON (sorted keys, atomic; ``VAL_SET`` only when ``val`` is given)."""
    part = {"TRAIN_SET": list(train), "TEST_SET": list(test)}
    if val is not None:
        part["VAL_SET"] = list(val)
    atomic_write_text(path, json.dumps(part, indent=1, sort_keys=True) + "\n")


