"""torchrun with 2 CPU processes (gloo): DistributedDataParallel trains and rank 0 writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch
import yaml

from gaitpose.engine.checkpoint import load_checkpoint
from gaitpose.engine.trainer import read_train_log

ROOT = Path(__file__).resolve().parents[2]


def test_torchrun_two_cpu_processes(fake_config, tmp_path):
    fake_config["trainer_cfg"].update(total_iter=4, save_iter=2)
    cfg_path = tmp_path / "fake.yaml"
    cfg_path.write_text(yaml.safe_dump(fake_config))
    run = tmp_path / "ddp_run"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(Path(__file__).parent), env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "gaitpose", "train", str(cfg_path), "-o", str(run)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    state = load_checkpoint(run / "checkpoints" / "latest.pt")
    assert state["iteration"] == 4
    assert not any(k.startswith("module.") for k in state["model"])  # unwrapped weights
    rows = read_train_log(run)
    assert [int(r["iteration"]) for r in rows] == [1, 2, 3, 4]  # one writer: no duplicated rows
    # every rank's weights were identical (DDP), so the saved ones load into a fresh model
    from engine_fakes import FakeNet

    FakeNet().load_state_dict(state["model"])
    assert torch.isfinite(torch.tensor([r["loss"] for r in rows])).all()
