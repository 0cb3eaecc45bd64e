"""Follow every person across frames: per-frame pose detections → tracks.

Each frame's detections (MediaPipe PoseLandmarker with ``num_poses > 1``) are first cleaned of
duplicates (two poses on one person), then linked to the tracks seen in the last ``max_gap``
frames by an optimal assignment (:func:`scipy.optimize.linear_sum_assignment`) on a keypoint
distance measured in body heights. A pair is only allowed when the distance is within a gate
that grows slowly with the frames missed and the body sizes agree, so a track bridges a short
occlusion but never jumps from one person to another: a detection that fits no track starts a
new one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from gaitpose.pose.lr_swaps import mirror_permutation

HIPS = (23, 24)
MIN_SCORE = 0.3


def body_box(keypoints: np.ndarray) -> np.ndarray:
    """Box around the confident keypoints (all finite ones when none is confident).

    Shapes:
        keypoints: [V, 3] x px, y px, score → [4] x0, y0, x1, y1.
    """
    kp = np.asarray(keypoints, np.float64)
    ok = np.isfinite(kp[:, :2]).all(1)
    good = ok & (kp[:, 2] >= MIN_SCORE)
    pts = kp[good if good.sum() >= 4 else ok, :2]
    return np.array([*pts.min(0), *pts.max(0)])


def mid_hip(keypoints: np.ndarray) -> np.ndarray:
    """[2] pixel position of the mid-hip (box centre when the hips are missing)."""
    hips = np.asarray(keypoints, np.float64)[list(HIPS), :2]
    if np.isfinite(hips).all():
        return hips.mean(0)
    b = body_box(keypoints)
    return np.array([(b[0] + b[2]) / 2, (b[1] + b[3]) / 2])


def body_height(keypoints: np.ndarray) -> float:
    """Height of the body box in pixels (at least 1)."""
    b = body_box(keypoints)
    return float(max(b[3] - b[1], 1.0))


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def pose_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Median distance between corresponding keypoints, in body heights of ``a``.

    Left/right label swaps do not count: the smaller of the distances to ``b`` as labelled and
    to ``b`` mirrored (MediaPipe swaps the labels of people facing the camera now and then).
    """
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return min(_median_distance(a, b), _median_distance(a, b[mirror_permutation(len(b))]))


def _median_distance(a: np.ndarray, b: np.ndarray) -> float:
    both = np.isfinite(a[:, :2]).all(1) & np.isfinite(b[:, :2]).all(1)
    conf = both & (a[:, 2] >= MIN_SCORE) & (b[:, 2] >= MIN_SCORE)
    use = conf if conf.sum() >= 4 else both
    if not use.any():
        return float("inf")
    d = np.linalg.norm(a[use, :2] - b[use, :2], axis=1)
    return float(np.median(d) / body_height(a))


def drop_duplicates(people: list[np.ndarray], iou: float = 0.5, distance: float = 0.15) -> list[int]:
    """Indices of the detections to keep: of two poses on one person, the more confident one.

    Two detections are one person when their boxes overlap by more than ``iou`` or their
    keypoints lie within ``distance`` body heights of each other.
    """
    score = [float(np.nanmean(p[:, 2])) for p in people]
    order = sorted(range(len(people)), key=lambda i: -score[i])
    keep: list[int] = []
    for i in order:
        bi = body_box(people[i])
        if all(box_iou(bi, body_box(people[k])) <= iou and pose_distance(people[k], people[i]) > distance
               for k in keep):  # fmt: skip
            keep.append(i)
    return sorted(keep)


@dataclass
class Track:
    """One person followed across frames.

    Attributes:
        id: 1, 2, ... in order of first appearance.
        frames: positions (0-based frame numbers of the sequence) where the person was detected.
        detections: for each of those frames, the index of the detection in that frame's list.
        last: keypoints [V, 3] of the latest detection.
    """

    id: int
    frames: list[int] = field(default_factory=list)
    detections: list[int] = field(default_factory=list)
    last: np.ndarray | None = None

    def add(self, t: int, k: int, keypoints: np.ndarray) -> None:
        self.frames.append(t)
        self.detections.append(k)
        self.last = keypoints


def link_cost(track: Track, keypoints: np.ndarray, gap: int, gate: float, gate_per_frame: float) -> float:
    """Distance of a detection to a track in body heights, or ``inf`` outside the gate.

    Args:
        gap: frames since the track was last seen (1 = the previous frame).
        gate: largest distance allowed from the previous frame.
        gate_per_frame: allowance added per extra frame missed.
    """
    d = pose_distance(track.last, keypoints)
    ratio = body_height(keypoints) / body_height(track.last)
    if not (0.6 <= ratio <= 1 / 0.6):
        return float("inf")
    return d if d <= gate + gate_per_frame * (gap - 1) else float("inf")


def link_tracks(
    frames: list[list[np.ndarray]],
    max_gap: int = 10,
    gate: float = 0.25,
    gate_per_frame: float = 0.05,
) -> list[Track]:
    """Link per-frame detections into tracks.

    Args:
        frames: for each frame, the keypoints [V, 3] of every detection (already deduplicated).
        max_gap: a track missing for more frames than this ends (bridges shorter occlusions).
        gate, gate_per_frame: see :func:`link_cost`.

    Returns:
        The tracks, ids in order of first appearance.
    """
    tracks: list[Track] = []
    for t, people in enumerate(frames):
        live = [tr for tr in tracks if t - tr.frames[-1] <= max_gap]
        taken: set[int] = set()
        if live and people:
            cost = np.array([[link_cost(tr, kp, t - tr.frames[-1], gate, gate_per_frame) for kp in people]
                             for tr in live])  # fmt: skip
            finite = np.where(np.isfinite(cost), cost, 1e6)
            for r, c in zip(*linear_sum_assignment(finite)):
                if np.isfinite(cost[r, c]):
                    live[r].add(t, int(c), people[c])
                    taken.add(int(c))
        for k, kp in enumerate(people):
            if k not in taken:
                tr = Track(len(tracks) + 1)
                tr.add(t, k, kp)
                tracks.append(tr)
    return tracks


@dataclass
class TrackSummary:
    """What the person choice and the meta need to know about a track."""

    id: int
    frames: int
    first: int
    last: int
    height_px: float  # median body height
    displacement: float  # extent of the mid-hip path in body heights
    hips: np.ndarray = field(repr=False)  # [n, 2] mid-hip per detected frame
    boxes: np.ndarray = field(repr=False)  # [n, 4]
    positions: list[int] = field(repr=False, default_factory=list)  # the n frame positions

    def meta(self) -> dict:
        return {"id": self.id, "frames": self.frames, "first": self.first, "last": self.last,
                "height_px": round(self.height_px, 1), "displacement": round(self.displacement, 3)}  # fmt: skip


def summarize(track: Track, frames: list[list[np.ndarray]]) -> TrackSummary:
    """Frames, first/last frame, median height and mid-hip displacement of one track."""
    kps = [frames[t][k] for t, k in zip(track.frames, track.detections)]
    hips = np.array([mid_hip(kp) for kp in kps])
    boxes = np.array([body_box(kp) for kp in kps])
    height = float(np.median(boxes[:, 3] - boxes[:, 1]))
    extent = float(np.hypot(*(hips.max(0) - hips.min(0))))
    return TrackSummary(track.id, len(track.frames), track.frames[0], track.frames[-1], height,
                        extent / max(height, 1.0), hips, boxes, list(track.frames))  # fmt: skip
