"""Expected failures of train / evaluate end in one line, not a traceback; progress in a log.

- ``trainer.device=cuda`` on a machine without a GPU: exit 2 with what to set instead;
- resuming a run folder trained with other model settings or other identities: exit 1, naming
  the settings (or counting the identities);
- evaluating a checkpoint with a config whose model settings differ: the checkpoint's own
  model settings are used (the differences named on stderr and in the metrics JSON), and the
  metrics equal those of the matching config;
- the training progress written to a log (not a terminal): a line per tenth, no ``\\r``.
"""

from __future__ import annotations

import json

import pytest
import torch
import yaml

from gaitpose.cli import main
from gaitpose.engine.checkpoint import load_checkpoint, model_settings_differences, save_checkpoint


def _config_file(cfg: dict, path) -> str:
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


def _error_lines(err: str) -> list[str]:
    assert "Traceback" not in err
    return [ln for ln in err.splitlines() if ln.startswith("gaitpose ")]


def test_model_settings_differences_names_each_setting():
    state = {"format": "gaitpose-checkpoint",
             "config": {"model_cfg": {"model": "ScoNet", "channels": [8, 16, 32, 64], "fusion": "concat"}}}
    cfg = {"model_cfg": {"model": "ScoNet", "channels": (64, 128, 256, 512), "dropout": 0.1}}
    assert model_settings_differences(state, cfg) == [
        "model_cfg.channels: checkpoint [8,16,32,64], config [64,128,256,512]",
        "model_cfg.dropout: checkpoint (default), config 0.1",
        "model_cfg.fusion: checkpoint concat, config (default)",
    ]
    assert model_settings_differences(state, {"model_cfg": dict(state["config"]["model_cfg"])}) == []
    assert model_settings_differences({"model": {}}, cfg) == []  # OpenGait checkpoint: no config


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_device_cuda_without_a_gpu_is_one_line_exit_2(fake_config, tmp_path, capsys):
    cfg = _config_file(fake_config, tmp_path / "c.yaml")
    run = tmp_path / "run"
    assert main(["train", cfg, "-o", str(run), "--set", "trainer.device=cuda"]) == 2
    (line,) = _error_lines(capsys.readouterr().err)
    assert line.startswith("gaitpose train: error: trainer_cfg.device is 'cuda' but ")
    assert "--set trainer.device=cpu" in line
    assert not run.exists()
    assert main(["train", cfg, "-o", str(run)]) == 0
    ckpt = str(run / "checkpoints" / "latest.pt")
    capsys.readouterr()
    assert main(["evaluate", cfg, "--checkpoint", ckpt, "--set", "trainer.device=cuda:0"]) == 2
    (line,) = _error_lines(capsys.readouterr().err)
    assert "trainer_cfg.device is 'cuda:0'" in line


def test_resume_with_other_settings_or_identities_is_one_line_exit_1(fake_config, tmp_path, capsys):
    cfg = _config_file(fake_config, tmp_path / "c.yaml")
    run = tmp_path / "run"
    assert main(["train", cfg, "-o", str(run), "--set", "trainer.total_iter=2", "--set", "trainer.save_iter=2"]) == 0
    ckpt = run / "checkpoints" / "latest.pt"
    capsys.readouterr()
    assert main(["train", cfg, "-o", str(run), "--set", "model.width=16"]) == 1
    (line,) = _error_lines(capsys.readouterr().err)
    assert line.startswith(f"gaitpose train: {ckpt}: this run was trained with other model settings")
    assert "model_cfg.width: checkpoint (default), config 16" in line and "-o RUN" in line

    state = load_checkpoint(ckpt)  # the same run on a dataset with other people
    trained_on = len(state["subjects"])
    state["subjects"] = [f"other{i}" for i in range(5)] + state["subjects"][:3]
    save_checkpoint(ckpt, {k: v for k, v in state.items() if k not in ("format", "version", "torch_version")})
    assert main(["train", cfg, "-o", str(run)]) == 1
    (line,) = _error_lines(capsys.readouterr().err)
    assert f"this run was trained on other identities (8 subjects; the dataset has {trained_on}, 3 in common)" in line
    assert load_checkpoint(ckpt)["iteration"] == 2  # nothing was overwritten


def test_evaluate_builds_the_checkpoints_model(fake_config, tmp_path, capsys):
    cfg = _config_file(fake_config, tmp_path / "c.yaml")
    run = tmp_path / "run"
    assert main(["train", cfg, "-o", str(run), "--set", "trainer.total_iter=3", "--set", "model.width=4"]) == 0
    ckpt = str(run / "checkpoints" / "latest.pt")
    capsys.readouterr()
    same = tmp_path / "same.json"
    assert main(["evaluate", cfg, "--checkpoint", ckpt, "-o", str(same), "--set", "model.width=4", "-q"]) == 0
    assert capsys.readouterr().err == ""
    other = tmp_path / "other.json"
    assert main(["evaluate", cfg, "--checkpoint", ckpt, "-o", str(other), "-q"]) == 0  # config: width 8
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert "model_cfg.width: checkpoint 4, config (default)" in err
    a, b = json.loads(same.read_text()), json.loads(other.read_text())
    assert b["model_settings_from_checkpoint"] == ["model_cfg.width: checkpoint 4, config (default)"]
    assert a["model_settings_from_checkpoint"] == []
    assert a["confusion_matrix"] == b["confusion_matrix"] and a["macro_f1"] == b["macro_f1"]


def test_training_progress_in_a_log_is_a_few_plain_lines(fake_config, tmp_path, capsys):
    cfg = _config_file(fake_config, tmp_path / "c.yaml")
    argv = ["train", cfg, "--set", "trainer.progress=true", "--set", "trainer.total_iter=20",
            "--set", "trainer.save_iter=20", "--set", "trainer.precise_bn_batches=0"]
    assert main([*argv, "-o", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err  # pytest's capture is not a terminal, like a scheduler log
    assert "\r" not in err
    lines = [ln for ln in err.splitlines() if ln.startswith("train a: ")]
    assert len(lines) == 10  # 10 %, ..., 90 % and the closing line
    assert lines[0].startswith("train a: 2/20 it (10 %)")
    assert lines[-1].startswith("train a: 20/20 it done in ")
    assert main([*argv, "-o", str(tmp_path / "b"), "--quiet"]) == 0
    assert "train b" not in capsys.readouterr().err
