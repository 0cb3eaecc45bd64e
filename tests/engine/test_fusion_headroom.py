"""experiments/analysis/fusion_headroom.py on constructed cohorts and predictions."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "experiments" / "analysis" / "fusion_headroom.py"
LABELS = ("negative", "neutral", "positive")


@pytest.fixture(scope="module")
def fh():
    spec = importlib.util.spec_from_file_location("fusion_headroom", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cue_ceilings_find_the_cue_that_decides_the_class(fh, tmp_path):
    rng = np.random.default_rng(0)
    n = 240
    cls = np.arange(n) % 3
    cols = {c: rng.normal(size=n) for g in fh.CUES.values() for c in g}
    # only the (silhouette-only) waist cue carries the class, with a random sign
    cols["waist_asymmetry"] = (cls + 0.1 * rng.normal(size=n)) * rng.choice([-1, 1], size=n)
    ids = [f"{i:05d}" for i in range(n)]
    pd.DataFrame({"id": ids, "subject": [f"S{i}" for i in ids], "class": [LABELS[c] for c in cls],
                  **cols}).to_csv(tmp_path / "ground_truth.csv", index=False)
    (tmp_path / "partition.json").write_text(json.dumps({"TRAIN_SET": ids[:160], "TEST_SET": ids[160:]}))
    res = {name: f1 for name, _, f1 in fh.cue_ceilings(tmp_path)}
    assert res["contour"] > 0.95 and res["all cues"] > 0.9
    assert res["posture"] < 0.6 and res["skeleton-visible: posture + gait"] < 0.6


def _preds(path: Path, y, p, ids=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"id": ids if ids is not None else [f"{i:03d}" for i in range(len(y))], "true": [LABELS[c] for c in y],
                  "pred": [LABELS[c] for c in p.argmax(1)],
                  **{f"p_{c}": p[:, i] for i, c in enumerate(LABELS)}}).to_csv(path, index=False)


def test_complementary_models_gain_from_late_fusion(fh, tmp_path):
    y = np.arange(90) % 3
    eye = np.eye(3)
    good_a = np.arange(90) < 60  # silhouette right on the first 60, skeleton on the last 45
    good_b = np.arange(90) >= 45
    pa = np.where(good_a[:, None], 0.6 * eye[y] + 0.2, 0.6 * eye[(y + 1) % 3] + 0.2)
    pb = np.where(good_b[:, None], 0.9 * eye[y] + 0.05, 0.4 * eye[(y + 2) % 3] + 0.2)
    _preds(tmp_path / "runs" / "silhouette-s0" / "metrics_test_all.predictions.csv", y, pa)
    _preds(tmp_path / "runs" / "skeleton-s0" / "metrics_test_all.predictions.csv", y, pb)
    (r,) = fh.complementarity(tmp_path, "silhouette", "skeleton")
    assert r["sil_right"] == pytest.approx(60 / 90) and r["skel_right"] == pytest.approx(45 / 90)
    assert r["only_skel"] == pytest.approx(30 / 90) and r["both_wrong"] == 0
    # the confident skeleton wins where it is right, the silhouettes elsewhere: all right at w=0.5
    assert r["f1_avg"] == pytest.approx(1.0) and r["f1_best"] == pytest.approx(1.0)
    assert r["f1_sil"] < 0.8


def test_feature_model_uses_unsigned_features_and_fuses(fh, tmp_path):
    rng = np.random.default_rng(1)
    n = 180
    y = np.arange(n) % 3
    ids = [f"{i:03d}" for i in range(n)]
    side = rng.choice([-1, 1], size=n)
    pd.DataFrame({
        "id": ids, "class": [LABELS[c] for c in y], "view": "front", "source": "x",
        "shoulder_tilt_median": side * (y + 0.2 * rng.normal(size=n)),  # signed: dropped
        "shoulder_tilt_abs_median": y + 0.2 * rng.normal(size=n),  # the informative one
        "cadence_mean": rng.normal(size=n), "knee_rom_si": np.nan, "qc_frames": 120,
    }).to_csv(tmp_path / "f.csv", index=False)
    (tmp_path / "partition.json").write_text(json.dumps({"TRAIN_SET": ids[:120], "TEST_SET": ids[120:]}))
    te = np.arange(120, n)
    _preds(tmp_path / "exp" / "runs" / "silhouette-s0" / "metrics_test_all.predictions.csv",
           y[te], np.full((len(te), 3), 1 / 3) + np.eye(3)[(y[te] + 1) % 3] * 0.01,  # always wrong
           ids=[ids[i] for i in te])
    f1_feat, rows = fh.feature_model(tmp_path / "f.csv", tmp_path, tmp_path / "exp", "silhouette")
    assert f1_feat > 0.9
    (r,) = rows
    assert r["f1_a"] < 0.1 and r["f1_avg"] > 0.9 and r["best_w"] < 1
