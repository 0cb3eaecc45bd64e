"""Temperature scaling, the screening threshold and the calibration measures."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gaitpose.engine import calibration as cal


def _overconfident(n: int = 600, sharpen: float = 4.0, seed: int = 0):
    """Logits of a model whose true class probabilities are softmax(base) but which reports
    softmax(sharpen * base): classes drawn from the truth, logits over-confident by ``sharpen``."""
    rng = np.random.default_rng(seed)
    base = rng.normal(0, 1.0, (n, 3))
    p_true = cal.softmax(base)
    y = np.array([rng.choice(3, p=p) for p in p_true])
    return sharpen * base, y


def test_temperature_lowers_nll_of_an_overconfident_model_and_recovers_the_sharpening():
    logits, y = _overconfident()
    t = cal.fit_temperature(logits, y)
    assert cal.nll(logits, y, t) < cal.nll(logits, y, 1.0) - 0.1
    assert 3.0 < t < 5.5  # the constructed model is 4x too sharp
    before = cal.calibration_measures(logits, y, 1.0)
    after = cal.calibration_measures(logits, y, t)
    assert after["ece"] < before["ece"]
    assert after["brier"] < before["brier"]


def test_temperature_is_the_nll_minimum():
    logits, y = _overconfident(300, 2.0, seed=1)
    t = cal.fit_temperature(logits, y)
    for f in (0.9, 1.1):
        assert cal.nll(logits, y, t) <= cal.nll(logits, y, t * f)


def test_temperature_keeps_the_predicted_class():
    logits, _ = _overconfident(100)
    assert (cal.softmax(logits, 3.7).argmax(1) == logits.argmax(1)).all()


@pytest.mark.parametrize("target", [0.8, 0.9, 0.95])
def test_threshold_meets_the_target_specificity_and_is_the_lowest_that_does(target):
    rng = np.random.default_rng(3)
    truth = rng.random(400) < 0.3
    scores = np.clip(rng.normal(np.where(truth, 0.7, 0.35), 0.15), 0, 1)
    thr = cal.threshold_at_specificity(scores, truth, target)
    sens, spec = cal.sens_spec(cal.confusion_2x2(scores, truth, thr))
    assert spec >= target
    # the next lower distinct score as threshold would refer one more negative: below target
    lower = scores[scores < thr].max()
    _, spec_lower = cal.sens_spec(cal.confusion_2x2(scores, truth, lower))
    assert spec_lower < target


def test_sensitivity_at_specificity_agrees_with_sklearn_roc_curve():
    from sklearn.metrics import roc_curve

    rng = np.random.default_rng(5)
    truth = rng.random(300) < 0.4
    scores = rng.normal(np.where(truth, 1.0, 0.0), 1.0)
    fpr, tpr, _ = roc_curve(truth, scores)
    for spec in (0.9, 0.95):
        expected = tpr[fpr <= 1 - spec + 1e-12].max()
        assert cal.sensitivity_at_specificity(scores, truth, spec) == pytest.approx(expected)


def test_brier_multiclass_matches_sklearn_on_two_classes():
    from sklearn.metrics import brier_score_loss

    rng = np.random.default_rng(2)
    p1 = rng.random(50)
    probs = np.stack([1 - p1, p1], 1)
    y = (rng.random(50) < p1).astype(int)
    # the multi-class Brier sums both classes' squared errors: twice the binary one
    assert cal.brier_multiclass(probs, y) == pytest.approx(2 * brier_score_loss(y, p1))


def test_ece_known_value():
    # 10 walks at confidence 0.9, 6 right: one bin, |0.6 - 0.9| = 0.3
    probs = np.tile([0.9, 0.05, 0.05], (10, 1))
    y = np.array([0] * 6 + [1] * 4)
    assert cal.expected_calibration_error(probs, y) == pytest.approx(0.3)


def test_screening_score_and_truth():
    probs = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    assert cal.screening_score(probs, "positive").tolist() == pytest.approx([0.2, 0.8])
    assert cal.screening_score(probs, "positive+neutral").tolist() == pytest.approx([0.5, 0.9])
    assert cal.referable(np.array([0, 1, 2]), "positive").tolist() == [False, False, True]
    assert cal.referable(np.array([0, 1, 2]), "positive+neutral").tolist() == [False, True, True]
    with pytest.raises(ValueError, match="unknown screening score"):
        cal.screening_score(probs, "neutral")


def test_operating_point_table_and_intervals():
    rng = np.random.default_rng(7)
    truth = rng.random(200) < 0.4
    scores = np.clip(rng.normal(np.where(truth, 0.7, 0.3), 0.2), 0, 1)
    subjects = [f"s{i // 2}" for i in range(200)]
    op = cal.operating_point(scores, truth, 0.5, subjects, bootstrap=200)
    t = op["table"]
    assert sum(t.values()) == 200
    assert op["sensitivity"] == pytest.approx(t["tp"] / (t["tp"] + t["fn"]))
    lo, hi = op["specificity_ci95"]
    assert lo <= op["specificity"] <= hi


def test_calibration_entry_round_trips_with_weights_only(tmp_path):
    from gaitpose.engine.checkpoint import save_checkpoint

    logits, y = _overconfident(120)
    subjects = [f"s{i // 2}" for i in range(120)]
    from gaitpose.engine.calibrator import _fit

    entry = _fit(logits, y, subjects, "positive", 0.9)
    save_checkpoint(tmp_path / "c.pt", {"model": {}, "calibration": entry})
    back = torch.load(tmp_path / "c.pt", weights_only=True)["calibration"]
    assert back["temperature"] == pytest.approx(entry["temperature"])
    assert back["validation"]["specificity"] >= 0.9
    assert back["after"]["nll"] < back["before"]["nll"]
