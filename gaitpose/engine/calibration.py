"""Calibration and the screening operating point: temperature scaling, the screening score,
its threshold at a target specificity, and the measures that judge them.

All functions take logits already multiplied by the training loss's scale (what the model's
softmax was trained on; see :func:`gaitpose.engine.evaluator.logit_scale`).

* Temperature scaling (Guo et al. 2017, "On calibration of modern neural networks"): one
  positive number ``T`` dividing the logits, fitted by minimising the negative log-likelihood
  on the validation split. It changes the confidence, not the arg-max.
* The screening score is P(positive) by default: the referral question is "does this walk
  need a radiograph?", and in Scoliosis1K that is the positive class; the neutral class holds
  borderline walks a programme follows up rather than refers. ``positive+neutral`` (refer
  anything not negative) is offered for programmes that refer borderline cases too.
* The threshold is the lowest one whose specificity on the validation split is at least the
  target (refer when score >= threshold): the highest sensitivity the target allows.
* ECE: top-label expected calibration error, 15 equal-width bins (Guo et al. 2017).
  Brier: the multi-class Brier score (mean over walks of the squared error summed over
  classes) and the binary one of the screening score (``sklearn.metrics.brier_score_loss``).

Shapes: logits [N, C] in ``labels`` order; y [N] class ids; scores [N] in [0, 1].
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gaitpose import LABELS
from gaitpose.engine.stats import bootstrap_ci

#: screening score name -> the classes whose probabilities it adds
SCORES: dict[str, tuple[str, ...]] = {
    "positive": ("positive",),
    "positive+neutral": ("positive", "neutral"),
}
ECE_BINS = 15


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Class probabilities of ``logits / temperature`` [N, C]."""
    z = np.asarray(logits, np.float64) / float(temperature)
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def nll(logits: np.ndarray, y: np.ndarray, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of the true classes under ``softmax(logits / T)``."""
    z = np.asarray(logits, np.float64) / float(temperature)
    m = z.max(axis=1, keepdims=True)
    log_norm = (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0]
    y = np.asarray(y, np.int64)
    return float(np.mean(log_norm - z[np.arange(len(y)), y]))


def fit_temperature(logits: np.ndarray, y: np.ndarray, bounds: tuple[float, float] = (0.05, 50.0)) -> float:
    """The temperature minimising :func:`nll` on (logits, y).

    The NLL is convex in 1/T, so a bounded scalar search over log T finds the minimum.
    """
    from scipy.optimize import minimize_scalar

    if len(y) == 0:
        raise ValueError("cannot fit a temperature on no sequences")
    lo, hi = math.log(bounds[0]), math.log(bounds[1])
    res = minimize_scalar(lambda lt: nll(logits, y, math.exp(lt)), bounds=(lo, hi), method="bounded",
                          options={"xatol": 1e-6})
    return float(math.exp(res.x))


def score_classes(score: str) -> tuple[str, ...]:
    if score not in SCORES:
        raise ValueError(f"unknown screening score {score!r} (choose {', '.join(SCORES)})")
    return SCORES[score]


def screening_score(probs: np.ndarray, score: str = "positive", labels: Sequence[str] = LABELS) -> np.ndarray:
    """The screening score of each walk [N]: the sum of the score's classes' probabilities."""
    idx = [list(labels).index(c) for c in score_classes(score)]
    return np.asarray(probs, np.float64)[:, idx].sum(axis=1)


def referable(y: np.ndarray, score: str = "positive", labels: Sequence[str] = LABELS) -> np.ndarray:
    """Bool [N]: the true class is one the score refers (the screening truth)."""
    idx = [list(labels).index(c) for c in score_classes(score)]
    return np.isin(np.asarray(y, np.int64), idx)


def threshold_at_specificity(scores: np.ndarray, truth: np.ndarray, target: float) -> float:
    """The lowest threshold t with specificity (non-referable walks scoring below t) >= target.

    t lies halfway between the k-th lowest non-referable score (k = ceil(target * n)) and the
    next higher score of any walk, so every t in that gap gives the same counts here.
    """
    if not 0.0 < target < 1.0:
        raise ValueError(f"target specificity must lie in (0, 1), got {target}")
    s = np.asarray(scores, np.float64)
    neg = np.sort(s[~np.asarray(truth, bool)])
    if neg.size == 0:
        raise ValueError("no non-referable walks: cannot set a threshold by specificity")
    k = math.ceil(target * neg.size - 1e-9)
    edge = neg[k - 1]
    above = s[s > edge]
    return float((edge + above.min()) / 2.0) if above.size else float(np.nextafter(edge, np.inf))


def confusion_2x2(scores: np.ndarray, truth: np.ndarray, threshold: float) -> dict[str, int]:
    """Counts of the refer (score >= threshold) decision against the truth."""
    refer = np.asarray(scores, np.float64) >= threshold
    t = np.asarray(truth, bool)
    return {"tp": int((refer & t).sum()), "fp": int((refer & ~t).sum()),
            "fn": int((~refer & t).sum()), "tn": int((~refer & ~t).sum())}


def sens_spec(table: dict[str, int]) -> tuple[float | None, float | None]:
    """Sensitivity and specificity of a 2×2 table (None when undefined)."""
    pos, neg = table["tp"] + table["fn"], table["tn"] + table["fp"]
    return (table["tp"] / pos if pos else None, table["tn"] / neg if neg else None)


def sensitivity_at_specificity(scores: np.ndarray, truth: np.ndarray, specificity: float) -> float | None:
    """The highest sensitivity of any threshold with specificity >= ``specificity`` (ROC point)."""
    t = np.asarray(truth, bool)
    if t.all() or not t.any():
        return None
    thr = threshold_at_specificity(scores, t, specificity)
    return sens_spec(confusion_2x2(scores, t, thr))[0]


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = ECE_BINS) -> float:
    """Top-label ECE: sum over equal-width confidence bins of |accuracy - confidence| × share."""
    p = np.asarray(probs, np.float64)
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == np.asarray(y)).astype(np.float64)
    which = np.minimum((conf * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        m = which == b
        if m.any():
            total += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(total)


def brier_multiclass(probs: np.ndarray, y: np.ndarray) -> float:
    """Mean over walks of the squared error of the probability vector against the one-hot truth."""
    p = np.asarray(probs, np.float64)
    onehot = np.eye(p.shape[1])[np.asarray(y, np.int64)]
    return float(((p - onehot) ** 2).sum(axis=1).mean())


def calibration_measures(logits: np.ndarray, y: np.ndarray, temperature: float, score: str = "positive",
                         labels: Sequence[str] = LABELS) -> dict[str, float]:
    """ECE, multi-class Brier, NLL, and the screening score's binary Brier at ``temperature``."""
    from sklearn.metrics import brier_score_loss

    probs = softmax(logits, temperature)
    truth = referable(y, score, labels)
    s = screening_score(probs, score, labels)
    return {
        "ece": expected_calibration_error(probs, y),
        "brier": brier_multiclass(probs, y),
        "nll": nll(logits, y, temperature),
        "brier_score": float(brier_score_loss(truth.astype(int), np.clip(s, 0, 1))) if len(s) else float("nan"),
    }


def operating_point(scores: np.ndarray, truth: np.ndarray, threshold: float, subjects: Sequence[str],
                    bootstrap: int = 1000, seed: int = 0) -> dict:
    """The 2×2 table, sensitivity and specificity at ``threshold``, with subject-level CIs."""
    s, t = np.asarray(scores, np.float64), np.asarray(truth, bool)
    table = confusion_2x2(s, t, threshold)
    sens, spec = sens_spec(table)

    def stat(which: int):
        def of(scores_, truth_) -> float:
            value = sens_spec(confusion_2x2(scores_, truth_, threshold))[which]
            return np.nan if value is None else value

        return of

    return {
        "threshold": float(threshold),
        "table": table,
        "sensitivity": sens,
        "specificity": spec,
        "sensitivity_ci95": bootstrap_ci(stat(0), (s, t), subjects, bootstrap, seed),
        "specificity_ci95": bootstrap_ci(stat(1), (s, t), subjects, bootstrap, seed),
        "bootstrap": int(bootstrap),
        "ci_unit": "subject",
    }


def plot_reliability(logits: np.ndarray, y: np.ndarray, temperature: float, path: str | os.PathLike,
                     score: str = "positive", labels: Sequence[str] = LABELS, title: str = "") -> Path:
    """Reliability diagram PNG: top-label confidence and the screening score, before and after
    temperature scaling (``sklearn.calibration.calibration_curve``, equal-width bins)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.calibration import calibration_curve

    from gaitpose.io.atomic import save_figure

    fig, axes = plt.subplots(1, 2, figsize=(8.4, 4.0), dpi=120)
    bins = 10 if len(y) >= 50 else 5
    for temp, name, style in ((1.0, "before", "o--"), (temperature, f"after (T = {temperature:.2f})", "s-")):
        probs = softmax(logits, temp)
        m = calibration_measures(logits, y, temp, score, labels)
        correct = (probs.argmax(1) == np.asarray(y)).astype(int)
        frac, conf = calibration_curve(correct, probs.max(1), n_bins=bins, strategy="uniform")
        axes[0].plot(conf, frac, style, label=f"{name}: ECE {m['ece']:.3f}")
        truth = referable(y, score, labels).astype(int)
        if 0 < truth.sum() < len(truth):
            frac, conf = calibration_curve(truth, np.clip(screening_score(probs, score, labels), 0, 1),
                                           n_bins=bins, strategy="uniform")
            axes[1].plot(conf, frac, style, label=f"{name}: Brier {m['brier_score']:.3f}")
    for ax, xl, yl in ((axes[0], "confidence (top class)", "accuracy"),
                       (axes[1], f"screening score P({score})", f"fraction truly {score}")):
        ax.plot([0, 1], [0, 1], color="0.6", lw=1, label="perfect calibration")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(title or f"reliability, {len(y)} sequences", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)


def screening_report(logits: np.ndarray, y: np.ndarray, subjects: Sequence[str], calibration: dict | None = None,
                     bootstrap: int = 1000, seed: int = 0, labels: Sequence[str] = LABELS) -> dict:
    """What ``gaitpose evaluate`` adds about calibration and screening, for one split.

    Without a ``calibration`` entry (see :mod:`gaitpose.engine.calibrator`) the probabilities are
    the model's own (T = 1), the score is P(positive), and there is no operating point.

    Returns:
        ``calibrated``, ``temperature``, ``score``, ``ece``, ``brier``, ``nll``, ``brier_score``
        (at the temperature), ``uncalibrated`` (the same at T = 1), ``per_class_brier``,
        ``sensitivity_at_specificity`` ({"0.90": .., "0.95": ..}, thresholds set on this split),
        ``operating_point`` (the stored threshold's 2×2 table and sensitivity / specificity
        with subject-level bootstrap CIs, or None).
    """
    from sklearn.metrics import brier_score_loss

    temp = float(calibration["temperature"]) if calibration else 1.0
    score = str(calibration["score"]) if calibration else "positive"
    probs = softmax(logits, temp)
    s = screening_score(probs, score, labels)
    truth = referable(y, score, labels)
    y = np.asarray(y, np.int64)
    out = {
        "calibrated": calibration is not None,
        "temperature": temp,
        "score": score,
        **calibration_measures(logits, y, temp, score, labels),
        "uncalibrated": calibration_measures(logits, y, 1.0, score, labels),
        "per_class_brier": {name: float(brier_score_loss((y == k).astype(int), probs[:, k]))
                            for k, name in enumerate(labels)},
        "sensitivity_at_specificity": {f"{sp:.2f}": sensitivity_at_specificity(s, truth, sp) for sp in (0.90, 0.95)},
        "operating_point": None,
    }
    if calibration:
        out["operating_point"] = operating_point(s, truth, float(calibration["threshold"]), subjects, bootstrap, seed)
        out["operating_point"]["target_specificity"] = float(calibration["target_specificity"])
        out["calibration_date"] = calibration.get("date")
    return out


def _ci(ci) -> str:
    return f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""


def format_screening(scr: dict) -> str:
    """Human-readable lines of :func:`screening_report`."""
    state = f"calibrated, T = {scr['temperature']:.3f}" if scr["calibrated"] else "uncalibrated (T = 1)"
    un = scr["uncalibrated"]
    lines = [f"screening score P({scr['score']}), {state}",
             f"  ECE {scr['ece']:.4f} (uncalibrated {un['ece']:.4f})   Brier {scr['brier']:.4f} "
             f"(uncalibrated {un['brier']:.4f})   NLL {scr['nll']:.4f} (uncalibrated {un['nll']:.4f})"]
    sas = scr["sensitivity_at_specificity"]
    lines.append("  sensitivity at 90% specificity " + ("n/a" if sas["0.90"] is None else f"{sas['0.90']:.3f}")
                 + ", at 95% " + ("n/a" if sas["0.95"] is None else f"{sas['0.95']:.3f}")
                 + " (thresholds set on this split)")
    op = scr.get("operating_point")
    if op:
        t = op["table"]
        sens = "n/a" if op["sensitivity"] is None else f"{op['sensitivity']:.3f}"
        spec = "n/a" if op["specificity"] is None else f"{op['specificity']:.3f}"
        lines += [f"  operating point: refer when score >= {op['threshold']:.4f} (set on validation for "
                  f"specificity {op['target_specificity']:.2f})",
                  f"    refer:       TP {t['tp']:>4}  FP {t['fp']:>4}",
                  f"    no referral: FN {t['fn']:>4}  TN {t['tn']:>4}",
                  f"    sensitivity {sens}{_ci(op['sensitivity_ci95'])}   specificity {spec}"
                  f"{_ci(op['specificity_ci95'])} (95% CI, bootstrap over subjects)"]
    return "\n".join(lines)
