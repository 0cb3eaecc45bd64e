"""``gaitpose info``: a one-paragraph summary of Sequence (.npz) and pickle (.pkl) files."""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path
from typing import Any


def add_parser(subparsers, name: str, help_: str) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        name,
        help=help_,
        description=(
            "Summarise Sequence files (.npz: frames, fps, duration, image size, layout, detected "
            "fraction, arrays, backend, source) and pkl files (type, array shapes/dtypes, keys). "
            "Pickles are read with gaitpose's restricted unpickler (numpy and plain containers only)."
        ),
    )
    p.add_argument("files", nargs="+", metavar="FILE", help=".npz Sequence files or .pkl files")
    p.set_defaults(func=run)
    return p


def _shape(a) -> str:
    return "[" + ", ".join(str(s) for s in a.shape) + "]"


def summarize_sequence(path: Path) -> str:
    """One paragraph about a Sequence file (raises SequenceFormatError)."""
    from gaitpose.io.sequence import load_sequence

    seq = load_sequence(path)
    T = seq.num_frames
    h, w = seq.image_size
    arrays = [("keypoints", seq.keypoints), ("detected", seq.detected), ("frame_index", seq.frame_index)]
    arrays += [(n, getattr(seq, n)) for n in ("depth", "world", "silhouettes") if getattr(seq, n) is not None]
    arr = "; ".join(f"{n} {a.dtype} {_shape(a)}" for n, a in arrays)
    meta = seq.meta or {}
    parts = [
        f"{path}: Sequence of {T} frames at {seq.fps:g} fps ({T / seq.fps:.2f} s), "
        f"image {w}x{h} (width x height), layout {seq.layout} ({seq.num_joints} joints), "
        f"person detected in {int(seq.detected.sum())}/{T} frames ({100 * seq.detected_fraction:.1f} %).",
        f"Arrays: {arr}.",
    ]
    if meta:
        bits = []
        if "backend" in meta:
            bits.append(f"backend {meta['backend']}" + (f" ({meta['model']})" if meta.get("model") else ""))
        if "source" in meta:
            bits.append(f"source {meta['source']}")
        if "created" in meta:
            bits.append(f"created {meta['created']}")
        versions = meta.get("versions")
        if isinstance(versions, dict) and versions:
            bits.append("versions " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())))
        person = meta.get("person")
        if isinstance(person, dict) and person.get("rule"):
            bits.append(f"person: {person['rule']}" + (
                f", track {person['track']} of {person.get('people', '?')} people" if "track" in person else ""))  # fmt: skip
        if "lr_swaps" in meta:
            bits.append(f"{meta['lr_swaps']} left/right swaps corrected")
        other = sorted(k for k in meta if k not in {"backend", "model", "source", "created", "versions", "person", "lr_swaps"})
        if other:
            bits.append("other meta: " + ", ".join(other))
        if bits:
            parts.append("Meta: " + "; ".join(bits) + ".")
    return " ".join(parts)


def describe(obj: Any, depth: int = 0, max_items: int = 8) -> str:
    """Short description of a pickled object: arrays with shapes/dtypes, containers with keys."""
    import numpy as np

    if isinstance(obj, np.ndarray):
        return f"ndarray {obj.dtype} {_shape(obj)}"
    if isinstance(obj, dict):
        if depth >= 2:
            return f"dict with {len(obj)} keys"
        keys = list(obj)
        inner = ", ".join(f"{k!r}: {describe(obj[k], depth + 1, max_items)}" for k in keys[:max_items])
        more = f", … {len(keys) - max_items} more" if len(keys) > max_items else ""
        return f"dict with {len(keys)} keys {{{inner}{more}}}"
    if isinstance(obj, (list, tuple)):
        kind = type(obj).__name__
        if not obj:
            return f"empty {kind}"
        if depth >= 2:
            return f"{kind} of {len(obj)} items"
        first = describe(obj[0], depth + 1, max_items)
        same = all(type(x) is type(obj[0]) for x in obj)
        return f"{kind} of {len(obj)} items (first: {first}{'' if same else '; mixed types'})"
    if isinstance(obj, (str, bytes)):
        s = obj if len(obj) <= 40 else obj[:37] + ("..." if isinstance(obj, str) else b"...")
        return f"{type(obj).__name__} {s!r}"
    if isinstance(obj, np.generic):
        return f"{obj.dtype} scalar {obj!r}"
    return f"{type(obj).__name__} {obj!r}"[:80]


def summarize_pickle(path: Path) -> str:
    """One paragraph about a pkl file (via the restricted unpickler)."""
    from gaitpose.io.safe_pickle import load_pickle

    obj = load_pickle(path)
    return f"{path}: pickle, {describe(obj)}."


def summarize(path: Path) -> str:
    """Dispatch on content: zip (npz) → Sequence, otherwise pickle."""
    import zipfile

    if not path.exists():
        raise FileNotFoundError("no such file or directory")
    if path.is_dir():
        raise IsADirectoryError("is a folder")
    if path.suffix.lower() == ".npz" or zipfile.is_zipfile(path):
        return summarize_sequence(path)
    if path.suffix.lower() in (".pkl", ".pickle"):
        return summarize_pickle(path)
    raise ValueError(f"unsupported file type {path.suffix or '(no extension)'} (expected .npz or .pkl)")


def _reason(exc: BaseException, path: Path) -> str:
    msg = str(exc)
    prefix = f"{path}: "
    while msg.startswith(prefix):
        msg = msg[len(prefix):]
    return msg or type(exc).__name__


def run(args: argparse.Namespace) -> int:
    from gaitpose.io.safe_pickle import UnsafePickleError
    from gaitpose.io.sequence import SequenceFormatError

    failed = 0
    for name in args.files:
        path = Path(name)
        try:
            text = summarize(path)
        except (SequenceFormatError, UnsafePickleError, pickle.UnpicklingError, OSError, ValueError) as exc:
            print(f"gaitpose info: {path}: {_reason(exc, path)}", file=sys.stderr)
            failed += 1
            continue
        print(text)
        print()
    return 1 if failed else 0
