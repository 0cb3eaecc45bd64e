"""Classification metrics for scoliosis screening, under both published protocols.

* 2025 protocol (current OpenGait evaluator): accuracy, macro precision, macro recall, macro F1.
* 2024 paper protocol (ScoNet, MICCAI 2024): accuracy and per-class one-vs-rest sensitivity
  and specificity.

Plus the confusion matrix, the positive-vs-rest ROC-AUC from the softmax of part-averaged
logits, and seeded bootstrap 95 % intervals for accuracy and macro F1. Everything is computed
with numpy (so it runs in the engine's worker processes without scikit-learn) and checked against
scikit-learn in the tests.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gaitpose import LABELS


def _as_scores(logits_or_pred: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Predictions and softmax probabilities (None when only predictions were given).

    Shapes:
        logits_or_pred: [N] class ids, [N, C] logits or [N, C, P] part logits.
    """
    arr = np.asarray(logits_or_pred)
    if arr.ndim == 1:
        return arr.astype(np.int64), None
    if arr.ndim == 3:
        arr = arr.mean(axis=-1)  # average over parts, as the prediction rule does
    if arr.ndim != 2 or arr.shape[1] != num_classes:
        raise ValueError(
            f"logits must be [N, {num_classes}] or [N, {num_classes}, P], got shape {np.shape(logits_or_pred)}"
        )
    arr = arr.astype(np.float64)
    shifted = arr - arr.max(axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= probs.sum(axis=1, keepdims=True)
    return arr.argmax(axis=1).astype(np.int64), probs


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts [C, C]: rows are true classes, columns predicted classes (scikit-learn's layout)."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def _prf_from_cm(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class precision, recall, F1; 0 where undefined (scikit-learn's zero_division=0)."""
    tp = np.diag(cm).astype(np.float64)
    pred_pos = cm.sum(axis=0).astype(np.float64)
    true_pos = cm.sum(axis=1).astype(np.float64)
    precision = np.divide(tp, pred_pos, out=np.zeros_like(tp), where=pred_pos > 0)
    recall = np.divide(tp, true_pos, out=np.zeros_like(tp), where=true_pos > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return precision, recall, f1


def _macro_f1(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> float:
    return float(_prf_from_cm(confusion_matrix(y_true, y_pred, num_classes))[2].mean())


def roc_auc_binary(y_true_binary: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney statistic, ties counted half); None if one class."""
    y = np.asarray(y_true_binary, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(score, kind="mergesort")
    s = np.asarray(score, dtype=np.float64)[order]
    ranks = np.empty(len(s), dtype=np.float64)
    # average ranks over ties
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[i : j + 1] = (i + j) / 2.0 + 1.0
        i = j + 1
    rank_of = np.empty_like(ranks)
    rank_of[order] = ranks
    u = rank_of[y].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def classification_report(
    y_true: Sequence[int] | np.ndarray,
    logits_or_pred: Sequence | np.ndarray,
    labels: Sequence[str] = LABELS,
    bootstrap: int = 1000,
    seed: int = 0,
    positive: str = "positive",
) -> dict:
    """Screening metrics of one evaluation, as a JSON-serialisable dict.

    Args:
        y_true: true class ids [N] (0..C-1 in the order of ``labels``).
        logits_or_pred: predicted class ids [N], logits [N, C], or part logits [N, C, P]
            (averaged over parts, then softmax, as the models' prediction rule does).
        labels: class names in index order (default negative, neutral, positive).
        bootstrap: number of bootstrap resamples for the 95 % intervals (0 to skip).
        seed: seed of the bootstrap resampling.
        positive: the class scored against the rest for the ROC-AUC.

    Returns:
        ``n``, ``accuracy``, ``macro_precision``, ``macro_recall``, ``macro_f1``,
        ``per_class`` ({name: precision, recall, f1, sensitivity, specificity, support}),
        ``confusion_matrix`` (rows true, columns predicted), ``labels``,
        ``roc_auc_positive`` (None without logits or with a single class present),
        ``accuracy_ci95`` and ``macro_f1_ci95`` ([low, high] or None), ``bootstrap``.
    """
    labels = list(labels)
    c = len(labels)
    y = np.asarray(y_true, dtype=np.int64).reshape(-1)
    pred, probs = _as_scores(logits_or_pred, c)
    if len(pred) != len(y):
        raise ValueError(f"{len(y)} labels but {len(pred)} predictions")
    if len(y) and (y.min() < 0 or y.max() >= c or pred.min() < 0 or pred.max() >= c):
        raise ValueError(f"class ids must lie in 0..{c - 1}")
    cm = confusion_matrix(y, pred, c)
    n = int(cm.sum())
    precision, recall, f1 = _prf_from_cm(cm)
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    tn = n - tp - fp - fn
    spec_den = (tn + fp).astype(np.float64)
    specificity = np.divide(tn, spec_den, out=np.zeros(c), where=spec_den > 0)
    per_class = {
        name: {
            "precision": float(precision[k]),
            "recall": float(recall[k]),
            "f1": float(f1[k]),
            "sensitivity": float(recall[k]),
            "specificity": float(specificity[k]),
            "support": int(cm[k].sum()),
        }
        for k, name in enumerate(labels)
    }
    auc = None
    if probs is not None and positive in labels:
        k = labels.index(positive)
        auc = roc_auc_binary(y == k, probs[:, k])
    acc_ci = f1_ci = None
    if bootstrap and n > 1:
        rng = np.random.default_rng(seed)
        accs = np.empty(bootstrap)
        f1s = np.empty(bootstrap)
        for b in range(bootstrap):
            idx = rng.integers(0, n, n)
            yt, yp = y[idx], pred[idx]
            accs[b] = float((yt == yp).mean())
            f1s[b] = _macro_f1(yt, yp, c)
        acc_ci = [float(np.percentile(accs, 2.5)), float(np.percentile(accs, 97.5))]
        f1_ci = [float(np.percentile(f1s, 2.5)), float(np.percentile(f1s, 97.5))]
    return {
        "n": n,
        "labels": labels,
        "accuracy": float(tp.sum() / n) if n else 0.0,
        "macro_precision": float(precision.mean()),
        "macro_recall": float(recall.mean()),
        "macro_f1": float(f1.mean()),
        "per_class": per_class,
        "confusion_matrix": cm.tolist(),
        "roc_auc_positive": auc,
        "accuracy_ci95": acc_ci,
        "macro_f1_ci95": f1_ci,
        "bootstrap": int(bootstrap),
    }


def flat_metrics(report: dict) -> dict[str, float | int | None]:
    """One flat row of a report (for results tables): overall metrics and per-class ones."""
    row: dict[str, float | int | None] = {
        "n": report["n"],
        "accuracy": report["accuracy"],
        "macro_precision": report["macro_precision"],
        "macro_recall": report["macro_recall"],
        "macro_f1": report["macro_f1"],
        "roc_auc_positive": report["roc_auc_positive"],
    }
    for key in ("accuracy", "macro_f1"):
        ci = report.get(f"{key}_ci95")
        row[f"{key}_ci_low"] = ci[0] if ci else None
        row[f"{key}_ci_high"] = ci[1] if ci else None
    for name, pc in report["per_class"].items():
        row[f"sensitivity_{name}"] = pc["sensitivity"]
        row[f"specificity_{name}"] = pc["specificity"]
        row[f"f1_{name}"] = pc["f1"]
    return row


def per_class_table(report: dict):
    """A pandas DataFrame, one row per class: precision, recall, F1, sensitivity, specificity, support
    (and the one-vs-rest Brier score); plus, when the report has an operating point, a row for
    the refer decision with subject-level bootstrap CIs of its sensitivity and specificity."""
    import pandas as pd

    scr = report.get("screening") or {}
    briers = scr.get("per_class_brier") or {}
    rows = [{"class": name, **vals, **({"brier": briers[name]} if name in briers else {})}
            for name, vals in report["per_class"].items()]
    op = scr.get("operating_point")
    if op:  # the screening decision at the stored operating point, one more row
        ci_sens, ci_spec = op.get("sensitivity_ci95") or [None, None], op.get("specificity_ci95") or [None, None]
        t = op["table"]
        rows.append({
            "class": f"refer: P({scr['score']}) >= {op['threshold']:.3f}",
            "precision": t["tp"] / (t["tp"] + t["fp"]) if t["tp"] + t["fp"] else 0.0,
            "sensitivity": op["sensitivity"], "specificity": op["specificity"],
            "support": t["tp"] + t["fn"], "brier": scr.get("brier_score"),
            "sensitivity_ci_low": ci_sens[0], "sensitivity_ci_high": ci_sens[1],
            "specificity_ci_low": ci_spec[0], "specificity_ci_high": ci_spec[1],
        })
    return pd.DataFrame(rows)


def plot_confusion(report: dict, path: str | os.PathLike, title: str = "") -> Path:
    """Write the confusion matrix of ``report`` as a PNG (counts and row percentages)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gaitpose.io.atomic import save_figure

    cm = np.asarray(report["confusion_matrix"])
    labels = report["labels"]
    rows = cm.sum(axis=1, keepdims=True)
    frac = np.divide(cm, rows, out=np.zeros(cm.shape), where=rows > 0)
    fig, ax = plt.subplots(figsize=(4.2, 3.8), dpi=120)
    ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(
                j, i, f"{cm[i, j]}\n{100 * frac[i, j]:.0f}%", ha="center", va="center",
                color="white" if frac[i, j] > 0.6 else "black", fontsize=9,
            )
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or f"acc {report['accuracy']:.3f}  macro-F1 {report['macro_f1']:.3f}", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)


def write_report(report: dict, path: str | os.PathLike, title: str = "") -> dict[str, Path]:
    """Write ``report`` as JSON at ``path`` plus, beside it, ``<stem>.confusion.png`` and
    ``<stem>.per_class.csv`` / ``.md``. Returns the written paths by kind."""
    from gaitpose.io.atomic import atomic_write_text

    path = Path(path)
    stem = path.with_suffix("")
    atomic_write_text(path, json.dumps(report, indent=2) + "\n")
    table = per_class_table(report)
    csv_path = Path(f"{stem}.per_class.csv")
    md_path = Path(f"{stem}.per_class.md")
    atomic_write_text(csv_path, table.to_csv(index=False))
    atomic_write_text(md_path, markdown_table(table) + "\n")
    png = plot_confusion(report, f"{stem}.confusion.png", title=title)
    return {"json": path, "per_class_csv": csv_path, "per_class_md": md_path, "confusion_png": png}


def markdown_table(df, floatfmt: str = ".3f") -> str:
    """A GitHub-markdown table of a DataFrame (no ``tabulate`` dependency)."""
    cols = list(df.columns)

    def fmt(v) -> str:
        if isinstance(v, (float, np.floating)):
            return "" if np.isnan(v) else format(float(v), floatfmt)
        return str(v)

    lines = ["| " + " | ".join(map(str, cols)) + " |", "|" + "|".join(" --- " for _ in cols) + "|"]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(fmt(r[c]) for c in cols) + " |")
    return "\n".join(lines)
