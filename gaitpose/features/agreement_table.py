"""Tables, Markdown and plots of ``gaitpose agreement``: two feature tables of the same walks.

:func:`match_tables` pairs the rows (by ``id``, and ``view`` when both tables have it),
:func:`agreement_table` computes :func:`gaitpose.features.agreement.agreement_stats` per
feature and ranks them, :func:`write_outputs` writes CSV, Markdown and PNGs atomically.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gaitpose.features.agreement import STAT_COLUMNS, agreement_stats
from gaitpose.features.report import _md_table, _usable_mask, feature_columns

__all__ = ["agreement_table", "match_tables", "write_outputs"]


def match_tables(a, b, usable_only: bool = True):
    """Inner join of two feature tables on ``id`` (+ ``view`` when both have it).

    Returns:
        (pairs, keys): ``pairs`` has the shared feature columns twice, suffixed ``_a`` and
        ``_b``; ``keys`` the join columns. With ``usable_only`` a row flagged
        ``usable = false`` in either table is dropped.
    """
    keys = ["id"] + (["view"] if "view" in a.columns and "view" in b.columns else [])
    if usable_only:
        a, b = a[_usable_mask(a)], b[_usable_mask(b)]
    a = a.astype({"id": str}).drop_duplicates(keys)
    b = b.astype({"id": str}).drop_duplicates(keys)
    shared = [c for c in feature_columns(a) if c in set(feature_columns(b))]
    pairs = a[keys + shared].merge(b[keys + shared], on=keys, suffixes=("_a", "_b"))
    pairs.attrs["features"] = shared
    return pairs, keys


def agreement_table(pairs):
    """One row per feature: :data:`~gaitpose.features.agreement.STAT_COLUMNS`, ranked by
    ICC(2,1) (highest first; features with too few finite pairs last)."""
    import pandas as pd

    rows = []
    for f in pairs.attrs.get("features", []):
        st = agreement_stats(pairs[f"{f}_a"].to_numpy(float), pairs[f"{f}_b"].to_numpy(float))
        rows.append({"feature": f, **st})
    if not rows:
        return pd.DataFrame(columns=["rank", "feature", *STAT_COLUMNS])
    df = pd.DataFrame(rows).sort_values("icc2_1", ascending=False, na_position="last")
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df.reset_index(drop=True)


def write_outputs(table, pairs, out: Path, top: int, names: tuple[str, str]) -> Path:
    """agreement.csv, agreement.md, bland_altman.png and icc.png under ``out``."""
    from gaitpose.io.atomic import atomic_path, atomic_write_text

    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "agreement.csv") as tmp:
        table.to_csv(tmp, index=False)
    atomic_write_text(out / "agreement.md", _markdown(table, len(pairs), names))
    _bland_altman_plot(table.head(top), pairs, out / "bland_altman.png")
    _icc_plot(table, out / "icc.png")
    return out


def _markdown(table, n: int, names: tuple[str, str]) -> str:
    shown = table[["rank", "feature", "n", "icc2_1", "icc2_1_lo", "icc2_1_hi", "icc3_1",
                   "icc3_1_lo", "icc3_1_hi", "bias", "loa_lo", "loa_hi", "sem", "mdc95"]]  # fmt: skip
    return "\n".join([
        "# Agreement between two feature tables", "",
        f"A = `{names[0]}`, B = `{names[1]}`; {n} walks in both.", "",
        "ICC(2,1): two-way random, absolute agreement; ICC(3,1): two-way mixed, consistency "
        "(McGraw & Wong 1996), each with its 95 % CI. Bias = mean(B − A) and the 95 % limits "
        "of agreement (Bland & Altman 1986). SEM = √MS_error (Weir 2005); MDC95 = 1.96·√2·SEM: "
        "a change of one subject smaller than this is within measurement error.", "",
        _md_table(shown), "",
    ])  # fmt: skip


def _bland_altman_plot(table, pairs, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gaitpose.io.atomic import save_figure

    k = max(len(table), 1)
    cols = min(4, k)
    rows = int(np.ceil(k / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.0 * rows), squeeze=False)
    for ax in axes.flat[k:]:
        ax.axis("off")
    for ax, (_, r) in zip(axes.flat, table.iterrows()):
        a = pairs[f"{r['feature']}_a"].to_numpy(float)
        b = pairs[f"{r['feature']}_b"].to_numpy(float)
        ok = np.isfinite(a) & np.isfinite(b)
        ax.scatter((a[ok] + b[ok]) / 2, b[ok] - a[ok], s=10, alpha=0.7)
        for y, style in ((r["bias"], "-"), (r["loa_lo"], "--"), (r["loa_hi"], "--")):
            if np.isfinite(y):
                ax.axhline(y, color="k", ls=style, lw=0.8)
        ax.set_title(f"{r['feature']}\nICC(2,1) {r['icc2_1']:.2f}", fontsize=8)
        ax.set_xlabel("mean of A and B", fontsize=7)
        ax.set_ylabel("B − A", fontsize=7)
        ax.tick_params(labelsize=6)
    fig.suptitle("Bland–Altman: bias (solid) and 95 % limits of agreement (dashed)", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    plt.close(fig)


def _icc_plot(table, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gaitpose.io.atomic import save_figure

    t = table[np.isfinite(table["icc2_1"])].head(40)[::-1]
    fig, ax = plt.subplots(figsize=(6.5, 0.22 * len(t) + 1.2))
    y = np.arange(len(t))
    err = np.vstack([t["icc2_1"] - t["icc2_1_lo"], t["icc2_1_hi"] - t["icc2_1"]])
    ax.errorbar(t["icc2_1"], y, xerr=np.clip(err, 0, None), fmt="o", ms=3, lw=1)
    ax.set_yticks(y, t["feature"], fontsize=6)
    ax.axvline(0.75, color="grey", ls=":", lw=0.8)
    ax.axvline(0.9, color="grey", ls=":", lw=0.8)
    ax.set_xlabel("ICC(2,1) with 95 % CI (dotted: 0.75 good, 0.9 excellent)")
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    plt.close(fig)
