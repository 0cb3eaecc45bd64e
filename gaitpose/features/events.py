"""Gait events (heel strikes, toe-offs), strides and steps from smoothed keypoint trajectories.

* Front / back (and oblique) view — the foot-pitch peak (:func:`pitch_events`): at heel strike
  the foot is dorsiflexed (toe up, heel down). The image-vertical heel − toe difference over the
  torso length (:func:`foot_pitch`, MediaPipe heel 29/30 and foot_index 31/32) rises when the
  toe comes up, walking towards the camera and walking away alike; it has one toe-down trough
  per stride (toe-off) and one toe-up peak (heel strike). Per swing (from one trough to the
  next) the heel strike is the first peak near the top (``near_top`` 0.8 of the way up from the
  trough, after a rise of 0.6 × the pitch range), moved to the highest pitch within the next
  0.1 s, on the pitch smoothed over 0.1 s.
  On the 3D markers of the real trials of ``experiments/validation/real_motion.py`` the
  foot-pitch peak lies within 0.07 s of the Zeni heel strike (0.00–0.01 s except the
  Parkinson trial's left foot, which lands almost flat: 0.04–0.07 s early; table in
  ``experiments/validation/results/real_motion.md``). The 0.1 s smoothing and hold were chosen
  on the ``parkinson`` trial (its left foot lands almost flat: a broad peak that noise splits)
  and checked on ``healthy`` and ``stroke``; ``near_top`` changes nothing there between 0.7
  and 0.9. 30 fps, all trials, views and seeds: mean absolute error 0.021 s front and back,
  max 0.08 s, cadence within 2.8 %.
* Fallbacks: where the toes are missing (COCO-17) or do not pitch, or the pitch landings do not
  alternate or are irregular, the heel strike is where each heel comes to rest in the image
  (:func:`rest_events`, :func:`stationary_onsets`: the velocity-threshold idea of Ghoussayni
  et al. 2004 and O'Connor et al. 2007 on image speed; fraction 0.15 chosen on ``healthy``;
  30 fps back view: max error 0.19 s, cadence up to 13.5 %, so only a fallback), and when
  the rests give no walk either, the withdrawn extrema rule (:func:`extrema_events`, extrema
  of the ankle-height difference, which fires 0.2–0.3 s late on real walking). No toe-off.
  ``Events.method`` says which rule ran (``frontal_pitch``, ``frontal_rest``,
  ``frontal_extrema``).
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
    "highest_within",
    "landing_windows",
    "moving_mean",
    "robust_range",
    "alternate_strictly",
    "extrema_events",
    "first_near_top_peak",
    "foot_pitch",
    "frontal_events",
    "pitch_events",
    "pitch_peak_strikes",
    "regular_strikes",
    "rest_events",
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
    prom = max(rel_prominence * robust_range(x), 1e-9)
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


def foot_pitch(heel: np.ndarray, toe: np.ndarray, torso: np.ndarray) -> np.ndarray:
    """Image-vertical heel − toe in torso lengths: rises when the toe comes up (dorsiflexion).

    Image y points down, so ``(y_heel − y_toe) / torso`` grows as the toe rises above the heel,
    whichever way the subject walks: towards the camera the toe (nearer) projects below the heel
    when the foot is flat (negative baseline), walking away it projects above it (positive
    baseline), and in both the toe-up pitch of a heel strike adds a positive peak and the toe-down
    pitch of a toe-off a negative trough. Shapes: heel, toe [T, 2] px, torso [T] px → [T].
    """
    return (heel[:, 1] - toe[:, 1]) / torso


def robust_range(x: np.ndarray) -> float:
    """95th − 5th percentile of the finite samples (0 when fewer than 5)."""
    finite = x[np.isfinite(x)]
    if finite.size < 5:
        return 0.0
    lo, hi = np.percentile(finite, [5, 95])
    return float(hi - lo)


def moving_mean(x: np.ndarray, window: int) -> np.ndarray:
    """Centred mean over ``window`` frames of the finite samples (NaN kept NaN). Shapes: [T] → [T]."""
    from scipy.ndimage import uniform_filter1d

    f = np.isfinite(x)
    w = max(int(window), 1)
    if w == 1 or not f.any():
        return x
    n = uniform_filter1d(f.astype(float), w, mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        m = uniform_filter1d(np.where(f, x, 0.0), w, mode="constant") / n
    return np.where(f, m, np.nan)


def landing_windows(x: np.ndarray, troughs: np.ndarray) -> list[tuple[int, int]]:
    """Where to search for one landing each: per finite run of ``x``, from its start to its
    first toe-off trough, between consecutive troughs, and from the last trough to its end."""
    out: list[tuple[int, int]] = []
    for r0, r1 in runs(np.isfinite(x)):
        inside = troughs[(troughs > r0) & (troughs < r1)].tolist()
        edges = [r0, *inside, r1]
        out += list(zip(edges[:-1], edges[1:]))
    return out


def first_near_top_peak(
    x: np.ndarray, a: int, b: int, near: float = 0.8, min_rise: float = 0.0
) -> int | None:
    """First local maximum of the finite window ``x[a:b]`` that reaches ``near`` of the way up
    from the window's minimum to its maximum after a rise of at least ``min_rise`` into it
    (None: no such peak, e.g. the window holds only stance).

    Used on :func:`foot_pitch` between toe-off troughs: the first peak near the top is the heel
    strike, not a later bump in stance.
    """
    w = x[a:b]
    if w.size < 3:
        return None
    level = w.min() + near * (w.max() - w.min())
    before = np.minimum.accumulate(w)  # lowest sample up to each frame
    i = np.arange(1, w.size - 1)
    ok = (w[i] > w[i - 1]) & (w[i] >= w[i + 1]) & (w[i] >= level)
    ok &= w[i] - before[i - 1] >= min_rise
    return a + int(i[ok][0]) if ok.any() else None


def highest_within(x: np.ndarray, i: int, hold: int, stop: int) -> int | None:
    """Frame of the largest finite ``x`` in ``[i, min(i + hold, stop - 1)]``; None when that is
    ``stop - 1`` and ``stop > i``: the window ends while ``x`` still rises (no peak seen yet)."""
    end = min(i + hold + 1, stop)
    seg = x[i:end]
    j = i + int(np.argmax(np.where(np.isfinite(seg), seg, -np.inf)))
    return None if j == stop - 1 and j > i else j


def pitch_peak_strikes(
    pitch: np.ndarray,
    fps: float,
    min_stride_s: float = 0.4,
    near: float = 0.8,
    smooth_s: float = 0.1,
    hold_s: float = 0.1,
    rise: float = 0.6,
) -> np.ndarray:
    """Heel strikes of one foot at the peaks of its toe-up pitch (front, back or oblique view).

    1. Smooth: a centred ``smooth_s`` moving mean (heel and toe noise add up in the difference).
    2. Swings: the toe-off troughs of the pitch (:func:`detect_peaks` of −pitch, one per
       stride: at least 0.8 × ``min_stride_s`` apart).
    3. Landing: in each window between troughs (:func:`landing_windows`: one swing per
       search), the first peak near the top (:func:`first_near_top_peak`, after a rise of at
       least ``rise`` × the foot's robust pitch range out of the trough) — the foot's most
       toe-up instant, which on the 3D markers lies within 0.07 s of the Zeni heel strike —
       then the highest pitch within ``hold_s`` after it (:func:`highest_within`): a foot that
       lands nearly flat hovers level before contact, and noise splits its broad peak.

    ``rise`` 0.6: the real trials give the same events from 0.5 to 0.7 (0.8 misses landings);
    on the synthetic walker (gaitpose.synth) 0.5 accepts noise wiggles on the rising edge at
    the end of a clip and 0.7–0.8 miss landings after gaps; 0.6 gives regular strikes on all
    450 sequences of ``features_vs_truth.py`` front seed 0 / back seed 1.

    Shapes: pitch [T] (:func:`foot_pitch`) → int [K] frames.
    """
    x = moving_mean(pitch, int(round(smooth_s * fps)))
    troughs = detect_peaks(-x, max(int(round(0.8 * min_stride_s * fps)), 1))
    min_rise, hold = rise * robust_range(x), int(round(hold_s * fps))
    out = []
    for a, b in landing_windows(x, troughs):
        first = first_near_top_peak(x, a, b, near, min_rise)
        top = None if first is None else highest_within(x, first, hold, b)
        if top is not None:
            out.append(top)
    return np.array(out, int)


def alternate_strictly(lt: np.ndarray, rt: np.ndarray, seen: np.ndarray | None = None) -> bool:
    """Do the feet land in turn? False when one foot lands twice with no landing of the other
    in between (a missed or an invented landing) while both feet were ``seen`` (bool [T]; None:
    always) — a landing hidden in a gap of the keypoints is not a miss."""
    t = np.concatenate([lt, rt]).astype(int)
    side = np.concatenate([np.zeros(lt.size, int), np.ones(rt.size, int)])
    order = np.argsort(t, kind="stable")
    t, side = t[order], side[order]
    for k in np.flatnonzero(side[1:] == side[:-1]):
        if seen is None or seen[t[k] : t[k + 1] + 1].all():
            return False
    return True


def pitch_events(
    heels: tuple[np.ndarray, np.ndarray],
    toes: tuple[np.ndarray, np.ndarray],
    torso: np.ndarray,
    fps: float,
    min_stride_s: float = 0.4,
    near: float = 0.8,
    max_stride_s: float = 2.5,
    min_range: float = 0.1,
) -> Events | None:
    """Heel strikes at the toe-up pitch peak of each foot (:func:`pitch_peak_strikes`).

    None when a foot does not visibly pitch (toe keypoints missing, or a robust range of
    :func:`foot_pitch` below ``min_range`` torso lengths; a real foot: 0.3–0.4), the landings
    do not alternate (:func:`alternate_strictly`) or are irregular (:func:`regular_strikes`;
    both ignore landings hidden in gaps of the keypoints).
    """
    pl, pr = (foot_pitch(h, t, torso) for h, t in zip(heels, toes))
    if min(robust_range(pl), robust_range(pr)) < min_range:
        return None
    lt = pitch_peak_strikes(pl, fps, min_stride_s, near)
    rt = pitch_peak_strikes(pr, fps, min_stride_s, near)
    seen = np.isfinite(pl) & np.isfinite(pr)
    if not alternate_strictly(lt, rt, seen):
        return None
    if not regular_strikes(lt, rt, torso.size, max_stride_s * fps, seen=seen):
        return None
    return Events(hs_left=lt, hs_right=rt, method="frontal_pitch")


def rest_events(
    heels: tuple[np.ndarray, np.ndarray],
    torso: np.ndarray,
    fps: float,
    fraction: float = 0.15,
    settle: float = 0.05,
) -> Events:
    """Heel strikes where each heel comes to rest in the image (:func:`stationary_onsets`)."""
    (lt, sl), (rt, sr) = (stationary_onsets(h, torso, fps, fraction, settle) for h in heels)
    lt, rt = _alternate(lt, rt, sl, sr)
    return Events(hs_left=lt, hs_right=rt, method="frontal_rest")


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
    toe_l: np.ndarray | None = None,
    toe_r: np.ndarray | None = None,
    near_top: float = 0.8,
    method: str = "pitch",
) -> Events:
    """Heel strikes in a front, back or oblique view, by the first rule that gives a walk.

    1. ``pitch`` (with toe keypoints): the toe-up pitch peak of each foot (:func:`pitch_events`);
    2. ``rest``: where each heel comes to rest in the image (:func:`rest_events`) — when the
       toes are missing or do not pitch, the landings do not alternate, or the strikes are
       irregular (:func:`regular_strikes`);
    3. the withdrawn extrema rule (:func:`extrema_events`, ``frontal_extrema``) when the rests
       give no walk either (a foot that never rests, e.g. the synthetic walker's sliding feet).

    ``Events.method`` says which rule gave the strikes.

    Args:
        heel_l, heel_r: [T, 2] smoothed heel (or ankle) pixel positions, NaN where missing.
        torso: [T] torso length (px).
        fps: frames per second.
        min_stride_s, max_stride_s: shortest and longest plausible stride (s).
        fraction, settle: see :func:`stationary_onsets`.
        ankle_diff: [T] ``s * (y_left_ankle - y_right_ankle) / torso`` for the last fallback
            (None: none).
        toe_l, toe_r: [T, 2] smoothed toe (``foot_index``) positions, None when the layout has none.
        near_top: see :func:`first_near_top_peak`.
        method: ``pitch`` (the chain above) or ``rest`` (skip step 1, for comparisons).
    """
    heels, max_stride = (heel_l, heel_r), max_stride_s * fps
    if method == "pitch" and toe_l is not None and toe_r is not None:
        ev = pitch_events(heels, (toe_l, toe_r), torso, fps, min_stride_s, near_top, max_stride_s)
        if ev is not None:
            return ev
    ev = rest_events(heels, torso, fps, fraction, settle)
    if ankle_diff is None or regular_strikes(ev.hs_left, ev.hs_right, torso.size, max_stride):
        return ev
    return extrema_events(ankle_diff, fps, min_stride_s)


def regular_strikes(
    lt: np.ndarray,
    rt: np.ndarray,
    n_frames: int,
    max_stride: float,
    spread: float = 1.33,
    seen: np.ndarray | None = None,
) -> bool:
    """Do these heel strikes look like a walk (no missed, doubled or invented event)?

    True when there are ≥ 3 strikes and at least one same-foot interval, every same-foot
    interval lies within ``1/spread``–``spread`` × their median and below ``max_stride``
    frames, and neither end of the sequence is more than 1.5 × that median from a strike.
    With ``seen`` (bool [n_frames], where the feet were visible) intervals across a gap are
    left out and the ends are the first and last seen frames.
    """
    pairs = [(a, b) for x in (lt, rt) for a, b in zip(x[:-1], x[1:])]
    if seen is not None:
        pairs = [(a, b) for a, b in pairs if seen[a : b + 1].all()]
    d = np.array([b - a for a, b in pairs], float)
    if lt.size + rt.size < 3 or d.size == 0:
        return False
    m = float(np.median(d))
    first, last = 0, n_frames - 1
    if seen is not None and seen.any():
        first, last = int(np.argmax(seen)), int(n_frames - 1 - np.argmax(seen[::-1]))
    both = np.concatenate([lt, rt])
    return bool(
        0 < m
        and (d >= m / spread).all()
        and (d <= min(m * spread, max_stride)).all()
        and both.min() - first <= 1.5 * m
        and both.max() >= last - 1.5 * m
    )


def local_normalise(x: np.ndarray, window: int) -> np.ndarray:
    """Divide ``x`` (minus its local mean) by its local RMS over a centred ``window`` (frames).

    Perspective makes the ankle signal of a subject walking towards the camera grow as they
    approach; normalising locally keeps one prominence threshold valid along the sequence.

    Shapes: [T] → [T] (NaN kept).
    """
    f = np.isfinite(x)
    if f.sum() < 3:
        return x
    w = max(int(window), 3)
    mean = moving_mean(x, w)
    with np.errstate(invalid="ignore", divide="ignore"):  # running sums may dip below 0
        rms = np.sqrt(moving_mean((x - mean) ** 2, w))
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
