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
    train, val, test = set(part["TRAIN_SET"]), set(part["VAL_SET"]), set(part["TEST_SET"])
    assert train and val and test and train | val | test == set(rows)
    assert len(train) + len(val) + len(test) == len(rows)
    subjects = [{rows[i]["subject"] for i in s} for s in (train, val, test)]
    assert not subjects[0] & subjects[1] and not subjects[0] & subjects[2] and not subjects[1] & subjects[2]
    assert all(rows[i]["split"] == name for s, name in ((train, "train"), (val, "val"), (test, "test"))
               for i in s)
    for cls in LABELS:
        n = sum(r["class"] == cls for r in rows.values())
        if n >= 3:
            assert any(rows[i]["class"] == cls for i in test)
            assert any(rows[i]["class"] == cls for i in train)


def test_val_set_drawn_from_training_subjects_stratified():
    """VAL_SET: whole subjects, from those left after TEST_SET, ≈ val_fraction of each class's
    training sequences; the test draw does not depend on val_fraction."""
    plan = plan_cohort(600, ratio=(1, 1, 1), seed=0, val_fraction=0.2)
    no_val = plan_cohort(600, ratio=(1, 1, 1), seed=0, val_fraction=0.0)
    assert [p.split == "test" for p in plan] == [p.split == "test" for p in no_val]
    assert not any(p.split == "val" for p in no_val)
    split_of: dict[str, set] = {}
    for p in plan:
        split_of.setdefault(p.subject, set()).add(p.split)
    assert all(len(v) == 1 for v in split_of.values())  # a subject's sequences stay together
    for cls in LABELS:
        n_val = sum(p.cls == cls and p.split == "val" for p in plan)
        n_trainval = sum(p.cls == cls and p.split != "test" for p in plan)
        # whole subjects of ≤ 3 sequences are drawn until ≥ 20 %: at most 2 sequences over
        assert 0.2 * n_trainval <= n_val < 0.2 * n_trainval + 3


def test_refuses_non_empty_folder_and_force_replaces(tmp_path, capsys):
    out = tmp_path / "cohort"
    args = ["synth", "-o", str(out), "--frames", "4", "--class-ratio", "1:1:1", "-j", "1"]
    assert main([*args, "--sequences", "12"]) == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert main([*args, "--sequences", "6"]) == 2  # refused: nothing written, nothing lost
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(out) in err and "--force" in err
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert main([*args, "--sequences", "6", "--force"]) == 0
    rows = _read_gt(out)
    ids = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert ids == sorted(r["id"] for r in rows) and len(rows) == 6  # no stale ids
    for i in ids:  # one class folder per id
        assert len([p for p in (out / i).iterdir()]) == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folders left
    fresh = tmp_path / "fresh"
    assert main(["synth", "-o", str(fresh), "--frames", "4", "--class-ratio", "1:1:1", "-j", "1",
                 "--sequences", "6"]) == 0
    for p in fresh.rglob("*"):  # --force gives exactly what a fresh folder gets
        if p.is_file():
            assert (out / p.relative_to(fresh)).read_bytes() == p.read_bytes()


def test_interrupted_synthesis_leaves_nothing(tmp_path, monkeypatch):
    import gaitpose.synth.cohort as cohort_mod

    def boom(job):
        raise KeyboardInterrupt

    monkeypatch.setattr(cohort_mod, "_work", boom)
    with pytest.raises(KeyboardInterrupt):
        make_cohort(tmp_path / "c", sequences=3, frames=4, progress=False)
    assert list(tmp_path.iterdir()) == []


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


@pytest.mark.parametrize("view", ["front", "back"])
def test_signs_follow_asymmetry_conventions(view):
    """Tilts and shifts measured on image keypoints (ASYMMETRY.md formulas, facing sign s)
    have the ground truth's signs: left higher > 0, shift towards the subject's left > 0."""
    plan = plan_cohort(40, ratio=(0, 0, 1), seed=11)
    agree = {"shoulder_tilt": [], "trunk_shift": []}
    for ps in plan[:14]:
        g = generate_sequence(ps, 30, 30.0, view)
        kp = g["keypoints"]
        sl, sr, hl, hr = kp[:, 11], kp[:, 12], kp[:, 23], kp[:, 24]
        s = np.sign(np.nanmedian(hl[:, 0] - hr[:, 0]))
        assert s == (1 if view == "front" else -1)
        tilt = np.degrees(np.arctan2(sr[:, 1] - sl[:, 1], np.abs(sl[:, 0] - sr[:, 0])))
        ms, mh = (sl + sr) / 2, (hl + hr) / 2
        shift = s * (ms[:, 0] - mh[:, 0]) / np.hypot(*(ms - mh)[:, :2].T) * 100
        for name, measured in (("shoulder_tilt", tilt), ("trunk_shift", shift)):
            truth = g["truth"][name]
            if abs(truth) > 3:
                agree[name].append(np.sign(np.nanmedian(measured)) == np.sign(truth))
    for name, a in agree.items():
        assert len(a) >= 3 and np.mean(a) >= 0.75, name


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


def test_npz_option_and_other_views(tmp_path):
    from gaitpose.data import GaitDataset
    from gaitpose.io import load_sequence

    assert main(["synth", "-o", str(tmp_path), "--sequences", "6", "--frames", "20", "--view", "side",
                 "--fps", "25", "--class-ratio", "1:1:1", "--npz", "-j", "1"]) == 0
    rows = _read_gt(tmp_path)
    assert [sum(r["class"] == c for r in rows) for c in LABELS] == [2, 2, 2]
    seq = load_sequence(tmp_path / "npz" / f"{rows[0]['id']}.npz")
    assert seq.fps == 25 and seq.world.shape == (20, 33, 3) and seq.layout == "mediapipe33"
    np.testing.assert_array_equal(
        seq.silhouettes, load_pickle(tmp_path / rows[0]["id"] / rows[0]["class"] / "side" / "sils.pkl")
    )
    ds_tree = GaitDataset(tmp_path, split="all", sample_type="all_ordered")
    ds_npz = GaitDataset(tmp_path / "npz", split="all", sample_type="all_ordered")
    assert ds_tree.ids == ds_npz.ids and ds_tree.subjects == ds_npz.subjects
    assert ds_tree.labels == ds_npz.labels
    a, b = ds_tree[0], ds_npz[0]
    assert torch_equal(a["sils"], b["sils"]) and torch_equal(a["pose"], b["pose"])


def torch_equal(a, b) -> bool:
    return a.shape == b.shape and bool((a == b).all())


def test_bad_usage_exit_2(tmp_path):
    assert main(["synth", "-o", str(tmp_path), "--sequences", "0"]) == 2
    with pytest.raises(SystemExit) as e:
        main(["synth", "-o", str(tmp_path), "--class-ratio", "1:2"])
    assert e.value.code == 2


def test_every_ground_truth_column_documented(cohort):
    meta = json.loads((cohort / "cohort.json").read_text())
    assert set(_read_gt(cohort)[0]) == set(meta["ground_truth_columns"])


def test_preview_png(cohort):
    from gaitpose.synth.preview import write_preview

    p = write_preview(cohort, cohort.parent / "preview.png", per_class=1)
    assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
