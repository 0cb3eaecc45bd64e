"""Agreement between two measurements of the same subjects (test–retest, two cameras, two backends).

For ``n`` subjects measured twice (``a``, ``b``), from the two-way ANOVA of the n × 2 table
(McGraw & Wong 1996; Shrout & Fleiss 1979):

* ICC(2,1) — two-way random effects, absolute agreement, single measurement
  (McGraw & Wong's ICC(A,1)), with its 95 % CI (McGraw & Wong 1996, case 2A);
* ICC(3,1) — two-way mixed effects, consistency, single measurement (ICC(C,1)), with its
  F-based 95 % CI;
* Bland & Altman (1986): bias = mean(b − a), 95 % limits of agreement bias ± 1.96 SD of the
  differences, and the t-based 95 % CI of the bias;
* SEM = √MS_error of the ANOVA (Weir 2005) and MDC95 = 1.96 · √2 · SEM (the smallest change
  of one subject that exceeds measurement error with 95 % confidence).

The formulas are those of ``pingouin.intraclass_corr``; the tests check them against it to
1e-6 and the Bland–Altman figures against Bland & Altman's (1986) worked example.
"""

from __future__ import annotations

import numpy as np

__all__ = ["STAT_COLUMNS", "agreement_stats", "anova_mean_squares", "bland_altman", "icc"]

#: The keys of :func:`agreement_stats`, in table order.
STAT_COLUMNS: tuple[str, ...] = (
    "n", "mean_a", "mean_b", "icc2_1", "icc2_1_lo", "icc2_1_hi", "icc3_1", "icc3_1_lo",
    "icc3_1_hi", "bias", "bias_lo", "bias_hi", "loa_lo", "loa_hi", "sd_diff", "sem", "mdc95",
)  # fmt: skip


def anova_mean_squares(x: np.ndarray) -> tuple[float, float, float]:
    """Mean squares of the two-way ANOVA without replication of an [n, k] table.

    Returns:
        (ms_subjects, ms_raters, ms_error)
    """
    x = np.asarray(x, float)
    n, k = x.shape
    grand = x.mean()
    ss_rows = k * ((x.mean(1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(0) - grand) ** 2).sum()
    ss_err = ((x - grand) ** 2).sum() - ss_rows - ss_cols
    return ss_rows / (n - 1), ss_cols / (k - 1), ss_err / ((n - 1) * (k - 1))


def icc(x: np.ndarray, alpha: float = 0.05) -> dict[str, float]:
    """ICC(2,1) and ICC(3,1) with their (1 − alpha) CIs for an [n, k] table (n ≥ 3)."""
    from scipy.stats import f

    x = np.asarray(x, float)
    n, k = x.shape
    msb, msj, mse = anova_mean_squares(x)
    icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
    icc3 = (msb - mse) / (msb + (k - 1) * mse)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    q = 1 - alpha / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        f3 = msb / mse
        f3l, f3u = f3 / f.ppf(q, df1, df2), f3 * f.ppf(q, df2, df1)
        fj = msj / mse
        vn = df2 * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
        vd = df1 * k**2 * icc2**2 * fj**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
        v = vn / vd
        f2u, f2l = f.ppf(q, n - 1, v), f.ppf(q, v, n - 1)
        denom = k * msj + (k * n - k - n) * mse
        return {
            "icc2_1": float(icc2),
            "icc2_1_lo": float(n * (msb - f2u * mse) / (f2u * denom + n * msb)),
            "icc2_1_hi": float(n * (f2l * msb - mse) / (denom + n * f2l * msb)),
            "icc3_1": float(icc3),
            "icc3_1_lo": float((f3l - 1) / (f3l + (k - 1))),
            "icc3_1_hi": float((f3u - 1) / (f3u + (k - 1))),
            "ms_error": float(mse),
        }


def bland_altman(a: np.ndarray, b: np.ndarray, alpha: float = 0.05) -> dict[str, float]:
    """Bias (mean of b − a), its t-based CI, and the 95 % limits of agreement."""
    from scipy.stats import t

    d = np.asarray(b, float) - np.asarray(a, float)
    n = d.size
    bias, sd = float(d.mean()), float(d.std(ddof=1))
    half = float(t.ppf(1 - alpha / 2, n - 1) * sd / np.sqrt(n))
    return {
        "bias": bias, "bias_lo": bias - half, "bias_hi": bias + half,
        "loa_lo": bias - 1.96 * sd, "loa_hi": bias + 1.96 * sd, "sd_diff": sd,
    }  # fmt: skip


def agreement_stats(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """All of :data:`STAT_COLUMNS` for paired measurements ``a``, ``b`` (finite pairs only).

    With fewer than 3 finite pairs every statistic but ``n`` is NaN.
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    out = dict.fromkeys(STAT_COLUMNS, float("nan"))
    out["n"] = int(a.size)
    if a.size < 3:
        return out
    out["mean_a"], out["mean_b"] = float(a.mean()), float(b.mean())
    ic = icc(np.stack([a, b], 1))
    out.update({k: v for k, v in ic.items() if k in out})
    out.update(bland_altman(a, b))
    out["sem"] = float(np.sqrt(max(ic["ms_error"], 0.0)))
    out["mdc95"] = 1.96 * np.sqrt(2.0) * out["sem"]
    return out
