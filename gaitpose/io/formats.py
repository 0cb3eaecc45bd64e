"""Reading any supported input into Sequences: format detection for ``gaitpose convert``.

Inputs: a Sequence ``.npz``; a folder of them; an OpenGait tree (silhouette and/or pose
pkls); a pyskl pkl; a Scoliosis1K pose pkl ([T, 17, 3]); an OpenPose JSON folder.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gaitpose import LABELS
from gaitpose.io.sequence import Sequence


def read_labels_csv(path: str | os.PathLike) -> dict[str, dict[str, str]]:
    """Read a labels CSV (columns ``id``, ``class`` or ``label``; optional ``subject``) → {id: row}."""
    path = Path(path)
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        cols = {c.lower(): c for c in (reader.fieldnames or [])}
        if "id" not in cols or not ({"class", "label"} & set(cols)):
            raise ValueError(f"{path}: a labels CSV needs columns id and class (or label)")
        out = {}
        for row in reader:
            r = {k.lower(): v for k, v in row.items() if k is not None}
            out[str(r["id"]).strip()] = r
    return out


@dataclass
class SourceItem:
    """One sequence read from an input, with what the input says about it."""

    name: str
    sequence: Sequence | None
    cls: str | None = None
    view: str | None = None
    split: str | None = None
    error: str | None = None  # a per-sequence failure inside a multi-sequence input


def detect_format(path: str | os.PathLike) -> str:
    """``npz``, ``npz_folder``, ``opengait``, ``openpose``, ``pkl`` (pyskl or Scoliosis1K) or ``unknown``."""
    p = Path(path)
    if p.is_file():
        if p.suffix == ".npz":
            return "npz"
        if p.suffix == ".pkl":
            return "pkl"
        return "unknown"
    if p.is_dir():
        if any(p.glob("*.npz")):
            return "npz_folder"
        if any(p.glob("*.json")) and not (p / "partition.json").exists():
            return "openpose"
        if any(p.glob("*/*/*/*.pkl")):
            return "opengait"
    return "unknown"


def _cls_of(seq: Sequence) -> str | None:
    c = str(seq.meta.get("class", "")).lower()
    return c if c in LABELS else None


def read_inputs(path: str | os.PathLike, fps: float | None = None) -> Iterator[SourceItem]:
    """Yield the sequences of one input (raises ``ValueError`` subclasses naming the file)."""
    from gaitpose.io.sequence import SequenceFormatError, load_sequence

    p = Path(path)
    kind = detect_format(p)
    if kind == "npz":
        seq = load_sequence(p)
        yield SourceItem(p.stem, seq, _cls_of(seq), seq.meta.get("view"))
    elif kind == "npz_folder":
        for f in sorted(p.glob("*.npz")):
            try:
                seq = load_sequence(f)
            except SequenceFormatError as exc:
                yield SourceItem(f.stem, None, error=str(exc))
                continue
            yield SourceItem(f.stem, seq, _cls_of(seq), seq.meta.get("view"))
    elif kind == "opengait":
        from gaitpose.io.opengait import read_opengait_sequence, read_partition, scan_tree

        split_of = {}
        if (p / "partition.json").is_file():
            part = read_partition(p / "partition.json")
            split_of = {i: "train" for i in part["TRAIN_SET"]} | {i: "test" for i in part["TEST_SET"]}
        recs = scan_tree(p)
        multi_view = len({(r.id, r.cls) for r in recs}) < len(recs)
        for rec in recs:
            name = f"{rec.id}_{rec.view}" if multi_view else rec.id
            try:
                seq = read_opengait_sequence(rec, fps=fps)
            except (ValueError, OSError) as exc:
                yield SourceItem(name, None, error=str(exc))
                continue
            cls = rec.cls if rec.cls in LABELS else None
            yield SourceItem(name, seq, cls, rec.view, split_of.get(rec.id))
    elif kind == "openpose":
        from gaitpose.io.openpose import read_openpose_folder

        seq = read_openpose_folder(p, fps=fps or 30.0)
        yield SourceItem(p.name, seq)
    elif kind == "pkl":
        import numpy as np

        from gaitpose.io.pyskl import annotation_to_sequence, is_pyskl
        from gaitpose.io.safe_pickle import load_pickle

        obj = load_pickle(p)
        if is_pyskl(obj):
            split_of = {}
            for sname, members in (obj.get("split") or {}).items():
                for m in members:
                    split_of.setdefault(str(m), str(sname))
            for k, ann in enumerate(obj["annotations"]):
                name = str(ann.get("frame_dir", f"{p.stem}_{k:05d}"))
                try:
                    seq = annotation_to_sequence(ann, fps or 30.0, f"{p} [{name}]")
                except ValueError as exc:
                    yield SourceItem(name, None, error=str(exc))
                    continue
                label = int(ann.get("label", -1))
                cls = LABELS[label] if 0 <= label < len(LABELS) else None
                yield SourceItem(name, seq, cls, None, split_of.get(name))
        elif isinstance(obj, np.ndarray) and obj.ndim == 3 and obj.shape[-1] in (2, 3):
            from gaitpose.io.scoliosis1k import read_scoliosis1k_pose

            seq = read_scoliosis1k_pose(p, fps=fps or 30.0)
            yield SourceItem(seq.meta.get("id", p.stem), seq, seq.meta.get("class"), seq.meta.get("view"))
        else:
            raise ValueError(f"{p}: a pkl that is neither a pyskl file nor a pose array [T, V, 3]")
    else:
        raise ValueError(f"{p}: not a Sequence .npz, OpenGait tree, pyskl/Scoliosis1K pkl or OpenPose folder")
