"""The engine with the real data layer, models and synthetic cohort (skipped until they are merged).

Tiny widths and cohorts keep this fast: it checks the wiring and the contracts between the
parts (OpenGait checkpoints, modality removal, exact resume), not accuracy.
"""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("gaitpose.data")
pytest.importorskip("gaitpose.models")
pytest.importorskip("gaitpose.synth")

from gaitpose.engine.checkpoint import load_checkpoint  # noqa: E402
from gaitpose.engine.evaluator import evaluate  # noqa: E402
from gaitpose.engine.trainer import read_train_log, train  # noqa: E402


def _config(root, model_cfg, modalities):
    return {
        "data_cfg": {
            "dataset_root": str(root),
            "synth": {"sequences": 18, "frames": 14, "seed": 0, "view": "front", "ratio": [1, 1, 1],
                      "progress": False},
            "modalities": modalities,
        },
        "model_cfg": model_cfg,
        "optimizer_cfg": {"solver": "Adam", "lr": 1e-3, "weight_decay": 0.0},
        "scheduler_cfg": {"milestones": [100]},
        "trainer_cfg": {"total_iter": 4, "save_iter": 2, "device": "cpu", "progress": False,
                        "sampler": {"batch_size": [3, 2], "frames_num_fixed": 6}},
        "evaluator_cfg": {"bootstrap": 20, "sampler": {"frames_all_limit": 14}},
    }


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    return tmp_path_factory.mktemp("cohort") / "synthetic"


def test_opengait_sconet_checkpoint_evaluates(cohort, tmp_path):
    from gaitpose.models import ScoNet

    cfg = _config(cohort, {"model": "ScoNet", "channels": [4, 8, 8, 8]}, ["sils"])
    ckpt = train(cfg, tmp_path / "run")
    ours = evaluate(cfg, ckpt, progress=False)
    net = ScoNet(channels=(4, 8, 8, 8))
    net.load_state_dict(load_checkpoint(ckpt)["model"])
    og = tmp_path / "ScoNet-00004.pt"  # OpenGait's checkpoint layout
    torch.save({"model": net.opengait_state_dict(), "iteration": 4}, og)
    theirs = evaluate(cfg, og, out=tmp_path / "og.json", progress=False)
    assert theirs["checkpoint_format"] == "opengait"
    assert theirs["confusion_matrix"] == ours["confusion_matrix"]
    assert (tmp_path / "og.confusion.png").is_file()
    # --split val: the cohort's VAL_SET, subject-disjoint from the test set
    from gaitpose.cli import main
    from gaitpose.io import read_partition

    part = read_partition(cohort / "partition.json")
    val = evaluate(cfg, ckpt, split="val", out=tmp_path / "val.json", progress=False)
    assert val["split"] == "val" and val["n"] == len(part["VAL_SET"]) > 0
    assert ours["split"] == "test" and ours["n"] == len(part["TEST_SET"])
    ids = [line.split(",")[0] for line in (tmp_path / "val.predictions.csv").read_text().splitlines()[1:]]
    assert sorted(ids) == sorted(part["VAL_SET"])
    cfg_file = tmp_path / "cfg.yaml"
    import yaml

    cfg_file.write_text(yaml.safe_dump(cfg))
    assert main(["evaluate", str(cfg_file), "--checkpoint", str(ckpt), "--split", "val"]) == 0
    from gaitpose.engine.config import ConfigError

    with pytest.raises(ConfigError, match="split must be val or test"):
        evaluate(cfg, ckpt, split="train", progress=False)


def test_fusion_resume_and_modality_removal(cohort, tmp_path):
    model = {"model": "FusionScoNet", "channels": [4, 8, 8, 8], "layout": "mediapipe33",
             "skeleton": {"channels": [8, 8, 8]}, "fusion": "gated", "modality_dropout": 0.5}
    cfg = _config(cohort, model, ["sils", "pose"])
    train(cfg, tmp_path / "straight")
    cfg_short = _config(cohort, model, ["sils", "pose"])
    cfg_short["trainer_cfg"]["total_iter"] = 2
    train(cfg_short, tmp_path / "resumed")
    ckpt = train(cfg, tmp_path / "resumed")  # resumes at 2, runs to 4
    a, b = read_train_log(tmp_path / "straight"), read_train_log(tmp_path / "resumed")
    assert [r["loss"] for r in a] == [r["loss"] for r in b]
    for drop in ("sils", "pose"):
        rep = evaluate(cfg, ckpt, drop_modalities=(drop,), progress=False)
        assert rep["n"] > 0 and rep["dropped_modalities"] == [drop]


def test_calibrate_on_validation_then_evaluate_at_the_operating_point(cohort, tmp_path):
    from gaitpose.engine.calibrator import calibrate

    cfg = _config(cohort, {"model": "ScoNet", "channels": [4, 8, 8, 8]}, ["sils"])
    ckpt = train(cfg, tmp_path / "run")
    out = tmp_path / "calibrated.pt"
    entry = calibrate(cfg, ckpt, target_specificity=0.9, out=out, progress=False)
    assert entry["split"] == "val" and entry["after"]["nll"] <= entry["before"]["nll"] + 1e-9
    stored = torch.load(out, weights_only=True)["calibration"]  # plain values only
    assert stored["threshold"] == pytest.approx(entry["threshold"])
    assert (tmp_path / "calibrated.reliability.png").is_file() and (tmp_path / "calibrated.calibration.json").is_file()
    # the threshold keeps the target specificity on the validation split it was set on
    val = evaluate(cfg, out, split="val", progress=False)["screening"]
    assert val["calibrated"] and val["temperature"] == pytest.approx(entry["temperature"])
    assert val["operating_point"]["specificity"] >= 0.9
    test = evaluate(cfg, out, out=tmp_path / "m.json", progress=False)
    op = test["screening"]["operating_point"]
    assert sum(op["table"].values()) == test["n"]
    table = (tmp_path / "m.per_class.csv").read_text()
    assert "refer: P(positive)" in table and "specificity_ci95" in table


def test_the_trainer_fits_the_measure_readouts_after_training(cohort, tmp_path):
    """skeleton.measure_readout: the final checkpoint holds a read-out fitted on the training
    clips (training itself unchanged: the same network weights as without it), and the
    evaluation predicts with it."""
    skeleton = {"channels": [8, 8, 8], "measures": True, "measure_weight": 0.5}
    model = {"model": "FusionScoNet", "channels": [4, 8, 8, 8], "layout": "mediapipe33",
             "fusion": "late", "sil_weight": 0.5}
    with_readout = _config(cohort, {**model, "skeleton": {**skeleton, "measure_readout": 0.1}}, ["sils", "pose"])
    plain = _config(cohort, {**model, "skeleton": skeleton}, ["sils", "pose"])
    a = load_checkpoint(train(with_readout, tmp_path / "readout"))["model"]
    b = load_checkpoint(train(plain, tmp_path / "plain"))["model"]
    assert bool(a["pose.measure_readout.fitted"])
    assert a["pose.measure_readout.weight"].abs().sum() > 0
    assert all(torch.equal(a[k], b[k]) for k in b)  # the network trained the same
    rep_a = evaluate(with_readout, tmp_path / "readout" / "checkpoints" / "latest.pt", progress=False)
    rep_b = evaluate(plain, tmp_path / "plain" / "checkpoints" / "latest.pt", progress=False)
    assert rep_a["n"] == rep_b["n"] > 0
