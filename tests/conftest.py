"""Shared fixtures: the real clips in ../shared/data and the real-motion harness (each skipped
with a message when its data is absent)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("GAITPOSE_SHARED_DATA", ROOT.parent / "shared" / "data"))


def shared_clip(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip(f"real clip {name} not found in {SHARED_DATA} (set GAITPOSE_SHARED_DATA)")
    return path


@pytest.fixture
def walk_clip() -> Path:
    """../shared/data/walk_outdoor.mp4: 230 frames, 30 fps, one walker (side view)."""
    return shared_clip("walk_outdoor.mp4")


@pytest.fixture
def pedestrians_clip() -> Path:
    return shared_clip("pedestrians.avi")


REAL_MOTION = ROOT / "experiments" / "validation" / "real_motion.py"


@pytest.fixture(scope="session")
def rm():
    """experiments/validation/real_motion.py as a module: recorded 3-D walking trials (gaitkit's
    bundled data, the test extra) projected into a camera. Skips without gaitkit."""
    spec = importlib.util.spec_from_file_location("real_motion", REAL_MOTION)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["real_motion"] = mod
    spec.loader.exec_module(mod)
    if mod.data_dir() is None:
        pytest.skip("gaitkit (test extra) is not installed: its bundled trials are the data")
    return mod
