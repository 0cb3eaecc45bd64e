"""Exported medians track the synthetic cohort's ground truth (needs gaitpose.synth)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gaitpose.cli import main

try:
    import gaitpose.io.opengait  # noqa: F401  (the cohort writer uses it)
    from gaitpose.synth import cohort
except ImportError as exc:  # the synth part is not in this checkout
    pytest.skip(f"gaitpose.synth not available ({exc})", allow_module_level=True)


@pytest.mark.slow
def test_features_track_the_ground_truth(tmp_path) -> None:
    from scipy.stats import spearmanr

    root = tmp_path / "cohort"
    cohort.make_cohort(root, sequences=30, frames=300, seed=3, view="front", progress=False)
    out = tmp_path / "features.csv"
    assert main(["features", str(root), "-o", str(out)]) == 0
    f = pd.read_csv(out, dtype={"id": str})
    g = pd.read_csv(root / "ground_truth.csv", dtype={"id": str})
    m = f.merge(g, on="id", suffixes=("", "_truth"))
    assert len(m) == 30 and m["usable"].mean() >= 0.9
    for stem, minimum in (("shoulder_tilt", 0.9), ("trunk_shift", 0.9), ("pelvic_obliquity", 0.75)):
        rho = spearmanr(m[f"{stem}_median"], m[stem]).statistic
        assert rho >= minimum, (stem, rho)
    rel = np.abs(m["cadence_mean"] / m["cadence"] - 1)
    assert (rel < 0.05).mean() >= 0.9
