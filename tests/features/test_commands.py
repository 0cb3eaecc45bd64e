"""`gaitpose features` and `gaitpose report` end to end on constructed inputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from gaitpose.cli import main
from gaitpose.features.constructed import walker
from gaitpose.io import Sequence, dump_pickle, save_sequence


def _seq(kp, **meta) -> Sequence:
    return Sequence(keypoints=kp, fps=30.0, image_size=(720, 1280), meta=meta)


def test_features_on_sequence_files(tmp_path) -> None:
    src = tmp_path / "seqs"
    save_sequence(
        src / "a.npz",
        _seq(walker(view="front", shoulder_tilt=3, noise=0.5, seed=1), **{"class": "positive"}),
    )
    save_sequence(src / "b.npz", _seq(walker(view="back", noise=0.5, seed=2)))
    (src / "broken.npz").write_bytes(b"not a zip")
    out = tmp_path / "out" / "features.csv"
    code = main(["features", str(src), "-o", str(out), "--per-cycle", str(tmp_path / "cyc.parquet"),
                 "--per-frame", str(tmp_path / "frames")])  # fmt: skip
    assert code == 1  # the broken file failed, the others were exported
    df = pd.read_csv(out)
    assert sorted(df["id"]) == ["a", "b"]
    assert df.set_index("id").loc["a", "class"] == "positive"
    assert df.set_index("id").loc["a", "shoulder_tilt_median"] == pytest.approx(3, abs=0.3)
    assert df["usable"].all()
    d = pd.read_csv(tmp_path / "out" / "features.dictionary.csv")
    assert list(d["column"]) == list(df.columns)
    cyc = pd.read_parquet(tmp_path / "cyc.parquet")
    assert {"id", "side", "stride_time", "pelvic_obliquity_rom"} <= set(cyc.columns) and len(
        cyc
    ) > 6
    assert (tmp_path / "frames" / "a.csv").is_file()
    assert not list((tmp_path / "out").glob(".*tmp*"))  # no temporary files left


def _tree(root, n=4, fps_json=True):
    for i in range(n):
        kp = walker(view="front", shoulder_tilt=float(i), noise=0.5, seed=i)
        kp[..., :2] = np.where(kp[..., 2:3] > 0, kp[..., :2], 0)
        dump_pickle(
            root / f"{i:03d}" / ("positive" if i % 2 else "negative") / "000" / "pose.pkl", kp
        )
    if fps_json:
        (root / "cohort.json").write_text(json.dumps({"fps": 30.0}))


def test_features_on_an_opengait_tree(tmp_path, capsys) -> None:
    root = tmp_path / "tree"
    _tree(root, fps_json=False)
    out = tmp_path / "f.parquet"
    assert main(["features", str(root), "-o", str(out)]) == 1
    assert "--fps" in capsys.readouterr().err  # fps unknown: refused with a clear message
    assert not out.exists()
    assert main(["features", str(root), "-o", str(out), "--fps", "30"]) == 0
    (root / "cohort.json").write_text(json.dumps({"fps": 30.0}))
    assert main(["features", str(root), "-o", str(out)]) == 0
    df = pd.read_parquet(out)
    assert list(df["id"]) == ["000", "001", "002", "003"]
    assert list(df["class"]) == ["negative", "positive"] * 2
    assert np.allclose(df["shoulder_tilt_median"], [0, 1, 2, 3], atol=0.3)


def test_bad_usage_exits_2_and_a_missing_input_1(tmp_path) -> None:
    assert main(["features", str(tmp_path), "-o", str(tmp_path / "x.txt")]) == 2
    assert main(["features", str(tmp_path), "-o", str(tmp_path / "x.csv"), "--fps", "0"]) == 2
    assert main(["features", str(tmp_path / "nothing"), "-o", str(tmp_path / "x.csv")]) == 1


def test_report_ranks_the_injected_asymmetry(tmp_path) -> None:
    rng = np.random.default_rng(0)
    src = tmp_path / "seqs"
    labels = []
    for i in range(24):
        cls = ("negative", "neutral", "positive")[i % 3]
        sev = {"negative": 0.0, "neutral": 2.0, "positive": 5.0}[cls] + rng.uniform(0, 1.5)
        sign = rng.choice([-1.0, 1.0])
        kp = walker(view="front", shoulder_tilt=sign * sev, pelvic_obliquity=rng.normal(0, 1),
                    noise=0.5, seed=i, T=150)  # fmt: skip
        save_sequence(src / f"s{i:02d}.npz", _seq(kp))
        labels.append({"id": f"s{i:02d}", "class": cls})
    save_sequence(src / "empty.npz", _seq(np.full((60, 33, 3), np.nan, np.float32)))
    labels.append({"id": "empty", "class": "positive"})
    pd.DataFrame(labels).to_csv(tmp_path / "labels.csv", index=False)
    feats = tmp_path / "features.csv"
    assert main(["features", str(src), "-o", str(feats), "--min-strides", "1"]) == 0
    out = tmp_path / "report"
    assert main(["report", str(feats), "--labels", str(tmp_path / "labels.csv"), "-o", str(out),
                 "--bootstrap", "200", "--top", "4"]) == 0  # fmt: skip
    stats = pd.read_csv(out / "stats.csv")
    top3 = set(stats["feature"].head(3))
    assert {"shoulder_tilt_abs_median", "shoulder_height_diff_abs_median"} <= top3
    best = stats.iloc[0]
    assert best["cliffs_delta_positive_vs_negative"] > 0.8
    assert (
        best["cliffs_delta_ci_low"]
        <= best["cliffs_delta_positive_vs_negative"]
        <= best["cliffs_delta_ci_high"]
    )
    assert best["mw_p_holm"] < 0.05
    for f in ("stats.md", "effect_sizes.png", "top_features.png", "exclusions.csv"):
        assert (out / f).stat().st_size > 0, f
    assert len(list((out / "plots").glob("*.png"))) == 4
    excl = pd.read_csv(out / "exclusions.csv")
    assert excl["sequences"].sum() == 1 and "not usable" in excl["reason"].iloc[0]
    assert "Excluded" in (out / "stats.md").read_text()


def test_two_workers_give_the_same_table(tmp_path) -> None:
    src = tmp_path / "seqs"
    for i, view in enumerate(("front", "back", "side")):
        save_sequence(src / f"s{i}.npz", _seq(walker(view=view, noise=0.5, seed=i, T=120)))
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    assert main(["features", str(src), "-o", str(one)]) == 0
    assert main(["features", str(src), "-o", str(two), "-j", "2"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(one), pd.read_csv(two))


def test_report_without_usable_rows_exits_1(tmp_path, capsys) -> None:
    src = tmp_path / "seqs"
    for i in range(2):  # 2-s sequences: fewer than 3 strides per side
        save_sequence(src / f"s{i}.npz", _seq(walker(view="front", T=60), **{"class": "positive"}))
    feats = tmp_path / "f.csv"
    assert main(["features", str(src), "-o", str(feats)]) == 0
    assert "lower --min-strides" in capsys.readouterr().err
    assert main(["report", str(feats), "-o", str(tmp_path / "rep")]) == 1
    excl = pd.read_csv(tmp_path / "rep" / "exclusions.csv")
    assert excl["sequences"].sum() == 2


def test_a_missing_input_is_an_input_failure(tmp_path, capsys) -> None:
    missing = tmp_path / "nope.npz"
    assert main(["features", str(missing), "-o", str(tmp_path / "f.csv")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"gaitpose features: {missing}: no such file or directory"]
    assert not (tmp_path / "f.csv").exists()
