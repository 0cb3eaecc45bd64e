"""Skeleton layouts and graph objects (depends on torch and torch-geometric only)."""

from graphs.layouts import (
    LAYOUTS,
    MEDIAPIPE33_TO_COCO17,
    Layout,
    get_layout,
    mediapipe_to_coco,
)

__all__ = [
    "LAYOUTS",
    "MEDIAPIPE33_TO_COCO17",
    "Layout",
    "adjacency",
    "get_layout",
    "hop_distance",
    "mediapipe_to_coco",
    "normalized_adjacency",
    "normalized_edges",
    "skeleton_edge_index",
    "skeleton_graph",
    "spatial_partition",
]


def __getattr__(name: str):
    # graph objects import torch-geometric: load them on first use only
    import importlib

    graph = importlib.import_module("graphs.graph")
    if name in {
        "adjacency",
        "hop_distance",
        "normalized_adjacency",
        "normalized_edges",
        "skeleton_edge_index",
        "skeleton_graph",
        "spatial_partition",
        "degrees",
    }:
        return getattr(graph, name)
    raise AttributeError(f"module 'graphs' has no attribute {name!r}")
