"""OpenPose JSON folders (one ``*_keypoints.json`` per frame) → COCO-17 Sequences.

Each JSON holds ``{"people": [{"pose_keypoints_2d": [x0, y0, c0, x1, ...]}, ...]}`` with
25 joints (BODY_25) or 18 (COCO-18); both are mapped to COCO-17. Joints OpenPose did not
find (``c = 0``) become NaN; a frame without people is undetected. When a frame has
several people, the one nearest to the previous frame's choice (the most confident one
on the first frame) is kept.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from gaitpose.io.sequence import Sequence

# COCO-17 joint k is OpenPose joint MAP[k]
BODY25_TO_COCO17 = (0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4, 12, 9, 13, 10, 14, 11)
COCO18_TO_COCO17 = (0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10)


class OpenPoseFormatError(ValueError):
    """Not an OpenPose JSON folder (message names the file)."""


def _people(path: Path) -> list[np.ndarray]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise OpenPoseFormatError(f"{path}: not a readable JSON file ({exc})") from None
    if not isinstance(data, dict) or "people" not in data:
        raise OpenPoseFormatError(f"{path}: no 'people' list (not OpenPose output)")
    out = []
    for person in data["people"]:
        flat = np.asarray(person.get("pose_keypoints_2d", []), np.float32)
        if flat.size % 3:
            raise OpenPoseFormatError(f"{path}: pose_keypoints_2d length {flat.size} is not a multiple of 3")
        out.append(flat.reshape(-1, 3))
    return out


def to_coco17(joints: np.ndarray, where: str = "") -> np.ndarray:
    """OpenPose joints [V, 3] (V = 25 or 18) → COCO-17 [17, 3] with NaN where c = 0."""
    V = joints.shape[0]
    if V == 25:
        kp = joints[list(BODY25_TO_COCO17)].copy()
    elif V == 18:
        kp = joints[list(COCO18_TO_COCO17)].copy()
    else:
        raise OpenPoseFormatError(f"{where}: {V} joints per person (expected BODY_25 or COCO-18)")
    bad = ~(kp[:, 2] > 0)
    kp[bad, :2] = np.nan
    kp[bad, 2] = 0.0
    return kp


def is_openpose_folder(folder: str | os.PathLike) -> bool:
    folder = Path(folder)
    return folder.is_dir() and any(folder.glob("*.json"))


def read_openpose_folder(
    folder: str | os.PathLike, fps: float = 30.0, image_size: tuple[int, int] | None = None
) -> Sequence:
    """Read an OpenPose JSON folder (frames sorted by file name) as a COCO-17 Sequence.

    ``image_size`` (h, w) is not stored by OpenPose: pass it, or it is estimated from the
    keypoints' extent.
    """
    folder = Path(folder)
    files = sorted(folder.glob("*.json"))
    if not files:
        raise OpenPoseFormatError(f"{folder}: no JSON files")
    frames = []
    prev_centre = None
    for f in files:
        people = [to_coco17(p, str(f)) for p in _people(f) if len(p)]
        if not people:
            frames.append(np.full((17, 3), np.nan, np.float32) * np.array([1, 1, 0], np.float32))
            continue
        if prev_centre is None:
            best = int(np.argmax([np.nansum(p[:, 2]) for p in people]))
        else:
            d = [np.linalg.norm(np.nanmean(p[:, :2], 0) - prev_centre) if np.isfinite(p[:, 0]).any() else np.inf
                 for p in people]
            best = int(np.argmin(d))
        kp = people[best]
        if np.isfinite(kp[:, 0]).any():
            prev_centre = np.nanmean(kp[:, :2], 0)
        frames.append(kp)
    kp = np.stack(frames).astype(np.float32)
    kp[..., 2] = np.nan_to_num(kp[..., 2])
    if image_size is None:
        ext = np.nanmax(kp[..., :2].reshape(-1, 2), 0) if np.isfinite(kp[..., 0]).any() else np.zeros(2)
        image_size = (int(np.ceil(ext[1])) + 1, int(np.ceil(ext[0])) + 1)
    return Sequence(keypoints=kp, fps=fps, image_size=image_size, layout="coco17",
                    meta={"source": str(folder), "format": "openpose", "frames_files": len(files)})
