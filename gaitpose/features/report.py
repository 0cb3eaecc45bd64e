"""The group report of ``gaitpose report``: join labels, keep usable rows, compare classes,
write a ranked table (CSV + Markdown), box/strip plots of the top features and a heat map of
effect sizes (PNG, matplotlib Agg).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gaitpose.features.dictionary import CAVEATS
from gaitpose.features.stats import CLASSES, COMPARISONS, group_comparison

__all__ = ["feature_columns", "join_labels", "make_report", "read_table"]

_NON_FEATURES = {"id", "class", "view", "source", "subject", "usable", "usable_reason", "label"}


def read_table(path: str | Path):
    """Read a CSV or Parquet table (by suffix)."""
    import pandas as pd

    path = Path(path)
    if path.suffix.lower() == ".parquet":
        df = pd.read_parquet(path)
        if "id" in df.columns:
            df["id"] = df["id"].astype(str)
        return df
    return pd.read_csv(path, dtype={"id": str})  # keep ids such as "00012" as text


def _norm_class(v) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return ""
    s = str(v).strip()
    if s.lstrip("-").isdigit() and 0 <= int(s) < len(CLASSES):
        return CLASSES[int(s)]
    return s.lower()


def join_labels(features, labels=None):
    """Attach a ``class`` column: from ``labels`` (columns id + class or label) joined on id,
    which wins over a class already in ``features``.

    Returns:
        a copy of ``features`` with ``class`` normalised (lower-case; 0/1/2 → names).
    """
    df = features.copy()
    df["id"] = df["id"].astype(str)
    if "class" not in df.columns:
        df["class"] = ""
    df["class"] = df["class"].map(_norm_class)
    if labels is not None:
        lab = labels.copy()
        col = "class" if "class" in lab.columns else "label" if "label" in lab.columns else None
        if "id" not in lab.columns or col is None:
            raise ValueError("labels CSV needs columns id and class (or label)")
        lab["id"] = lab["id"].astype(str)
        mapping = dict(zip(lab["id"], lab[col].map(_norm_class)))
        joined = df["id"].map(mapping)
        df["class"] = joined.where(joined.notna() & (joined != ""), df["class"])
    return df


def feature_columns(df) -> list[str]:
    """Numeric feature columns (not keys, not ``qc_*``)."""
    import pandas as pd

    cols = []
    for c in df.columns:
        if c in _NON_FEATURES or c.startswith("qc_"):
            continue
        if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]):
            cols.append(c)
    return cols


def _usable_mask(df):
    if "usable" not in df.columns:
        return np.ones(len(df), bool)
    u = df["usable"]
    if u.dtype == object:
        u = u.astype(str).str.lower().isin(["true", "1", "yes"])
    return u.to_numpy(bool)


def _exclusions(df):
    import pandas as pd

    usable = _usable_mask(df)
    has_class = df["class"].isin(CLASSES).to_numpy()
    reasons = []
    for i in range(len(df)):
        r = []
        if not usable[i]:
            why = str(df["usable_reason"].iloc[i]) if "usable_reason" in df.columns else ""
            r.append(f"not usable: {why}" if why and why != "nan" else "not usable")
        if not has_class[i]:
            r.append("no class label")
        reasons.append("; ".join(r))
    reasons = pd.Series(reasons, index=df.index)
    keep = usable & has_class
    summary = (
        reasons[~keep]
        .value_counts()
        .rename_axis("reason")
        .reset_index(name="sequences")
        .sort_values("sequences", ascending=False)
    )
    return keep, summary


def _md_table(df, floatfmt: str = ".3g") -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
    for _, r in df.iterrows():
        cells = []
        for c in cols:
            v = r[c]
            if isinstance(v, (float, np.floating)):
                cells.append("" if not np.isfinite(v) else format(float(v), floatfmt))
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _box_strip(ax, data, feature: str, seed: int = 0) -> None:
    present = [c for c in CLASSES if c in data and len(data[c])]
    vals = [data[c] for c in present]
    if not present:
        ax.set_axis_off()
        return
    ax.boxplot(vals, showfliers=False, widths=0.5)
    ax.set_xticks(range(1, len(present) + 1), present)
    rng = np.random.default_rng(seed)
    colors = {"negative": "tab:green", "neutral": "tab:orange", "positive": "tab:red"}
    for i, (c, v) in enumerate(zip(present, vals), start=1):
        ax.scatter(i + rng.uniform(-0.15, 0.15, len(v)), v, s=8, alpha=0.6, color=colors[c])
    ax.set_title(feature, fontsize=9)


def make_report(features, labels, out_dir: str | Path, top: int = 12, n_boot: int = 1000) -> dict:
    """Write the group report into ``out_dir``.

    Files: ``stats.csv`` (every feature, ranked), ``stats.md`` (ranked table, exclusions,
    caveats), ``exclusions.csv``, ``top_features.png`` and ``plots/<feature>.png`` (box + strip
    per class for the ``top`` features), ``effect_sizes.png`` (Cliff's delta heat map).

    Returns:
        dict with ``stats`` (DataFrame), ``n_used``, ``n_excluded``, ``files`` (list of paths).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gaitpose.io.atomic import atomic_path, atomic_write_text, save_figure

    out = Path(out_dir)
    (out / "plots").mkdir(parents=True, exist_ok=True)
    df = join_labels(features, labels)
    keep, excl = _exclusions(df)
    used = df.loc[keep]
    feats = [c for c in feature_columns(used) if used[c].notna().any()]
    stats = group_comparison(used, feats, n_boot=n_boot)
    files: list[Path] = []

    def save_csv(frame, path: Path) -> None:
        with atomic_path(path) as tmp:
            frame.to_csv(tmp, index=False)
        files.append(path)

    def save_fig(fig, path: Path) -> None:
        files.append(save_figure(fig, path, dpi=110, bbox_inches="tight"))

    save_csv(stats, out / "stats.csv")
    save_csv(excl, out / "exclusions.csv")

    top_feats = list(stats["feature"].head(top)) if len(stats) else []
    groups = {
        f: {c: used.loc[used["class"] == c, f].dropna().to_numpy(float) for c in CLASSES}
        for f in top_feats
    }
    for f in top_feats:
        fig, ax = plt.subplots(figsize=(3.6, 3.2))
        _box_strip(ax, groups[f], f)
        save_fig(fig, out / "plots" / f"{f}.png")
    if top_feats:
        ncol = 4
        nrow = int(np.ceil(len(top_feats) / ncol))
        fig, axes = plt.subplots(nrow, ncol, figsize=(3.4 * ncol, 3.0 * nrow), squeeze=False)
        for ax, f in zip(axes.ravel(), top_feats):
            _box_strip(ax, groups[f], f)
        for ax in axes.ravel()[len(top_feats) :]:
            ax.set_axis_off()
        fig.suptitle("Top features by |Cliff's delta| (positive vs negative)")
        fig.tight_layout()
        save_fig(fig, out / "top_features.png")
    if len(stats):
        hm = stats.head(max(top, 30))
        mat = hm[[f"cliffs_delta_{n}" for n, _, _ in COMPARISONS]].to_numpy(float)
        fig, ax = plt.subplots(figsize=(6.5, 0.28 * len(hm) + 1.5))
        im = ax.imshow(mat, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
        ax.set_yticks(range(len(hm)), hm["feature"], fontsize=7)
        ax.set_xticks(
            range(len(COMPARISONS)),
            [n.replace("_vs_", " vs\n") for n, _, _ in COMPARISONS],
            fontsize=8,
        )
        for (i, j), v in np.ndenumerate(mat):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=6)
        fig.colorbar(im, ax=ax, label="Cliff's delta")
        ax.set_title("Effect sizes (Cliff's delta)")
        save_fig(fig, out / "effect_sizes.png")

    counts = used["class"].value_counts().reindex(list(CLASSES), fill_value=0)
    show = [
        "rank", "feature", "n_negative", "n_neutral", "n_positive", "median_negative", "median_neutral",
        "median_positive", "kw_p_holm", "mw_p_holm", "cliffs_delta_positive_vs_negative",
        "cliffs_delta_ci_low", "cliffs_delta_ci_high",
    ]  # fmt: skip
    md = [
        "# Group comparison of gait asymmetry features",
        "",
        f"Sequences used: {int(keep.sum())} of {len(df)} "
        f"(negative {counts['negative']}, neutral {counts['neutral']}, positive {counts['positive']}); "
        f"excluded: {int((~keep).sum())}.",
        "",
        "Tests: Kruskal–Wallis across the classes, Mann–Whitney U positive vs negative, "
        "Holm-corrected over features; Cliff's delta = P(positive > negative) − P(positive < negative) "
        f"with a bootstrap 95 % interval ({n_boot} resamples). Ranked by |Cliff's delta|.",
        "",
        "## Ranked features",
        "",
        _md_table(stats[[c for c in show if c in stats.columns]])
        if len(stats)
        else "(no features)",
        "",
        "## Excluded sequences",
        "",
        _md_table(excl) if len(excl) else "(none)",
        "",
        "## Caveats",
        "",
        CAVEATS,
        "",
    ]
    atomic_write_text(out / "stats.md", "\n".join(md))
    files.append(out / "stats.md")
    return {
        "stats": stats,
        "n_used": int(keep.sum()),
        "n_excluded": int((~keep).sum()),
        "files": files,
    }
