"""MediaPipe pose backends behind one interface.

* :class:`LegacyBackend`: ``mediapipe.solutions.pose.Pose`` (mediapipe 0.10.21), model_complexity 1
  (the only pose model shipped inside the wheel; 0 and 2 would be downloaded, so they are never
  used), landmark smoothing on, segmentation on unless silhouettes are off.
* :class:`TasksBackend`: ``mediapipe.tasks`` PoseLandmarker in VIDEO mode with a ``.task`` bundle
  (``gaitpose models build-task`` builds one offline from the wheel's model files).

Both: ``process(frame_rgb, timestamp_ms) -> FrameResult`` with keypoints in pixels.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NUM_JOINTS = 33
BACKENDS = ("legacy", "tasks")

MODEL_HINT = (
    "the tasks backend needs a pose model bundle: pass --model FILE.task "
    "(build one offline with `gaitpose models build-task -o pose_landmarker.task`)"
)


def quiet_mediapipe_env() -> None:
    """Ask MediaPipe/TFLite/absl to log less; call before importing mediapipe."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")


_silence_lock = threading.Lock()
_silence_depth = 0
_silence_saved: tuple[int, object] | None = None


@contextlib.contextmanager
def native_stderr_silenced(enabled: bool = True) -> Iterator[None]:
    """Send C-level writes to file descriptor 2 (MediaPipe, TFLite, FFmpeg) to /dev/null.

    Python writes through ``sys.stderr`` (progress bars, error lines) still reach the
    original stderr: when ``sys.stderr`` is the process's fd 2 it is swapped for a stream on
    a duplicate of the original descriptor for the duration. Set ``GAITPOSE_VERBOSE=1`` to
    keep the native logs. Re-entrant.
    """
    global _silence_depth, _silence_saved
    if not enabled or os.environ.get("GAITPOSE_VERBOSE"):
        yield
        return
    with _silence_lock:
        _silence_depth += 1
        if _silence_depth == 1:
            try:
                sys.stderr.flush()
            except Exception:
                pass
            saved_fd = os.dup(2)
            old_stream = sys.stderr
            try:
                uses_fd2 = old_stream.fileno() == 2
            except Exception:
                uses_fd2 = False
            if uses_fd2:
                sys.stderr = os.fdopen(os.dup(saved_fd), "w", buffering=1, encoding="utf-8", errors="replace")
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
            _silence_saved = (saved_fd, old_stream if uses_fd2 else None)
    try:
        yield
    finally:
        with _silence_lock:
            _silence_depth -= 1
            if _silence_depth == 0 and _silence_saved is not None:
                saved_fd, old_stream = _silence_saved
                _silence_saved = None
                if old_stream is not None:
                    try:
                        sys.stderr.flush()
                        sys.stderr.close()
                    except Exception:
                        pass
                    sys.stderr = old_stream
                os.dup2(saved_fd, 2)
                os.close(saved_fd)


@dataclass
class FrameResult:
    """Pose of one frame (one person).

    Shapes:
        keypoints: float32 [33, 3] x px, y px, visibility; NaN x, y and 0 when not detected.
        depth: float32 [33] MediaPipe z in pixel scale (z * width); NaN when not detected.
        world: float32 [33, 3] world landmarks in metres (origin mid-hip); NaN when not detected.
        mask: float32 [H, W] person probability, or None (segmentation off / no person).
    """

    detected: bool
    keypoints: np.ndarray
    depth: np.ndarray
    world: np.ndarray
    mask: np.ndarray | None = None

    @staticmethod
    def empty() -> FrameResult:
        nan = np.full((NUM_JOINTS, 3), np.nan, np.float32)
        kp = nan.copy()
        kp[:, 2] = 0.0
        return FrameResult(False, kp, np.full(NUM_JOINTS, np.nan, np.float32), nan.copy(), None)


def _landmarks_to_arrays(norm, world, width: int, height: int) -> tuple[np.ndarray, ...]:
    """Normalised landmarks → pixel keypoints [33,3], depth [33], world [33,3]."""
    a = np.array([(p.x, p.y, p.z, p.visibility) for p in norm], dtype=np.float32)
    kp = np.empty((len(a), 3), np.float32)
    kp[:, 0] = a[:, 0] * width
    kp[:, 1] = a[:, 1] * height
    kp[:, 2] = np.nan_to_num(a[:, 3], nan=0.0)
    depth = a[:, 2] * width
    if world is not None:
        w = np.array([(p.x, p.y, p.z) for p in world], dtype=np.float32)
    else:
        w = np.full((len(a), 3), np.nan, np.float32)
    return kp, depth, w


class PoseBackend:
    """Common interface: ``process(frame_rgb, timestamp_ms) -> FrameResult``; ``close()``."""

    name = "base"
    model_description = ""

    def process(self, frame_rgb: np.ndarray, timestamp_ms: int) -> FrameResult:  # pragma: no cover
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - overridden
        pass

    def __enter__(self) -> PoseBackend:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class LegacyBackend(PoseBackend):
    """``mediapipe.solutions.pose`` with model_complexity=1 (bundled in the 0.10.21 wheel).

    Args:
        segmentation: also compute the person mask (for silhouettes/overlay).
        min_detection_confidence, min_tracking_confidence: MediaPipe's thresholds.
    """

    name = "legacy"
    model_description = "mediapipe.solutions.pose model_complexity=1 (pose_landmark_full)"

    def __init__(
        self,
        segmentation: bool = True,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ) -> None:
        quiet_mediapipe_env()
        try:
            from mediapipe.python.solutions import pose as mp_pose
        except ImportError as exc:  # pragma: no cover - mediapipe >= 0.10.30
            raise RuntimeError(
                "the legacy backend needs mediapipe 0.10.21 (mediapipe.solutions); "
                f"use --backend tasks with a model bundle instead ({exc})"
            ) from None
        self.segmentation = segmentation
        self._pose = mp_pose.Pose(
            static_image_mode=False,
            model_complexity=1,
            smooth_landmarks=True,
            enable_segmentation=segmentation,
            smooth_segmentation=segmentation,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )

    def process(self, frame_rgb: np.ndarray, timestamp_ms: int = 0) -> FrameResult:
        """Pose of one RGB frame (the legacy graph keeps its own timestamps).

        Shapes:
            frame_rgb: uint8 [H, W, 3] RGB.
        """
        h, w = frame_rgb.shape[:2]
        frame_rgb.flags.writeable = False
        res = self._pose.process(frame_rgb)
        if res.pose_landmarks is None:
            return FrameResult.empty()
        world = res.pose_world_landmarks.landmark if res.pose_world_landmarks is not None else None
        kp, depth, wl = _landmarks_to_arrays(res.pose_landmarks.landmark, world, w, h)
        mask = res.segmentation_mask if self.segmentation else None
        return FrameResult(True, kp, depth, wl, mask)

    def close(self) -> None:
        if self._pose is not None:
            self._pose.close()
            self._pose = None


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class TasksBackend(PoseBackend):
    """``mediapipe.tasks`` PoseLandmarker in VIDEO mode.

    Args:
        model: path of a ``.task`` bundle (``gaitpose models build-task`` makes one offline).
        segmentation: also output the person mask.
        min_detection_confidence, min_tracking_confidence: thresholds (also used for presence).
        num_poses: most people detected per frame (:meth:`process_all` returns each of them; their
            segmentation masks are separate, one per pose).

    Timestamps passed to :meth:`process` must increase; this class bumps equal or
    decreasing ones by 1 ms so that rounding never breaks VIDEO mode.
    """

    name = "tasks"

    def __init__(
        self,
        model: str | os.PathLike | None,
        segmentation: bool = True,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        num_poses: int = 1,
    ) -> None:
        if model is None:
            raise ValueError(MODEL_HINT)
        model = Path(model)
        if not model.is_file():
            raise ValueError(f"model bundle {model} not found; {MODEL_HINT}")
        quiet_mediapipe_env()
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        self._mp = mp
        self.segmentation = segmentation
        self.model_description = f"{model.name} (sha256 {file_sha256(model)[:16]})"
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model)),
            running_mode=vision.RunningMode.VIDEO,
            num_poses=int(num_poses),
            min_pose_detection_confidence=min_detection_confidence,
            min_pose_presence_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
            output_segmentation_masks=segmentation,
        )
        try:
            self._landmarker = vision.PoseLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            raise ValueError(f"cannot load model bundle {model}: {exc}") from None
        self._last_ts = -1

    def process(self, frame_rgb: np.ndarray, timestamp_ms: int) -> FrameResult:
        """Pose of one RGB frame at ``timestamp_ms`` (the first person when ``num_poses`` > 1).

        Shapes:
            frame_rgb: uint8 [H, W, 3] RGB.
        """
        people = self.process_all(frame_rgb, timestamp_ms)
        return people[0] if people else FrameResult.empty()

    def process_all(self, frame_rgb: np.ndarray, timestamp_ms: int) -> list[FrameResult]:
        """Every person found in one RGB frame (at most ``num_poses``), each with its own mask.

        Shapes:
            frame_rgb: uint8 [H, W, 3] RGB.
        """
        ts = int(timestamp_ms)
        if ts <= self._last_ts:
            ts = self._last_ts + 1
        self._last_ts = ts
        h, w = frame_rgb.shape[:2]
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame_rgb))
        res = self._landmarker.detect_for_video(image, ts)
        people = []
        masks = res.segmentation_masks if self.segmentation and res.segmentation_masks else []
        for k, landmarks in enumerate(res.pose_landmarks or []):
            world = res.pose_world_landmarks[k] if res.pose_world_landmarks else None
            kp, depth, wl = _landmarks_to_arrays(landmarks, world, w, h)
            mask = masks[k].numpy_view() if k < len(masks) else None
            if mask is not None and mask.ndim == 3:
                mask = mask[..., 0]
            people.append(FrameResult(True, kp, depth, wl, mask))
        return people

    def close(self) -> None:
        if getattr(self, "_landmarker", None) is not None:
            self._landmarker.close()
            self._landmarker = None


def make_backend(
    backend: str = "legacy",
    model: str | os.PathLike | None = None,
    segmentation: bool = True,
    num_poses: int = 1,
) -> PoseBackend:
    """Construct a backend by name (``legacy`` or ``tasks``; ``num_poses`` > 1 needs ``tasks``)."""
    if backend == "legacy":
        if num_poses != 1:
            raise ValueError("the legacy backend follows one person (num_poses=1); use the tasks backend")
        return LegacyBackend(segmentation=segmentation)
    if backend == "tasks":
        return TasksBackend(model, segmentation=segmentation, num_poses=num_poses)
    raise ValueError(f"unknown backend {backend!r} (expected legacy or tasks)")
