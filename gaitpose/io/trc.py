"""TRC marker files (OpenSim / Sports2D) from a Sequence's world landmarks.

Layout (tab-separated)::

    PathFileType  4  (X/Y/Z)  <file name>
    DataRate  CameraRate  NumFrames  NumMarkers  Units  OrigDataRate  OrigDataStartFrame  OrigNumFrames
    30.000000  30.000000  T  V  m  30.000000  1  T
    Frame#  Time  <marker 1>  (two empty)  <marker 2> ...
            X1  Y1  Z1  X2  Y2  Z2 ...
    <blank line>
    1  0.000000  x  y  z ...

Axes: OpenSim's, Y up. MediaPipe world landmarks (x right, y down, z away from the camera,
metres, origin mid-hip) are written as X = x, Y = −y, Z = −z (a proper rotation, so the
skeleton is not mirrored). Missing markers are empty fields.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from gaitpose.io.atomic import atomic_write_text
from gaitpose.io.sequence import Sequence

UNITS = {"m": 1.0, "mm": 1000.0}


class TRCError(ValueError):
    """The Sequence cannot be written as TRC (message names the file)."""


def _marker_names(layout: str, V: int) -> list[str]:
    try:
        from graphs import get_layout

        names = list(get_layout(layout).names)
        if len(names) == V:
            return names
    except (ImportError, KeyError):
        pass
    return [f"joint{i}" for i in range(V)]


def trc_text(seq: Sequence, name: str = "sequence.trc", units: str = "m") -> str:
    """The TRC file content of ``seq``'s world landmarks."""
    if units not in UNITS:
        raise TRCError(f"units must be m or mm, got {units!r}")
    if seq.world is None:
        raise TRCError("no world landmarks in this sequence (TRC needs 3D markers)")
    w = np.asarray(seq.world, np.float64) * UNITS[units]
    xyz = np.stack([w[..., 0], -w[..., 1], -w[..., 2]], -1)
    kp = seq.keypoints
    missing = ~np.isfinite(xyz).all(-1) | ~np.isfinite(kp[..., 0]) | ~seq.detected[:, None]
    T, V = xyz.shape[:2]
    names = _marker_names(seq.layout, V)
    fps = seq.fps
    buf = io.StringIO()
    buf.write(f"PathFileType\t4\t(X/Y/Z)\t{name}\n")
    buf.write("DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames\n")
    buf.write(f"{fps:.6f}\t{fps:.6f}\t{T}\t{V}\t{units}\t{fps:.6f}\t1\t{T}\n")
    buf.write("Frame#\tTime\t" + "\t".join(f"{n}\t\t" for n in names).rstrip("\t") + "\n")
    buf.write("\t\t" + "\t".join(f"X{i + 1}\tY{i + 1}\tZ{i + 1}" for i in range(V)) + "\n")
    buf.write("\n")
    for t in range(T):
        vals = []
        for j in range(V):
            if missing[t, j]:
                vals += ["", "", ""]
            else:
                vals += [f"{v:.6f}" for v in xyz[t, j]]
        buf.write(f"{t + 1}\t{t / fps:.6f}\t" + "\t".join(vals) + "\n")
    return buf.getvalue()


def write_trc(path: str | os.PathLike, seq: Sequence, units: str = "m") -> Path:
    """Write ``seq``'s world landmarks as a TRC file (atomic)."""
    path = Path(path)
    try:
        text = trc_text(seq, path.name, units)
    except TRCError as exc:
        raise TRCError(f"{path}: {exc}") from None
    atomic_write_text(path, text)
    return path
