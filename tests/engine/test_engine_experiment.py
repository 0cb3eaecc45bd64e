"""Experiment grid: rows per setting × seed × evaluation, tables, plots, skipping finished cells."""

from __future__ import annotations

import pandas as pd
import pytest

from gaitpose.engine.experiment import run_experiment
from gaitpose.engine.results import better_single_line, choose_on_validation


def test_grid_runs_summarises_and_resumes(fake_config, tmp_path):
    fake_config["trainer_cfg"].update(total_iter=2, save_iter=2)
    fake_config["experiment"] = {
        "seeds": [0, 1],
        "settings": [
            {"name": "sil", "modality": "silhouette", "fusion": "none",
             "set": {"model_cfg.streams": ["sils"]}},
            {"name": "skel", "modality": "skeleton", "fusion": "none",
             "set": {"model_cfg.streams": ["pose"]}},
            {"name": "fused", "modality": "fused", "fusion": "concat", "ablate": ["sils", "pose"]},
        ],
    }
    out = tmp_path / "exp"
    df = run_experiment(fake_config, out, progress=False, jobs=2)  # 2 cells at a time
    assert len(df) == 2 * 2 * (1 + 1 + 3 + 1)  # seeds x splits; + the late-average diagnostic
    assert set(df["evaluated_with"]) == {"all", "without_sils", "without_pose"}
    assert set(df["split"]) == {"val", "test"}
    assert df.groupby("setting").size().to_dict() == {
        "fused": 12, "sil": 4, "skel": 4, "late-average(sil, skel)": 4}
    # validation and test are different subjects
    val = pd.read_csv(out / "runs" / "sil-s0" / "metrics_val_all.predictions.csv")
    test = pd.read_csv(out / "runs" / "sil-s0" / "metrics_test_all.predictions.csv")
    assert not set(val["subject"]) & set(test["subject"])
    on_disk = pd.read_csv(out / "results.csv")
    assert on_disk["macro_f1"].to_numpy() == pytest.approx(df["macro_f1"].to_numpy())
    md = (out / "results.md").read_text()
    assert "## Validation (all choices are made here)" in md and "## Test (read once" in md
    assert md.index("## Validation") < md.index("## Test")
    assert "| fused | without_pose | 2 |" in md and "majority baseline" in md and "uniform baseline" in md
    assert "Paired differences on test against" in md
    assert "## `fused` against each single stream (test, paired)" in md
    assert "| fused − sil | 2 |" in md and "| fused − skel | 2 |" in md
    assert better_single_line(df, "fused") in md
    chosen = choose_on_validation(df)
    assert chosen["best_fused"] == "fused" and chosen["reference"] in ("sil", "skel")
    assert (out / "results_macro_f1.png").read_bytes()[:4] == b"\x89PNG"
    assert len(list((out / "confusion").glob("*.png"))) == 2 * 10

    # re-running skips finished cells: no checkpoint is rewritten
    ckpt = out / "runs" / "sil-s0" / "checkpoints" / "latest.pt"
    before = ckpt.stat().st_mtime_ns
    df2 = run_experiment(fake_config, out, progress=False)
    assert ckpt.stat().st_mtime_ns == before
    assert df2["macro_f1"].tolist() == df["macro_f1"].tolist()


def test_choices_read_validation_only(fake_config, tmp_path):
    """The reference and the best fused setting follow validation, whatever test says."""
    rows = []
    for name, mod, val, test in (("a", "silhouette", 0.6, 0.2), ("b", "skeleton", 0.4, 0.9),
                                 ("f", "fused", 0.5, 0.1), ("g", "fused", 0.3, 0.95)):
        for split, f1 in (("val", val), ("test", test)):
            rows.append({"setting": name, "modality": mod, "split": split, "evaluated_with": "all",
                         "seed": 0, "macro_f1": f1})
    assert choose_on_validation(pd.DataFrame(rows)) == {"reference": "a", "best_fused": "f"}


def test_fused_against_the_better_single_stream_of_each_seed():
    rows = []
    for name, mod, f1s in (("sil", "silhouette", (0.55, 0.52)), ("skel", "skeleton", (0.4, 0.6)),
                           ("fused", "fused", (0.6, 0.5))):
        for seed, f1 in enumerate(f1s):
            rows.append({"setting": name, "modality": mod, "split": "test", "evaluated_with": "all",
                         "seed": seed, "macro_f1": f1})
    line = better_single_line(pd.DataFrame(rows), "fused")
    assert "mean -0.025, better on 1 of 2 seeds (+0.050, -0.100)" in line


def test_changed_config_is_not_mixed_with_old_cells(fake_config, tmp_path):
    from gaitpose.engine.config import ConfigError

    fake_config["trainer_cfg"].update(total_iter=1, save_iter=1)
    fake_config["experiment"] = {"seeds": [0], "settings": [{"name": "a", "modality": "fused"}]}
    run_experiment(fake_config, tmp_path / "exp", progress=False)
    fake_config["optimizer_cfg"]["lr"] = 0.5
    with pytest.raises(ConfigError, match="different config"):
        run_experiment(fake_config, tmp_path / "exp", progress=False)


def _late_average_by_hand(out, seed):
    import numpy as np

    a = pd.read_csv(out / "runs" / f"sil-s{seed}" / "metrics_test_all.predictions.csv", dtype={"id": str})
    b = pd.read_csv(out / "runs" / f"skel-s{seed}" / "metrics_test_all.predictions.csv", dtype={"id": str})
    cols = ["p_negative", "p_neutral", "p_positive"]
    pred = ((a[cols].to_numpy() + b[cols].to_numpy()) / 2).argmax(1)
    true = a["true"].map({"negative": 0, "neutral": 1, "positive": 2}).to_numpy()
    return float(np.mean(pred == true))


def _two_modality_grid(cfg, seeds=(0, 1), extra=()):
    cfg["trainer_cfg"].update(total_iter=2, save_iter=2)
    cfg["experiment"] = {
        "seeds": list(seeds),
        "settings": [
            {"name": "sil", "modality": "silhouette", "set": {"model_cfg.streams": ["sils"]}},
            {"name": "skel", "modality": "skeleton", "set": {"model_cfg.streams": ["pose"]}},
            *extra,
        ],
    }
    return cfg


def test_late_average_row_averages_the_single_models_probabilities(fake_config, tmp_path):
    out = tmp_path / "exp"
    df = run_experiment(_two_modality_grid(fake_config), out, progress=False)
    late = df[(df["modality"] == "ensemble") & (df["split"] == "test")].set_index("seed")
    assert sorted(late.index) == [0, 1]
    for seed in (0, 1):
        assert late.loc[seed, "accuracy"] == pytest.approx(_late_average_by_hand(out, seed))
    # the diagnostic is not a fused model
    assert choose_on_validation(df)["best_fused"] is None


def test_report_only_trains_nothing_and_lists_missing_cells(fake_config, tmp_path):
    out = tmp_path / "exp"
    cfg = _two_modality_grid(fake_config)
    run_experiment(cfg, out, progress=False)
    ckpt = out / "runs" / "sil-s0" / "checkpoints" / "latest.pt"
    before = ckpt.stat().st_mtime_ns
    for f in (out / "runs" / "skel-s1").glob("metrics_test_all*"):
        f.unlink()  # as if that cell had not finished
    df = run_experiment(cfg, out, progress=False, report_only=True)
    assert ckpt.stat().st_mtime_ns == before
    assert not (out / "runs" / "skel-s1" / "metrics_test_all.json").exists()  # not evaluated either
    assert len(df[df["split"] == "test"]) == 3 + 1  # sil s0, s1, skel s0, late-average s0 only
    md = (out / "results.md").read_text()
    assert "Not finished (not in the tables): skel-s1 (test, all)" in md


def test_report_only_needs_an_existing_folder(fake_config, tmp_path):
    from gaitpose.engine.config import ConfigError

    with pytest.raises(ConfigError, match="no such experiment folder"):
        run_experiment(_two_modality_grid(fake_config), tmp_path / "nope", report_only=True)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_failing_cell_does_not_stop_the_grid(fake_config, tmp_path, capsys, jobs):
    from gaitpose.engine.experiment import CellsFailed

    bad = {"name": "bad", "modality": "fused", "set": {"model_cfg.crash_after": 0}}
    out = tmp_path / "exp"
    with pytest.raises(CellsFailed, match="bad-s0: RuntimeError: simulated crash") as info:
        run_experiment(_two_modality_grid(fake_config, seeds=[0], extra=[bad]), out,
                       progress=False, jobs=jobs)
    assert len(info.value.failed) == 1
    assert "gaitpose experiment: bad-s0: RuntimeError: simulated crash" in capsys.readouterr().err
    df = pd.read_csv(out / "results.csv")
    assert set(df["setting"]) == {"sil", "skel", "late-average(sil, skel)"}
    md = (out / "results.md").read_text()
    assert "**Failed cells:**" in md and "bad-s0 (test, all)" in md


def test_only_runs_the_named_settings(fake_config, tmp_path):
    from gaitpose.engine.config import ConfigError

    cfg = _two_modality_grid(fake_config, seeds=[0])
    df = run_experiment(cfg, tmp_path / "exp", progress=False, only=["skel"])
    assert set(df["setting"]) == {"skel"}
    assert not (tmp_path / "exp" / "runs" / "sil-s0").exists()
    with pytest.raises(ConfigError, match="no setting named 'fused'.*settings: sil, skel"):
        run_experiment(cfg, tmp_path / "exp", progress=False, only=["fused"])


def test_cells_run_before_a_new_config_key_still_count_as_the_same_config():
    from gaitpose.engine.experiment import _same_config

    defaults = {"trainer_cfg": {"total_iter": 1000, "cudnn_benchmark": True}}
    old = {"trainer_cfg": {"total_iter": 5}}
    assert _same_config(old, {"trainer_cfg": {"total_iter": 5, "cudnn_benchmark": True}}, defaults)
    assert not _same_config(old, {"trainer_cfg": {"total_iter": 5, "cudnn_benchmark": False}}, defaults)
    assert not _same_config(old, {"trainer_cfg": {"total_iter": 6, "cudnn_benchmark": True}}, defaults)
    assert not _same_config(old, {"trainer_cfg": {"total_iter": 5, "new_key": 1}}, defaults)
    assert not _same_config({"trainer_cfg": {"total_iter": 5, "gone": 1}}, old, defaults)


def test_bar_labels_break_long_setting_names():
    from gaitpose.engine.results import bar_label

    assert bar_label("skeleton-map", "all") == "skeleton-map"
    assert bar_label("fused", "without_sils") == "fused\n(without sils)"
    lines = bar_label("late-average(silhouette, skeleton)", "all").split("\n")
    assert lines == ["late-average", "(silhouette,", "skeleton)"]
