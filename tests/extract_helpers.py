"""Small generated videos for the extraction tests (imported by tests/pose and tests/commands)."""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np


def write_video(path: Path, frames, fps: float = 15.0, fourcc: str = "mp4v") -> Path:
    """Write BGR frames [T, H, W, 3] with OpenCV."""
    frames = list(frames)
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    assert writer.isOpened(), f"cannot write {path}"
    for f in frames:
        writer.write(np.ascontiguousarray(f))
    writer.release()
    return path


def no_person_video(path: Path, n: int = 12, size: tuple[int, int] = (120, 160)) -> Path:
    """Smooth moving colour gradients: a decodable video without anybody in it."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w]
    frames = []
    for t in range(n):
        r = (xx * 255 / w + 8 * t) % 256
        g = (yy * 255 / h) % 256
        b = np.full_like(r, 60 + 5 * t)
        frames.append(np.stack([b, g, r], -1).astype(np.uint8))
    return write_video(path, frames)


def person_clip(path: Path, source: Path, start: int = 100, n: int = 12, scale: float = 0.25,
                fourcc: str = "mp4v") -> Path:  # fmt: skip
    """A short, downscaled excerpt of a real clip (the walker is detected in every frame)."""
    cap = cv2.VideoCapture(str(source))
    fps = cap.get(cv2.CAP_PROP_FPS)
    cap.set(cv2.CAP_PROP_POS_FRAMES, start)
    frames = []
    for _ in range(n):
        ok, f = cap.read()
        assert ok
        frames.append(cv2.resize(f, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
    cap.release()
    return write_video(path, frames, fps=fps, fourcc=fourcc)


def zero_frame_video(path: Path) -> Path:
    """An AVI container with a header and no frames."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (160, 120))
    writer.release()
    return path


def truncated_copy(src: Path, dst: Path, fraction: float = 0.3) -> Path:
    data = Path(src).read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def avi_rate(path: Path) -> tuple[int, int]:
    """(dwScale, dwRate) of the first stream header of an AVI (for checks)."""
    b = Path(path).read_bytes()
    j = b.find(b"strh")
    return struct.unpack("<II", b[j + 28 : j + 36])


def shared_path(name: str) -> Path:
    """A real clip from the shared data folder (same rule as tests/conftest.py), else skip."""
    import os

    import pytest

    root = Path(os.environ.get("GAITPOSE_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    path = root / name
    if not path.is_file():
        pytest.skip(f"real clip {name} not found in {root} (set GAITPOSE_SHARED_DATA)")
    return path


def two_person_clip(path: Path, source: Path, n: int = 50, scale: float = 0.5) -> Path:
    """Two real people side by side, from two stretches of walk_outdoor.mp4 (not committed, built here).

    Left panel: x 450–850 of frames 0..n-1 (the man standing and jumping on the box; the woman is
    still hidden behind the tree). Right panel: x 760–1560 of frames 60..60+n-1 (the woman walking
    right to left across the lawn). Output: (400 + 800) x 994 scaled by ``scale``, same fps.
    """
    cap = cv2.VideoCapture(str(source))
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames = []
    while len(frames) < 60 + n:
        ok, f = cap.read()
        assert ok
        frames.append(f)
    cap.release()
    out = [np.concatenate([frames[t][:, 450:850], frames[60 + t][:, 760:1560]], axis=1) for t in range(n)]
    out = [cv2.resize(f, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) for f in out]
    return write_video(path, out, fps=fps)
