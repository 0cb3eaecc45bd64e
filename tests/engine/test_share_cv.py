"""experiments/analysis/share_cv.py: the cross-validation folds over TRAIN_SET + VAL_SET."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

ANALYSIS = Path(__file__).resolve().parents[2] / "experiments" / "analysis"
LABELS = ("negative", "neutral", "positive")


@pytest.fixture(scope="module")
def cv():
    sys.path.insert(0, str(ANALYSIS))  # the script imports its sibling variant_pilots
    try:
        spec = importlib.util.spec_from_file_location("share_cv", ANALYSIS / "share_cv.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(ANALYSIS))
    return mod


def fold_partitions(cv, config: dict, out: Path, k: int) -> list[dict]:
    cv.folds(config, str(out), k)
    return [json.loads((out / f"fold-{n}" / "partition.json").read_text()) for n in range(k)]


def test_folds_hold_out_whole_subjects_once_and_keep_the_test_set(cv, tmp_path):
    # a folder of Sequence files (empty: folds reads ids, classes and subjects only) with
    # 90 subjects of 1-3 walks each, one class per subject; a test split apart
    rows = [(f"{s:03d}{k}", f"S{s}", LABELS[s % 3]) for s in range(90) for k in range(1 + s // 3 % 3)]
    ids = [r[0] for r in rows]
    pd.DataFrame(rows, columns=["id", "subject", "class"]).to_csv(tmp_path / "ground_truth.csv", index=False)
    for i in ids:
        (tmp_path / f"{i}.npz").touch()
    test = [i for i in ids if i.startswith("08")]
    rest = [i for i in ids if i not in test]
    # the partition lists ids in another order than the folder (the folds follow the partition)
    (tmp_path / "partition.json").write_text(json.dumps(
        {"TRAIN_SET": rest[:100][::-1], "VAL_SET": rest[100:][::-1], "TEST_SET": test}))
    config = {"data_cfg": {"dataset_root": str(tmp_path), "modalities": ["pose"]}}
    parts = fold_partitions(cv, config, tmp_path / "cv", 4)
    subject = dict(zip(ids, (r[1] for r in rows)))
    held = [i for p in parts for i in p["VAL_SET"]]
    assert sorted(held) == sorted(rest)  # every training/validation walk held out exactly once
    for p in parts:
        assert p["TEST_SET"] == test
        assert sorted(p["TRAIN_SET"] + p["VAL_SET"]) == sorted(rest)
        assert not {subject[i] for i in p["TRAIN_SET"]} & {subject[i] for i in p["VAL_SET"]}
        classes = [LABELS[int(subject[i][1:]) % 3] for i in p["VAL_SET"]]
        assert max(classes.count(c) for c in LABELS) - min(classes.count(c) for c in LABELS) <= 3


def test_folds_of_an_opengait_tree_without_val_set(cv, tmp_path):
    # Scoliosis1K's layout: root/<id>/<class>/<view>/*.pkl, several views per id, a partition
    # with TRAIN_SET and TEST_SET only (the configs carve validation from TRAIN_SET)
    root = tmp_path / "tree"
    ids = [f"{n:05d}" for n in range(60)]
    for n, i in enumerate(ids):
        for view in ("000_180", "000_270"):
            folder = root / i / LABELS[n % 3] / view
            folder.mkdir(parents=True)
            (folder / f"{view}.pkl").touch()
    (tmp_path / "split.json").write_text(json.dumps({"TRAIN_SET": ids[:45], "TEST_SET": ids[45:]}))
    config = {"data_cfg": {"dataset_root": str(root), "dataset_partition": str(tmp_path / "split.json"),
                           "modalities": ["sils"], "val_carve": {"fraction": 0.15, "seed": 0}}}
    parts = fold_partitions(cv, config, tmp_path / "cv", 5)
    held = [i for p in parts for i in p["VAL_SET"]]
    assert sorted(held) == ids[:45]  # each training id (both its views) held out once
    for p in parts:
        assert p["TEST_SET"] == ids[45:]
        assert sorted(p["TRAIN_SET"] + p["VAL_SET"]) == ids[:45]
        counts = [sum(int(i) % 3 == c for i in p["VAL_SET"]) for c in range(3)]
        assert max(counts) - min(counts) <= 3  # stratified as far as sklearn's greedy split gets
