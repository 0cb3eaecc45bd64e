"""Left/right label swaps: find the frames whose pose fits its neighbour much better mirrored, fix them.

MediaPipe sometimes swaps the left and right labels of a pose for a few frames (side views,
occlusion, a person turning). Every asymmetry feature is a left-minus-right quantity, so a swap
is a sign error downstream. Frame by frame, the current pose is compared with the previous
detected (already corrected) pose twice: as labelled (each left joint against the previous left
joint) and mirrored (each left joint against the previous right joint). When the mirrored
comparison is much closer, the frame's left and right joints are exchanged. Frames where left and
right lie on top of each other (a pure side view, legs crossing) give no evidence either way and
are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# MediaPipe 33: (left, right) landmark pairs; the first eight (face) are swapped but not used to decide.
FACE_PAIRS = ((1, 4), (2, 5), (3, 6), (7, 8), (9, 10))
BODY_PAIRS = ((11, 12), (13, 14), (15, 16), (17, 18), (19, 20), (21, 22), (23, 24), (25, 26), (27, 28),
              (29, 30), (31, 32))  # fmt: skip
MIN_SCORE = 0.3


def mirror_permutation(num_joints: int = 33) -> np.ndarray:
    """Index array that exchanges every left joint with its right partner."""
    perm = np.arange(num_joints)
    for a, b in FACE_PAIRS + BODY_PAIRS:
        perm[a], perm[b] = b, a
    return perm


@dataclass
class SwapResult:
    """Which frames were mirrored.

    Attributes:
        swapped: bool [T] frames whose labels were exchanged.
        events: runs of consecutive swapped frames (counting detected frames only).
    """

    swapped: np.ndarray
    events: int

    @property
    def frames(self) -> int:
        return int(self.swapped.sum())


def _match_costs(cur: np.ndarray, prev: np.ndarray) -> tuple[float, float, float]:
    """(cost as labelled, cost mirrored, body height) of ``cur`` against ``prev``; NaN when unusable."""
    left = np.array([a for a, _ in BODY_PAIRS])
    right = np.array([b for _, b in BODY_PAIRS])
    w = np.minimum.reduce([cur[left, 2], cur[right, 2], prev[left, 2], prev[right, 2]])
    ok = (w >= MIN_SCORE) & np.isfinite(cur[left, :2]).all(1) & np.isfinite(cur[right, :2]).all(1)
    ok &= np.isfinite(prev[left, :2]).all(1) & np.isfinite(prev[right, :2]).all(1)
    if ok.sum() < 3:
        return float("nan"), float("nan"), float("nan")
    cl, cr, pl, pr = cur[left[ok], :2], cur[right[ok], :2], prev[left[ok], :2], prev[right[ok], :2]
    ww = w[ok]
    keep = float(np.sum(ww * (np.linalg.norm(cl - pl, axis=1) + np.linalg.norm(cr - pr, axis=1))) / ww.sum())
    swap = float(np.sum(ww * (np.linalg.norm(cl - pr, axis=1) + np.linalg.norm(cr - pl, axis=1))) / ww.sum())
    ys = np.concatenate([cl[:, 1], cr[:, 1]])
    return keep, swap, float(max(ys.max() - ys.min(), 1.0))


def find_swaps(
    keypoints: np.ndarray,
    detected: np.ndarray,
    ratio: float = 0.5,
    min_gain: float = 0.1,
    max_gap: int = 5,
) -> SwapResult:
    """Frames whose left/right labels are exchanged relative to the frames before them.

    Args:
        keypoints: float [T, 33, 3] x px, y px, score (mediapipe33 layout).
        detected: bool [T].
        ratio: the mirrored cost must be below ``ratio`` times the labelled cost, ...
        min_gain: ... and lower by at least this many body heights (per joint pair, both joints).
        max_gap: compare across at most this many undetected frames (longer gaps start afresh).

    Returns:
        :class:`SwapResult`.
    """
    kp = np.asarray(keypoints, np.float64)
    perm = mirror_permutation(kp.shape[1])
    swapped = np.zeros(len(kp), bool)
    prev: np.ndarray | None = None
    prev_t = -(10**9)
    for t in np.flatnonzero(np.asarray(detected, bool)):
        cur = kp[t]
        if prev is not None and t - prev_t <= max_gap + 1:
            keep, swap, height = _match_costs(cur, prev)
            if np.isfinite(keep) and swap < ratio * keep and keep - swap > min_gain * height:
                swapped[t] = True
        prev = cur[perm] if swapped[t] else cur
        prev_t = int(t)
    det_idx = np.flatnonzero(np.asarray(detected, bool))
    flags = swapped[det_idx]
    events = int(np.sum(flags & ~np.concatenate([[False], flags[:-1]])))
    return SwapResult(swapped, events)


def apply_swaps(arrays: dict[str, np.ndarray | None], swapped: np.ndarray) -> dict[str, np.ndarray | None]:
    """Exchange left and right joints in the swapped frames of per-joint arrays ([T, 33, ...]).

    Returns new arrays (``None`` entries stay ``None``).
    """
    out: dict[str, np.ndarray | None] = {}
    for name, arr in arrays.items():
        if arr is None:
            out[name] = None
            continue
        fixed = np.array(arr, copy=True)
        perm = mirror_permutation(fixed.shape[1])
        fixed[swapped] = fixed[swapped][:, perm]
        out[name] = fixed
    return out
