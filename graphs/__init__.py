"""Skeleton layouts and graph objects (depends on torch and torch-geometric only)."""

from graphs.layouts import (
    LAYOUTS,
    MEDIAPIPE33_TO_COCO17,
    Layout,
    get_layout,
    mediapipe_to_coco,
)

__all__ = ["LAYOUTS", "MEDIAPIPE33_TO_COCO17", "Layout", "get_layout", "mediapipe_to_coco"]
