"""Video decoding with OpenCV: validation, clear errors and a threaded prefetching reader.

:class:`VideoReader` opens a file with ``cv2.VideoCapture``, checks that it is a video
(readable, a positive frame size, at least one decodable frame, a usable frame rate) and
iterates ``(index, frame)`` pairs. Decoding runs in a background thread that fills a
bounded queue, so it overlaps with whatever the consumer does (pose inference).

Errors are :class:`VideoError` with a short, user-facing reason (``"not a readable
video"``, ``"fps reported as 0"``, ``"truncated: decoded 60 of 230 frames"``...).
"""

from __future__ import annotations

import os

# FFmpeg (inside OpenCV) prints its own complaints about bad files ("moov atom not found")
# unless told otherwise before its first use; OpenCV's own log likewise.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")

import math  # noqa: E402
import queue  # noqa: E402
import threading  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

#: File extensions collected from folders (compared case-insensitively).
VIDEO_EXTENSIONS: tuple[str, ...] = (".mp4", ".avi", ".mov", ".mkv", ".webm")

_SENTINEL = object()


class VideoError(Exception):
    """A video cannot be used; ``str(exc)`` is the reason, without the path."""


def _quiet_opencv() -> None:
    try:
        cv2.setLogLevel(2)  # errors only
    except Exception:  # pragma: no cover - very old OpenCV
        pass


_quiet_opencv()


@dataclass(frozen=True)
class VideoInfo:
    """What the container reports.

    Attributes:
        fps: frames per second (after any override).
        frame_count: frames reported by the container (0 when unknown).
        height, width: frame size in pixels.
    """

    fps: float
    frame_count: int
    height: int
    width: int


def _open_capture(path: Path):
    """Open ``path`` with OpenCV, frames turned upright by the container's rotation flag.

    Phone videos are often stored landscape with a 90/270-degree display rotation; OpenCV's
    FFmpeg backend reports it but does not apply it unless asked (CAP_PROP_ORIENTATION_AUTO).
    """
    cap = cv2.VideoCapture(str(path))
    if cap.isOpened() and hasattr(cv2, "CAP_PROP_ORIENTATION_AUTO"):
        cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return cap


class VideoReader:
    """Open and validate a video; iterate its frames with a prefetching reader thread.

    Args:
        path: the video file.
        fps: override for the container's frame rate (needed when it reports 0).
        rgb: convert frames to RGB in the reader thread (what MediaPipe wants).
        prefetch: size of the bounded frame queue.
        strict_length: raise ``VideoError("truncated ...")`` when decoding stops well
            before the reported frame count.

    Shapes:
        frames: uint8 [H, W, 3] (RGB when ``rgb`` else BGR).

    Raises:
        VideoError: on construction when the file is missing, empty, not a video, has a
            zero frame size, no decodable frame, or an unusable fps without override.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        fps: float | None = None,
        rgb: bool = True,
        prefetch: int = 8,
        strict_length: bool = True,
    ) -> None:
        self.path = Path(path)
        self.rgb = rgb
        self.prefetch = max(1, int(prefetch))
        self.strict_length = strict_length
        if not self.path.exists():
            raise VideoError("no such file")
        if self.path.is_dir():
            raise VideoError("is a folder, not a video file")
        if self.path.stat().st_size == 0:
            raise VideoError("empty file")
        self._cap = None
        self._first: np.ndarray | None = None
        self._thread: threading.Thread | None = None
        self._stop: threading.Event | None = None
        cap = _open_capture(self.path)
        try:
            if not cap.isOpened():
                raise VideoError("not a readable video (OpenCV/FFmpeg cannot open it)")
            width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
            height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
            count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
            reported_fps = cap.get(cv2.CAP_PROP_FPS)
            ok, first = cap.read()
        except BaseException:
            cap.release()
            raise
        if not ok or first is None:
            cap.release()
            if count and count > 0:
                raise VideoError(f"no decodable frame (container reports {int(count)} frames)")
            raise VideoError("no frames")
        # The decoded frame is the truth: phone videos carry a rotation flag that OpenCV applies
        # to the frames, while the container's width/height can still be the unrotated ones.
        height, width = first.shape[:2]
        if fps is not None:
            if not (math.isfinite(fps) and fps > 0):
                raise VideoError(f"invalid --fps override {fps}")
            use_fps = float(fps)
        else:
            if reported_fps is None or not math.isfinite(reported_fps) or reported_fps <= 0:
                raise VideoError("fps reported as 0 (give --fps F to override)")
            use_fps = float(reported_fps)
        frame_count = int(count) if count and math.isfinite(count) and count > 0 else 0
        self.info = VideoInfo(fps=use_fps, frame_count=frame_count, height=height, width=width)
        self.reported_fps = float(reported_fps or 0.0)
        self.frames_read = 0
        # The first iteration continues with this capture (and its already decoded first frame).
        self._cap, self._first = cap, first

    def close(self) -> None:
        """Release the capture kept open from validation (iteration does this itself)."""
        if self._stop is not None:
            self._stop.set()
        if self._cap is not None:
            self._cap.release()
            self._cap = None
            self._first = None

    def __del__(self) -> None:
        cap = getattr(self, "_cap", None)
        if cap is not None and getattr(self, "_thread", None) is None:
            cap.release()

    # ------------------------------------------------------------------ properties
    @property
    def fps(self) -> float:
        return self.info.fps

    @property
    def frame_count(self) -> int:
        return self.info.frame_count

    @property
    def size(self) -> tuple[int, int]:
        """(height, width)."""
        return self.info.height, self.info.width

    # ------------------------------------------------------------------ iteration
    def _reader(self, q: queue.Queue, stop: threading.Event, cap, first: np.ndarray | None) -> None:
        index = 0
        err: BaseException | None = None
        try:
            if cap is None:
                cap = _open_capture(self.path)
            while not stop.is_set():
                if first is not None:
                    frame, first = first, None
                else:
                    ok, frame = cap.read()
                    if not ok or frame is None:
                        break
                if self.rgb:
                    frame = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                item = (index, frame)
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                index += 1
        except BaseException as exc:  # reported to the consumer
            err = exc
        finally:
            if cap is not None:
                cap.release()
            while not stop.is_set():
                try:
                    q.put((_SENTINEL, err), timeout=0.1)
                    break
                except queue.Full:
                    continue

    def start(self) -> VideoReader:
        """Start decoding in the background now (e.g. while a pose model loads); idempotent."""
        if self._thread is None:
            self._queue: queue.Queue = queue.Queue(maxsize=self.prefetch)
            self._stop = threading.Event()
            cap, first = self._cap, self._first
            self._cap = self._first = None
            self._thread = threading.Thread(
                target=self._reader, args=(self._queue, self._stop, cap, first), daemon=True
            )
            self._thread.start()
        return self

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(frame_index, frame)``; decoding runs ahead in a thread.

        After the last frame, raises :class:`VideoError` when the video turned out truncated
        (``strict_length``) or the decoder failed.
        """
        if self._thread is None:
            self.start()
        q, stop, thread = self._queue, self._stop, self._thread
        self._thread = None  # a later iteration starts afresh
        self.frames_read = 0
        try:
            while True:
                index, payload = q.get()
                if index is _SENTINEL:
                    if payload is not None:
                        raise VideoError(f"decoding failed after {self.frames_read} frames ({payload})")
                    break
                self.frames_read += 1
                yield index, payload
        finally:
            stop.set()
            thread.join(timeout=5)
        self._check_length()

    def _check_length(self) -> None:
        n, expected = self.frames_read, self.frame_count
        if n == 0:
            raise VideoError("no frames")
        if self.strict_length and expected > 0:
            # Containers without an exact frame count (mkv, webm) report an estimate: tolerate a little.
            tolerance = max(2, int(0.02 * expected))
            if n < expected - tolerance:
                raise VideoError(f"truncated: decoded {n} of {expected} frames")


def probe_video(path: str | os.PathLike, fps: float | None = None) -> VideoInfo:
    """Validate ``path`` and return its :class:`VideoInfo` (raises :class:`VideoError`)."""
    return VideoReader(path, fps=fps).info


def find_videos(path: str | os.PathLike) -> list[Path]:
    """Video files under a folder (recursive, sorted, any-case extension)."""
    root = Path(path)
    found = [
        p
        for p in root.rglob("*")
        if p.suffix.lower() in VIDEO_EXTENSIONS and p.is_file() and not p.name.startswith(".")
    ]
    return sorted(found)
