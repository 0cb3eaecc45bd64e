"""A walk's asymmetry features, each placed in a reference distribution.

The reference is a features table (``gaitpose features`` output) with class labels (a labels
CSV, as for ``gaitpose report``). For each key feature: the walk's value, its percentile
among the usable negative-class walks, and the median of each class.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from gaitpose import LABELS

#: The features shown in the report: magnitudes of the frontal posture asymmetries (their
#: sign only says which side) and the left/right symmetry indices of arm swing and step time.
KEY_FEATURES: tuple[str, ...] = (
    "shoulder_tilt_abs_median", "shoulder_height_diff_abs_median", "pelvic_obliquity_abs_median",
    "shoulder_pelvis_tilt_abs_median", "trunk_lateral_lean_abs_median", "trunk_shift_abs_median",
    "head_pelvis_offset_abs_median", "thoracopelvic_twist_abs_median", "arm_swing_asymmetry_si",
    "step_time_asymmetry_si",
)  # fmt: skip


@dataclass
class Reference:
    """Per feature: the negative class's values and every class's median."""

    negatives: dict[str, np.ndarray]
    medians: dict[str, dict[str, float]]
    counts: dict[str, int]
    source: str


def load_reference(features_csv: str | os.PathLike, labels_csv: str | os.PathLike) -> Reference:
    """Read a features table and its labels; only usable rows count. Raises ValueError /
    OSError with the reason when the tables cannot be used."""
    import pandas as pd

    from gaitpose.features.report import _usable_mask, join_labels, read_table

    df = join_labels(read_table(features_csv), pd.read_csv(labels_csv, dtype={"id": str}))
    df = df[_usable_mask(df)]
    cols = [c for c in KEY_FEATURES if c in df.columns]
    if not cols:
        raise ValueError(f"{features_csv}: none of the key features ({', '.join(KEY_FEATURES[:3])}, ...)")
    neg = df[df["class"] == "negative"]
    if neg.empty:
        raise ValueError(f"{features_csv}: no usable negative-class rows to compare with")
    medians = {c: {k: float(df.loc[df["class"] == k, c].median()) if (df["class"] == k).any() else math.nan
                   for k in LABELS} for c in cols}  # pandas: NaN (no warning) when a class has no value
    negatives = {c: neg[c].to_numpy(np.float64) for c in cols}
    counts = {k: int((df["class"] == k).sum()) for k in LABELS}
    return Reference(negatives, medians, counts, str(features_csv))


def percentile_among(values: np.ndarray, x: float) -> float | None:
    """Percentage of ``values`` below ``x`` (ties count half); None when ``x`` or all values are NaN."""
    v = values[np.isfinite(values)]
    if not math.isfinite(x) or v.size == 0:
        return None
    return float(100.0 * ((v < x).sum() + 0.5 * (v == x).sum()) / v.size)


def place_features(features: Mapping[str, Any], reference: Reference | None) -> list[dict[str, Any]]:
    """One entry per key feature: value, unit, and with a reference its percentile among the
    negatives and the class medians."""
    from gaitpose.features.dictionary import describe

    out = []
    for col in KEY_FEATURES:
        if col not in features:
            continue
        x = features[col]
        x = float(x) if isinstance(x, (int, float, np.floating)) and x is not None else math.nan
        entry: dict[str, Any] = {"feature": col, "value": x if math.isfinite(x) else None,
                                 "unit": describe(col).get("unit", "")}
        if reference is not None and col in reference.negatives:
            entry["percentile_negative"] = percentile_among(reference.negatives[col], x)
            entry["class_medians"] = {k: (v if math.isfinite(v) else None) for k, v in reference.medians[col].items()}
        out.append(entry)
    return out
