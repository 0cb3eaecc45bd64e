"""The person's silhouette from a segmentation mask: threshold, keep the component under the pose.

MediaPipe's segmentation mask marks every person-like region; the walker is the connected
component that the pose keypoints fall in. Components are labelled on a downscaled mask
(cheap), and the chosen one is cut out of the full-resolution threshold inside its box.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gaitpose.pose.silhouette import SIZE, normalize_silhouette

HIP_IDS = (23, 24)


@dataclass
class PersonMask:
    """Binary mask of the chosen component inside its bounding box.

    Attributes:
        crop: uint8 [h, w] 0/255 mask inside the box.
        x0, y0: top-left corner of the box in the full frame.
    """

    crop: np.ndarray
    x0: int
    y0: int


def person_mask(
    prob: np.ndarray,
    keypoints: np.ndarray | None,
    threshold: float = 0.5,
    label_side: int = 256,
    min_score: float = 0.3,
) -> PersonMask | None:
    """The connected component of ``prob > threshold`` that the pose lies on.

    Args:
        prob: float [H, W] person probability (MediaPipe segmentation mask).
        keypoints: float [V, 3] x px, y px, score of the pose (or None: keep the largest component).
        threshold: probability threshold.
        label_side: components are labelled on a copy whose longer side is at most this.
        min_score: keypoints with a lower score are not used to pick the component.

    Returns:
        :class:`PersonMask`, or None when nothing exceeds the threshold.
    """
    prob = np.asarray(prob, dtype=np.float32)
    H, W = prob.shape
    s = min(1.0, label_side / max(H, W))
    if s < 1.0:
        sw, sh = max(1, round(W * s)), max(1, round(H * s))
        # Linear sampling (INTER_AREA is ~100x slower on a full-HD float mask; labelling needs no more).
        small = cv2.resize(prob, (sw, sh), interpolation=cv2.INTER_LINEAR)
    else:
        sw, sh, small = W, H, prob
    binary = (small > threshold).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if n <= 1:
        return None
    areas = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    areas[0] = 0
    votes = np.zeros(n, np.float64)
    if keypoints is not None:
        kp = np.asarray(keypoints, dtype=np.float64)
        x = kp[:, 0] * sw / W
        y = kp[:, 1] * sh / H
        ok = np.isfinite(x) & np.isfinite(y) & (kp[:, 2] >= min_score)
        ok &= (x >= 0) & (x < sw) & (y >= 0) & (y < sh)
        weight = np.ones(len(kp))
        weight[[i for i in HIP_IDS if i < len(kp)]] = 3.0  # the hips decide ties
        lab = labels[y[ok].astype(int), x[ok].astype(int)]
        votes = np.bincount(lab, weights=weight[ok], minlength=n).astype(np.float64)
        votes[0] = 0
    # Most keypoint votes; among equal votes (e.g. none), the largest component.
    k = int(np.lexsort((areas, votes))[-1])
    if areas[k] <= 0:
        return None
    bx, by, bw, bh = (int(v) for v in stats[k, :4])
    if s < 1.0:  # the box in full-resolution pixels, one pixel of margin
        x0, y0 = max(0, int(bx / s) - 1), max(0, int(by / s) - 1)
        x1, y1 = min(W, int(np.ceil((bx + bw) / s)) + 1), min(H, int(np.ceil((by + bh) / s)) + 1)
    else:
        x0, y0, x1, y1 = bx, by, bx + bw, by + bh
    full = prob[y0:y1, x0:x1] > threshold
    if s < 1.0:
        # The component in the small box, scaled (nearest) onto the full-resolution box.
        comp_small = (labels[by : by + bh, bx : bx + bw] == k).astype(np.uint8)
        comp = cv2.resize(comp_small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
        full &= comp.astype(bool)
    else:
        full &= labels[y0:y1, x0:x1] == k
    if not full.any():
        return None
    return PersonMask(full.astype(np.uint8) * 255, x0, y0)


def silhouette_from_mask(
    prob: np.ndarray | None,
    keypoints: np.ndarray | None,
    threshold: float = 0.5,
) -> tuple[np.ndarray, PersonMask | None]:
    """OpenGait-normalised silhouette of the person under the pose.

    Args:
        prob: float [H, W] segmentation probability, or None (no person).
        keypoints: float [V, 3] pose keypoints in pixels.

    Returns:
        (uint8 [64, 64] silhouette, zeros when no person; the :class:`PersonMask` or None).
    """
    if prob is None:
        return np.zeros((SIZE, SIZE), np.uint8), None
    pm = person_mask(prob, keypoints, threshold=threshold)
    if pm is None:
        return np.zeros((SIZE, SIZE), np.uint8), None
    return normalize_silhouette(pm.crop), pm
