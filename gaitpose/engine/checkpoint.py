"""Checkpoints: atomic writes, RNG states as tensors, loading with ``weights_only=True``.

A gaitpose checkpoint is a dict of tensors and plain Python values only, so
``torch.load(path, weights_only=True)`` reads it (no arbitrary unpickling):

``format`` ("gaitpose-checkpoint"), ``version``, ``iteration``, ``model`` (state dict of the
unwrapped model), ``optimizer``, ``scheduler``, ``scaler`` (or None), ``rng`` (torch CPU /
CUDA byte tensors, numpy MT19937 state, Python ``random`` state), ``labels`` (class order of the
logits), ``subjects`` (identity order used for the triplet loss), ``model_name``, ``config``
(the resolved config), ``torch_version``.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gaitpose.io.atomic import atomic_path

FORMAT = "gaitpose-checkpoint"
VERSION = 1
LATEST = "latest.pt"


class CheckpointError(RuntimeError):
    """A checkpoint file cannot be read (the message names the file)."""


def rng_state() -> dict[str, Any]:
    """All RNG states as tensors / plain values (``weights_only``-loadable)."""
    _, keys, pos, has_gauss, cached = np.random.get_state()
    py_version, py_state, py_gauss = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "python": {
            "version": int(py_version),
            "state": torch.tensor(py_state, dtype=torch.int64),
            "gauss_next": py_gauss,
        },
        "cuda": [],
    }
    if torch.cuda.is_available():
        state["cuda"] = [s.cpu() for s in torch.cuda.get_rng_state_all()]
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the states saved by :func:`rng_state`."""
    torch.set_rng_state(state["torch"].cpu())
    npst = state["numpy"]
    np.random.set_state(
        (
            "MT19937",
            npst["keys"].numpy().astype(np.uint32),
            int(npst["pos"]),
            int(npst["has_gauss"]),
            float(npst["cached_gaussian"]),
        )
    )
    py = state["python"]
    random.setstate((int(py["version"]), tuple(int(x) for x in py["state"].tolist()), py["gauss_next"]))
    cuda = state.get("cuda") or []
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([s.cpu() for s in cuda])


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` (plus format marker) atomically: a killed run never leaves half a file."""
    path = Path(path)
    payload = {"format": FORMAT, "version": VERSION, "torch_version": str(torch.__version__), **state}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    """Read a checkpoint with ``weights_only=True``; :class:`CheckpointError` names the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file or directory")
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError...
        raise CheckpointError(f"{path}: {_load_failure(path, exc)}") from None
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: a checkpoint must be a dict, got {type(obj).__name__}")
    return obj


def _load_failure(path: Path, exc: Exception) -> str:
    """One line on why ``torch.load(weights_only=True)`` failed (torch's own message is a page)."""
    import zipfile

    if path.stat().st_size == 0:
        return "empty file, not a checkpoint"
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as fh:
            legacy = fh.read(2) == b"\x80\x02"  # torch's pre-1.6 format starts with a pickle
        if not legacy:
            return "not a torch checkpoint (not a zip archive)"
    text = str(exc)
    if "Weights only load failed" in text:
        return "holds objects other than tensors and plain values; refused (loaded with weights_only=True)"
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return f"cannot read checkpoint with weights_only=True ({first})"


def is_gaitpose_checkpoint(obj: dict) -> bool:
    return obj.get("format") == FORMAT


def is_opengait_checkpoint(obj: dict) -> bool:
    """OpenGait saves ``{'model': state_dict, 'optimizer': ..., 'scheduler': ..., 'iteration': ...}``."""
    return not is_gaitpose_checkpoint(obj) and isinstance(obj.get("model"), dict)


def find_resume(run_dir: str | os.PathLike) -> Path | None:
    """The checkpoint a run directory resumes from (``checkpoints/latest.pt``), if any."""
    p = Path(run_dir) / "checkpoints" / LATEST
    return p if p.is_file() else None


def prune_iteration_checkpoints(ckpt_dir: Path, keep: int) -> None:
    """Keep only the ``keep`` most recent ``iter_XXXXXXX.pt`` files."""
    files = sorted(ckpt_dir.glob("iter_*.pt"))
    for f in files[: max(0, len(files) - keep)]:
        f.unlink(missing_ok=True)


# ------------------------------------------------------------------ the model a checkpoint was built with
def _flatten(d: Any, prefix: str) -> dict[str, Any]:
    if isinstance(d, dict):
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}.{k}"))
        return out
    return {prefix: list(d) if isinstance(d, tuple) else d}


def _show(v: Any) -> str:
    if isinstance(v, list):
        return "[" + ",".join(_show(x) for x in v) + "]"
    return "(default)" if v is _ABSENT else str(v)


_ABSENT = object()


def model_settings_differences(state: dict, cfg: dict) -> list[str]:
    """The ``model_cfg`` settings in which a checkpoint's stored config and ``cfg`` differ.

    One entry per dotted key, e.g. ``model_cfg.channels: checkpoint [8,16,32,64], config
    [64,128,256,512]`` (sorted; empty when they agree or the checkpoint stores no config).
    """
    stored = (state.get("config") or {}).get("model_cfg") if is_gaitpose_checkpoint(state) else None
    if not isinstance(stored, dict):
        return []
    a, b = _flatten(stored, "model_cfg"), _flatten(cfg.get("model_cfg") or {}, "model_cfg")
    out = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key, _ABSENT), b.get(key, _ABSENT)
        if va != vb:
            out.append(f"{key}: checkpoint {_show(va)}, config {_show(vb)}")
    return out


def _hint(path: Path) -> str:
    return "train into a new folder (-o RUN) or remove " + str(path.parent.parent)


def check_resumable(state: dict, path: Path, subjects: list[str]) -> None:
    """Raise :class:`CheckpointError` when the run folder's checkpoint was trained on other
    identities than ``subjects`` (the triplet loss's identity order would not mean the same)."""
    before = [str(s) for s in state.get("subjects") or []]
    if before and before != list(subjects):
        common = len(set(before) & set(subjects))
        raise CheckpointError(
            f"{path}: this run was trained on other identities ({len(before)} subjects; the dataset has "
            f"{len(subjects)}, {common} in common); {_hint(path)}"
        )


def load_resume_weights(model: torch.nn.Module, state: dict, path: Path, cfg: dict) -> None:
    """Load a run folder's weights into ``model`` built from ``cfg``. Weights that do not fit
    raise :class:`CheckpointError` naming the model settings that differ; settings that differ
    but fit (e.g. a dropout rate) are named in a note on stderr."""
    import sys

    diffs = model_settings_differences(state, cfg)
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as exc:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        why = "; ".join(diffs) or (lines[1] if len(lines) > 1 else lines[0] if lines else "weights do not fit")
        raise CheckpointError(
            f"{path}: this run was trained with other model settings ({why}); {_hint(path)}"
        ) from None
    if diffs:
        print(f"note: {path}: resuming with other model settings than before: {'; '.join(diffs)}", file=sys.stderr)
