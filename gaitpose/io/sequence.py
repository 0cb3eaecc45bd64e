"""The Sequence container: one walking sequence, saved as a ``.npz`` file.

Keys (see ARCHITECTURE.md):

=============  =========================  ==============================================
key            dtype, shape               meaning
=============  =========================  ==============================================
keypoints      float32 [T, V, 3]          x, y in pixels, score; NaN x, y + score 0 if missing
depth          float32 [T, V]             optional: MediaPipe relative z, pixel scale
world          float32 [T, V, 3]          optional: world landmarks in metres (mid-hip origin)
silhouettes    uint8 [T, 64, 64]          optional: OpenGait-normalised silhouettes
detected       bool [T]                   a person was found in that frame
frame_index    int32 [T]                  frame index in the source video
fps            float64 scalar             frames per second of the source
image_size     int32 [2]                  source height, width
layout         str                        ``mediapipe33`` or ``coco17``
meta           str (JSON)                 source, backend, model, versions, creation time
=============  =========================  ==============================================
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gaitpose.io.atomic import atomic_path

LAYOUT_JOINTS = {"mediapipe33": 33, "coco17": 17}
SIL_SIZE = 64


class SequenceFormatError(ValueError):
    """A Sequence file or object does not follow the format."""


@dataclass
class Sequence:
    """One walking sequence: keypoints, optional depth/world/silhouettes, and metadata.

    Shapes:
        keypoints: [T, V, 3] float32 (x px, y px, score)
        depth: [T, V] float32 or None
        world: [T, V, 3] float32 or None
        silhouettes: [T, 64, 64] uint8 or None
        detected: [T] bool
        frame_index: [T] int32
    """

    keypoints: np.ndarray
    fps: float
    image_size: tuple[int, int]
    layout: str = "mediapipe33"
    detected: np.ndarray | None = None
    frame_index: np.ndarray | None = None
    depth: np.ndarray | None = None
    world: np.ndarray | None = None
    silhouettes: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.keypoints = np.asarray(self.keypoints, dtype=np.float32)
        T = self.keypoints.shape[0] if self.keypoints.ndim == 3 else -1
        if self.detected is None:
            self.detected = np.isfinite(self.keypoints[..., :2]).all(-1).any(-1) if T >= 0 else None
        if self.frame_index is None and T >= 0:
            self.frame_index = np.arange(T, dtype=np.int32)
        self.detected = np.asarray(self.detected, dtype=bool)
        self.frame_index = np.asarray(self.frame_index, dtype=np.int32)
        if self.depth is not None:
            self.depth = np.asarray(self.depth, dtype=np.float32)
        if self.world is not None:
            self.world = np.asarray(self.world, dtype=np.float32)
        if self.silhouettes is not None:
            self.silhouettes = np.asarray(self.silhouettes, dtype=np.uint8)
        self.fps = float(self.fps)
        self.image_size = (int(self.image_size[0]), int(self.image_size[1]))
        self.validate()

    # ------------------------------------------------------------------ properties
    @property
    def num_frames(self) -> int:
        return int(self.keypoints.shape[0])

    @property
    def num_joints(self) -> int:
        return int(self.keypoints.shape[1])

    @property
    def detected_fraction(self) -> float:
        return float(self.detected.mean()) if self.num_frames else 0.0

    def validate(self) -> None:
        """Raise :class:`SequenceFormatError` when arrays disagree with the format."""
        k = self.keypoints
        if k.ndim != 3 or k.shape[2] != 3:
            raise SequenceFormatError(f"keypoints must be [T, V, 3], got {list(k.shape)}")
        T, V, _ = k.shape
        if self.layout not in LAYOUT_JOINTS:
            raise SequenceFormatError(f"unknown layout {self.layout!r} (expected mediapipe33 or coco17)")
        if V != LAYOUT_JOINTS[self.layout]:
            raise SequenceFormatError(f"layout {self.layout} has {LAYOUT_JOINTS[self.layout]} joints, keypoints have {V}")
        for name, arr, shape in (
            ("detected", self.detected, (T,)),
            ("frame_index", self.frame_index, (T,)),
            ("depth", self.depth, (T, V)),
            ("world", self.world, (T, V, 3)),
            ("silhouettes", self.silhouettes, (T, SIL_SIZE, SIL_SIZE)),
        ):
            if arr is not None and tuple(arr.shape) != shape:
                raise SequenceFormatError(f"{name} must have shape {list(shape)}, got {list(arr.shape)}")
        if not np.isfinite(self.fps) or self.fps <= 0:
            raise SequenceFormatError(f"fps must be positive, got {self.fps}")

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The ``.npz`` payload."""
        out: dict[str, np.ndarray] = {
            "keypoints": self.keypoints,
            "detected": self.detected,
            "frame_index": self.frame_index,
            "fps": np.float64(self.fps),
            "image_size": np.asarray(self.image_size, dtype=np.int32),
            "layout": np.asarray(self.layout),
            "meta": np.asarray(json.dumps(self.meta, sort_keys=True, default=str)),
        }
        for name in ("depth", "world", "silhouettes"):
            arr = getattr(self, name)
            if arr is not None:
                out[name] = arr
        return out


def save_sequence(path: str | os.PathLike, seq: Sequence, compress: bool = True) -> Path:
    """Save ``seq`` to ``path`` (``.npz``) atomically: temporary file, then rename."""
    path = Path(path)
    seq.validate()
    with atomic_path(path, suffix=".npz") as tmp:
        _write_npz(tmp, seq.to_arrays(), compress)
    return path


def _write_npz(path: Path, arrays: dict[str, np.ndarray], compress: bool) -> None:
    """``np.savez[_compressed]`` with fixed zip timestamps: equal content → byte-identical files."""
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.asanyarray(arr), allow_pickle=False)


def load_sequence(path: str | os.PathLike) -> Sequence:
    """Load a Sequence ``.npz``; raises :class:`SequenceFormatError` naming the file."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise SequenceFormatError(f"{path}: not a readable .npz ({exc})") from None
    missing = [k for k in ("keypoints", "fps", "image_size") if k not in data]
    if missing:
        raise SequenceFormatError(f"{path}: missing keys {', '.join(missing)}")
    try:
        meta = json.loads(str(data["meta"])) if "meta" in data else {}
        return Sequence(
            keypoints=data["keypoints"],
            fps=float(data["fps"]),
            image_size=tuple(int(v) for v in data["image_size"]),
            layout=str(data["layout"]) if "layout" in data else "mediapipe33",
            detected=data.get("detected"),
            frame_index=data.get("frame_index"),
            depth=data.get("depth"),
            world=data.get("world"),
            silhouettes=data.get("silhouettes"),
            meta=meta,
        )
    except (SequenceFormatError, ValueError, json.JSONDecodeError) as exc:
        raise SequenceFormatError(f"{path}: {exc}") from None


def is_complete_sequence(path: str | os.PathLike) -> bool:
    """True when ``path`` is a loadable Sequence file (used by resume logic)."""
    try:
        load_sequence(path)
    except SequenceFormatError:
        return False
    return True
