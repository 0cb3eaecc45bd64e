"""Shared fixtures: the real clips in ../shared/data (skipped with a message when absent)."""

from __future__ import annotations

import os
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
