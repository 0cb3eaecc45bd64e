"""Skeleton layouts: joint names, bones, left/right pairs and body-part groups.

Two layouts:

* ``mediapipe33`` — MediaPipe Pose's 33 landmarks (BlazePose topology).
* ``coco17`` — the 17 COCO keypoints (Scoliosis1K-Pose / ViTPose, pyskl, OpenGait).

Joint indices follow each format's own numbering. Body-part groups (``parts``) are what
the skeleton stream pools into part tokens; ``left_right`` pairs are anatomical (the
subject's left, not the image's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

MEDIAPIPE33_NAMES: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_pinky", "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip

# MediaPipe's POSE_CONNECTIONS.
MEDIAPIPE33_EDGES: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
    (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)  # fmt: skip

COCO17_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip

COCO17_EDGES: tuple[tuple[int, int], ...] = (
    (0, 1), (0, 2), (1, 3), (2, 4), (0, 5), (0, 6), (5, 6), (5, 7), (7, 9), (6, 8), (8, 10),
    (5, 11), (6, 12), (11, 12), (11, 13), (13, 15), (12, 14), (14, 16),
)  # fmt: skip

#: COCO-17 joint k is MediaPipe-33 joint MEDIAPIPE33_TO_COCO17[k].
MEDIAPIPE33_TO_COCO17: tuple[int, ...] = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)


def _pairs(names: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """Anatomical (left, right) pairs: ``left_X``/``right_X`` and ``X_left``/``X_right`` names."""
    idx = {n: i for i, n in enumerate(names)}
    pairs = []
    for i, n in enumerate(names):
        if n.startswith("left_") and "right_" + n[5:] in idx:
            pairs.append((i, idx["right_" + n[5:]]))
        elif n.endswith("_left") and n[:-5] + "_right" in idx:
            pairs.append((i, idx[n[:-5] + "_right"]))
    return tuple(pairs)


def _parts(names: tuple[str, ...]) -> dict[str, tuple[int, ...]]:
    groups: dict[str, tuple[str, ...]] = {
        "head": ("nose", "eye", "ear", "mouth"),
        "trunk": ("left_shoulder", "right_shoulder", "left_hip", "right_hip"),
        "pelvis": ("left_hip", "right_hip"),
        "left_arm": ("left_shoulder", "left_elbow", "left_wrist", "left_pinky", "left_index", "left_thumb"),
        "right_arm": ("right_shoulder", "right_elbow", "right_wrist", "right_pinky", "right_index", "right_thumb"),
        "left_leg": ("left_hip", "left_knee", "left_ankle", "left_heel", "left_foot_index"),
        "right_leg": ("right_hip", "right_knee", "right_ankle", "right_heel", "right_foot_index"),
    }
    out = {}
    for part, keys in groups.items():
        if part == "head":
            members = tuple(i for i, n in enumerate(names) if any(k in n for k in keys))
        else:
            members = tuple(i for i, n in enumerate(names) if n in keys)
        out[part] = members
    return out


@dataclass(frozen=True)
class Layout:
    """A skeleton layout.

    Attributes:
        name: ``"mediapipe33"`` or ``"coco17"``.
        names: joint names, index = joint id.
        edges: undirected bones as (i, j) pairs.
        left_right: anatomical (left, right) joint pairs.
        parts: body-part groups, name → joint ids (head, trunk, pelvis, left/right arm, left/right leg).
        center: the centre joint id used by graph partitions (a shoulder/hip joint; the
            skeleton stream centres on the mid-hip point, which neither layout has as a joint).
    """

    name: str
    names: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]
    center: int
    left_right: tuple[tuple[int, int], ...] = field(default=())
    parts: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def num_joints(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int:
        """Joint id of a joint name (``layout.index("left_hip")``)."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"layout {self.name} has no joint {name!r}") from None

    def has(self, name: str) -> bool:
        return name in self.names

    @property
    def flip_index(self) -> tuple[int, ...]:
        """Permutation that swaps left and right joints (for mirroring)."""
        perm = list(range(self.num_joints))
        for left, right in self.left_right:
            perm[left], perm[right] = right, left
        return tuple(perm)

    @cached_property
    def edge_index(self):
        """torch.long [2, 2E]: both directions of every bone (no self-loops)."""
        import torch

        e = torch.tensor(self.edges, dtype=torch.long).t()
        return torch.cat([e, e.flip(0)], dim=1)


def _make(name: str, names, edges, center: int) -> Layout:
    return Layout(name=name, names=names, edges=edges, center=center, left_right=_pairs(names), parts=_parts(names))


LAYOUTS: dict[str, Layout] = {
    "mediapipe33": _make("mediapipe33", MEDIAPIPE33_NAMES, MEDIAPIPE33_EDGES, center=23),
    "coco17": _make("coco17", COCO17_NAMES, COCO17_EDGES, center=11),
}


def get_layout(name: str) -> Layout:
    """The layout named ``name`` (``"mediapipe33"`` or ``"coco17"``)."""
    try:
        return LAYOUTS[name.lower()]
    except KeyError:
        raise KeyError(f"unknown layout {name!r}; expected one of {', '.join(LAYOUTS)}") from None


def mediapipe_to_coco(keypoints):
    """Convert MediaPipe-33 keypoints [..., 33, C] to COCO-17 [..., 17, C] (numpy or torch)."""
    if keypoints.shape[-2] != 33:
        raise ValueError(f"expected 33 joints on axis -2, got {keypoints.shape[-2]}")
    return keypoints[..., list(MEDIAPIPE33_TO_COCO17), :]
