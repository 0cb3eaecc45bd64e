"""classification_report agrees with scikit-learn; constructed cases; written artefacts."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics as skm

from gaitpose.engine import stats
from gaitpose.engine.metrics import (
    baseline_reports,
    classification_report,
    flat_metrics,
    probabilities,
    write_report,
)


@pytest.mark.parametrize("shape", ["pred", "logits", "parts"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agrees_with_sklearn(shape, seed):
    rng = np.random.default_rng(seed)
    n = 97
    y = rng.integers(0, 3, n)
    parts = rng.normal(size=(n, 3, 4)) + 1.5 * np.eye(3)[y][:, :, None] * rng.random((n, 1, 1))
    logits = parts.mean(-1)
    pred = logits.argmax(1)
    given = {"pred": pred, "logits": logits, "parts": parts}[shape]
    rep = classification_report(y, given, bootstrap=0, logit_scale=1.0)
    assert rep["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    p, r, f, _ = skm.precision_recall_fscore_support(y, pred, labels=[0, 1, 2], average="macro", zero_division=0)
    assert rep["macro_precision"] == pytest.approx(p)
    assert rep["macro_recall"] == pytest.approx(r)
    assert rep["macro_f1"] == pytest.approx(f)
    assert rep["macro_f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    cm = skm.confusion_matrix(y, pred, labels=[0, 1, 2])
    assert rep["confusion_matrix"] == cm.tolist()
    for k, name in enumerate(("negative", "neutral", "positive")):
        pc = rep["per_class"][name]
        assert pc["sensitivity"] == pytest.approx(skm.recall_score(y == k, pred == k))
        assert pc["specificity"] == pytest.approx(skm.recall_score(y != k, pred != k))
        assert pc["support"] == int((y == k).sum())
    if shape == "pred":
        assert rep["roc_auc_positive"] is None
    else:
        prob = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        assert rep["roc_auc_positive"] == pytest.approx(skm.roc_auc_score(y == 2, prob[:, 2]))


def test_weighted_auc_with_ties_matches_sklearn():
    y = np.array([0, 1, 1, 0, 1, 0, 0, 1])
    s = np.array([0.1, 0.4, 0.4, 0.4, 0.9, 0.2, 0.9, 0.5])
    w = np.array([[1, 1, 1, 1, 1, 1, 1, 1], [0, 2, 1, 3, 0, 1, 2, 1]])
    got = stats.weighted_auc(y, s, w)
    for row, g in zip(w, got):
        assert g == pytest.approx(skm.roc_auc_score(y, s, sample_weight=row))
    assert np.isnan(stats.weighted_auc(np.ones(3), np.arange(3.0), np.ones((1, 3))))[0]


@pytest.mark.parametrize("seed", range(5))
def test_vectorised_confusion_statistics_match_sklearn_on_resamples(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, 40)
    pred = np.where(rng.random(40) < 0.5, y, rng.integers(0, 3, 40))
    w = stats.subject_weights(rng.integers(0, 15, 40), 30, seed)
    cm = stats.weighted_confusion(y, pred, w, 3)
    for row, f1, acc in zip(w, stats.macro_f1_of(cm), stats.accuracy_of(cm)):
        idx = stats.resample_indices(row)
        assert f1 == pytest.approx(skm.f1_score(y[idx], pred[idx], average="macro", zero_division=0))
        assert acc == pytest.approx(skm.accuracy_score(y[idx], pred[idx]))


def test_constructed_case_and_missing_class():
    # 4 negatives all right, 2 positives predicted neutral; no true neutral
    y = [0, 0, 0, 0, 2, 2]
    pred = [0, 0, 0, 0, 1, 1]
    rep = classification_report(y, pred, bootstrap=0)
    assert rep["accuracy"] == pytest.approx(4 / 6)
    assert rep["per_class"]["positive"]["sensitivity"] == 0.0
    assert rep["per_class"]["positive"]["specificity"] == 1.0
    assert rep["per_class"]["neutral"]["specificity"] == pytest.approx(4 / 6)
    assert rep["per_class"]["neutral"]["precision"] == 0.0  # zero_division=0
    assert rep["macro_f1"] == pytest.approx(1 / 3)  # F1: 1, 0, 0


def test_absent_class_macro_f1_equals_sklearn():
    """A class absent from truth and prediction does not count in the macro average (the
    issue's new-user case: 0.489 before, scikit-learn says 0.733)."""
    y, pred = [0, 0, 2, 2], [0, 0, 2, 0]
    rep = classification_report(y, pred, bootstrap=0)
    assert rep["macro_f1"] == pytest.approx(skm.f1_score(y, pred, average="macro")) == pytest.approx(0.7333, abs=1e-4)
    assert rep["macro_precision"] == pytest.approx(skm.precision_score(y, pred, average="macro"))
    assert rep["macro_recall"] == pytest.approx(skm.recall_score(y, pred, average="macro"))
    assert rep["per_class"]["neutral"]["support"] == 0  # still listed per class


def _clustered(n_subj=10, per=10, correct=5):
    """n_subj subjects x per identical sequences; the first ``correct`` subjects all right."""
    subjects = np.repeat([f"S{i}" for i in range(n_subj)], per)
    y = np.zeros(n_subj * per, int)
    pred = np.where(np.repeat(np.arange(n_subj), per) < correct, 0, 1)
    return y, pred, subjects


def test_subject_bootstrap_on_known_clusters():
    """Resampling subjects: accuracy ~ Binomial(10, 0.5) / 10, 95 % interval [0.2, 0.8];
    resampling the 100 sequences as if independent gives the too-narrow [0.4, 0.6]."""
    y, pred, subjects = _clustered()
    rep = classification_report(y, pred, bootstrap=2000, seed=0, subjects=subjects, labels=["a", "b"],
                                positive="b")
    assert rep["accuracy"] == 0.5 and rep["bootstrap_unit"] == "subject" and rep["n_subjects"] == 10
    assert rep["accuracy_ci95"] == pytest.approx([0.2, 0.8])
    naive = classification_report(y, pred, bootstrap=2000, seed=0, labels=["a", "b"], positive="b")
    lo, hi = naive["accuracy_ci95"]
    assert naive["bootstrap_unit"] == "sequence" and 0.39 <= lo and hi <= 0.61
    w = stats.subject_weights(subjects, 50, 1)
    assert (w.sum(1) == 100).all() and (w.reshape(50, 10, 10) == w.reshape(50, 10, 10)[:, :, :1]).all()
    # the general path agrees with the vectorised one
    ci = stats.bootstrap_ci(lambda a, b: float((a == b).mean()), [y, pred], subjects, 2000, 0)
    assert ci == pytest.approx(rep["accuracy_ci95"])


def test_paired_difference_on_known_clusters():
    """A is right on subjects 0-5, B on 0-4: the difference is subject 5's share of a resample,
    Binomial(10, 0.1) / 10 -> 95 % interval [0, 0.3] (an unpaired comparison would straddle 0
    widely)."""
    y, pa, subjects = _clustered(correct=6)
    _, pb, _ = _clustered(correct=5)
    fa = stats.metric_on("accuracy", y, pa, None, 2, 1)
    fb = stats.metric_on("accuracy", y, pb, None, 2, 1)
    d = stats.paired_difference([fa, fa], [fb, fb], subjects, n_boot=2000, seed=0)
    assert d["delta"] == pytest.approx(0.1) and d["per_seed"] == pytest.approx([0.1, 0.1])
    assert d["ci95"] == pytest.approx([0.0, 0.3]) and d["per_seed_ci95"][0] == pytest.approx([0.0, 0.3])
    assert d["n_subjects"] == 10 and d["seeds"] == 2


def test_baselines_from_the_labels():
    y = np.array([0] * 6 + [1] * 2 + [2] * 4)
    b = baseline_reports(y)
    assert b["majority"]["majority_class"] == "negative"
    assert b["majority"]["accuracy"] == pytest.approx(0.5)
    assert b["majority"]["macro_f1"] == pytest.approx(skm.f1_score(y, np.zeros(12, int), average="macro"))
    assert b["majority"]["sensitivity_positive"] == 0.0 and b["majority"]["specificity_positive"] == 1.0
    assert b["uniform"]["accuracy"] == pytest.approx(1 / 3)
    # expected confusion: class k's n_k spread evenly; F1_k = 2 (n_k / 3) / (n_k + 12 / 3)
    f1 = [2 * (n / 3) / (n + 4) for n in (6, 2, 4)]
    assert b["uniform"]["macro_f1"] == pytest.approx(np.mean(f1))
    assert b["uniform"]["sensitivity_positive"] == pytest.approx(1 / 3)
    assert b["uniform"]["macro_precision"] == pytest.approx(1 / 3) == b["uniform"]["macro_recall"]
    assert b["uniform"]["roc_auc_positive"] == b["majority"]["roc_auc_positive"] == 0.5


def test_logits_need_the_logit_scale_and_it_changes_the_probabilities():
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=0.3, size=(30, 3))
    y = rng.integers(0, 3, 30)
    with pytest.raises(ValueError, match="logit_scale"):
        classification_report(y, logits)
    a = classification_report(y, logits, bootstrap=0, logit_scale=16.0)
    p = probabilities(logits, 16.0)
    assert a["roc_auc_positive"] == pytest.approx(skm.roc_auc_score(y == 2, p[:, 2]))
    assert a["brier_positive"] == pytest.approx(skm.brier_score_loss(y == 2, p[:, 2]))


def test_bootstrap_seeded_and_brackets_point_estimate():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 60)
    pred = np.where(rng.random(60) < 0.7, y, rng.integers(0, 3, 60))
    subjects = np.arange(60) // 2
    a = classification_report(y, pred, bootstrap=300, seed=3, subjects=subjects)
    b = classification_report(y, pred, bootstrap=300, seed=3, subjects=subjects)
    c = classification_report(y, pred, bootstrap=300, seed=4, subjects=subjects)
    assert a["accuracy_ci95"] == b["accuracy_ci95"] and a["macro_f1_ci95"] == b["macro_f1_ci95"]
    assert a["macro_f1_ci95"] != c["macro_f1_ci95"]
    lo, hi = a["accuracy_ci95"]
    assert lo < a["accuracy"] < hi and hi - lo < 0.4


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="logits must be"):
        classification_report([0, 1], np.zeros((2, 4)), logit_scale=1.0)
    with pytest.raises(ValueError, match="labels but"):
        classification_report([0, 1, 2], [0, 1])


def test_write_report(tmp_path):
    rep = classification_report([0, 1, 2, 2], np.eye(3)[[0, 1, 1, 2]], bootstrap=20, logit_scale=1.0)
    paths = write_report(rep, tmp_path / "m.json")
    assert json.loads(paths["json"].read_text())["accuracy"] == 0.75
    assert paths["confusion_png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "sensitivity" in paths["per_class_csv"].read_text().splitlines()[0]
    row = flat_metrics(rep)
    assert row["sensitivity_positive"] == 0.5 and row["specificity_positive"] == 1.0
