"""classification_report agrees with scikit-learn; constructed cases; written artefacts."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics as skm

from gaitpose.engine.metrics import (
    classification_report,
    flat_metrics,
    roc_auc_binary,
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
    rep = classification_report(y, given, bootstrap=0)
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


def test_auc_with_ties_matches_sklearn():
    y = np.array([0, 1, 1, 0, 1, 0, 0, 1])
    s = np.array([0.1, 0.4, 0.4, 0.4, 0.9, 0.2, 0.9, 0.5])
    assert roc_auc_binary(y, s) == pytest.approx(skm.roc_auc_score(y, s))
    assert roc_auc_binary(np.ones(3), np.arange(3.0)) is None


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


def test_bootstrap_seeded_and_brackets_point_estimate():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 60)
    pred = np.where(rng.random(60) < 0.7, y, rng.integers(0, 3, 60))
    a = classification_report(y, pred, bootstrap=300, seed=3)
    b = classification_report(y, pred, bootstrap=300, seed=3)
    c = classification_report(y, pred, bootstrap=300, seed=4)
    assert a["accuracy_ci95"] == b["accuracy_ci95"] and a["macro_f1_ci95"] == b["macro_f1_ci95"]
    assert a["accuracy_ci95"] != c["accuracy_ci95"]
    lo, hi = a["accuracy_ci95"]
    assert lo < a["accuracy"] < hi and hi - lo < 0.4


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="logits must be"):
        classification_report([0, 1], np.zeros((2, 4)))
    with pytest.raises(ValueError, match="labels but"):
        classification_report([0, 1, 2], [0, 1])


def test_write_report(tmp_path):
    rep = classification_report([0, 1, 2, 2], np.eye(3)[[0, 1, 1, 2]], bootstrap=20)
    paths = write_report(rep, tmp_path / "m.json")
    assert json.loads(paths["json"].read_text())["accuracy"] == 0.75
    assert paths["confusion_png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "sensitivity" in paths["per_class_csv"].read_text().splitlines()[0]
    row = flat_metrics(rep)
    assert row["sensitivity_positive"] == 0.5 and row["specificity_positive"] == 1.0
