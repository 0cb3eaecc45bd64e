"""Left/right label swaps: find the frames whose pose fits its neighbours much better mirrored, fix them.

MediaPipe sometimes swaps the left and right labels of a pose for a few frames (side views,
occlusion, a person turning), often of the legs only. Every asymmetry feature is a left-minus-right
quantity, so a swap is a sign error downstream. The arms (with the face) and the legs (with the
hips) are checked separately: consecutive detected frames are compared as labelled (each left joint
against the other frame's left joint) and mirrored (left against right), both centred on the
mid-hip. When one comparison is clearly closer, the labels *changed* or *stayed* between the two
frames; when neither is (left and right on top of each other: a pure side view, legs crossing),
earlier frames are tried, and failing those the frames are split there. Within each resulting
segment every frame's labelling relative to the segment's start follows from the changes, and the
labelling most of its frames carry is taken as right (MediaPipe's labels are right most of the
time); the other frames are swapped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# MediaPipe 33 (left, right) pairs. The face follows the arms; the hips decide with the legs.
FACE_PAIRS = ((1, 4), (2, 5), (3, 6), (7, 8), (9, 10))
ARM_PAIRS = ((11, 12), (13, 14), (15, 16), (17, 18), (19, 20), (21, 22))
LEG_PAIRS = ((23, 24), (25, 26), (27, 28), (29, 30), (31, 32))
GROUPS = {"arms": (ARM_PAIRS, FACE_PAIRS + ARM_PAIRS), "legs": (LEG_PAIRS, LEG_PAIRS)}  # decide by, swap
MIN_SCORE = 0.3


def mirror_permutation(num_joints: int = 33, groups: tuple[str, ...] = ("arms", "legs")) -> np.ndarray:
    """Index array that exchanges the left and right joints of ``groups`` (default: all of them)."""
    perm = np.arange(num_joints)
    for g in groups:
        for a, b in GROUPS[g][1]:
            perm[a], perm[b] = b, a
    return perm


@dataclass
class SwapResult:
    """Which frames had their arms' and legs' labels exchanged.

    Attributes:
        arms, legs: bool [T] per group.
        events: runs of consecutive swapped detected frames, summed over the two groups.
    """

    arms: np.ndarray
    legs: np.ndarray
    events: int

    @property
    def swapped(self) -> np.ndarray:
        """bool [T]: frames with any swap."""
        return self.arms | self.legs

    @property
    def frames(self) -> int:
        return int(self.swapped.sum())


def _match_costs(cur: np.ndarray, prev: np.ndarray, pairs=LEG_PAIRS) -> tuple[float, float, float]:
    """(cost as labelled, cost mirrored, body height) of ``cur`` against ``prev``; NaN when unusable.

    Costs: mean distance of each left joint of ``pairs`` to its match plus each right joint to its
    match (weighted by the lower score), both poses centred on their mid-hip.
    """
    left = np.array([a for a, _ in pairs])
    right = np.array([b for _, b in pairs])
    w = np.minimum.reduce([cur[left, 2], cur[right, 2], prev[left, 2], prev[right, 2]])
    ok = (w >= MIN_SCORE) & np.isfinite(cur[left, :2]).all(1) & np.isfinite(cur[right, :2]).all(1)
    ok &= np.isfinite(prev[left, :2]).all(1) & np.isfinite(prev[right, :2]).all(1)
    hips_ok = np.isfinite(cur[[23, 24], :2]).all() and np.isfinite(prev[[23, 24], :2]).all()
    if ok.sum() < 2 or not hips_ok:
        return float("nan"), float("nan"), float("nan")
    c0, p0 = cur[[23, 24], :2].mean(0), prev[[23, 24], :2].mean(0)
    cl, cr = cur[left[ok], :2] - c0, cur[right[ok], :2] - c0
    pl, pr = prev[left[ok], :2] - p0, prev[right[ok], :2] - p0
    ww = w[ok]
    keep = float(np.sum(ww * (np.linalg.norm(cl - pl, axis=1) + np.linalg.norm(cr - pr, axis=1))) / ww.sum())
    swap = float(np.sum(ww * (np.linalg.norm(cl - pr, axis=1) + np.linalg.norm(cr - pl, axis=1))) / ww.sum())
    ys = cur[np.isfinite(cur[:, :2]).all(1), 1]
    return keep, swap, float(max(ys.max() - ys.min(), 1.0))


def find_swaps(
    keypoints: np.ndarray,
    detected: np.ndarray,
    ratio: float = 0.5,
    min_gain: float = 0.1,
    max_gap: int = 5,
    lookback: int = 6,
) -> SwapResult:
    """Frames whose arms' or legs' left/right labels are exchanged (see the module docstring).

    Args:
        keypoints: float [T, 33, 3] x px, y px, score (mediapipe33 layout).
        detected: bool [T].
        ratio: "clearly closer": below ``ratio`` times the other comparison ...
        min_gain: ... and by at least this many body heights (per joint pair, both joints).
        max_gap: compare across at most this many undetected frames (plus ``lookback``).
        lookback: earlier detected frames tried when the previous one does not tell.

    Returns:
        :class:`SwapResult`.
    """
    kp = np.asarray(keypoints, np.float64)
    det_idx = np.flatnonzero(np.asarray(detected, bool))
    out, events = {}, 0
    for group, (pairs, _) in GROUPS.items():
        parity = _group_parity(kp, det_idx, pairs, ratio, min_gain, max_gap, lookback)
        out[group] = np.zeros(len(kp), bool)
        out[group][det_idx] = parity
        events += int(np.sum(parity & ~np.concatenate([[False], parity[:-1]])))
    return SwapResult(out["arms"], out["legs"], events)


def _group_parity(kp, det_idx, pairs, ratio, min_gain, max_gap, lookback) -> np.ndarray:
    """bool per detected frame: labels of ``pairs`` to be exchanged."""
    parity = np.zeros(len(det_idx), bool)
    segment = np.zeros(len(det_idx), int)
    for j in range(1, len(det_idx)):
        relation, i = None, j - 1
        while relation is None and i >= max(0, j - lookback) and det_idx[j] - det_idx[i] <= max_gap + lookback:
            relation = _relation(kp[det_idx[j]], kp[det_idx[i]], pairs, ratio, min_gain)
            i -= 1
        if relation is None:
            segment[j] = segment[j - 1] + 1
        else:
            segment[j] = segment[j - 1]
            parity[j] = parity[i + 1] != (relation == "changed")
    for k in np.unique(segment):
        members = segment == k
        if parity[members].sum() * 2 > members.sum():  # the majority labelling is the right one
            parity[members] = ~parity[members]
    return parity


def _relation(cur: np.ndarray, prev: np.ndarray, pairs, ratio: float, min_gain: float) -> str | None:
    """``"changed"`` / ``"stayed"`` (labels of ``pairs`` between two frames), None when they do not tell."""
    keep, swap, height = _match_costs(cur, prev, pairs)
    if not np.isfinite(keep):
        return None
    if swap < ratio * keep and keep - swap > min_gain * height:
        return "changed"
    if keep < ratio * swap and swap - keep > min_gain * height:
        return "stayed"
    return None


def apply_swaps(arrays: dict[str, np.ndarray | None], swaps: SwapResult) -> dict[str, np.ndarray | None]:
    """Exchange left and right joints of per-joint arrays ([T, 33, ...]) where ``swaps`` says so.

    Returns new arrays (``None`` entries stay ``None``).
    """
    out: dict[str, np.ndarray | None] = {}
    for name, arr in arrays.items():
        if arr is None:
            out[name] = None
            continue
        fixed = np.array(arr, copy=True)
        for group, flags in (("arms", swaps.arms), ("legs", swaps.legs)):
            fixed[flags] = fixed[flags][:, mirror_permutation(fixed.shape[1], (group,))]
        out[name] = fixed
    return out
