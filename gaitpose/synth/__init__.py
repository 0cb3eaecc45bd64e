"""A synthetic labelled scoliosis cohort: parametric 3D walker → keypoints + silhouettes.

A pipeline check, not clinical evidence (see :mod:`gaitpose.synth.cohort`).
"""

from gaitpose.synth.cohort import (
    DEFAULT_RATIO,
    GENERATOR_VERSION,
    TRUTH_COLUMNS,
    class_counts,
    generate_sequence,
    make_cohort,
    plan_cohort,
)

__all__ = [
    "DEFAULT_RATIO",
    "GENERATOR_VERSION",
    "TRUTH_COLUMNS",
    "class_counts",
    "generate_sequence",
    "make_cohort",
    "plan_cohort",
]
