"""Gait events (heel strikes, toe-offs), strides and steps from smoothed keypoint trajectories.

* Frontal / back view (Stenum et al. 2021): heel strikes at alternating extrema of the
  anatomical ankle-height difference ``e = s * (y_left_ankle - y_right_ankle) / T``. Walking
  towards the camera the leading foot is nearer, hence lower in the image (larger y); walking
  away it is further, hence higher — multiplying by the facing sign ``s`` makes the left heel
  strike a maximum of ``e`` and the right one a minimum in both cases. No toe-off.
* Side view (Zeni et al. 2008): heel strike at maxima of ``(heel - pelvis)`` along the walking
  direction, toe-off at minima of ``(toe - pelvis)``.

A stride is two consecutive heel strikes of the same foot with exactly one heel strike of
the other foot between them; a step runs from a heel strike to the next one of the other foot.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gaitpose.features.signal import runs

__all__ = ["Events", "detect_peaks", "frontal_events", "side_events", "strides_and_steps"]


@dataclass
class Events:
    """Event frame indices (int arrays, sorted) per foot."""

    hs_left: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    hs_right: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    to_left: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    to_right: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    method: str = "none"


def detect_peaks(x: np.ndarray, distance: int, rel_prominence: float = 0.25) -> np.ndarray:
    """Maxima of ``x`` inside its valid (finite) runs.

    A peak needs a prominence of at least ``rel_prominence`` × the robust range (95th − 5th
    percentile) of ``x`` and at least ``distance`` frames to the next peak. Peaks at the ends
    of a run are not counted (the true extremum may lie in the gap).

    Shapes: x [T] → int [K]
    """
    from scipy.signal import find_peaks

    finite = np.isfinite(x)
    if finite.sum() < 5:
        return np.zeros(0, int)
    lo, hi = np.percentile(x[finite], [5, 95])
    prom = max(rel_prominence * (hi - lo), 1e-9)
    out = []
    for a, b in runs(finite):
        if b - a < 3:
            continue
        p, _ = find_peaks(x[a:b], distance=max(int(distance), 1), prominence=prom)
        out.append(p + a)
    return np.concatenate(out).astype(int) if out else np.zeros(0, int)


def local_normalise(x: np.ndarray, window: int) -> np.ndarray:
    """Divide ``x`` (minus its local mean) by its local RMS over a centred ``window`` (frames).

    Perspective makes the ankle signal of a subject walking towards the camera grow as they
    approach; normalising locally keeps one prominence threshold valid along the sequence.

    Shapes: [T] → [T] (NaN kept).
    """
    from scipy.ndimage import uniform_filter1d

    f = np.isfinite(x)
    if f.sum() < 3:
        return x
    w = max(int(window), 3)
    xf = np.where(f, x, 0.0)
    n = uniform_filter1d(f.astype(float), w, mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = uniform_filter1d(xf, w, mode="constant") / n
        d = np.where(f, x - mean, 0.0)
        rms = np.sqrt(uniform_filter1d(d * d, w, mode="constant") / n)
        out = (x - mean) / rms
    return np.where(f & (rms > 0), out, np.nan)


def _alternate(left: np.ndarray, right: np.ndarray, score_l: np.ndarray, score_r: np.ndarray):
    """Keep heel strikes alternating left/right: of two consecutive same-foot events keep the
    one with the larger score."""
    ev = [(int(t), 0, float(s)) for t, s in zip(left, score_l)]
    ev += [(int(t), 1, float(s)) for t, s in zip(right, score_r)]
    ev.sort()
    kept: list[tuple[int, int, float]] = []
    for e in ev:
        if kept and kept[-1][1] == e[1]:
            if e[2] > kept[-1][2]:
                kept[-1] = e
            continue
        kept.append(e)
    lt = np.array([t for t, side, _ in kept if side == 0], int)
    rt = np.array([t for t, side, _ in kept if side == 1], int)
    return lt, rt


def frontal_events(e: np.ndarray, fps: float, min_stride_s: float = 0.4) -> Events:
    """Heel strikes from the anatomical ankle-height difference (front/back view).

    Args:
        e: [T] ``s * (y_left_ankle - y_right_ankle) / torso``, smoothed, NaN where unusable.
        fps: frames per second.
        min_stride_s: shortest plausible stride (s); peaks of one foot are at least 0.8 × this apart.
    """
    dist = max(int(round(0.8 * min_stride_s * fps)), 1)
    e = local_normalise(e, int(round(1.5 * fps)))
    lt = detect_peaks(e, dist)
    rt = detect_peaks(-e, dist)
    lt, rt = _alternate(lt, rt, e[lt], -e[rt])
    # second pass: one foot strikes once per stride; the median same-foot interval of the
    # first pass sets the minimum distance (suppresses noise peaks when the subject is far)
    typical = _median_interval(lt, rt)
    if np.isfinite(typical) and 0.7 * typical > dist:
        d2 = int(round(0.7 * typical))
        lt2, rt2 = detect_peaks(e, d2), detect_peaks(-e, d2)
        lt, rt = _alternate(lt2, rt2, e[lt2], -e[rt2])
    return Events(hs_left=lt, hs_right=rt, method="frontal")


def _median_interval(lt: np.ndarray, rt: np.ndarray) -> float:
    """Median interval (frames) between consecutive strikes of the same foot."""
    d = np.concatenate([np.diff(lt), np.diff(rt)])
    return float(np.median(d)) if d.size >= 3 else float("nan")


def side_events(
    heel_l: np.ndarray,
    heel_r: np.ndarray,
    toe_l: np.ndarray | None,
    toe_r: np.ndarray | None,
    fps: float,
    min_stride_s: float = 0.4,
) -> Events:
    """Zeni et al. (2008) events from foot-minus-pelvis positions along the walking direction.

    Args:
        heel_l, heel_r: [T] ``direction * (x_heel - x_midhip) / torso`` per foot.
        toe_l, toe_r: [T] the same for the toes, or None when the layout has none.
    """
    dist = max(int(round(0.8 * min_stride_s * fps)), 1)
    lt = detect_peaks(heel_l, dist)
    rt = detect_peaks(heel_r, dist)
    lt, rt = _alternate(lt, rt, heel_l[lt], heel_r[rt])
    ev = Events(hs_left=lt, hs_right=rt, method="side")
    if toe_l is not None and toe_r is not None:
        ev.to_left = detect_peaks(-toe_l, dist)
        ev.to_right = detect_peaks(-toe_r, dist)
    return ev


def strides_and_steps(
    ev: Events, fps: float, min_stride_s: float = 0.4, max_stride_s: float = 2.5
) -> tuple[list[tuple[str, int, int]], list[tuple[str, int, int]]]:
    """Strides and steps from alternating heel strikes.

    Returns:
        (strides, steps): lists of ``(side, start_frame, end_frame)``; a stride of ``side`` runs
        between two heel strikes of that foot (one of the other foot in between), a step of
        ``side`` ends at a heel strike of that foot and starts at the previous one of the other.
        Strides outside ``[min_stride_s, max_stride_s]`` or outside 0.8–1.25 × the median
        same-foot interval, and steps longer than 0.75 × that upper bound (missed events),
        are dropped.
    """
    ev_all = sorted(
        [(int(t), "left") for t in ev.hs_left] + [(int(t), "right") for t in ev.hs_right]
    )
    strides, steps = [], []
    # a typical stride: the median same-foot interval (used to reject missed events)
    same = [
        (ev_all[i][0] - ev_all[i - 2][0]) / fps
        for i in range(2, len(ev_all))
        if ev_all[i][1] == ev_all[i - 2][1]
    ]
    typical = float(np.median(same)) if same else float("nan")
    lo = max(min_stride_s, 0.8 * typical) if same else min_stride_s
    hi = min(max_stride_s, 1.25 * typical) if same else max_stride_s
    for i in range(1, len(ev_all)):
        (t0, s0), (t1, s1) = ev_all[i - 1], ev_all[i]
        if s0 != s1 and t1 > t0 and (t1 - t0) / fps <= 0.75 * hi:
            steps.append((s1, t0, t1))
        if i >= 2:
            (ta, sa), (_, sm) = ev_all[i - 2], ev_all[i - 1]
            if sa == s1 and sm != s1:
                dur = (t1 - ta) / fps
                if lo <= dur <= hi:
                    strides.append((s1, ta, t1))
    return strides, steps
