"""Statistics over subjects: cluster (subject-level) bootstrap intervals and paired differences.

A subject walks 1–3 sequences, and its sequences are alike, so the sequences of a test set are
not independent draws: resampling sequences makes intervals too narrow. Here the unit of
resampling is the subject. One resample draws as many subjects as the test set has, with
replacement, and takes every sequence of each drawn subject (a subject drawn twice counts
twice). A sequence's weight in a resample is how many times its subject was drawn.

* :func:`subject_weights` — the resamples as weights [B, N] (seeded; every statistic that uses
  the same ``(subjects, n_boot, seed)`` sees the same resamples, which is what makes a
  difference between two models *paired*);
* :func:`bootstrap_ci` — percentile interval of any statistic ``f(*arrays)`` (a general path
  for statistics not listed below; each resample is one call);
* vectorised statistics of weighted confusion matrices and of the positive-vs-rest ROC-AUC,
  for the classification reports (1000 resamples × a few metrics through scikit-learn's
  input checking would take tens of seconds per evaluation; the tests check these against
  scikit-learn on weighted samples);
* :func:`paired_difference` — ``metric(a) - metric(b)`` on the same sequences with the paired
  subject-bootstrap interval, per seed and averaged over seeds (the interval covers the
  sampling of test subjects for the trained models at hand; the spread over seeds is reported
  beside it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def subject_index(subjects: Sequence) -> tuple[np.ndarray, int]:
    """Subject number of each sequence (subjects sorted by name) and the number of subjects."""
    names, inverse = np.unique(np.asarray([str(s) for s in subjects]), return_inverse=True)
    return inverse.reshape(-1), len(names)


def subject_weights(subjects: Sequence, n_boot: int, seed: int = 0) -> np.ndarray:
    """Weights [B, N] of ``n_boot`` subject-level bootstrap resamples of N sequences.

    Each resample draws S subjects with replacement out of the S subjects (uniformly,
    ``numpy.random.default_rng(seed).integers``); a sequence's weight is how many times its
    subject was drawn. Sequence weights sum to the sequences of the drawn subjects.
    """
    of, n_subj = subject_index(subjects)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_subj, size=(int(n_boot), n_subj))
    counts = np.zeros((int(n_boot), n_subj), dtype=np.int64)
    np.add.at(counts, (np.repeat(np.arange(int(n_boot)), n_subj), draws.reshape(-1)), 1)
    return counts[:, of]


def resample_indices(weights_row: np.ndarray) -> np.ndarray:
    """The sequence indices of one resample (index i repeated ``weights_row[i]`` times)."""
    return np.repeat(np.arange(len(weights_row)), weights_row)


def percentile_ci(values: np.ndarray, level: float = 0.95) -> list[float] | None:
    """[low, high] percentile interval of the finite values (None when there are none)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if not len(v):
        return None
    tail = 100 * (1 - level) / 2
    return [float(np.percentile(v, tail)), float(np.percentile(v, 100 - tail))]


def bootstrap_ci(
    statistic: Callable[..., float],
    arrays: Sequence[np.ndarray],
    subjects: Sequence,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> list[float] | None:
    """Subject-level percentile interval of ``statistic(*[a[idx] for a in arrays])``.

    Resamples where the statistic is undefined (NaN, e.g. a sensitivity with no positive
    drawn) are left out. None with fewer than two subjects.
    """
    if subject_index(subjects)[1] < 2 or not n_boot:
        return None
    arrays = [np.asarray(a) for a in arrays]
    vals = [statistic(*[a[resample_indices(w)] for a in arrays])
            for w in subject_weights(subjects, n_boot, seed)]
    return percentile_ci(np.asarray(vals, dtype=np.float64), level)


# ---------------------------------------------------------------- vectorised statistics
def weighted_confusion(y: np.ndarray, pred: np.ndarray, weights: np.ndarray, num_classes: int) -> np.ndarray:
    """Confusion matrices [B, C, C] (rows true, columns predicted) of weighted samples."""
    cell = np.asarray(y, np.int64) * num_classes + np.asarray(pred, np.int64)
    onehot = np.zeros((len(cell), num_classes * num_classes))
    onehot[np.arange(len(cell)), cell] = 1.0
    return (np.atleast_2d(weights) @ onehot).reshape(-1, num_classes, num_classes)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros_like(num, dtype=np.float64), where=den > 0)


def accuracy_of(cm: np.ndarray) -> np.ndarray:
    """Accuracy of confusion matrices [..., C, C]."""
    return _ratio(np.trace(cm, axis1=-2, axis2=-1), cm.sum(axis=(-2, -1)))


def macro_f1_of(cm: np.ndarray) -> np.ndarray:
    """Macro-F1 of confusion matrices [..., C, C], averaged over the classes present in truth or
    prediction (scikit-learn's ``f1_score(average="macro", zero_division=0)`` without labels)."""
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    true_n, pred_n = cm.sum(axis=-1), cm.sum(axis=-2)
    f1 = _ratio(2 * tp, true_n + pred_n)
    present = (true_n + pred_n) > 0
    return _ratio((f1 * present).sum(-1), present.sum(-1).astype(np.float64))


def sensitivity_specificity_of(cm: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """One-vs-rest sensitivity and specificity of class ``k`` (NaN where undefined)."""
    tp = cm[..., k, k]
    pos = cm[..., k, :].sum(-1)
    fp = cm[..., :, k].sum(-1) - tp
    neg = cm.sum(axis=(-2, -1)) - pos
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pos > 0, tp / pos, np.nan), np.where(neg > 0, (neg - fp) / neg, np.nan)


def weighted_auc(y_binary: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ROC-AUC [B] of weighted samples (ties count half; NaN where one class has no weight);
    the same as ``sklearn.metrics.roc_auc_score(y, score, sample_weight=w)`` per row."""
    y = np.asarray(y_binary, bool)
    _, level = np.unique(np.asarray(score, np.float64), return_inverse=True)
    w = np.atleast_2d(np.asarray(weights, np.float64))
    n_levels = int(level.max()) + 1 if len(level) else 0
    onehot = np.zeros((len(level), n_levels))
    onehot[np.arange(len(level)), level] = 1.0
    pos, neg = (w * y) @ onehot, (w * ~y) @ onehot  # weight per score level [B, L]
    below = np.cumsum(neg, axis=1) - neg
    wp, wn = pos.sum(1), neg.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((wp > 0) & (wn > 0), (pos * (below + 0.5 * neg)).sum(1) / (wp * wn), np.nan)


# ---------------------------------------------------------------- paired differences
def paired_difference(
    a: Sequence[Callable[[np.ndarray], np.ndarray]],
    b: Sequence[Callable[[np.ndarray], np.ndarray]],
    subjects: Sequence,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict:
    """Mean over seeds of ``metric(a_s) - metric(b_s)``, with a paired subject-bootstrap CI.

    Args:
        a, b: per seed, the two settings' metric as a function of sequence weights
            ([B, N] → [B]; see :func:`metric_on`), on the same N test sequences in the same order.
        subjects: subject of each of the N sequences.

    Returns:
        ``delta`` (mean over seeds of the point differences), ``ci95`` (percentile interval of
        the mean difference over subject resamples; paired: every seed and both settings see
        the same resamples), ``per_seed`` (point differences), ``per_seed_ci95`` (each seed's
        own paired interval), ``seeds``, ``n_subjects``, ``n_boot``.
    """
    if len(a) != len(b) or not len(a):
        raise ValueError("paired_difference needs the same number (> 0) of seeds for a and b")
    n = len(subjects)
    ones = np.ones((1, n))
    per_seed = [float(fa(ones)[0] - fb(ones)[0]) for fa, fb in zip(a, b)]
    ci, seed_cis = None, [None] * len(a)
    n_subj = subject_index(subjects)[1]
    if n_boot and n_subj > 1:
        w = subject_weights(subjects, n_boot, seed)
        diffs = np.stack([fa(w) - fb(w) for fa, fb in zip(a, b)])  # [seeds, B]
        ci = percentile_ci(diffs.mean(0), level)
        seed_cis = [percentile_ci(d, level) for d in diffs]
    return {"delta": float(np.mean(per_seed)), "ci95": ci, "per_seed": per_seed,
            "per_seed_ci95": seed_cis, "seeds": len(per_seed), "n_subjects": int(n_subj),
            "n_boot": int(n_boot)}


def metric_on(name: str, y: np.ndarray, pred: np.ndarray, probs: np.ndarray | None,
              num_classes: int, positive: int) -> Callable[[np.ndarray], np.ndarray]:
    """A weights → metric function for :func:`paired_difference`: ``name`` is ``accuracy``,
    ``macro_f1``, ``sensitivity_positive``, ``specificity_positive`` or ``roc_auc_positive``."""
    y = np.asarray(y, np.int64)
    if name == "roc_auc_positive":
        if probs is None:
            raise ValueError("roc_auc_positive needs probabilities")
        return lambda w: weighted_auc(y == positive, probs[:, positive], w)

    def f(w: np.ndarray) -> np.ndarray:
        cm = weighted_confusion(y, pred, w, num_classes)
        if name == "accuracy":
            return accuracy_of(cm)
        if name == "macro_f1":
            return macro_f1_of(cm)
        sens, spec = sensitivity_specificity_of(cm, positive)
        return {"sensitivity_positive": sens, "specificity_positive": spec}[name]

    if name not in ("accuracy", "macro_f1", "sensitivity_positive", "specificity_positive"):
        raise ValueError(f"unknown metric {name!r}")
    return f
