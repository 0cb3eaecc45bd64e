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


def test_folds_hold_out_whole_subjects_once_and_keep_the_test_set(cv, tmp_path):
    # 90 subjects with 1-3 walks each, one class per subject; a test split apart
    rows = [(f"{s:03d}{k}", f"S{s}", LABELS[s % 3]) for s in range(90) for k in range(1 + s // 3 % 3)]
    ids = [r[0] for r in rows]
    pd.DataFrame(rows, columns=["id", "subject", "class"]).to_csv(tmp_path / "ground_truth.csv", index=False)
    test = [i for i in ids if i.startswith("08")]
    rest = [i for i in ids if i not in test]
    (tmp_path / "partition.json").write_text(json.dumps(
        {"TRAIN_SET": rest[:100], "VAL_SET": rest[100:], "TEST_SET": test}))
    cv.folds(str(tmp_path), str(tmp_path / "cv"), 4)
    parts = [json.loads((tmp_path / "cv" / f"fold-{k}" / "partition.json").read_text()) for k in range(4)]
    subject = dict(zip(ids, (r[1] for r in rows)))
    held = [i for p in parts for i in p["VAL_SET"]]
    assert sorted(held) == sorted(rest)  # every training/validation walk held out exactly once
    for p in parts:
        assert p["TEST_SET"] == test
        assert sorted(p["TRAIN_SET"] + p["VAL_SET"]) == sorted(rest)
        assert not {subject[i] for i in p["TRAIN_SET"]} & {subject[i] for i in p["VAL_SET"]}
        classes = [LABELS[int(subject[i][1:]) % 3] for i in p["VAL_SET"]]
        assert max(classes.count(c) for c in LABELS) - min(classes.count(c) for c in LABELS) <= 3
