"""Biomechanical asymmetry features from keypoint sequences (see ASYMMETRY.md).

Pure functions (arrays in, arrays out): :mod:`.signal` (gap filling, Hampel, Butterworth),
:mod:`.clean` (keypoint cleaning, track jumps), :mod:`.geometry` (tilts, facing, offsets),
:mod:`.events` (heel strikes, strides), :mod:`.measures` (per-stride measures, asymmetry
indices, camera roll), :mod:`.pipeline` (one sequence → one row), :mod:`.params`,
:mod:`.dictionary` (the data dictionary), :mod:`.readers` (Sequence files and OpenGait trees),
:mod:`.stats` and :mod:`.report` (group report), :mod:`.constructed` (walkers for tests).
"""

from gaitpose.features.pipeline import FeatureParams, SequenceFeatures, sequence_features

__all__ = ["FeatureParams", "SequenceFeatures", "sequence_features"]
