"""Which tracked person is the subject: the ``--person`` rules and ``--person-at``.

* ``walker`` (default): among tracks present in at least 25 % of the frames, the one whose
  mid-hip path extends farthest relative to its body height (the person who walks through the
  scene); when no track is that long, the longest track.
* ``largest``: the largest median body height. ``longest``: the most frames.
  ``first``: the earliest first frame (ties: the longer track).
* a point ``X,Y[@FRAME]``: the track whose body box contains the point in that frame (several:
  the nearest mid-hip); without a frame, the track whose box contains it in the most frames.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from gaitpose.pose.tracking import TrackSummary

RULES = ("walker", "largest", "longest", "first")
WALKER_MIN_FRACTION = 0.25
BOX_MARGIN = 0.1


class NoPersonThere(Exception):
    """``--person-at`` names a point where nobody is; ``str(exc)`` is the reason."""


@dataclass(frozen=True)
class PointPick:
    """An image point (pixels) and optionally the frame it refers to."""

    x: float
    y: float
    frame: int | None = None

    def __str__(self) -> str:
        return f"{self.x:g},{self.y:g}" + ("" if self.frame is None else f"@{self.frame}")


_POINT = re.compile(r"^\s*(-?\d+(?:\.\d*)?)\s*,\s*(-?\d+(?:\.\d*)?)\s*(?:@\s*(\d+))?\s*$")


def parse_point(text: str) -> PointPick:
    """``"X,Y"`` or ``"X,Y@FRAME"`` → :class:`PointPick`; ValueError when malformed."""
    m = _POINT.match(text)
    if not m:
        raise ValueError(f"expected X,Y or X,Y@FRAME (pixels, frame number), got {text!r}")
    return PointPick(float(m[1]), float(m[2]), None if m[3] is None else int(m[3]))


def choose_by_rule(tracks: list[TrackSummary], rule: str, n_frames: int) -> tuple[TrackSummary, str]:
    """The subject under ``rule`` and a short reason (for meta and the manifest)."""
    if not tracks:
        raise ValueError("no tracks to choose from")
    if rule == "walker":
        long_enough = [t for t in tracks if t.frames >= WALKER_MIN_FRACTION * n_frames]
        if long_enough:
            best = max(long_enough, key=lambda t: (t.displacement, t.frames))
            return best, f"walker: moved {best.displacement:.2f} body heights, the most of the tracks in >= 25 % of frames"
        best = max(tracks, key=lambda t: (t.frames, t.displacement))
        return best, "walker: no track in >= 25 % of frames, took the longest"
    if rule == "largest":
        best = max(tracks, key=lambda t: (t.height_px, t.frames))
        return best, f"largest: median body height {best.height_px:.0f} px"
    if rule == "longest":
        best = max(tracks, key=lambda t: (t.frames, t.displacement))
        return best, f"longest: {best.frames} frames"
    if rule == "first":
        best = min(tracks, key=lambda t: (t.first, -t.frames))
        return best, f"first: seen from frame {best.first}"
    raise ValueError(f"unknown person rule {rule!r} (expected one of {', '.join(RULES)})")


def _contains(box: np.ndarray, x: float, y: float) -> bool:
    mx, my = BOX_MARGIN * (box[2] - box[0]), BOX_MARGIN * (box[3] - box[1])
    return box[0] - mx <= x <= box[2] + mx and box[1] - my <= y <= box[3] + my


def choose_at(tracks: list[TrackSummary], pick: PointPick, frame_index: np.ndarray) -> tuple[TrackSummary, str]:
    """The track under an image point (see the module docstring).

    Args:
        frame_index: [T] source frame number of each sequence position (``@FRAME`` refers to it).

    Raises:
        NoPersonThere: nobody's box contains the point (in that frame).
    """
    fi = np.asarray(frame_index)
    hits: list[tuple[int, float, TrackSummary]] = []
    for tr in tracks:
        n_in, best_d = 0, np.inf
        for j, pos in enumerate(tr.positions):
            if pick.frame is not None and fi[pos] != pick.frame:
                continue
            if _contains(tr.boxes[j], pick.x, pick.y):
                n_in += 1
                best_d = min(best_d, float(np.hypot(*(tr.hips[j] - (pick.x, pick.y)))))
        if n_in:
            hits.append((n_in, best_d, tr))
    if not hits:
        where = f" in frame {pick.frame}" if pick.frame is not None else ""
        raise NoPersonThere(f"--person-at {pick}: nobody there{where}")
    if pick.frame is None:
        n, _, best = max(hits, key=lambda h: (h[0], -h[1]))
        return best, f"at {pick}: the box contains the point in {n} frames"
    _, _, best = min(hits, key=lambda h: h[1])
    return best, f"at {pick}: the box contains the point"
