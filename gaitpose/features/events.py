"""Gait events (heel strikes, toe-offs), strides and steps from smoothed keypoint trajectories.

* Frontal / back (and oblique) view — foot stationarity: a static camera sees a foot in
  stance standing still, whatever the view, while in swing it moves (towards or away from the
  camera, which changes its image height, and up and down). The heel's image speed, in torso
  lengths per second, peaks in swing; the heel strike is the first frame after a swing peak
  where the speed falls below ``stationary_fraction`` (0.2) × that peak. This is the
  velocity-threshold idea of Ghoussayni et al. (2004) and O'Connor et al. (2007) applied to
  image speed; the fraction was chosen on one real trial (``healthy``) of
  ``experiments/validation/real_motion.py`` and checked on the others. No toe-off.
  (The first version of this rule — extrema of the ankle-height difference — fired
  0.2–0.3 s late on real walking and is withdrawn.)
* Side view (Zeni et al. 2008): heel strike at maxima of ``(heel - pelvis)`` along the walking
  direction, toe-off at minima of ``(toe - pelvis)``.

A stride is two consecutive heel strikes of the same foot with exactly one heel strike of
the other foot between them; a step runs from a heel strike to the next one of the other foot.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gaitpose.features.signal import runs

__all__ = [
    "Events",
    "detect_peaks",
    "foot_speed",
    "extrema_events",
    "frontal_events",
    "regular_strikes",
    "side_events",
    "stationary_onsets",
    "strides_and_steps",
]


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


def foot_speed(foot: np.ndarray, torso: np.ndarray, fps: float, baseline_s: float = 0.1) -> np.ndarray:
    """Image speed of a foot keypoint in torso lengths per second.

    A central difference over ``baseline_s`` (≈ 0.1 s, at least 2 frames) rather than one
    frame: keypoint noise on a distant subject otherwise hides the foot's rest. Dividing by
    the torso length keeps a subject walking towards the camera (growing in the image) on one
    scale. Shapes: foot [T, 2] px, torso [T] px → [T] (NaN where missing).
    """
    T = foot.shape[0]
    k = max(int(round(baseline_s * fps / 2)), 1)
    out = np.full(T, np.nan)
    if T <= 2 * k:
        return out
    d = foot[2 * k :] - foot[: -2 * k]
    out[k:-k] = np.hypot(d[:, 0], d[:, 1]) * fps / (2 * k) / torso[k:-k]
    return out


def stationary_onsets(
    foot: np.ndarray,
    torso: np.ndarray,
    fps: float,
    fraction: float = 0.15,
    settle: float = 0.05,
    min_rest_s: float = 0.2,
    lookback_s: float = 0.3,
) -> tuple[np.ndarray, np.ndarray]:
    """Frames where a foot arrives at its resting place after a swing (heel strikes).

    1. Rest: runs of at least ``min_rest_s`` where the foot's image speed
       (:func:`foot_speed`) is below ``fraction`` × its 95th percentile; a swing (speed above
       half that percentile) must separate two rests. ``min_rest_s`` is long enough to skip
       the moment in mid-swing when, walking away from the camera, the descent of the foot
       and its recession cancel in the image.
    2. Resting place: the median position from 0.1 s to 0.25 s into the rest (skipping its
       first 0.1 s, which may still be the end of the swing).
    3. Arrival (:func:`_arrival`): scanning back from there (at most ``lookback_s``), the first
       frame after the last one further than ``settle`` torso lengths from the resting place.

    A rest at the start of the clip or of a gap has no visible arrival and gives no event.
    Shapes: foot [T, 2] px, torso [T] px → (int [K] frames, float [K] swing peak speeds).
    """
    speed = foot_speed(foot, torso, fps)
    finite = np.isfinite(speed)
    if finite.sum() < 5:
        return np.zeros(0, int), np.zeros(0)
    peak = float(np.percentile(speed[finite], 95))
    still = finite & (speed < fraction * peak)
    min_rest = max(int(round(min_rest_s * fps)), 2)
    onsets, scores, prev_end = [], [], 0
    for a, b in runs(still):
        if b - a < min_rest or a == 0 or not finite[a - 1]:
            continue
        swing = float(np.nanmax(speed[prev_end:a]))
        prev_end = b
        if swing < 0.5 * peak:  # no swing since the previous rest: the same stance
            continue
        onsets.append(_arrival(foot, torso, a, b, fps, settle, lookback_s))
        scores.append(swing)
    return np.array(onsets, int), np.array(scores, float)


def _arrival(foot, torso, a: int, b: int, fps: float, settle: float, lookback_s: float) -> int:
    """First frame from which the foot stays within ``settle`` torso lengths of its resting
    place (the median position 0.1–0.25 s into the rest ``[a, b)``), looking back from there."""
    skip, head = int(round(0.1 * fps)), max(int(round(0.15 * fps)), 2)
    r0 = a + skip if b - a > skip + 1 else a
    place = np.nanmedian(foot[r0 : min(b, r0 + head)], axis=0)
    scale = np.nanmedian(torso[a:b])
    lo = max(a - max(int(round(lookback_s * fps)), 1), 0)
    dist = np.hypot(*(foot[lo:r0] - place).T) / scale
    far = np.flatnonzero(~(dist <= settle))
    return min(lo + int(far[-1]) + 1, r0) if far.size else a


def frontal_events(
    heel_l: np.ndarray,
    heel_r: np.ndarray,
    torso: np.ndarray,
    fps: float,
    min_stride_s: float = 0.4,
    fraction: float = 0.15,
    settle: float = 0.05,
    ankle_diff: np.ndarray | None = None,
    max_stride_s: float = 2.5,
) -> Events:
    """Heel strikes where each foot comes to rest in the image (front, back or oblique view).

    When the rests give irregular heel strikes (:func:`regular_strikes` false: a foot that
    never rests, missed or doubled events) the withdrawn extrema rule
    (:func:`extrema_events`) is used instead and the method says so (``frontal_extrema``).

    Args:
        heel_l, heel_r: [T, 2] smoothed heel (or ankle) pixel positions, NaN where missing.
        torso: [T] torso length (px).
        fps: frames per second.
        min_stride_s, max_stride_s: shortest and longest plausible stride (s).
        fraction, settle: see :func:`stationary_onsets`.
        ankle_diff: [T] ``s * (y_left_ankle - y_right_ankle) / torso`` for the fallback
            (None: no fallback).
    """
    lt, sl = stationary_onsets(heel_l, torso, fps, fraction, settle)
    rt, sr = stationary_onsets(heel_r, torso, fps, fraction, settle)
    lt, rt = _alternate(lt, rt, sl, sr)
    if ankle_diff is None or regular_strikes(lt, rt, torso.size, max_stride_s * fps):
        return Events(hs_left=lt, hs_right=rt, method="frontal_rest")
    return extrema_events(ankle_diff, fps, min_stride_s)


def regular_strikes(
    lt: np.ndarray, rt: np.ndarray, n_frames: int, max_stride: float, spread: float = 1.33
) -> bool:
    """Do these heel strikes look like a walk (no missed, doubled or invented event)?

    True when there are ≥ 3 strikes and at least one same-foot interval, every same-foot
    interval lies within ``1/spread``–``spread`` × their median and below ``max_stride``
    frames, and neither end of the sequence is more than 1.5 × that median from a strike.
    """
    d = np.concatenate([np.diff(lt), np.diff(rt)]).astype(float)
    if lt.size + rt.size < 3 or d.size == 0:
        return False
    m = float(np.median(d))
    both = np.concatenate([lt, rt])
    return bool(
        0 < m
        and (d >= m / spread).all()
        and (d <= min(m * spread, max_stride)).all()
        and both.min() <= 1.5 * m
        and both.max() >= n_frames - 1 - 1.5 * m
    )


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


def extrema_events(e: np.ndarray, fps: float, min_stride_s: float = 0.4) -> Events:
    """Heel strikes at alternating extrema of the ankle-height difference (the withdrawn rule).

    Used only as :func:`frontal_events`' fallback when the feet never come to rest in the
    image (e.g. gaitpose's synthetic walker, whose stance feet slide). On real walking it
    fires 0.2–0.3 s late (ASYMMETRY.md).

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
    return Events(hs_left=lt, hs_right=rt, method="frontal_extrema")


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
