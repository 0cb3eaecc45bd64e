"""Processing parameters of the features (ASYMMETRY.md defaults)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FeatureParams:
    """Processing parameters (ASYMMETRY.md defaults). Times in seconds."""

    min_score: float = 0.5  #: keypoints with a lower score are missing
    max_gap_s: float = 0.15  #: longest gap to interpolate
    hampel_window: int = 7  #: frames
    hampel_sigmas: float = 3.0  #: scaled MADs
    cutoff_hz: float = 6.0  #: Butterworth cut-off
    filter_order: int = 4
    side_ratio: float = 0.25  #: |body width| / torso below which a frame is a side view
    min_stride_s: float = 0.4
    stationary_fraction: float = 0.15  #: front/back: a foot rests below this × its 95th-pct speed
    settle_torso: float = 0.05  #: front/back: heel strike = arrival within this (torso) of the rest
    pitch_near_top: float = 0.8  #: front/back: strike = first foot-pitch peak this near the top
    #: front/back events: "pitch" (default: toe-up pitch peak, then rest, then extrema),
    #: "rest" (heel comes to rest, then extrema) or "extrema" (withdrawn; comparisons only)
    frontal_method: str = "pitch"
    max_stride_s: float = 2.5
    min_strides: int = 3  #: per side, for ``usable``
    min_person_fraction: float = 0.5
    min_keypoint_fraction: float = 0.5
    stride_coverage: float = 0.5  #: fraction of valid frames a stride needs for its mean
    facing_majority: float = 0.7  #: fraction of frames for a sequence facing label (else mixed)
    correct_roll: bool = True  #: de-rotate front/back views by the leg-axis camera roll estimate
    jump_speed: float = 3.0  #: torso lengths per second above which the tracked person "jumps"
