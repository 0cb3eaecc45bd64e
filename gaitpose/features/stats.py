"""Group statistics for the features report: per-class summaries, Kruskal–Wallis, Mann–Whitney U
with Holm correction, Cliff's delta with a bootstrap confidence interval.

Pure functions over numpy arrays / pandas frames; no plotting here.
"""

from __future__ import annotations

import numpy as np

__all__ = ["bootstrap_cliffs_delta", "cliffs_delta", "group_comparison", "holm"]

CLASSES = ("negative", "neutral", "positive")
#: (name, group a, group b): Cliff's delta is P(a > b) - P(a < b).
COMPARISONS = (
    ("positive_vs_negative", "positive", "negative"),
    ("neutral_vs_negative", "neutral", "negative"),
    ("positive_vs_neutral", "positive", "neutral"),
)


def holm(p: np.ndarray) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (NaN entries ignored and kept NaN).

    Shapes: [K] → [K]
    """
    p = np.asarray(p, float)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return out
    idx = np.nonzero(ok)[0]
    order = idx[np.argsort(p[idx], kind="stable")]
    adj = (m - np.arange(m)) * p[order]
    adj = np.minimum(np.maximum.accumulate(adj), 1.0)
    out[order] = adj
    return out


def _delta_from_ranks(ranks_a: np.ndarray, n_a: int, n_b: int) -> np.ndarray:
    u = ranks_a.sum(-1) - n_a * (n_a + 1) / 2.0
    return 2.0 * u / (n_a * n_b) - 1.0


def cliffs_delta(a: np.ndarray, b: np.ndarray) -> float:
    """Cliff's delta = P(a > b) − P(a < b), ties counted half (from mid-ranks, O(n log n))."""
    from scipy.stats import rankdata

    a = np.asarray(a, float)
    b = np.asarray(b, float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if not a.size or not b.size:
        return float("nan")
    r = rankdata(np.concatenate([a, b]))
    return float(_delta_from_ranks(r[: a.size], a.size, b.size))


def bootstrap_cliffs_delta(
    a: np.ndarray, b: np.ndarray, n_boot: int = 1000, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of Cliff's delta (both groups resampled, vectorised)."""
    from scipy.stats import rankdata

    a = np.asarray(a, float)
    b = np.asarray(b, float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size < 2 or b.size < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    ia = rng.integers(0, a.size, size=(n_boot, a.size))
    ib = rng.integers(0, b.size, size=(n_boot, b.size))
    both = np.concatenate([a[ia], b[ib]], axis=1)
    r = rankdata(both, axis=1)
    d = _delta_from_ranks(r[:, : a.size], a.size, b.size)
    lo, hi = np.percentile(d, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return float(lo), float(hi)


def group_comparison(
    df, features: list[str], label_col: str = "class", n_boot: int = 1000, seed: int = 0
):
    """One row per feature: per-class n / median / IQR, Kruskal–Wallis over the classes present,
    Mann–Whitney U positive vs negative, Holm-adjusted p-values (over features), Cliff's delta
    for each comparison in :data:`COMPARISONS` with a bootstrap 95 % CI; ranked by
    ``|cliffs_delta_positive_vs_negative|`` (descending).

    Args:
        df: pandas DataFrame with ``label_col`` and the feature columns.
        features: numeric columns to compare.

    Returns:
        pandas DataFrame (feature, rank, ... columns).
    """
    import pandas as pd
    from scipy.stats import kruskal, mannwhitneyu

    rows = []
    groups = {c: df.loc[df[label_col] == c] for c in CLASSES}
    for k, feat in enumerate(features):
        row: dict = {"feature": feat}
        vals = {}
        for c in CLASSES:
            v = pd.to_numeric(groups[c][feat], errors="coerce").to_numpy(float)
            v = v[np.isfinite(v)]
            vals[c] = v
            row[f"n_{c}"] = int(v.size)
            row[f"median_{c}"] = float(np.median(v)) if v.size else np.nan
            row[f"iqr_{c}"] = float(np.subtract(*np.percentile(v, [75, 25]))) if v.size else np.nan
        present = [vals[c] for c in CLASSES if vals[c].size >= 2]
        row["kw_H"], row["kw_p"] = np.nan, np.nan
        if len(present) >= 2 and np.ptp(np.concatenate(present)) > 0:
            h, p = kruskal(*present)
            row["kw_H"], row["kw_p"] = float(h), float(p)
        a, b = vals["positive"], vals["negative"]
        row["mw_U"], row["mw_p"] = np.nan, np.nan
        if a.size >= 2 and b.size >= 2 and np.ptp(np.concatenate([a, b])) > 0:
            u, p = mannwhitneyu(a, b, alternative="two-sided")
            row["mw_U"], row["mw_p"] = float(u), float(p)
        for name, ga, gb in COMPARISONS:
            row[f"cliffs_delta_{name}"] = cliffs_delta(vals[ga], vals[gb])
            if name == "positive_vs_negative":
                lo, hi = bootstrap_cliffs_delta(vals[ga], vals[gb], n_boot=n_boot, seed=seed + k)
                row["cliffs_delta_ci_low"], row["cliffs_delta_ci_high"] = lo, hi
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["kw_p_holm"] = holm(out["kw_p"].to_numpy())
    out["mw_p_holm"] = holm(out["mw_p"].to_numpy())
    key = out["cliffs_delta_positive_vs_negative"].abs().fillna(-1.0)
    out = out.assign(_k=key).sort_values(["_k", "mw_p"], ascending=[False, True]).drop(columns="_k")
    out.insert(1, "rank", np.arange(1, len(out) + 1))
    return out.reset_index(drop=True)
