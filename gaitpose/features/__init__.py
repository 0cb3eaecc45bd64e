"""Biomechanical asymmetry features from keypoint sequences (see ASYMMETRY.md).

Pure functions (arrays in, arrays out): :mod:`.signal` (gap filling, Hampel, Butterworth),
:mod:`.geometry` (tilts, facing, offsets), :mod:`.events` (heel strikes, strides),
:mod:`.pipeline` (one sequence → one row), :mod:`.dictionary` (the data dictionary),
:mod:`.readers` (Sequence files and OpenGait trees), :mod:`.stats` (group report).
"""

from gaitpose.features.pipeline import FeatureParams, SequenceFeatures, sequence_features

__all__ = ["FeatureParams", "SequenceFeatures", "sequence_features"]
