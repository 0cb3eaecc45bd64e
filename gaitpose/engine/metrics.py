"""Classification metrics for scoliosis screening, under both published protocols.

* 2025 protocol (current OpenGait evaluator): accuracy, macro precision, macro recall, macro F1.
* 2024 paper protocol (ScoNet, MICCAI 2024): accuracy and per-class one-vs-rest sensitivity
  and specificity.

Plus the confusion matrix, the positive-vs-rest ROC-AUC and Brier score, and 95 % bootstrap
intervals that resample *subjects* (:mod:`gaitpose.engine.stats`). The point estimates come
from scikit-learn; macro averages run over the classes present in truth or prediction, as
scikit-learn's do. Probabilities are ``softmax(logit_scale * logits)`` (:func:`probabilities`),
the scale being the one the training loss applies (``gaitpose.engine.evaluator.logit_scale``):
a report from logits must be told it, so that every path gives one probability per checkpoint.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn import metrics as skm

from gaitpose import LABELS
from gaitpose.engine import stats


def probabilities(logits: np.ndarray, logit_scale: float) -> np.ndarray:
    """``softmax(logit_scale * logits)`` [N, C] of logits [N, C] or part logits [N, C, P]
    (averaged over parts first, as the models' prediction rule does)."""
    arr = np.asarray(logits, dtype=np.float64)
    if arr.ndim == 3:
        arr = arr.mean(axis=-1)
    z = float(logit_scale) * arr
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _as_scores(logits_or_pred, num_classes: int, logit_scale: float | None):
    """Predictions [N] and probabilities [N, C] (None when only predictions were given)."""
    arr = np.asarray(logits_or_pred)
    if arr.ndim == 1:
        return arr.astype(np.int64), None
    if arr.ndim not in (2, 3) or arr.shape[1] != num_classes:
        raise ValueError(
            f"logits must be [N, {num_classes}] or [N, {num_classes}, P], got shape {arr.shape}"
        )
    if logit_scale is None:
        raise ValueError("logits need logit_scale (the training loss's scale; 1 for plain logits)")
    probs = probabilities(arr, logit_scale)
    return probs.argmax(axis=1).astype(np.int64), probs


def _per_class(y, pred, cm: np.ndarray, labels: list[str]) -> dict:
    c = len(labels)
    p, r, f, support = skm.precision_recall_fscore_support(
        y, pred, labels=list(range(c)), average=None, zero_division=0
    )
    out = {}
    for k, name in enumerate(labels):
        sens, spec = stats.sensitivity_specificity_of(cm.astype(np.float64), k)
        out[name] = {"precision": float(p[k]), "recall": float(r[k]), "f1": float(f[k]),
                     "sensitivity": float(r[k]), "specificity": float(np.nan_to_num(spec)),
                     "support": int(support[k])}
    return out


def _intervals(y, pred, probs, subjects, labels, k_pos, bootstrap: int, seed: int) -> dict:
    """Subject-level bootstrap 95 % intervals (None where undefined or with < 2 subjects)."""
    c = len(labels)
    out: dict = {"accuracy_ci95": None, "macro_f1_ci95": None, "roc_auc_positive_ci95": None,
                 "per_class_ci95": {}}
    if not bootstrap or stats.subject_index(subjects)[1] < 2:
        return out
    w = stats.subject_weights(subjects, bootstrap, seed)
    cm = stats.weighted_confusion(y, pred, w, c)
    out["accuracy_ci95"] = stats.percentile_ci(stats.accuracy_of(cm))
    out["macro_f1_ci95"] = stats.percentile_ci(stats.macro_f1_of(cm))
    for k, name in enumerate(labels):
        sens, spec = stats.sensitivity_specificity_of(cm, k)
        out["per_class_ci95"][name] = {"sensitivity": stats.percentile_ci(sens),
                                       "specificity": stats.percentile_ci(spec)}
    if probs is not None and k_pos is not None:
        out["roc_auc_positive_ci95"] = stats.percentile_ci(stats.weighted_auc(y == k_pos, probs[:, k_pos], w))
    return out


def classification_report(
    y_true: Sequence[int] | np.ndarray,
    logits_or_pred: Sequence | np.ndarray,
    labels: Sequence[str] = LABELS,
    bootstrap: int = 1000,
    seed: int = 0,
    positive: str = "positive",
    subjects: Sequence[str] | None = None,
    logit_scale: float | None = None,
) -> dict:
    """Screening metrics of one evaluation, as a JSON-serialisable dict.

    Args:
        y_true: true class ids [N] (0..C-1 in the order of ``labels``).
        logits_or_pred: predicted class ids [N], logits [N, C], or part logits [N, C, P].
        labels: class names in index order (default negative, neutral, positive).
        bootstrap: number of bootstrap resamples for the 95 % intervals (0 to skip).
        seed: seed of the bootstrap resampling.
        positive: the class scored against the rest for the ROC-AUC and Brier score.
        subjects: subject of each sequence; the bootstrap resamples subjects (None: each
            sequence is its own subject, which understates the spread when subjects have
            several sequences).
        logit_scale: required with logits: probabilities are ``softmax(logit_scale * logits)``.

    Returns:
        ``n``, ``n_subjects``, ``accuracy``, ``macro_precision``, ``macro_recall``, ``macro_f1``
        (over the classes present in truth or prediction), ``per_class`` ({name: precision,
        recall, f1, sensitivity, specificity, support}), ``confusion_matrix`` (rows true,
        columns predicted), ``labels``, ``roc_auc_positive`` and ``brier_positive`` (None
        without logits or with one class), ``accuracy_ci95``, ``macro_f1_ci95``,
        ``roc_auc_positive_ci95``, ``per_class_ci95`` ({name: sensitivity, specificity}),
        ``bootstrap``, ``bootstrap_unit`` and ``logit_scale``.
    """
    labels = list(labels)
    c = len(labels)
    y = np.asarray(y_true, dtype=np.int64).reshape(-1)
    pred, probs = _as_scores(logits_or_pred, c, logit_scale)
    if len(pred) != len(y):
        raise ValueError(f"{len(y)} labels but {len(pred)} predictions")
    if not len(y):
        raise ValueError("no sequences to evaluate")
    if y.min() < 0 or y.max() >= c or pred.min() < 0 or pred.max() >= c:
        raise ValueError(f"class ids must lie in 0..{c - 1}")
    unit = "subject" if subjects is not None else "sequence"
    subjects = [str(s) for s in subjects] if subjects is not None else [str(i) for i in range(len(y))]
    if len(subjects) != len(y):
        raise ValueError(f"{len(y)} labels but {len(subjects)} subjects")
    cm = skm.confusion_matrix(y, pred, labels=list(range(c)))
    mp, mr, mf, _ = skm.precision_recall_fscore_support(y, pred, average="macro", zero_division=0)
    k_pos = labels.index(positive) if positive in labels else None
    auc = brier = None
    if probs is not None and k_pos is not None and 0 < (y == k_pos).sum() < len(y):
        auc = float(skm.roc_auc_score(y == k_pos, probs[:, k_pos]))
        brier = float(skm.brier_score_loss(y == k_pos, probs[:, k_pos]))
    return {
        "n": int(len(y)),
        "n_subjects": int(stats.subject_index(subjects)[1]),
        "labels": labels,
        "accuracy": float(skm.accuracy_score(y, pred)),
        "macro_precision": float(mp),
        "macro_recall": float(mr),
        "macro_f1": float(mf),
        "per_class": _per_class(y, pred, cm, labels),
        "confusion_matrix": cm.tolist(),
        "roc_auc_positive": auc,
        "brier_positive": brier,
        **_intervals(y, pred, probs, subjects, labels, k_pos, bootstrap, seed),
        "bootstrap": int(bootstrap),
        "bootstrap_unit": unit,
        "logit_scale": None if probs is None else float(logit_scale),
    }


def baseline_reports(y_true: Sequence[int], labels: Sequence[str] = LABELS,
                     positive: str = "positive") -> dict[str, dict]:
    """Flat metrics of the two chance baselines on these labels (see :func:`flat_metrics`).

    * ``majority``: every sequence called the most frequent class of ``y_true`` (an oracle
      majority: it knows the test labels' majority, so it slightly flatters chance);
    * ``uniform``: each class called with probability 1/C; the metrics of its expected
      confusion matrix (each true class spread evenly over the predictions).

    Both rank nothing: ROC-AUC 0.5.
    """
    labels = list(labels)
    c = len(labels)
    y = np.asarray(y_true, dtype=np.int64)
    counts = np.bincount(y, minlength=c)
    majority = int(np.argmax(counts))
    rows = {"majority": flat_metrics(classification_report(y, np.full(len(y), majority), labels,
                                                           bootstrap=0, positive=positive))}
    cm = np.repeat(counts[:, None] / c, c, axis=1).astype(np.float64)
    k = labels.index(positive)
    sens, spec = stats.sensitivity_specificity_of(cm, k)
    present = counts > 0  # the uniform caller predicts every class: macro over the classes present
    rows["uniform"] = {"n": int(len(y)), "accuracy": float(stats.accuracy_of(cm)),
                       "macro_f1": float(stats.macro_f1_of(cm)),
                       "macro_precision": float(np.where(present, counts / len(y), 0).sum() / c),
                       "macro_recall": float(present.sum() / c / c),
                       f"sensitivity_{positive}": float(sens), f"specificity_{positive}": float(spec)}
    for r in rows.values():
        r["roc_auc_positive"] = 0.5
    rows["majority"]["majority_class"] = labels[majority]
    return rows


def flat_metrics(report: dict) -> dict[str, float | int | None]:
    """One flat row of a report (for results tables): overall metrics and per-class ones."""
    row: dict[str, float | int | None] = {
        "n": report["n"],
        "n_subjects": report.get("n_subjects"),
        "accuracy": report["accuracy"],
        "macro_precision": report["macro_precision"],
        "macro_recall": report["macro_recall"],
        "macro_f1": report["macro_f1"],
        "roc_auc_positive": report["roc_auc_positive"],
        "brier_positive": report.get("brier_positive"),
    }
    for key in ("accuracy", "macro_f1", "roc_auc_positive"):
        ci = report.get(f"{key}_ci95")
        row[f"{key}_ci_low"] = ci[0] if ci else None
        row[f"{key}_ci_high"] = ci[1] if ci else None
    for name, pc in report["per_class"].items():
        row[f"sensitivity_{name}"] = pc["sensitivity"]
        row[f"specificity_{name}"] = pc["specificity"]
        row[f"f1_{name}"] = pc["f1"]
    return row


def per_class_table(report: dict):
    """A pandas DataFrame, one row per class: precision, recall, F1, sensitivity, specificity,
    support, and the subject-level 95 % intervals of sensitivity and specificity."""
    import pandas as pd

    def ci(name: str, key: str) -> str:
        iv = (report.get("per_class_ci95") or {}).get(name, {}).get(key)
        return f"[{iv[0]:.3f}, {iv[1]:.3f}]" if iv else ""

    rows = [{"class": name, **vals, "sensitivity_ci95": ci(name, "sensitivity"),
             "specificity_ci95": ci(name, "specificity")} for name, vals in report["per_class"].items()]
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
