"""Config loading: defaults, aliases, overrides, validation messages naming the key."""

from __future__ import annotations

import pytest
import yaml

from gaitpose.engine.config import ConfigError, load_config, parse_override
from gaitpose.engine.experiment import cell_config


def test_defaults_and_aliases(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"trainer": {"total_iter": 50}, "data_cfg": {"dataset_root": "x"}}))
    cfg = load_config(path, ["trainer.save_iter=5", "optimizer_cfg.lr=0.01", "data.layout=coco17"])
    assert cfg["trainer_cfg"]["total_iter"] == 50 and cfg["trainer_cfg"]["save_iter"] == 5
    assert cfg["optimizer_cfg"]["lr"] == 0.01 and cfg["optimizer_cfg"]["momentum"] == 0.9
    assert cfg["data_cfg"]["layout"] == "coco17"
    assert cfg["trainer_cfg"]["sampler"]["batch_size"] == [8, 8]
    assert cfg["_source"] == str(path)


def test_override_values_are_yaml():
    assert parse_override("trainer.sampler.batch_size=[4, 2]") == ("trainer_cfg.sampler.batch_size", [4, 2])
    assert parse_override("trainer.device=cpu") == ("trainer_cfg.device", "cpu")
    assert parse_override("trainer.clip_grad_norm=null") == ("trainer_cfg.clip_grad_norm", None)
    with pytest.raises(ConfigError, match="key=value"):
        parse_override("trainer.total_iter")


@pytest.mark.parametrize(
    "cfg, overrides, message",
    [
        ({"trainer_cfg": {"totl_iter": 3}}, (), r"'trainer_cfg\.totl_iter'.*did you mean 'total_iter'"),
        ({"trainer_cfg": {"sampler": {"frames_num_fix": 3}}}, (), r"'trainer_cfg\.sampler\.frames_num_fix'"),
        ({}, ["trainer.total_iter=abc"], r"'trainer_cfg\.total_iter' must be int"),
        ({}, ["trainer.sampler.batch_size=[8]"], r"batch_size' must be \[P, K\]"),
        ({}, ["trainer.enable_float16=3"], r"must be true or false"),
        ({"optimiser_cfg": {}}, (), r"unknown config key 'optimiser_cfg'.*optimizer_cfg"),
        ({}, ["trainr.total_iter=3"], r"unknown section 'trainr'"),
        ({"data_cfg": {"label_order": ["a", "b", "c"]}}, (), r"label_order"),
    ],
)
def test_bad_keys_are_named(cfg, overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(cfg, overrides)


def test_bad_yaml_file_named(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("trainer_cfg: [unclosed\n")
    with pytest.raises(ConfigError, match="bad.yaml"):
        load_config(path)


def test_experiment_cell_replaces_section_and_sets_seed():
    cfg = load_config(
        {
            "model_cfg": {"model": "FusionScoNet", "fusion": "concat", "channels": [8, 16, 32, 64]},
            "experiment": {"seeds": [0, 1], "settings": [{"name": "sil", "set": {"model": {"model": "ScoNet"}}}]},
        }
    )
    cell = cell_config(cfg, cfg["experiment"]["settings"][0], seed=1)
    assert cell["model_cfg"] == {"model": "ScoNet", "api": "gaitpose.models"}
    assert cell["trainer_cfg"]["seed"] == 1 and cell["experiment"] is None
    cell2 = cell_config(cfg, {"name": "g", "set": {"model.fusion": "gated"}}, seed=0)
    assert cell2["model_cfg"]["fusion"] == "gated" and cell2["model_cfg"]["channels"] == [8, 16, 32, 64]


def test_a_stale_synthetic_cohort_is_refused(tmp_path):
    """data_cfg.synth over a cohort made with other arguments: refused, not silently reused."""
    from gaitpose.engine.builders import ensure_dataset
    from gaitpose.synth import make_cohort

    root = tmp_path / "cohort"
    make_cohort(root, sequences=3, frames=4, seed=1, progress=False)
    spec = {"sequences": 3, "frames": 4, "seed": 0, "view": "front", "progress": False}
    cfg = {"data_cfg": {"dataset_root": str(root), "synth": spec}}
    with pytest.raises(ConfigError, match="delete the folder"):
        ensure_dataset(cfg)
    spec["seed"] = 1
    assert ensure_dataset(cfg) == root
    spec["val_fraction"] = 0.35  # another split of the same sequences: stale too
    with pytest.raises(ConfigError, match="val_fraction"):
        ensure_dataset(cfg)
    spec["val_fraction"] = 0.2
    assert ensure_dataset(cfg) == root
    fresh = tmp_path / "fresh"
    cfg["data_cfg"]["dataset_root"] = str(fresh)
    assert ensure_dataset(cfg) == fresh and (fresh / "cohort.json").is_file()
