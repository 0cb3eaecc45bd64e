"""Pose backends, silhouette normalisation and batch extraction.

``gaitpose.pose.extract_video(path, backend="legacy", silhouettes=True, model=None,
progress=False) -> Sequence`` is imported lazily (it pulls in MediaPipe only when used).
"""

from __future__ import annotations

from typing import Any

__all__ = ["extract_video", "run_batch"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from gaitpose.pose import extract

        return getattr(extract, name)
    raise AttributeError(f"module 'gaitpose.pose' has no attribute {name!r}")
