"""Experiment grid: rows per setting × seed × evaluation, tables, plots, skipping finished cells."""

from __future__ import annotations

import pandas as pd
import pytest

from gaitpose.engine.experiment import fusion_comparison, run_experiment


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
    assert len(df) == 2 * (1 + 1 + 3)
    assert set(df["evaluated_with"]) == {"all", "without_sils", "without_pose"}
    assert df.groupby("setting").size().to_dict() == {"fused": 6, "sil": 2, "skel": 2}
    on_disk = pd.read_csv(out / "results.csv")
    assert on_disk["macro_f1"].to_numpy() == pytest.approx(df["macro_f1"].to_numpy())
    md = (out / "results.md").read_text()
    assert "± " in md and "| fused | without_pose | 2 |" in md
    assert "Fusion vs the better single modality" in md
    assert (out / "results_macro_f1.png").read_bytes()[:4] == b"\x89PNG"
    assert len(list((out / "confusion").glob("*.png"))) == 10
    cmp_ = fusion_comparison(df)
    assert cmp_["best_fused"] == "fused" and cmp_["seeds"] == 2

    # re-running skips finished cells: no checkpoint is rewritten
    ckpt = out / "runs" / "sil-s0" / "checkpoints" / "latest.pt"
    before = ckpt.stat().st_mtime_ns
    df2 = run_experiment(fake_config, out, progress=False)
    assert ckpt.stat().st_mtime_ns == before
    assert df2["macro_f1"].tolist() == df["macro_f1"].tolist()


def test_changed_config_is_not_mixed_with_old_cells(fake_config, tmp_path):
    from gaitpose.engine.config import ConfigError

    fake_config["trainer_cfg"].update(total_iter=1, save_iter=1)
    fake_config["experiment"] = {"seeds": [0], "settings": [{"name": "a", "modality": "fused"}]}
    run_experiment(fake_config, tmp_path / "exp", progress=False)
    fake_config["optimizer_cfg"]["lr"] = 0.5
    with pytest.raises(ConfigError, match="different config"):
        run_experiment(fake_config, tmp_path / "exp", progress=False)
