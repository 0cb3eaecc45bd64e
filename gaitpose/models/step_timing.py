"""Left and right step times of a clip from 2-D keypoints, batched in torch.

A heel strike is where the foot pitches toes-up the most: ``pitch = (y_heel - y_toe) / torso``
peaks when the heel lands, walking towards, away from or across the camera (the rule of
:mod:`gaitpose.features.events`, ``frontal_pitch``, checked there against 3-D markers of real
walks). This module is its batched counterpart for the skeleton stream's measure token,
without that module's per-swing search and fallbacks: short keypoint dropouts are bridged, a
strike is a pitch maximum within ±1/3 s in the top fifth of the foot's range over the clip,
placed between frames by a parabola through the peak and its neighbours (step-time
asymmetries of a few per cent are a fraction of a frame at 30 fps), and steps far from the
clip's median step (a spurious strike makes one short step) are left out.

Checked on recorded walks (tests/models/test_step_timing.py: gaitkit's 3-D marker trials
projected front, back and side with noise and dropouts): strikes within 0.06 s of the markers'
and step ratios within 0.15 of theirs. A Parkinsonian foot that lands flat has no clear pitch
peak; its strikes are missed (the ratio is then 0 or rests on fewer steps).

A left step ends at a left heel strike (it starts at the right heel strike before it).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

#: a strike is the highest pitch within this many frames either side (0.33 s at 30 fps; a foot
#: lands once a stride, ≥ 0.8 s)
PEAK_HALF_WINDOW = 10
#: and lies in the top part of the foot's pitch range over the clip (0 = its minimum, 1 = max)
NEAR_TOP = 0.8
#: keypoint dropouts of up to this many frames are bridged by linear interpolation
MAX_GAP = 4
#: steps further than this share from the clip's median step are left out (spurious strikes)
STEP_TOLERANCE = 0.5


def smooth3(x: Tensor) -> Tensor:
    """Moving mean over 3 frames (edges repeated). [N, T] -> [N, T]."""
    return F.avg_pool1d(F.pad(x[:, None], (1, 1), mode="replicate"), 3, 1)[:, 0]


def fill_gaps(x: Tensor, ok: Tensor, max_gap: int = MAX_GAP) -> tuple[Tensor, Tensor]:
    """Linear interpolation over runs of at most ``max_gap`` unseen frames between seen ones
    (keypoint dropouts); longer gaps and the clip's unseen ends stay unseen.

    Shapes: x, ok [N, T] -> (x, ok) [N, T].
    """
    n, t = x.shape
    frame = torch.arange(t, device=x.device).expand(n, t)
    last = torch.cummax(torch.where(ok, frame, torch.full_like(frame, -1)), 1).values
    nxt = torch.flip(
        torch.cummin(torch.flip(torch.where(ok, frame, torch.full_like(frame, t)), [1]), 1).values,
        [1],
    )
    inside = (last >= 0) & (nxt < t) & (nxt - last - 1 <= max_gap)
    a = x.gather(1, last.clamp(min=0))
    b = x.gather(1, nxt.clamp(max=t - 1))
    span = (nxt - last).clamp(min=1).to(x.dtype)
    filled = a + (b - a) * (frame - last).to(x.dtype) / span
    fill = ~ok & inside
    return torch.where(fill, filled, x), ok | fill


def pitch_peaks(pitch: Tensor, ok: Tensor) -> Tensor:
    """Times (frames, sub-frame) of the near-top local maxima of each row's pitch; NaN elsewhere.

    Shapes: pitch, ok [N, T] -> [N, T] (the time of a peak at the frame it lies nearest).
    """
    n, t = pitch.shape
    pitch, ok = fill_gaps(torch.where(ok, pitch, torch.zeros_like(pitch)), ok)  # 0 where unseen
    p = smooth3(pitch) / smooth3(ok.to(pitch.dtype)).clamp(min=1e-6)  # the seen frames' mean
    seen = torch.where(ok, p, torch.full_like(p, -1e9))
    hi = seen.amax(1, keepdim=True)
    lo = torch.where(ok, p, torch.full_like(p, 1e9)).amin(1, keepdim=True)
    window_max = F.max_pool1d(seen[:, None], 2 * PEAK_HALF_WINDOW + 1, 1, PEAK_HALF_WINDOW)[:, 0]
    prev = torch.cat([p[:, :1], p[:, :-1]], 1)
    nxt = torch.cat([p[:, 1:], p[:, -1:]], 1)
    frame = torch.arange(t, device=p.device, dtype=p.dtype).expand(n, t)
    ok_prev = torch.cat([ok[:, :1], ok[:, :-1]], 1)
    ok_next = torch.cat([ok[:, 1:], ok[:, -1:]], 1)
    interior = (frame > 0) & (frame < t - 1) & ok_prev & ok_next
    peak = (
        ok
        & interior
        & (p >= window_max)
        & (p > lo + NEAR_TOP * (hi - lo))
        & (p > prev)
        & (p >= nxt)
    )
    curve = prev - 2 * p + nxt
    shift = 0.5 * (prev - nxt) / torch.where(curve < 0, curve, -torch.ones_like(curve))
    shift = torch.where(curve < 0, shift, torch.zeros_like(shift)).clamp(-0.5, 0.5)
    return torch.where(peak, frame + shift, torch.full_like(p, torch.nan))


def next_event(events: Tensor) -> Tensor:
    """For each frame, the time of the first event strictly after it (inf if none). [N, T] -> [N, T]."""
    times = torch.where(torch.isnan(events), torch.full_like(events, torch.inf), events)
    upcoming = torch.flip(torch.cummin(torch.flip(times, [1]), 1).values, [1])
    return torch.cat([upcoming[:, 1:], torch.full_like(upcoming[:, :1], torch.inf)], 1)


def steps_between(strike_from: Tensor, strike_to: Tensor) -> Tensor:
    """Time from each strike of one foot to the other foot's next strike, where the other foot
    lands before the first lands again; NaN elsewhere. [N, T] -> [N, T]."""
    to_next, from_next = next_event(strike_to), next_event(strike_from)
    step = to_next - strike_from
    return torch.where(
        torch.isfinite(step) & (to_next < from_next), step, torch.full_like(step, torch.nan)
    )


def plausible_mean(steps: Tensor, median: Tensor) -> tuple[Tensor, Tensor]:
    """Mean of the steps within [1 - STEP_TOLERANCE, 1 + STEP_TOLERANCE] x the clip's median
    step (a spurious strike makes one step short and the next one long) and their count."""
    good = torch.isfinite(steps) & ((steps - median).abs() <= STEP_TOLERANCE * median)
    count = good.sum(1)
    return torch.where(good, steps, torch.zeros_like(steps)).sum(1) / count.clamp(min=1), count


def step_time_log_ratio(
    pitch_left: Tensor, ok_left: Tensor, pitch_right: Tensor, ok_right: Tensor
) -> Tensor:
    """``log(left step time / right step time)`` from the feet's pitch signals; 0 where a clip
    lacks a step on either side.

    Shapes: pitch_*, ok_* [N, T] -> [N].
    """
    left_hs, right_hs = pitch_peaks(pitch_left, ok_left), pitch_peaks(pitch_right, ok_right)
    left_steps = steps_between(right_hs, left_hs)  # steps ending at a left strike
    right_steps = steps_between(left_hs, right_hs)
    median = torch.cat([left_steps, right_steps], 1).nanmedian(1, keepdim=True).values
    left, n_left = plausible_mean(left_steps, median[:, 0:1])
    right, n_right = plausible_mean(right_steps, median[:, 0:1])
    usable = (n_left > 0) & (n_right > 0) & (left > 0) & (right > 0)
    ratio = torch.log(left.clamp(min=1e-6)) - torch.log(right.clamp(min=1e-6))
    return torch.where(usable, ratio, torch.zeros_like(ratio))
