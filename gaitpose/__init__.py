"""gaitpose: scoliosis screening from walking videos.

Pose keypoints and silhouettes from video (MediaPipe), a ScoNet-MT variant that fuses a
skeleton-graph stream with ScoNet's silhouette stream, and biomechanical asymmetry
features for clinical study.
"""

__version__ = "0.1.0"

#: Label order used everywhere (configs, checkpoints, tables): negative 0, neutral 1, positive 2.
LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
LABEL_TO_INDEX: dict[str, int] = {name: i for i, name in enumerate(LABELS)}


def label_index(name: str) -> int:
    """Class index of a class name in any case (``"Positive"`` → 2)."""
    try:
        return LABEL_TO_INDEX[str(name).strip().lower()]
    except KeyError:
        raise ValueError(f"unknown class {name!r}; expected one of {', '.join(LABELS)}") from None
