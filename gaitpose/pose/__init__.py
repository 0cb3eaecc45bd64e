"""Pose backends, person tracking and choice, silhouettes, and batch extraction.

``gaitpose.pose.extract_video(path, person="walker", ...) -> Sequence``,
``gaitpose.pose.extract_people(path, person="all", ...) -> list[Sequence]`` and
``gaitpose.pose.run_batch(inputs, out_dir, ...)`` are imported lazily (MediaPipe is pulled in
only when used).
"""

from __future__ import annotations

from typing import Any

_WHERE = {"extract_video": "extract", "extract_people": "extract", "run_batch": "batch"}
__all__ = list(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"gaitpose.pose.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'gaitpose.pose' has no attribute {name!r}")
