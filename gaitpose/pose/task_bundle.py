"""Build a MediaPipe Tasks PoseLandmarker bundle (``.task``) offline from the mediapipe wheel.

mediapipe 0.10.21 ships the legacy graph's two TFLite models
(``modules/pose_detection/pose_detection.tflite`` and
``modules/pose_landmark/pose_landmark_full.tflite``) but no ``.task`` bundle. The Tasks API needs
image-input metadata on each model; we add it with mediapipe's own metadata writer
(detector input normalised to [-1, 1]: mean 127.5, std 127.5; landmark model input to [0, 1]:
mean 0, std 255; one feature output per output tensor) and zip the two models, uncompressed
and aligned, as ``pose_detector.tflite`` and ``pose_landmarks_detector.tflite``.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from gaitpose.io.atomic import atomic_path

DETECTOR = ("pose_detection", "pose_detection.tflite")
LANDMARKER = ("pose_landmark", "pose_landmark_full.tflite")
BUNDLE_NAMES = ("pose_detector.tflite", "pose_landmarks_detector.tflite")


class BundleError(RuntimeError):
    """The bundle cannot be built (e.g. a mediapipe without the bundled models)."""


def wheel_model_paths() -> tuple[Path, Path]:
    """Paths of the detector and landmark TFLite models inside the installed mediapipe."""
    try:
        import mediapipe
    except ImportError as exc:  # pragma: no cover
        raise BundleError(f"mediapipe is not installed ({exc})") from None
    root = Path(mediapipe.__file__).parent / "modules"
    paths = (root / DETECTOR[0] / DETECTOR[1], root / LANDMARKER[0] / LANDMARKER[1])
    for p in paths:
        if not p.is_file():
            raise BundleError(
                f"{p} not found: this mediapipe ({getattr(mediapipe, '__version__', '?')}) does not ship "
                "the pose models; build the bundle with mediapipe==0.10.21 or download "
                "pose_landmarker_full.task from Google's MediaPipe model page"
            )
    return paths


def _with_metadata(model: bytes, name: str, mean: float, std: float) -> bytes:
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer, writer_utils

    buf = bytearray(model)
    n_out = len(writer_utils.get_output_tensor_types(buf))
    writer = metadata_writer.MetadataWriter.create(buf)
    writer.add_general_info(name, "from the mediapipe 0.10.21 wheel, metadata added by gaitpose")
    writer.add_image_input(norm_mean=[mean], norm_std=[std])
    for i in range(n_out):
        writer.add_feature_output(name=f"output_{i}")
    content, _ = writer.populate()
    return bytes(content)


def build_task_bundle(output: str | os.PathLike) -> Path:
    """Write a PoseLandmarker ``.task`` bundle to ``output`` (atomically).

    Returns:
        The output path.

    Raises:
        BundleError: when the wheel's models are missing.
    """
    from gaitpose.pose.backends import quiet_mediapipe_env

    quiet_mediapipe_env()
    det_path, lmk_path = wheel_model_paths()
    det = _with_metadata(det_path.read_bytes(), "pose_detector", 127.5, 127.5)
    lmk = _with_metadata(lmk_path.read_bytes(), "pose_landmarks_detector", 0.0, 255.0)
    from mediapipe.tasks.python.metadata.metadata_writers.model_asset_bundle_utils import (
        create_model_asset_bundle,
    )

    output = Path(output)
    with atomic_path(output, suffix=".task") as tmp:
        create_model_asset_bundle({BUNDLE_NAMES[0]: det, BUNDLE_NAMES[1]: lmk}, str(tmp))
    return output


def bundle_members(path: str | os.PathLike) -> list[str]:
    """Names of the files inside a ``.task`` bundle."""
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


def cache_dir() -> Path:
    """Where gaitpose keeps files it builds itself: ``$GAITPOSE_CACHE``, else ``$XDG_CACHE_HOME/gaitpose``."""
    env = os.environ.get("GAITPOSE_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gaitpose"


def default_bundle() -> Path:
    """The PoseLandmarker bundle for multi-person extraction, built offline on first use.

    It is built from the installed mediapipe wheel (see :func:`build_task_bundle`) into
    :func:`cache_dir` under a name that carries the mediapipe version; nothing is downloaded.

    Raises:
        BundleError: when the wheel's models are missing.
    """
    try:
        from importlib.metadata import version

        mp_version = version("mediapipe")
    except Exception:  # pragma: no cover
        mp_version = "unknown"
    path = cache_dir() / f"pose_landmarker_mediapipe-{mp_version}.task"
    if not path.is_file():
        build_task_bundle(path)
    return path
