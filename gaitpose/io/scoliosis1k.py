"""Scoliosis1K pose pkls: one array [T, 17, 3] per sequence (COCO-17 from ViTPose: x, y, score).

The silhouette release and the pose release are separate OpenGait trees
(``<id>/<class>/<view>/*.pkl``); :func:`read_scoliosis1k_pose` reads one pose pkl,
:func:`gaitpose.io.opengait.scan_tree` walks either tree, and
``GaitDataset(sil_root, pose_root=pose_root)`` pairs them.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from gaitpose import LABELS
from gaitpose.io.opengait import OpenGaitFormatError, _as_array, pose_from_pkl
from gaitpose.io.safe_pickle import load_pickle
from gaitpose.io.sequence import Sequence


def read_scoliosis1k_pose(
    path: str | os.PathLike, fps: float = 30.0, image_size: tuple[int, int] | None = None
) -> Sequence:
    """Read one Scoliosis1K pose pkl as a COCO-17 Sequence (score-0 joints become NaN).

    The class, id and view are taken from the path when it follows ``<id>/<class>/<view>/x.pkl``.
    """
    path = Path(path)
    arr = _as_array(load_pickle(path), path)
    kp = pose_from_pkl(arr, path)
    if kp.shape[1] != 17:
        raise OpenGaitFormatError(f"{path}: Scoliosis1K pose has 17 joints, this has {kp.shape[1]}")
    if image_size is None:
        ext = np.nanmax(kp[..., :2].reshape(-1, 2), 0) if np.isfinite(kp[..., 0]).any() else np.zeros(2)
        image_size = (int(np.ceil(ext[1])) + 1, int(np.ceil(ext[0])) + 1)
    meta = {"source": str(path), "format": "scoliosis1k-pose"}
    parts = path.parts
    if len(parts) >= 4 and parts[-3].lower() in LABELS:
        meta.update({"id": parts[-4], "class": parts[-3].lower(), "view": parts[-2]})
    return Sequence(keypoints=kp, fps=fps, image_size=image_size, layout="coco17", meta=meta)
