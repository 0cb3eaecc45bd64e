"""Trainer, checkpoints, resume, NaN stop, evaluation (incl. OpenGait checkpoints), CLI."""

from __future__ import annotations

import copy
import json
import math

import pytest
import torch

from gaitpose.cli import main
from gaitpose.engine.checkpoint import FORMAT, load_checkpoint
from gaitpose.engine.evaluator import evaluate
from gaitpose.engine.trainer import TrainingDiverged, read_train_log, train


def _losses(run_dir):
    return [(int(r["iteration"]), r["loss"], r["ce"], r["triplet"], r["lr"]) for r in read_train_log(run_dir)]


def test_train_writes_weights_only_checkpoint(fake_config, tmp_path):
    ckpt = train(fake_config, tmp_path / "run")
    state = torch.load(ckpt, weights_only=True)  # plain types and tensors only
    assert state["format"] == FORMAT and state["iteration"] == 6
    assert state["labels"] == ["negative", "neutral", "positive"]
    assert set(state) >= {"model", "optimizer", "scheduler", "rng", "config", "subjects"}
    assert isinstance(state["rng"]["torch"], torch.Tensor)
    assert state["config"]["trainer_cfg"]["total_iter"] == 6
    assert (tmp_path / "run" / "config.yaml").is_file()
    assert (tmp_path / "run" / "checkpoints" / "iter_0000006.pt").is_file()
    rows = read_train_log(tmp_path / "run")
    assert [int(r["iteration"]) for r in rows] == list(range(1, 7))
    assert all(math.isfinite(r["loss"]) and 0 <= r["active_frac"] <= 1 for r in rows)
    # the MultiStepLR milestone at 4 halves the lr from the 5th step on
    assert [r["lr"] for r in rows] == pytest.approx([0.05] * 4 + [0.025] * 2)


@pytest.mark.parametrize("workers", [0, 2])
def test_resume_reproduces_uninterrupted_losses(fake_config, tmp_path, workers):
    fake_config["data_cfg"]["num_workers"] = workers
    train(fake_config, tmp_path / "straight")
    crashing = copy.deepcopy(fake_config)
    crashing["model_cfg"]["crash_after"] = 4  # dies in iteration 5, after the checkpoint at 3
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(crashing, tmp_path / "resumed")
    assert load_checkpoint(tmp_path / "resumed" / "checkpoints" / "latest.pt")["iteration"] == 3
    assert len(read_train_log(tmp_path / "resumed")) == 4  # iteration 4 was logged before the crash
    train(fake_config, tmp_path / "resumed")
    straight, resumed = _losses(tmp_path / "straight"), _losses(tmp_path / "resumed")
    assert [r[0] for r in resumed] == list(range(1, 7))
    assert resumed == straight  # exactly the same floats
    a = load_checkpoint(tmp_path / "straight" / "checkpoints" / "latest.pt")["model"]
    b = load_checkpoint(tmp_path / "resumed" / "checkpoints" / "latest.pt")["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_nan_loss_stops_and_keeps_last_good_checkpoint(fake_config, tmp_path):
    fake_config["model_cfg"]["nan_after"] = 4
    with pytest.raises(TrainingDiverged, match=r"not finite\) at iteration 5.*last good checkpoint kept"):
        train(fake_config, tmp_path / "run")
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "latest.pt")
    assert state["iteration"] == 3
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())


def test_unknown_model_kwarg_named(fake_config, tmp_path):
    from gaitpose.engine.config import ConfigError

    fake_config["model_cfg"]["widht"] = 4
    with pytest.raises(ConfigError, match=r"'model_cfg\.widht'.*did you mean 'width'"):
        train(fake_config, tmp_path / "run")


def test_evaluate_gaitpose_and_opengait_checkpoints(fake_config, tmp_path):
    fake_config["trainer_cfg"]["total_iter"] = 3
    ckpt = train(fake_config, tmp_path / "run")
    rep = evaluate(fake_config, ckpt, out=tmp_path / "m.json", progress=False)
    assert rep["n"] == 6 and rep["checkpoint_format"] == "gaitpose"  # 3 classes × 1 subject × 2
    assert sum(map(sum, rep["confusion_matrix"])) == 6
    assert (tmp_path / "m.confusion.png").is_file() and (tmp_path / "m.per_class.md").is_file()
    assert len((tmp_path / "m.predictions.csv").read_text().splitlines()) == 7
    assert json.loads((tmp_path / "m.json").read_text())["macro_f1"] == rep["macro_f1"]

    # the same weights saved the way OpenGait saves them give the same predictions
    from engine_fakes import FakeNet

    net = FakeNet(streams=("sils", "pose"))
    net.load_state_dict(load_checkpoint(ckpt)["model"])
    og = tmp_path / "opengait.pt"
    torch.save({"model": net.opengait_state_dict(), "optimizer": {}, "scheduler": {}, "iteration": 3}, og)
    rep_og = evaluate(fake_config, og, progress=False)
    assert rep_og["checkpoint_format"] == "opengait"
    assert rep_og["confusion_matrix"] == rep["confusion_matrix"]
    # a foreign label order permutes the logits columns
    fake_config["evaluator_cfg"]["checkpoint_label_order"] = ["positive", "neutral", "negative"]
    rep_perm = evaluate(fake_config, og, progress=False)
    cm, cmp_ = torch.tensor(rep["confusion_matrix"]), torch.tensor(rep_perm["confusion_matrix"])
    assert torch.equal(cmp_, cm[:, [2, 1, 0]])


def test_evaluate_with_a_modality_removed(fake_config, tmp_path):
    fake_config["trainer_cfg"]["total_iter"] = 2
    ckpt = train(fake_config, tmp_path / "run")
    rep = evaluate(None, ckpt, drop_modalities=("pose",), progress=False)  # config from checkpoint
    assert rep["dropped_modalities"] == ["pose"] and rep["n"] == 6


def test_cli_train_and_evaluate(fake_config, tmp_path, capsys):
    import yaml

    cfg_path = tmp_path / "fake.yaml"
    cfg_path.write_text(yaml.safe_dump(fake_config))
    run = tmp_path / "cli_run"
    assert main(["train", str(cfg_path), "-o", str(run), "--set", "trainer.total_iter=2",
                 "--set", "trainer.save_iter=2"]) == 0
    ckpt = run / "checkpoints" / "latest.pt"
    assert load_checkpoint(ckpt)["iteration"] == 2
    assert main(["evaluate", str(cfg_path), "--checkpoint", str(ckpt), "-o", str(tmp_path / "m.json")]) == 0
    assert "accuracy" in capsys.readouterr().out
    assert main(["train", str(cfg_path), "--set", "trainer.totl_iter=2"]) == 2
    assert "trainer_cfg.totl_iter" in capsys.readouterr().err
    assert main(["evaluate", str(cfg_path), "--checkpoint", str(tmp_path / "nope.pt")]) == 1
    assert "nope.pt: no such file or directory" in capsys.readouterr().err


def test_precise_bn_after_last_iteration(fake_config, tmp_path):
    """The final checkpoint holds BN statistics re-estimated with the final weights: the same
    weights as a run without precise BN, and the running stats precise_bn computes from them."""
    from gaitpose.engine import distributed as gdist
    from gaitpose.engine.config import base_config, load_config
    from gaitpose.engine.trainer import _precise_bn, setup

    fake_config["trainer_cfg"]["precise_bn_batches"] = 5
    with_pbn = load_checkpoint(train(fake_config, tmp_path / "pbn"))
    off = copy.deepcopy(fake_config)
    off["trainer_cfg"]["precise_bn_batches"] = 0
    without = load_checkpoint(train(off, tmp_path / "plain"))
    buffers = {"bn.running_mean", "bn.running_var", "bn.num_batches_tracked"}
    a, b = with_pbn["model"], without["model"]
    assert all(torch.equal(a[k], b[k]) for k in a if k not in buffers)  # training unchanged
    assert not torch.allclose(a["bn.running_mean"], b["bn.running_mean"])
    # the RNG state saved is the training loop's (precise BN restores it)
    assert torch.equal(with_pbn["rng"]["torch"], without["rng"]["torch"])

    # recompute: precise BN on the plain run's final weights gives the checkpoint's statistics
    cfg = base_config(load_config(fake_config))
    info, device = gdist.setup("cpu")
    run = setup(cfg, tmp_path / "fresh", info, device)  # the setup step alone: nothing trained
    assert run.iteration == 0 and run.total == fake_config["trainer_cfg"]["total_iter"]
    run.model.load_state_dict(b)
    assert _precise_bn(run) == 5
    sd = run.model.state_dict()
    for k in ("bn.running_mean", "bn.running_var"):
        assert torch.allclose(sd[k], a[k], atol=1e-6), k


def test_cuda_loaders_use_a_fork_server_and_give_the_same_batches(tmp_path):
    """With a GPU the DataLoader workers come from a fork server (workers forked after CUDA
    initialisation aborted at shutdown on the H200); the batches must not change."""
    import itertools

    import engine_fakes
    from torch.utils.data import DataLoader

    from gaitpose.engine.trainer import SeededItems, worker_context

    assert worker_context(torch.device("cpu"), 2) is None
    assert worker_context(torch.device("cuda"), 0) is None
    ctx = worker_context(torch.device("cuda"), 2)
    assert ctx.get_start_method() == "forkserver"

    ds = engine_fakes.GaitDataset(tmp_path, split="train", frames=8)
    batches = [[(7, i), (8, (i + 1) % len(ds))] for i in range(4)]

    def first(context):
        loader = DataLoader(SeededItems(ds), batch_sampler=batches, collate_fn=engine_fakes.collate_clips,
                            num_workers=2, multiprocessing_context=context)
        return [b["sils"] for b in itertools.islice(loader, 4)]

    for a, b in zip(first(None), first(ctx)):
        assert torch.equal(a, b)


def test_probabilities_use_the_losss_logit_scale(fake_config, tmp_path):
    """Reported probabilities are softmax(scale * logits), as the loss trained them (ScoNet-MT's
    cosine logits unscaled gave near-uniform probabilities)."""
    import numpy as np
    import pandas as pd

    fake_config["trainer_cfg"]["total_iter"] = 2
    ckpt = train(fake_config, tmp_path / "run")
    cols = ["p_negative", "p_neutral", "p_positive"]
    probs = {}
    for s in (1.0, 16.0):
        cfg = copy.deepcopy(fake_config)
        cfg["loss_cfg"]["scale"] = s
        rep = evaluate(cfg, ckpt, out=tmp_path / f"s{s:g}.json", progress=False)
        assert rep["logit_scale"] == s
        probs[s] = pd.read_csv(tmp_path / f"s{s:g}.predictions.csv")[cols].to_numpy()
    z = np.log(probs[1.0])  # logits up to a per-row constant
    expect = np.exp(16 * (z - z.max(1, keepdims=True)))
    expect /= expect.sum(1, keepdims=True)
    assert probs[16.0] == pytest.approx(expect, abs=1e-3)
    assert probs[16.0].max(1).mean() > probs[1.0].max(1).mean()


def test_one_auc_per_checkpoint_through_both_paths(fake_config, tmp_path):
    """evaluate() and classification_report() on the same checkpoint's logits, told the same
    logit scale, give the same probabilities and ROC-AUC (once 0.939 vs 0.922 on the demo)."""
    import numpy as np
    import pandas as pd

    from gaitpose.engine import builders
    from gaitpose.engine.config import base_config, load_config
    from gaitpose.engine.evaluator import logit_scale, predict
    from gaitpose.engine.metrics import classification_report

    fake_config["trainer_cfg"]["total_iter"] = 2
    fake_config["loss_cfg"]["scale"] = 16.0
    ckpt = train(fake_config, tmp_path / "run")
    rep = evaluate(fake_config, ckpt, out=tmp_path / "m.json", progress=False)
    cfg = base_config(load_config(fake_config))
    mods = builders.model_modalities(cfg)
    ds = builders.build_dataset(cfg, mods, "test")
    model = builders.build_model(cfg)
    model.load_state_dict(load_checkpoint(ckpt)["model"])
    pred = predict(model, ds, builders.data_api(cfg).collate_clips, mods, torch.device("cpu"), progress=False)
    direct = classification_report(pred["labels"], pred["logits"], bootstrap=0, logit_scale=logit_scale(cfg))
    assert logit_scale(cfg) == 16.0
    assert direct["roc_auc_positive"] == pytest.approx(rep["roc_auc_positive"], abs=1e-12)
    table = pd.read_csv(tmp_path / "m.predictions.csv")
    from sklearn.metrics import roc_auc_score

    y = np.array([{"negative": 0, "neutral": 1, "positive": 2}[t] for t in table["true"]])
    assert roc_auc_score(y == 2, table["p_positive"]) == pytest.approx(rep["roc_auc_positive"], abs=1e-3)


def test_window_starts():
    from gaitpose.engine.evaluator import window_starts

    assert window_starts(10, 30, 30) == [0]
    assert window_starts(30, 30, 30) == [0]
    assert window_starts(120, 30, 30) == [0, 30, 60, 90]
    assert window_starts(100, 30, 30) == [0, 30, 60, 70]  # the last window ends at the last frame
    assert window_starts(50, 30, 10) == [0, 10, 20]
    with pytest.raises(ValueError):
        window_starts(50, 0, 10)


def test_multi_clip_testing_averages_window_logits(fake_config, tmp_path):
    import numpy as np

    from gaitpose.engine import builders
    from gaitpose.engine.evaluator import predict

    fake_config["trainer_cfg"]["total_iter"] = 2
    ckpt = train(fake_config, tmp_path / "run")
    from gaitpose.engine.config import base_config, load_config

    ds = builders.build_dataset(base_config(load_config(fake_config)), ("sils", "pose"), "test")
    from engine_fakes import FakeNet, collate_clips

    model = FakeNet(streams=("sils", "pose"))
    model.load_state_dict(load_checkpoint(ckpt)["model"])
    dev = torch.device("cpu")
    whole = predict(model, ds, collate_clips, ("sils", "pose"), dev, progress=False)
    # windows longer than every sequence: the same as one pass
    same = predict(model, ds, collate_clips, ("sils", "pose"), dev, progress=False, clip_frames=1000)
    assert np.allclose(same["logits"], whole["logits"])
    # 5-frame windows every 3 frames: the mean of the windows' logits, computed by hand
    multi = predict(model, ds, collate_clips, ("sils", "pose"), dev, progress=False,
                    clip_frames=5, clip_stride=3, batch_size=2)
    item = ds[0]
    t = item["seq_len"]
    starts = list(range(0, t - 5 + 1, 3)) + ([t - 5] if (t - 5) % 3 else [])
    by_hand = []
    with torch.no_grad():
        for s in starts:
            out = model(sils=item["sils"][None, s:s + 5], pose=item["pose"][None, s:s + 5],
                        seq_lens=torch.tensor([5]))
            by_hand.append(out["logits"].float().mean(-1)[0])
    assert np.allclose(multi["logits"][0], torch.stack(by_hand).mean(0).double().numpy(), atol=1e-6)
    assert not np.allclose(multi["logits"], whole["logits"])
    # through the config
    fake_config["evaluator_cfg"]["sampler"] = {"clip_frames": 5, "clip_stride": 3}
    rep = evaluate(fake_config, ckpt, progress=False)
    assert rep["test_clip_frames"] == 5 and rep["n"] == 6


def test_autocast_dtype_per_device_and_cpu_support(monkeypatch):
    from gaitpose.engine import trainer

    cuda, cpu = torch.device("cuda"), torch.device("cpu")
    assert trainer.autocast_dtype({"enable_float16": True}, cuda) is torch.float16
    assert trainer.autocast_dtype({"enable_float16": False}, cuda) is None
    assert trainer.autocast_dtype({"enable_float16": True}, cpu) is None  # float16 is CUDA's
    monkeypatch.setattr(trainer, "native_cpu_bf16", lambda: True)
    assert trainer.autocast_dtype({"enable_float16": True, "cpu_bf16": True}, cpu) is torch.bfloat16
    monkeypatch.setattr(trainer, "native_cpu_bf16", lambda: False)  # emulated bf16: stay in float32
    assert trainer.autocast_dtype({"enable_float16": True, "cpu_bf16": True}, cpu) is None


@pytest.mark.parametrize("native", [True, False])
def test_cpu_bf16_trains_the_forward_in_bfloat16(fake_config, tmp_path, monkeypatch, native):
    from gaitpose.engine import trainer

    monkeypatch.setattr(trainer, "native_cpu_bf16", lambda: native)
    seen = []
    real_step = trainer.step

    def watching_step(run, batch):
        handle = run.model.sil.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
        try:
            return real_step(run, batch)
        finally:
            handle.remove()

    monkeypatch.setattr(trainer, "step", watching_step)
    fake_config["trainer_cfg"].update(device="cpu", cpu_bf16=True)
    ckpt = train(fake_config, tmp_path / "run")
    assert seen and set(seen) == {torch.bfloat16 if native else torch.float32}
    state = torch.load(ckpt, weights_only=True)
    assert all(v.dtype != torch.bfloat16 for v in state["model"].values())  # weights stay float32
    assert all(math.isfinite(r["loss"]) for r in read_train_log(tmp_path / "run"))
