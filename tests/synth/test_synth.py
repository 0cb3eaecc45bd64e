"""The synthetic cohort: tree layout, determinism, partition, ground truth."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from gaitpose import LABELS
from gaitpose.cli import main
from gaitpose.io import load_pickle
from gaitpose.synth import TRUTH_COLUMNS, class_counts, generate_sequence, make_cohort, plan_cohort


def _read_gt(root: Path) -> list[dict]:
    with open(root / "ground_truth.csv", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cohort")
    code = main(["synth", "-o", str(out), "--sequences", "24", "--frames", "40", "--seed", "3",
                 "-j", "1"])
    assert code == 0
    return out


def test_tree_layout_and_arrays(cohort):
    rows = _read_gt(cohort)
    assert len(rows) == 24
    for r in rows:
        d = cohort / r["id"] / r["class"] / "front"
        pose = load_pickle(d / "pose.pkl")
        sils = load_pickle(d / "sils.pkl")
        assert pose.dtype == np.float32 and pose.shape == (40, 33, 3)
        assert sils.dtype == np.uint8 and sils.shape == (40, 64, 64)
        assert np.isfinite(pose).all()  # NaN-free in pkl: missing joints are x = y = 0, score 0
        missing = pose[..., 2] == 0
        assert (pose[missing][:, :2] == 0).all()
        assert (pose[~missing][:, 2] > 0).all()
        # silhouettes are people: filled, full height on detected frames
        det = sils.reshape(40, -1).max(1) > 0
        assert det.mean() > 0.9
        assert (sils[det].max(2) > 127).sum(1).min() >= 60
    ids = sorted(p.name for p in cohort.iterdir() if p.is_dir())
    assert ids == sorted(r["id"] for r in rows)
    assert all(len(i) == 5 and i.isdigit() for i in ids)


def test_partition_disjoint_by_subject_and_stratified(cohort):
    part = json.loads((cohort / "partition.json").read_text())
    rows = {r["id"]: r for r in _read_gt(cohort)}
    train, test = set(part["TRAIN_SET"]), set(part["TEST_SET"])
    assert train and test and not train & test and train | test == set(rows)
    subj_train = {rows[i]["subject"] for i in train}
    subj_test = {rows[i]["subject"] for i in test}
    assert not subj_train & subj_test
    for cls in LABELS:
        n = sum(r["class"] == cls for r in rows.values())
        if n >= 3:
            assert any(rows[i]["class"] == cls for i in test)
            assert any(rows[i]["class"] == cls for i in train)


def test_ground_truth_and_cohort_json(cohort):
    rows = _read_gt(cohort)
    for col in ("id", "subject", "class", "severity", *TRUTH_COLUMNS):
        assert col in rows[0]
    for r in rows:
        for col in ("severity", *TRUTH_COLUMNS):
            assert np.isfinite(float(r[col]))
    # class counts follow the default ratio 800:200:493
    got = [sum(r["class"] == c for r in rows) for c in LABELS]
    assert got == class_counts(24, (800, 200, 493))
    # a subject keeps its class and severity across its sequences
    by_subject: dict[str, set] = {}
    for r in rows:
        by_subject.setdefault(r["subject"], set()).add((r["class"], r["severity"]))
    assert all(len(v) == 1 for v in by_subject.values())
    meta = json.loads((cohort / "cohort.json").read_text())
    for key in ("fps", "frames", "view", "seed", "generator_version", "image_size", "layout"):
        assert key in meta
    assert meta["frames"] == 40 and meta["seed"] == 3 and meta["layout"] == "mediapipe33"
    assert (cohort / "cohort.json").read_text() == json.dumps(meta, indent=1, sort_keys=True) + "\n"


def test_same_seed_same_bytes_any_workers(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    make_cohort(a, sequences=5, frames=12, seed=7, workers=1, progress=False)
    make_cohort(b, sequences=5, frames=12, seed=7, workers=2, progress=False)
    make_cohort(c, sequences=5, frames=12, seed=8, workers=1, progress=False)
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) == 5 * 2 + 3
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    assert (a / "ground_truth.csv").read_bytes() != (c / "ground_truth.csv").read_bytes()


def test_views_and_fps_timing():
    plan = plan_cohort(3, seed=0)
    for view in ("front", "back", "side"):
        g = generate_sequence(plan[0], 30, 30.0, view)
        kp = g["keypoints"]
        ok = np.isfinite(kp[..., 0])
        assert ok.mean() > 0.95
        # facing sign s = sign(x_left_hip - x_right_hip): +1 towards the camera, -1 away
        s = np.sign(np.nanmedian(kp[:, 23, 0] - kp[:, 24, 0]))
        if view == "front":
            assert s > 0
        if view == "back":
            assert s < 0
        if view == "side":  # walking across: large horizontal travel
            assert np.nanmax(kp[:, 23, 0]) - np.nanmin(kp[:, 23, 0]) > 100
    # generating the same planned sequence twice gives the same arrays
    a, b = generate_sequence(plan[1], 20, 30.0, "front"), generate_sequence(plan[1], 20, 30.0, "front")
    np.testing.assert_array_equal(a["silhouettes"], b["silhouettes"])


def test_frame_rate_correct_timing():
    """The same walk sampled at 60 fps passes through the 30-fps poses at every other frame."""
    from gaitpose.synth.walker import sample_subject, simulate

    s = sample_subject(np.random.default_rng(0), "positive")
    m30 = simulate(s, 60, 30.0, np.random.default_rng(1))
    m60 = simulate(s, 120, 60.0, np.random.default_rng(1))
    np.testing.assert_allclose(m60.joints[::2], m30.joints, atol=1e-9)
    assert m30.truth["cadence"] == pytest.approx(m60.truth["cadence"])


def test_signs_follow_asymmetry_conventions():
    """Shoulder tilt measured from image keypoints has the ground truth's sign (left higher > 0)."""
    plan = plan_cohort(40, ratio=(0, 0, 1), seed=11)
    agree = []
    for ps in plan[:12]:
        g = generate_sequence(ps, 30, 30.0, "front")
        kp = g["keypoints"]
        sl, sr = kp[:, 11], kp[:, 12]
        tilt = np.degrees(np.arctan2(sr[:, 1] - sl[:, 1], np.abs(sl[:, 0] - sr[:, 0])))
        truth = g["truth"]["shoulder_tilt"]
        if abs(truth) > 3:
            agree.append(np.sign(np.nanmedian(tilt)) == np.sign(truth))
    assert len(agree) >= 3 and np.mean(agree) >= 0.75


def test_ground_truth_separates_but_no_single_feature_is_perfect(tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rows = make_cohort(tmp_path, sequences=120, frames=16, seed=2, ratio=(1, 0, 1),
                       progress=False)
    feats = ("shoulder_tilt", "pelvic_obliquity", "trunk_shift", "trunk_lateral_lean",
             "thoracopelvic_twist", "arm_swing_asymmetry", "step_time_asymmetry", "cadence",
             "waist_asymmetry")
    X = np.abs(np.array([[r[f] for f in feats] for r in rows]))
    y = np.array([r["class"] == "positive" for r in rows])
    for j, f in enumerate(feats):
        auc = roc_auc_score(y, X[:, j])
        assert max(auc, 1 - auc) < 1.0, f
    model = make_pipeline(StandardScaler(), LogisticRegression())
    acc = cross_val_score(model, X, y, cv=StratifiedKFold(5, shuffle=True, random_state=0)).mean()
    assert acc > 0.7
