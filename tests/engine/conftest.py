"""Fixtures of the engine tests: configs that plug the fakes of engine_fakes.py into the engine."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

FAKE_CONFIG = {
    "data_cfg": {"dataset_root": None, "api": "engine_fakes"},
    "model_cfg": {"model": "FakeNet", "api": "engine_fakes", "streams": ["sils", "pose"]},
    "loss_cfg": {"type": "FakeMTLoss", "api": "engine_fakes"},
    "optimizer_cfg": {"solver": "SGD", "lr": 0.05, "momentum": 0.9, "weight_decay": 5.0e-4},
    "scheduler_cfg": {"scheduler": "MultiStepLR", "milestones": [4], "gamma": 0.5},
    "trainer_cfg": {
        "total_iter": 6,
        "save_iter": 3,
        "device": "cpu",
        "progress": False,
        "sampler": {"batch_size": [3, 2], "frames_num_fixed": 8},
    },
    "evaluator_cfg": {"bootstrap": 50},
}


@pytest.fixture
def fake_config(tmp_path):
    """A config dict training engine_fakes.FakeNet on an in-memory cohort (root = tmp_path/data)."""
    cfg = copy.deepcopy(FAKE_CONFIG)
    root = tmp_path / "data"
    root.mkdir()
    cfg["data_cfg"]["dataset_root"] = str(root)
    return cfg
