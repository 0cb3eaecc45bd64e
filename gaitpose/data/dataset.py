"""Torch datasets of gait clips: silhouettes, skeletons, or both (paired frames).

A :class:`GaitDataset` reads an OpenGait tree (``root/<id>/<class>/<view>/*.pkl``) or a
folder of Sequence ``.npz`` files with a labels CSV, and returns OpenGait-style clips:

* training (``sample_type="fixed_unordered"``): ``frames`` frames drawn without order
  (without replacement; with replacement only when the sequence is shorter);
* test (``"all_ordered"``): all frames in order, up to ``max_frames``.

Silhouettes get ScoNet's 10-pixel side crop (64 → 44) and are scaled to [0, 1]. Poses are
[T, V, 3] (x px, y px, score) with missing joints ``x = y = 0, score = 0``. With both
modalities the two come from the same frames: when their lengths differ, the shorter one's
frames are matched to the longer by relative position, and frames where either modality
found nobody are dropped from both.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from gaitpose import LABELS, label_index
from gaitpose.io.formats import read_labels_csv
from gaitpose.io.opengait import (
    OpenGaitRecord,
    load_record_arrays,
    match_by_position,
    pose_from_pkl,
    pose_to_pkl,
    read_partition,
    scan_tree,
    sils_to_64,
)
from gaitpose.io.splits import carve_validation

SAMPLE_TYPES = ("fixed_unordered", "fixed_ordered", "all_ordered")
SPLITS = ("train", "val", "test", "all")
CROP = 10  # ScoNet: 10 px from each side, 64 → 44


@dataclass
class _Item:
    id: str
    label: int
    subject: str
    record: OpenGaitRecord | None = None
    npz: Path | None = None
    extra: dict = field(default_factory=dict)


def _label_of(row: dict[str, str], where: str) -> int:
    if row.get("class"):
        return label_index(row["class"])
    v = str(row.get("label", "")).strip()
    if v.isdigit() and int(v) < len(LABELS):
        return int(v)
    return label_index(v) if v else _bad_label(where)


def _bad_label(where: str) -> int:
    raise ValueError(f"{where}: no class for this sequence")


def crop_sils(sils: np.ndarray) -> np.ndarray:
    """uint8 [T, 64, 64] → float32 [T, 64, 44] in [0, 1] (ScoNet's 10-px side crop)."""
    return sils[:, :, CROP:-CROP].astype(np.float32) / 255.0


def align_modalities(
    sils: np.ndarray | None, pose: np.ndarray | None, drop_invalid: bool = True
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Pair silhouettes [Ts, H, W] and pose [Tp, V, 3] frame by frame (either may be None).

    Frames are matched by relative position when Ts ≠ Tp (the shorter sequence's frames
    each take the nearest-in-relative-position frame of the longer); frames where a present
    modality found nobody (empty mask / no joint with a score) are dropped from all,
    unless that would leave nothing.

    Returns:
        (sils [T, H, W] or None, pose [T, V, 3] or None) with the same T.
    """
    if sils is not None and pose is not None and len(sils) != len(pose):
        if len(sils) < len(pose):
            pose = pose[match_by_position(len(sils), len(pose))]
        else:
            sils = sils[match_by_position(len(pose), len(sils))]
    n = len(sils) if sils is not None else len(pose)
    if not drop_invalid or n == 0:
        return sils, pose
    valid = np.ones(n, bool)
    if sils is not None:
        valid &= sils.reshape(n, -1).max(1) > 0
    if pose is not None:
        valid &= (pose[..., 2] > 0).any(1)
    if valid.any() and not valid.all():
        sils = sils[valid] if sils is not None else None
        pose = pose[valid] if pose is not None else None
    return sils, pose


def _refuse_two_classes(items: list[_Item], root: Path) -> None:
    """Raise when one sequence id appears under two class folders (e.g. two cohorts mixed)."""
    seen: dict[str, int] = {}
    for it in items:
        key = it.extra.get("key", it.id)
        if seen.setdefault(key, it.label) != it.label:
            raise ValueError(
                f"{root}: id {key} appears under two classes ({LABELS[seen[key]]}, {LABELS[it.label]})"
            )


def split_ids(partition, split: str, items: list[_Item], val_carve: dict | None) -> list[str]:
    """The ids of ``split`` (train / val / test) by the partition JSON, carving ``VAL_SET``
    from ``TRAIN_SET`` with ``val_carve`` when the partition has none."""
    part = read_partition(partition)
    if "VAL_SET" not in part and val_carve:
        keys = {it.extra.get("key", it.id): it for it in items}
        classes = {k: LABELS[it.label] for k, it in keys.items()}
        subjects = {k: it.subject for k, it in keys.items()}
        part["TRAIN_SET"], part["VAL_SET"] = carve_validation(
            part["TRAIN_SET"], classes, subjects, float(val_carve["fraction"]), int(val_carve["seed"])
        )
    name = {"train": "TRAIN_SET", "val": "VAL_SET", "test": "TEST_SET"}[split]
    if name not in part:
        raise ValueError(f"{partition}: the partition has no VAL_SET (and no val_carve to carve one)")
    return part[name]


class GaitDataset(Dataset):
    """Gait clips from an OpenGait tree or a folder of Sequence ``.npz`` files.

    Args:
        root: OpenGait tree folder, or a folder of Sequence ``.npz`` files.
        split: ``"train"``, ``"val"``, ``"test"`` or ``"all"``.
        partition: partition JSON; default ``root/partition.json`` when present (else all).
            ``"val"`` reads its ``VAL_SET``; without one, ``val_carve`` carves it from
            ``TRAIN_SET`` (and ``"train"`` then excludes the carved ids).
        val_carve: ``{"fraction": f, "seed": s}``: for a partition without ``VAL_SET``, the
            validation ids are :func:`gaitpose.io.splits.carve_validation` of ``TRAIN_SET``
            (whole subjects, stratified by class, seeded); ignored when there is a ``VAL_SET``.
        labels_csv: CSV with columns ``id``, ``class`` (optionally ``subject``); needed for
            ``.npz`` folders (default ``root/ground_truth.csv`` or ``root/labels.csv`` when
            present). For trees it only supplies ``subject`` (default: ``ground_truth.csv``).
        modalities: non-empty subset of ``("sils", "pose")``.
        frames: training clip length (OpenGait's ``frames_num_fixed``).
        sample_type: ``"fixed_unordered"`` (train), ``"fixed_ordered"`` (a contiguous
            clip) or ``"all_ordered"`` (test); None: fixed_unordered for split="train",
            all_ordered otherwise.
        max_frames: cap for ``all_ordered``.
        layout: None keeps the data's layout; ``"coco17"`` converts MediaPipe-33 → COCO-17.
        seed: seed of the clip sampling (per worker stream: deterministic for a fixed
            ``num_workers``).
        pose_root: optional second tree holding the pose pkls (Scoliosis1K ships
            silhouettes and poses as separate trees), matched by id/class/view.
        cache: LRU size in sequences per worker (``True``: unlimited, ``False``/0: none).

    Item (``ds[i]``): ``"sils"`` float32 [T, 64, 44] in [0, 1]; ``"pose"`` float32
    [T, V, 3]; ``"label"``, ``"index"``, ``"id"``, ``"subject"``, ``"seq_len"`` (= T).
    """

    def __init__(
        self,
        root: str | os.PathLike,
        split: str = "train",
        partition: str | os.PathLike | None = None,
        labels_csv: str | os.PathLike | None = None,
        modalities=("sils", "pose"),
        frames: int = 30,
        sample_type: str | None = None,
        max_frames: int = 720,
        layout: str | None = None,
        seed: int = 0,
        pose_root: str | os.PathLike | None = None,
        cache: bool | int = 256,
        val_carve: dict | None = None,
    ) -> None:
        self.root = Path(root)
        if split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
        modalities = tuple(modalities)
        if not modalities or any(m not in ("sils", "pose") for m in modalities):
            raise ValueError(f"modalities must be a non-empty subset of (sils, pose), got {modalities}")
        if sample_type is None:
            sample_type = "fixed_unordered" if split == "train" else "all_ordered"
        if sample_type not in SAMPLE_TYPES:
            raise ValueError(f"sample_type must be one of {SAMPLE_TYPES}, got {sample_type!r}")
        if layout not in (None, "coco17", "mediapipe33"):
            raise ValueError(f"layout must be None, coco17 or mediapipe33, got {layout!r}")
        if not self.root.is_dir():
            raise FileNotFoundError(f"{self.root}: dataset folder not found")
        self.split, self.modalities, self.frames = split, modalities, int(frames)
        self.sample_type, self.max_frames, self.seed = sample_type, int(max_frames), int(seed)
        self._layout_req = layout
        self.pose_root = Path(pose_root) if pose_root is not None else None
        self._cache_size = (1 << 30) if cache is True else int(cache or 0)
        self._cache: OrderedDict[int, tuple] = OrderedDict()
        self._rng: np.random.Generator | None = None
        self._data_layout: str | None = None

        npz = sorted(self.root.glob("*.npz"))
        table: dict[str, dict[str, str]] = {}
        if labels_csv is not None:
            table = read_labels_csv(labels_csv)
        else:
            for name in ("ground_truth.csv", "labels.csv"):
                if (self.root / name).is_file():
                    try:
                        table = read_labels_csv(self.root / name)
                        labels_csv = self.root / name
                        break
                    except ValueError:
                        if npz:
                            raise

        items: list[_Item] = []
        if npz:
            if not table:
                raise ValueError(f"{self.root}: a folder of Sequence files needs a labels CSV (id,class)")
            for p in npz:
                row = table.get(p.stem)
                if row is None:
                    continue  # unlabelled sequences are not part of the dataset
                items.append(_Item(p.stem, _label_of(row, str(labels_csv)),
                                   (row.get("subject") or p.stem).strip(), npz=p))
        else:
            pose_recs = {}
            if self.pose_root is not None:
                pose_recs = {(r.id, r.cls, r.view): r for r in scan_tree(self.pose_root)}
            for rec in scan_tree(self.root):
                if rec.label is None:
                    continue
                if pose_recs and (rec.id, rec.cls, rec.view) in pose_recs:
                    pr = pose_recs[(rec.id, rec.cls, rec.view)]
                    pose_path = pr.paths.get("pose") or (pr.other[0] if pr.other else None)
                    if pose_path is not None:
                        rec.paths.setdefault("pose", pose_path)
                row = table.get(rec.id, {})
                subject = (row.get("subject") or rec.id).strip()
                items.append(_Item(rec.id, rec.label, subject, record=rec, extra={"key": rec.id}))
            # several sequences under one OpenGait id (e.g. views): make the sequence ids unique
            counts: dict[str, int] = {}
            for it in items:
                counts[it.id] = counts.get(it.id, 0) + 1
            for it in items:
                if counts[it.id] > 1:
                    it.id = f"{it.id}/{it.record.cls}/{it.record.view}"
        _refuse_two_classes(items, self.root)
        if partition is None and (self.root / "partition.json").is_file():
            partition = self.root / "partition.json"
        if split != "all" and partition is not None:
            keep = set(split_ids(partition, split, items, val_carve))
            items = [it for it in items if it.extra.get("key", it.id) in keep]
        elif split == "val":
            raise ValueError(f"{self.root}: split 'val' needs a partition JSON")
        if not items:
            raise ValueError(f"{self.root}: no labelled sequences for split {split!r}")
        self._items = items

    # ------------------------------------------------------------------ metadata
    def __len__(self) -> int:
        return len(self._items)

    @property
    def labels(self) -> list[int]:
        return [it.label for it in self._items]

    @property
    def ids(self) -> list[str]:
        return [it.id for it in self._items]

    @property
    def subjects(self) -> list[str]:
        return [it.subject for it in self._items]

    @property
    def tree_ids(self) -> list[str]:
        """The OpenGait tree's top-level id of each item (OpenGait's identity; ``ids`` differ
        only when one id holds several views)."""
        return [it.extra.get("key", it.id) for it in self._items]

    @property
    def layout(self) -> str:
        """The pose layout of the items (after the optional conversion)."""
        if self._layout_req is not None:
            return self._layout_req
        if self._data_layout is None:
            pose = self._load(0)[1]
            if pose is None:
                try:
                    _, pose = self._load_raw(0, need_pose=True)
                except ValueError:
                    return "none"  # silhouettes only, no pose in the data
            self._data_layout = {33: "mediapipe33", 17: "coco17"}.get(pose.shape[1], f"{pose.shape[1]}joints")
        return self._data_layout

    @property
    def num_joints(self) -> int:
        return {"mediapipe33": 33, "coco17": 17}.get(self.layout, 0)

    # ------------------------------------------------------------------ loading
    def _load_raw(self, i: int, need_pose: bool = False):
        it = self._items[i]
        want = set(self.modalities) | ({"pose"} if need_pose else set())
        sils = pose = None
        if it.npz is not None:
            from gaitpose.io import load_sequence

            seq = load_sequence(it.npz)
            if "sils" in want:
                if seq.silhouettes is None:
                    raise ValueError(f"{it.npz}: no silhouettes in this Sequence file")
                sils = np.asarray(seq.silhouettes, np.uint8).copy()
                sils[~seq.detected] = 0
            if "pose" in want:
                pose = pose_to_pkl(seq.keypoints)
                pose[~seq.detected] = 0
        else:
            arrays = load_record_arrays(it.record, tuple(want))
            for m in want:
                if m not in arrays:
                    raise ValueError(f"{it.record.folder}: no {m} pkl for this sequence")
            if "sils" in arrays:
                sils = sils_to_64(arrays["sils"], it.record.folder)
            if "pose" in arrays:
                pose = pose_to_pkl(pose_from_pkl(arrays["pose"], it.record.folder))
        return sils, pose

    def _load(self, i: int):
        if i in self._cache:
            self._cache.move_to_end(i)
            return self._cache[i]
        sils, pose = self._load_raw(i)
        if pose is not None and self._layout_req == "coco17" and pose.shape[1] == 33:
            from graphs import mediapipe_to_coco

            pose = np.ascontiguousarray(mediapipe_to_coco(pose))
        elif pose is not None and self._layout_req is not None:
            want = {"coco17": 17, "mediapipe33": 33}[self._layout_req]
            if pose.shape[1] != want:
                raise ValueError(f"sequence {self._items[i].id}: cannot convert {pose.shape[1]} joints to {self._layout_req}")
        sils, pose = align_modalities(sils, pose)
        out = (sils, pose)
        if self._cache_size > 0:
            self._cache[i] = out
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return out

    def _generator(self) -> np.random.Generator:
        if self._rng is None:
            info = torch.utils.data.get_worker_info()
            wid = info.id if info is not None else 0
            self._rng = np.random.default_rng([self.seed, wid])
        return self._rng

    def _frame_indices(self, n: int) -> np.ndarray:
        if self.sample_type == "all_ordered":
            return np.arange(min(n, self.max_frames))
        rng = self._generator()
        k = self.frames
        if self.sample_type == "fixed_unordered":
            return rng.choice(n, size=k, replace=n < k)
        # fixed_ordered: a contiguous clip (looping when the sequence is shorter)
        start = int(rng.integers(0, max(1, n - k + 1)))
        return (start + np.arange(k)) % n

    def __getitem__(self, index: int) -> dict:
        index = int(index)
        it = self._items[index]
        sils, pose = self._load(index)
        n = len(sils) if sils is not None else len(pose)
        if n == 0:
            raise ValueError(f"sequence {it.id}: no frames")
        idx = self._frame_indices(n)
        item: dict = {"label": it.label, "index": index, "id": it.id, "subject": it.subject,
                      "seq_len": int(len(idx))}
        if "sils" in self.modalities:
            item["sils"] = torch.from_numpy(crop_sils(sils[idx]))
        if "pose" in self.modalities:
            item["pose"] = torch.from_numpy(np.ascontiguousarray(pose[idx], dtype=np.float32))
        return item

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_cache"] = OrderedDict()  # workers start with an empty cache
        state["_rng"] = None
        return state
