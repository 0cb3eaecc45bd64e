"""Results of an experiment grid: tables per split, chance baselines, choices on validation,
paired differences with subject-level intervals on test, and the macro-F1 plot.

The rows (one per setting × seed × split × evaluation, see
:func:`gaitpose.engine.experiment.run_experiment`) come with each evaluation's per-sequence
predictions (``id``, ``subject``, ``true``, ``pred``, ``p_*``). From those:

* each table cell is the mean over seeds, ± the sample std over seeds, and a 95 % interval over
  subjects of that mean (the same subject resamples for every seed; :mod:`gaitpose.engine.stats`);
* the majority-class and uniform baselines are computed from the split's own labels;
* the *reference* single-modality setting and the best fused setting are chosen by their mean
  validation macro-F1 — test figures never choose anything;
* every setting is compared with the reference on the test split by paired differences
  (same seed, same test sequences), with a paired subject-bootstrap interval.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from gaitpose import LABELS
from gaitpose.engine import stats
from gaitpose.engine.metrics import baseline_reports, markdown_table
from gaitpose.io.atomic import save_figure

SUMMARY_METRICS = (
    "accuracy",
    "macro_f1",
    "macro_precision",
    "macro_recall",
    "sensitivity_positive",
    "specificity_positive",
    "roc_auc_positive",
)
#: metrics whose seed-mean gets a subject-level interval and that are compared pairwise
CI_METRICS = ("macro_f1", "roc_auc_positive")
SPLITS = ("val", "test")
KEYS = ["setting", "modality", "fusion", "evaluated_with"]


def predictions_key(setting: str, seed: int, split: str, tag: str) -> tuple:
    return (str(setting), int(seed), str(split), str(tag))


def _metric_fn(table, metric: str):
    """weights → metric, for one evaluation's predictions table (gaitpose.LABELS columns)."""
    y = table["true"].map(LABELS.index).to_numpy()
    pred = table["pred"].map(LABELS.index).to_numpy()
    probs = table[[f"p_{c}" for c in LABELS]].to_numpy(float)
    return stats.metric_on(metric, y, pred, probs, len(LABELS), LABELS.index("positive"))


def _aligned(tables: list) -> bool:
    first = tables[0]
    return all(list(t["id"]) == list(first["id"]) and list(t["true"]) == list(first["true"]) for t in tables)


def _seed_tables(df, preds: Mapping, split: str, setting: str, tag: str = "all") -> dict[int, Any]:
    sub = df[(df["split"] == split) & (df["setting"] == setting) & (df["evaluated_with"] == tag)]
    out = {}
    for seed in sorted(sub["seed"].unique()):
        t = preds.get(predictions_key(setting, seed, split, tag))
        if t is not None:
            out[int(seed)] = t
    return out


def mean_ci(tables: list, metric: str, n_boot: int) -> list[float] | None:
    """95 % subject-level interval of the mean over seeds of ``metric`` (same resamples)."""
    if not tables or not n_boot or "subject" not in tables[0] or not _aligned(tables):
        return None
    fns = [_metric_fn(t, metric) for t in tables]
    zero = [lambda w: np.zeros(len(w))] * len(fns)
    return stats.paired_difference(fns, zero, list(tables[0]["subject"].astype(str)), n_boot)["ci95"]


def summarise(df, preds: Mapping | None = None, n_boot: int = 0):
    """Mean ± std over seeds per (split, setting, evaluated_with), in grid order, with the
    subject-level interval of the mean for :data:`CI_METRICS` when predictions are given."""
    import pandas as pd

    recs = []
    for split in [s for s in SPLITS if s in set(df["split"])]:
        d = df[df["split"] == split]
        for key in dict.fromkeys(zip(*(d[k] for k in KEYS))):
            sub = d[np.logical_and.reduce([d[k] == v for k, v in zip(KEYS, key)])]
            rec = {"split": split, **dict(zip(KEYS, key)), "seeds": len(sub)}
            for m in SUMMARY_METRICS:
                vals = pd.to_numeric(sub[m], errors="coerce").dropna().to_numpy(dtype=float)
                rec[f"{m}_mean"] = float(vals.mean()) if len(vals) else float("nan")
                rec[f"{m}_std"] = float(vals.std(ddof=1)) if len(vals) > 1 else 0.0
            tables = list(_seed_tables(d, preds or {}, split, key[0], key[3]).values())
            for m in CI_METRICS:
                rec[f"{m}_ci95"] = mean_ci(tables, m, n_boot) if preds else None
            recs.append(rec)
    return pd.DataFrame(recs)


def baselines(df, preds: Mapping, split: str) -> dict[str, dict] | None:
    """Majority and uniform baselines from the labels of ``split`` (any evaluation's table)."""
    for (_, _, sp, _), table in preds.items():
        if sp == split:
            return baseline_reports(table["true"].map(LABELS.index).to_numpy())
    return None


#: the single-modality settings' ``modality`` values (the fused model's yardsticks)
SINGLE_MODALITIES: tuple[str, ...] = ("silhouette", "skeleton")


def full_inputs(df, split: str):
    """The rows of ``split`` evaluated with every stream present."""
    return df[(df["split"] == split) & (df["evaluated_with"] == "all")]


def choose_on_validation(df) -> dict[str, str | None]:
    """The reference single-modality setting and the best fused setting, by mean validation
    macro-F1 of the full-input evaluations (None where the grid has no such setting)."""
    val = full_inputs(df, "val")
    means = val.groupby("setting")["macro_f1"].mean()
    out: dict[str, str | None] = {}
    for role, mods in (("reference", SINGLE_MODALITIES), ("best_fused", ("fused",))):
        names = val[val["modality"].isin(mods)]["setting"].unique()
        out[role] = str(means[names].idxmax()) if len(names) else None
    return out


def paired_rows(df, preds: Mapping, reference: str, n_boot: int) -> list[dict]:
    """Test-split paired differences of every setting (full inputs) against ``reference``."""
    rows = []
    ref = _seed_tables(df, preds, "test", reference)
    settings = [s for s in dict.fromkeys(full_inputs(df, "test")["setting"]) if s != reference]
    for name in settings:
        other = _seed_tables(df, preds, "test", name)
        seeds = sorted(set(ref) & set(other))
        if not seeds or not _aligned([ref[s] for s in seeds] + [other[s] for s in seeds]):
            continue
        subjects = list(ref[seeds[0]]["subject"].astype(str))
        rec = {"setting": name, "seeds": len(seeds)}
        for m in CI_METRICS:
            d = stats.paired_difference([_metric_fn(other[s], m) for s in seeds],
                                        [_metric_fn(ref[s], m) for s in seeds], subjects, n_boot)
            rec[m] = d
        rows.append(rec)
    return rows


def fused_against_singles(df, preds: Mapping, fused: str, n_boot: int) -> list[dict]:
    """Test-split paired differences of the ``fused`` setting against each single-modality
    setting (silhouette and skeleton), one row per single stream (``setting`` = "fused − single")."""
    test = full_inputs(df, "test")
    singles = test[test["modality"].isin(SINGLE_MODALITIES)]["setting"].unique()
    rows = []
    for single in singles:
        for r in paired_rows(df[df["setting"].isin([single, fused])], preds, str(single), n_boot):
            rows.append({**r, "setting": f"{fused} − {single}"})
    return rows


def better_single_line(df, fused: str) -> str | None:
    """Per seed, test macro-F1 of ``fused`` minus the better of the single-modality settings of
    the same seed (the better one picked on test: the strictest yardstick)."""
    test = full_inputs(df, "test")
    singles = test[test["modality"].isin(SINGLE_MODALITIES)]
    if singles.empty or not (test["setting"] == fused).any():
        return None
    best = singles.groupby("seed")["macro_f1"].max()
    mine = test[test["setting"] == fused].set_index("seed")["macro_f1"]
    seeds = sorted(set(best.index) & set(mine.index))
    if not seeds:
        return None
    d = [float(mine[s] - best[s]) for s in seeds]
    return (f"`{fused}` − the better single stream of the same seed (macro-F1, test): mean "
            f"{np.mean(d):+.3f}, better on {sum(x > 0 for x in d)} of {len(d)} seeds "
            f"({', '.join(f'{x:+.3f}' for x in d)}).")


def _fmt_ci(ci) -> str:
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""


def split_table(summ, split: str, base: Mapping | None) -> str:
    """Markdown table of one split: mean ± std over seeds [subject-level 95 % CI of the mean]."""
    import pandas as pd

    s = summ[summ["split"] == split]

    def cell(m: str, mu: float, sd: float, ci) -> str:
        if np.isnan(mu):
            return "n/a"
        text = f"{mu:.3f} ± {sd:.3f}"
        return f"{text} {_fmt_ci(ci)}" if m in CI_METRICS and ci else text

    cols = {"setting": list(s["setting"]), "evaluated with": list(s["evaluated_with"]), "seeds": list(s["seeds"])}
    for m in SUMMARY_METRICS:
        cols[m] = [cell(m, mu, sd, ci) for mu, sd, ci in
                   zip(s[f"{m}_mean"], s[f"{m}_std"], s.get(f"{m}_ci95", [None] * len(s)))]
    table = pd.DataFrame(cols)
    for name, row in (base or {}).items():
        label = f"{name} baseline" + (f" ({row['majority_class']})" if "majority_class" in row else "")
        extra = {"setting": label, "evaluated with": "labels of this split", "seeds": ""}
        extra.update({m: (f"{row[m]:.3f}" if row.get(m) is not None else "") for m in SUMMARY_METRICS})
        table = pd.concat([table, pd.DataFrame([extra])], ignore_index=True)
    return markdown_table(table)


def paired_table(rows: list[dict], reference: str) -> str:
    import pandas as pd

    recs = []
    for r in rows:
        rec = {"setting": r["setting"], "seeds": r["seeds"]}
        for m in CI_METRICS:
            d = r[m]
            rec[f"Δ {m} [95 % CI]"] = f"{d['delta']:+.3f} {_fmt_ci(d['ci95'])}"
            rec[f"{m}: seeds better"] = f"{sum(x > 0 for x in d['per_seed'])} of {d['seeds']}"
        rec["per-seed Δ macro_f1"] = ", ".join(f"{x:+.3f}" for x in r["macro_f1"]["per_seed"])
        recs.append(rec)
    return markdown_table(pd.DataFrame(recs)) if recs else f"(no setting to compare with `{reference}`)"


def results_markdown(
    df,
    cfg: Mapping,
    preds: Mapping,
    machine: str,
    wall_seconds: float | None = None,
    jobs: int = 1,
    missing: Iterable[str] = (),
    failed: Mapping[int, str] | None = None,
) -> str:
    """The ``results.md`` text: setup, a validation table, the choices made on it, a test table,
    paired differences on test."""
    n_boot = int(cfg["evaluator_cfg"].get("bootstrap") or 0)
    summ = summarise(df, preds, n_boot)
    chosen = choose_on_validation(df)
    n = {sp: (int(df[df["split"] == sp]["n"].iloc[0]) if (df["split"] == sp).any() else 0) for sp in SPLITS}
    d = cfg["data_cfg"]
    lines = [
        f"# Results: {Path(str(cfg.get('_source', 'experiment'))).name}",
        "",
        f"- machine: {machine}; load average at the end (1/5/15 min): "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}",
        f"- wall time of this invocation: {wall_seconds / 60:.1f} min ({jobs} cell(s) at a time; "
        f"cells finished by an earlier invocation are not re-run)" if wall_seconds is not None else "",
        f"- dataset: {d['dataset_name'] or 'unnamed'} at `{d['dataset_root']}`, partition `{d['dataset_partition'] or 'ROOT/partition.json'}`"
        + (f", VAL_SET carved from TRAIN_SET by val_carve {d['val_carve']}" if d.get("val_carve") else "")
        + f"; validation sequences: {n['val']}, test sequences: {n['test']}",
        f"- seeds: {sorted(int(s) for s in df['seed'].unique())}; cells: mean ± sample std over seeds, "
        f"then [95 % interval of the mean over {n_boot} bootstrap resamples of the split's subjects] "
        f"for {', '.join(CI_METRICS)}",
        "- `without_X` = the fused model evaluated with stream X removed; `late-average(...)` = the "
        "separately trained single-modality models' class probabilities averaged (no training); "
        "baselines are computed from the split's labels (majority: every sequence called the "
        "split's most frequent class; uniform: the expected confusion of uniform random calls)",
        "",
        "## Validation (all choices are made here)",
        "",
        split_table(summ, "val", baselines(df, preds, "val")),
        "",
        f"Chosen on validation macro-F1: reference single-modality setting `{chosen['reference']}`"
        + (f", best fused setting `{chosen['best_fused']}`" if chosen["best_fused"] else "") + ".",
        "",
        "## Test (read once per configuration; chooses nothing)",
        "",
        split_table(summ, "test", baselines(df, preds, "test")),
        "",
    ]
    if chosen["reference"]:
        lines += [
            f"## Paired differences on test against `{chosen['reference']}` (chosen on validation)",
            "",
            "Δ = setting − reference, same seed and test sequences, mean over seeds; "
            "[95 % interval over paired bootstrap resamples of the test subjects].",
            "",
            paired_table(paired_rows(df, preds, chosen["reference"], n_boot), chosen["reference"]),
            "",
        ]
    if chosen["best_fused"]:
        fused = chosen["best_fused"]
        vs = fused_against_singles(df, preds, fused, n_boot)
        line = better_single_line(df, fused)
        if vs:
            lines += [
                f"## `{fused}` against each single stream (test, paired)",
                "",
                paired_table(vs, "single streams"),
                "",
                *([line, ""] if line else []),
            ]
    missing = list(missing)
    if missing:
        lines += [f"**Not finished (not in the tables): {', '.join(missing)}.**", ""]
    if failed:
        lines += ["**Failed cells:**", "", *[f"- {msg}" for msg in failed.values()], ""]
    return "\n".join(line for line in lines if line is not None) + "\n"


def bar_label(setting: str, evaluated_with: str) -> str:
    """A bar's tick label: the setting (a ``late-average(a, b)`` name broken after its
    parenthesis and commas, so neighbouring labels do not overlap), then the evaluation."""
    name = setting.replace("(", "\n(").replace(", ", ",\n")
    return name if evaluated_with == "all" else f"{name}\n({evaluated_with.replace('_', ' ')})"


def plot_macro_f1(df, path: str | os.PathLike, baseline: float | None = None) -> Path:
    """Bars of macro-F1 (mean ± std over seeds) per setting and evaluation: validation (light)
    beside test (dark); ``baseline``: the test split's majority-class macro-F1 (dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summ = summarise(df)
    test = summ[summ["split"] == "test"].reset_index(drop=True)
    val = summ[summ["split"] == "val"].set_index(["setting", "evaluated_with"])
    labels = [bar_label(s, e) for s, e in zip(test["setting"], test["evaluated_with"])]
    x = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(max(4.0, 1.2 * len(labels)), 3.8), dpi=120)
    vmean = [val["macro_f1_mean"].get((s, e), np.nan) for s, e in zip(test["setting"], test["evaluated_with"])]
    vstd = [val["macro_f1_std"].get((s, e), 0.0) for s, e in zip(test["setting"], test["evaluated_with"])]
    ax.bar(x - 0.2, vmean, 0.4, yerr=vstd, color="tab:blue", alpha=0.35, capsize=3, label="validation")
    ax.bar(x + 0.2, test["macro_f1_mean"], 0.4, yerr=test["macro_f1_std"], color="tab:blue", capsize=3,
           label="test")
    if baseline is not None:
        ax.axhline(baseline, color="k", ls="--", lw=0.8, label="majority baseline (test)")
    ax.set_xticks(x, labels, fontsize=7)
    ax.set_ylabel("macro-F1 (mean ± std over seeds)")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return save_figure(fig, path)
