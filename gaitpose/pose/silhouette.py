"""OpenGait's silhouette normalisation, shared by extraction and the synthetic cohort.

OpenGait's pretreatment of a binary person mask:

1. crop rows to the vertical extent of the mask;
2. resize to height 64 keeping the aspect ratio (bicubic);
3. find the horizontal centre of mass (the column where the cumulative column sum
   first exceeds half the total);
4. cut a 64-pixel-wide window centred there, padding with zeros where it leaves the image.

Result: uint8 [64, 64]. An empty (or nearly empty) mask gives all zeros.
"""

from __future__ import annotations

import cv2
import numpy as np

SIZE = 64


def normalize_silhouette(mask: np.ndarray, size: int = SIZE, min_pixels: int = 1) -> np.ndarray:
    """Normalise one binary/grey mask [H, W] to OpenGait's uint8 [size, size] silhouette.

    Args:
        mask: [H, W], any numeric dtype; non-zero is person. A bool or 0/1 mask is scaled to 0/255.
        size: output height and width (OpenGait: 64).
        min_pixels: masks with fewer non-zero pixels are treated as empty.

    Returns:
        uint8 [size, size], zeros when the mask is empty.
    """
    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"mask must be [H, W], got shape {list(m.shape)}")
    if m.dtype == bool or (m.size and m.max() <= 1):
        m = m.astype(np.uint8) * 255
    m = m.astype(np.uint8, copy=False)
    out = np.zeros((size, size), np.uint8)
    if np.count_nonzero(m) < min_pixels:
        return out
    rows = np.flatnonzero(m.any(axis=1))
    m = m[rows[0] : rows[-1] + 1]
    h, w = m.shape
    new_w = max(1, int(size * w / h))
    img = cv2.resize(m, (new_w, size), interpolation=cv2.INTER_CUBIC).astype(np.float64)
    total = img.sum()
    if total <= 0:
        return out
    x_center = int(np.argmax(np.cumsum(img.sum(axis=0)) > total / 2))
    half = size // 2
    # Place the resized image in a zero canvas padded by `half` on both sides, then cut.
    canvas = np.zeros((size, new_w + 2 * half), np.float64)
    canvas[:, half : half + new_w] = img
    left = x_center  # = (x_center + half) - half in canvas coordinates
    return canvas[:, left : left + size].clip(0, 255).astype(np.uint8)


def normalize_silhouettes(masks, size: int = SIZE) -> np.ndarray:
    """Normalise a sequence of masks → uint8 [T, size, size]."""
    return np.stack([normalize_silhouette(m, size) for m in masks]) if len(masks) else np.zeros((0, size, size), np.uint8)
