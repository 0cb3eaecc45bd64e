"""One video → :class:`~gaitpose.io.Sequence`: pose of the chosen person, silhouettes, meta.

Steps: decode frames in a reader thread while MediaPipe runs (:func:`detect_frames`); follow
every person (:mod:`gaitpose.pose.tracking`) and choose the subject
(:mod:`gaitpose.pose.person_choice`); fix left/right label swaps (:mod:`gaitpose.pose.lr_swaps`);
build the Sequence; optionally draw the overlay video (a second pass over the frames).

``person="single"`` is the single-person legacy path: MediaPipe's own choice (``num_poses=1``),
no tracking. Every other rule detects up to ``max_people`` people per frame with the
PoseLandmarker (tasks API, the bundle built offline from the mediapipe wheel by default).
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gaitpose.io.atomic import atomic_path
from gaitpose.io.sequence import Sequence
from gaitpose.io.video import VideoError, VideoReader
from gaitpose.pose.backends import (
    MODEL_HINT,
    FrameResult,
    make_backend,
    native_stderr_silenced,
    quiet_mediapipe_env,
)
from gaitpose.pose.lr_swaps import apply_swaps, find_swaps
from gaitpose.pose.person_choice import RULES, NoPersonThere, PointPick, choose_at, choose_by_rule
from gaitpose.pose.person_mask import PersonMask, silhouette_from_mask
from gaitpose.pose.tracking import TrackSummary, drop_duplicates, link_tracks, summarize

PERSON_MODES = (*RULES, "all", "single")
MAX_PEOPLE = 4


class ExtractError(Exception):
    """Extraction of one video failed; ``str(exc)`` is the user-facing reason."""


@dataclass
class Person:
    """One detected person in one frame: the pose, the silhouette, the mask (for the overlay)."""

    pose: FrameResult
    silhouette: np.ndarray | None = None
    mask: PersonMask | None = None


@dataclass
class Detections:
    """What the pose model found in a video, frame by frame."""

    people: list[list[Person]]
    frame_index: list[int]
    fps: float
    size: tuple[int, int]
    reported_fps: float
    reported_frames: int
    model: str


@dataclass
class Choice:
    """The chosen person: per frame the detection index (or -1) and the reason, for meta."""

    pick: list[int]
    track: int | None
    rule: str
    reason: str
    tracks: list[TrackSummary] = field(default_factory=list)
    people: int = 1
    labels: dict[tuple[int, int], int] = field(default_factory=dict)  # (frame, detection) → track id


def _versions() -> dict[str, str]:
    import cv2

    from gaitpose import __version__

    out = {"gaitpose": __version__, "numpy": np.__version__, "opencv": cv2.__version__,
           "python": platform.python_version()}  # fmt: skip
    try:
        from importlib.metadata import version

        out["mediapipe"] = version("mediapipe")
    except Exception:  # pragma: no cover
        out["mediapipe"] = "unknown"
    return out


def _progress_callback(progress, name: str, total: int):
    """(callback or None, progress bar or None) for ``progress`` (True: :mod:`gaitpose.progress`; callable: itself)."""
    if callable(progress):
        return progress, None
    if not progress:
        return None, None
    from gaitpose.progress import Progress

    bar = Progress(total or None, name, "frame")
    return (lambda done, _total: bar.update(done - bar.n)), bar


def _open(path: Path, fps: float | None, max_frames: int | None) -> VideoReader:
    try:
        return VideoReader(path, fps=fps, strict_length=max_frames is None)
    except VideoError as exc:
        raise ExtractError(str(exc)) from None


def _frame_people(be, frame: np.ndarray, ts: int, multi: bool, silhouettes: bool, masks: bool) -> list[Person]:
    """Detections of one frame, each with its silhouette (and mask when the overlay needs it)."""
    poses = be.process_all(frame, ts) if multi else [be.process(frame, ts)]
    poses = [p for p in poses if p.detected]
    if multi and len(poses) > 1:
        poses = [poses[k] for k in drop_duplicates([p.keypoints for p in poses])]
    people = []
    for pose in poses:
        sil, pm = silhouette_from_mask(pose.mask, pose.keypoints) if (silhouettes or masks) else (None, None)
        pose.mask = None  # full-frame float masks are not kept
        people.append(Person(pose, sil if silhouettes else None, pm if masks else None))
    return people


def detect_frames(
    path: Path,
    backend: str,
    model: str | os.PathLike | None,
    multi: bool,
    silhouettes: bool,
    masks: bool,
    progress,
    fps: float | None,
    max_frames: int | None,
) -> Detections:
    """Run the pose model over every frame (decoding in a reader thread)."""
    reader = _open(path, fps, max_frames)
    total = reader.frame_count if max_frames is None else min(reader.frame_count or max_frames, max_frames)
    callback, bar = _progress_callback(progress, path.name, total)
    people: list[list[Person]] = []
    indices: list[int] = []
    step_ms = 1000.0 / reader.fps
    reader.start()  # decode the first frames while the graph loads
    try:
        be = make_backend(backend, model, segmentation=silhouettes or masks, num_poses=MAX_PEOPLE if multi else 1)
        try:
            for i, frame in reader:
                people.append(_frame_people(be, frame, int(round(i * step_ms)), multi, silhouettes, masks))
                indices.append(i)
                if callback is not None:
                    callback(len(indices), total)
                if max_frames is not None and len(indices) >= max_frames:
                    break
        finally:
            be.close()
    except VideoError as exc:
        raise ExtractError(str(exc)) from None
    finally:
        reader.close()  # stops the decoding thread if the loop ended early
        if bar is not None:
            bar.close()
    if not indices:
        raise ExtractError("no frames")
    if not any(people):
        raise ExtractError("no person detected")
    return Detections(people, indices, reader.fps, reader.size, reader.reported_fps, reader.frame_count,
                      be.model_description)  # fmt: skip


def _pick_of(track: TrackSummary, det: Detections, tracks_raw: dict[int, dict[int, int]]) -> list[int]:
    where = tracks_raw[track.id]
    return [where.get(t, -1) for t in range(len(det.people))]


def choose_person(det: Detections, person: str, at: PointPick | None) -> list[Choice]:
    """The chosen person(s): one :class:`Choice`, or one per track for ``person="all"``."""
    if person == "single":
        return [Choice([0 if frame else -1 for frame in det.people], None, "single", "MediaPipe's own choice (num_poses=1)")]
    kps = [[p.pose.keypoints for p in frame] for frame in det.people]
    raw = link_tracks(kps)
    tracks_raw = {t.id: dict(zip(t.frames, t.detections)) for t in raw}
    summaries = [summarize(t, kps) for t in raw]
    min_frames = max(5, round(0.05 * len(kps)))
    tracks = [s for s in summaries if s.frames >= min_frames] or summaries
    labels = {(t, k): s.id for s in tracks for t, k in tracks_raw[s.id].items()}

    def chosen(track: TrackSummary, rule: str, reason: str) -> Choice:
        return Choice(_pick_of(track, det, tracks_raw), track.id, rule, reason, tracks, len(tracks), labels)

    if at is not None:
        try:
            best, reason = choose_at(summaries, at, np.asarray(det.frame_index))
        except NoPersonThere as exc:
            raise ExtractError(str(exc)) from None
        return [chosen(best, "at", reason)]
    if person == "all":
        return [chosen(t, "all", f"all: track {t.id}") for t in tracks]
    best, reason = choose_by_rule(tracks, person, len(kps))
    return [chosen(best, person, reason)]


def _chosen_arrays(det: Detections, pick: list[int], silhouettes: bool) -> dict[str, np.ndarray | None]:
    empty = FrameResult.empty()
    poses = [det.people[t][k].pose if k >= 0 else empty for t, k in enumerate(pick)]
    out: dict[str, np.ndarray | None] = {
        "keypoints": np.stack([p.keypoints for p in poses]),
        "depth": np.stack([p.depth for p in poses]),
        "world": np.stack([p.world for p in poses]),
        "detected": np.array([k >= 0 for k in pick], bool),
        "silhouettes": None,
    }
    if silhouettes:
        blank = np.zeros((64, 64), np.uint8)
        out["silhouettes"] = np.stack([det.people[t][k].silhouette if k >= 0 else blank for t, k in enumerate(pick)])
    return out


def _person_meta(choice: Choice) -> dict[str, Any]:
    meta: dict[str, Any] = {"rule": choice.rule, "reason": choice.reason}
    if choice.track is not None:
        meta.update(track=choice.track, people=choice.people, tracks=[t.meta() for t in choice.tracks])
    return meta


def build_sequence(det: Detections, choice: Choice, path: Path, backend: str, silhouettes: bool,
                   fps_override: bool) -> Sequence:  # fmt: skip
    """The chosen person's Sequence, left/right swaps corrected, with meta."""
    arrays = _chosen_arrays(det, choice.pick, silhouettes)
    if not arrays["detected"].any():
        raise ExtractError("no person detected")
    swaps = find_swaps(arrays["keypoints"], arrays["detected"])
    fixed = apply_swaps({k: arrays[k] for k in ("keypoints", "depth", "world")}, swaps)
    meta: dict[str, Any] = {
        "source": str(path.resolve()),
        "backend": backend,
        "model": det.model,
        "versions": _versions(),
        "fps_reported": det.reported_fps,
        "fps_override": fps_override,
        "frame_count_reported": det.reported_frames,
        "silhouettes": bool(silhouettes),
        "person": _person_meta(choice),
        "lr_swaps": swaps.events,
        "lr_swapped_frames": swaps.frames,
    }
    return Sequence(
        keypoints=fixed["keypoints"],
        fps=det.fps,
        image_size=det.size,
        layout="mediapipe33",
        detected=arrays["detected"],
        frame_index=np.asarray(det.frame_index, np.int32),
        depth=fixed["depth"],
        world=fixed["world"],
        silhouettes=arrays["silhouettes"],
        meta=meta,
    )


def write_overlay(out: Path, path: Path, det: Detections, choice: Choice, fps: float | None) -> None:
    """Second pass over the frames: the chosen person in colour, the others grey with track numbers."""
    from gaitpose.pose.overlay import OverlayWriter, draw_frame

    reader = _open(path, fps, len(det.people))
    with atomic_path(out, suffix=".mp4") as tmp:
        writer = OverlayWriter(tmp, det.fps, det.size)
        try:
            for t, (_, frame) in enumerate(reader):
                if t >= len(det.people):
                    break
                others = [(p.pose.keypoints, choice.labels.get((t, k))) for k, p in enumerate(det.people[t]) if k != choice.pick[t]]
                chosen = det.people[t][choice.pick[t]] if choice.pick[t] >= 0 else None
                writer.write(draw_frame(frame, chosen and chosen.pose.keypoints, chosen and chosen.mask, others,
                                        choice.track))  # fmt: skip
        finally:
            writer.close()
            reader.close()


def _check_args(person: str, backend: str | None, model) -> tuple[str, str | os.PathLike | None]:
    """The backend and model to use for ``person``; ValueError for impossible combinations."""
    if person not in PERSON_MODES:
        raise ValueError(f"unknown person rule {person!r} (expected one of {', '.join(PERSON_MODES)})")
    if backend not in (None, "legacy", "tasks"):
        raise ValueError(f"unknown backend {backend!r} (expected legacy or tasks)")
    if person == "single":
        backend = backend or "legacy"
        if backend == "tasks" and model is None:
            raise ValueError(MODEL_HINT)
        return backend, model
    if backend == "legacy":
        raise ValueError("the legacy backend follows one person: use --person single, or the tasks backend")
    if model is None:
        from gaitpose.pose.task_bundle import default_bundle

        model = default_bundle()
    return "tasks", model


def extract_people(
    path: str | os.PathLike,
    person: str = "walker",
    person_at: PointPick | None = None,
    backend: str | None = None,
    silhouettes: bool = True,
    model: str | os.PathLike | None = None,
    progress: bool | Callable[[int, int], None] = False,
    fps: float | None = None,
    overlay: str | os.PathLike | None = None,
    max_frames: int | None = None,
    quiet: bool = True,
) -> list[Sequence]:
    """Sequences of the chosen person (one), or of every tracked person (``person="all"``).

    Args:
        path: video file.
        person: ``walker`` (default), ``largest``, ``longest``, ``first``, ``all`` or ``single``
            (see :mod:`gaitpose.pose.person_choice`; ``single`` = MediaPipe's own single-person choice).
        person_at: choose the person under this image point instead of by rule.
        backend: ``legacy`` or ``tasks`` for ``person="single"`` (default legacy); the other
            rules always use ``tasks`` (PoseLandmarker, ``num_poses`` = 4).
        silhouettes: also compute silhouettes (segmentation off if False and no overlay).
        model: ``.task`` bundle (default for the multi-person rules: built offline from the wheel).
        progress: True for progress output (:mod:`gaitpose.progress`: a bar on a terminal, a few lines in a log), or a callback ``f(frames_done, frames_total)``.
        fps: override the container's frame rate (required when it reports 0).
        overlay: also write an overlay video there (atomically; with ``all``: the first track's).
        max_frames: stop after this many frames (quick checks; the length check is skipped).
        quiet: silence native logging (MediaPipe, TFLite, FFmpeg) on stderr while running.

    Returns:
        Sequences with keypoints [T, 33, 3] (px, visibility; NaN where the person is not
        detected), depth [T, 33], world [T, 33, 3], silhouettes uint8 [T, 64, 64], detected [T],
        frame_index [T]; meta records the people seen, the tracks, the choice and ``lr_swaps``.

    Raises:
        ExtractError: with the reason (unreadable video, fps reported as 0, truncated, no frames,
            no person detected, nobody at ``person_at``).
        ValueError: bad arguments (unknown rule or backend, legacy backend with a multi-person rule).
    """
    path = Path(path)
    if person == "single" and person_at is not None:
        raise ValueError("person_at needs the multi-person path (not person='single')")
    backend, model = _check_args(person, backend, model)
    with native_stderr_silenced(quiet):
        if quiet:
            quiet_mediapipe_env()
        det = detect_frames(path, backend, model, person != "single", silhouettes,
                            overlay is not None, progress, fps, max_frames)  # fmt: skip
        choices = choose_person(det, person, person_at)
        seqs = [build_sequence(det, c, path, backend, silhouettes, fps is not None) for c in choices]
        if overlay is not None:
            write_overlay(Path(overlay), path, det, choices[0], fps)
    return seqs


def extract_video(path: str | os.PathLike, person: str = "walker", **kwargs: Any) -> Sequence:
    """The chosen person's :class:`Sequence` of one video; see :func:`extract_people` for the arguments.

    ``person="all"`` is not allowed here (use :func:`extract_people`).
    """
    if person == "all":
        raise ValueError("person='all' gives several sequences: use extract_people")
    return extract_people(path, person=person, **kwargs)[0]
