"""Training, evaluation, metrics, checkpoints and experiment grids.

Python API (what ``gaitpose train / evaluate / experiment`` call)::

    from gaitpose.engine import train, evaluate, run_experiment
    ckpt = train("experiments/synthetic_quick.yaml", "runs/quick", overrides=["trainer.total_iter=50"])
    metrics = evaluate("experiments/synthetic_quick.yaml", ckpt, out="runs/quick/metrics.json")
    table = run_experiment("experiments/synthetic_quick.yaml", "runs/quick_grid")
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfigError",
    "TrainingDiverged",
    "classification_report",
    "evaluate",
    "load_config",
    "run_experiment",
    "train",
]

_LAZY = {
    "train": ("gaitpose.engine.trainer", "train"),
    "TrainingDiverged": ("gaitpose.engine.trainer", "TrainingDiverged"),
    "evaluate": ("gaitpose.engine.evaluator", "evaluate"),
    "run_experiment": ("gaitpose.engine.experiment", "run_experiment"),
    "load_config": ("gaitpose.engine.config", "load_config"),
    "ConfigError": ("gaitpose.engine.config", "ConfigError"),
    "classification_report": ("gaitpose.engine.metrics", "classification_report"),
}


def __getattr__(name: str) -> Any:  # import torch-heavy parts only when used
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'gaitpose.engine' has no attribute {name!r}")
