"""Pose + silhouette extraction: one video → :class:`~gaitpose.io.Sequence`, and the batch runner.

:func:`extract_video` decodes a video in a reader thread (bounded queue) while MediaPipe runs,
turns each frame's landmarks into pixel keypoints / depth / world landmarks, and the
segmentation mask into an OpenGait-normalised silhouette of the person under the pose.

:func:`run_batch` is ``gaitpose extract``: inputs → ``OUT/<name>.npz`` + ``OUT/manifest.csv``,
with resume, ``-j N`` worker processes, progress bars, clean Ctrl-C, and atomic writes.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import multiprocessing as mp
import os
import platform
import queue
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable
from collections.abc import Sequence as Seq
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from gaitpose.io.atomic import atomic_path, atomic_write_text
from gaitpose.io.sequence import Sequence, SequenceFormatError, load_sequence, save_sequence
from gaitpose.io.video import VideoError, VideoReader, find_videos
from gaitpose.pose.backends import (
    MODEL_HINT,
    NUM_JOINTS,
    PoseBackend,
    make_backend,
    native_stderr_silenced,
    quiet_mediapipe_env,
)
from gaitpose.pose.silhouette import SIZE

MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = ("name", "input", "status", "frames", "detected_fraction", "seconds", "error")


class ExtractError(Exception):
    """Extraction of one video failed; ``str(exc)`` is the user-facing reason."""


# ---------------------------------------------------------------------------------------- one video
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


def extract_video(
    path: str | os.PathLike,
    backend: str = "legacy",
    silhouettes: bool = True,
    model: str | os.PathLike | None = None,
    progress: bool | Callable[[int, int], None] = False,
    fps: float | None = None,
    overlay: str | os.PathLike | None = None,
    max_frames: int | None = None,
    quiet: bool = True,
) -> Sequence:
    """Pose keypoints (and silhouettes) of every frame of one video.

    Args:
        path: video file.
        backend: ``"legacy"`` (mediapipe.solutions.pose, model_complexity 1) or ``"tasks"``
            (PoseLandmarker VIDEO mode; needs ``model``).
        silhouettes: also compute silhouettes from the segmentation mask (segmentation off if False).
        model: ``.task`` bundle for the tasks backend.
        progress: True for progress output (:mod:`gaitpose.progress`: a bar on a terminal, a few
            lines in a log), or a callback ``f(frames_done, frames_total)``.
        fps: override the container's frame rate (required when it reports 0).
        overlay: if given, also write an overlay video there (atomically).
        max_frames: stop after this many frames (for quick checks; the length check is skipped).
        quiet: silence native logging (MediaPipe, TFLite, FFmpeg) on stderr while running;
            Python's own stderr output (progress bars) still shows.

    Returns:
        :class:`Sequence` with keypoints [T, 33, 3] (px, visibility; NaN where not detected),
        depth [T, 33], world [T, 33, 3], silhouettes uint8 [T, 64, 64] (if requested),
        detected [T], frame_index [T].

    Raises:
        ExtractError: with the reason (unreadable video, fps reported as 0, truncated, no frames,
            no person detected, ...).
        ValueError: bad arguments (unknown backend, tasks backend without a model).
    """
    with native_stderr_silenced(quiet):
        return _extract_video(path, backend, silhouettes, model, progress, fps, overlay, max_frames, quiet)


def _extract_video(
    path: str | os.PathLike,
    backend: str = "legacy",
    silhouettes: bool = True,
    model: str | os.PathLike | None = None,
    progress: bool | Callable[[int, int], None] = False,
    fps: float | None = None,
    overlay: str | os.PathLike | None = None,
    max_frames: int | None = None,
    quiet: bool = True,
) -> Sequence:
    """See :func:`extract_video` (runs with native stderr already silenced)."""
    path = Path(path)
    if backend == "tasks" and model is None:
        raise ValueError(MODEL_HINT)
    if backend not in ("legacy", "tasks"):
        raise ValueError(f"unknown backend {backend!r} (expected legacy or tasks)")
    try:
        with native_stderr_silenced(quiet):  # FFmpeg may complain about a bad file
            reader = VideoReader(path, fps=fps, strict_length=max_frames is None)
    except VideoError as exc:
        raise ExtractError(str(exc)) from None
    height, width = reader.size
    total = reader.frame_count
    if max_frames is not None:
        total = min(total, max_frames) if total else max_frames
    callback: Callable[[int, int], None] | None = None
    bar = None
    if callable(progress):
        callback = progress
    elif progress:
        from gaitpose.progress import Progress

        bar = Progress(total or None, path.name, "frame")
        callback = lambda done, _total: bar.update(done - bar.n)  # noqa: E731

    kps: list[np.ndarray] = []
    depths: list[np.ndarray] = []
    worlds: list[np.ndarray] = []
    sils: list[np.ndarray] = []
    detected: list[bool] = []
    indices: list[int] = []
    step_ms = 1000.0 / reader.fps
    overlay_ctx = atomic_path(overlay, suffix=".mp4") if overlay is not None else contextlib.nullcontext()
    writer = None
    t0 = time.perf_counter()
    try:
        with native_stderr_silenced(quiet), overlay_ctx as overlay_tmp:
            if quiet:
                quiet_mediapipe_env()
            reader.start()  # decode the first frames while the graph loads
            try:
                be: PoseBackend = make_backend(backend, model, segmentation=silhouettes or overlay is not None)
            except BaseException:
                reader.close()
                raise
            try:
                if overlay is not None:
                    from gaitpose.pose.overlay import OverlayWriter

                    writer = OverlayWriter(overlay_tmp, reader.fps, (height, width))
                from gaitpose.pose.person_mask import silhouette_from_mask

                try:
                    for i, frame in reader:
                        res = be.process(frame, int(round(i * step_ms)))
                        kps.append(res.keypoints)
                        depths.append(res.depth)
                        worlds.append(res.world)
                        detected.append(res.detected)
                        indices.append(i)
                        person = None
                        if silhouettes or writer is not None:
                            sil, person = silhouette_from_mask(res.mask, res.keypoints if res.detected else None)
                            if silhouettes:
                                sils.append(sil)
                        if writer is not None:
                            import cv2

                            from gaitpose.pose.overlay import draw_pose

                            bgr = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
                            draw_pose(bgr, res.keypoints if res.detected else None, person)
                            writer.write(bgr)
                        if callback is not None:
                            callback(len(indices), total)
                        if max_frames is not None and len(indices) >= max_frames:
                            break
                except VideoError as exc:
                    raise ExtractError(str(exc)) from None
            finally:
                reader.close()  # stops the decoding thread if the loop ended early
                be.close()
                if writer is not None:
                    writer.close()
            if not indices:
                raise ExtractError("no frames")
            if not any(detected):
                raise ExtractError("no person detected")
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - t0
    meta: dict[str, Any] = {
        "source": str(path.resolve()),
        "backend": backend,
        "model": be.model_description,
        "versions": _versions(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "fps_reported": reader.reported_fps,
        "fps_override": fps is not None,
        "frame_count_reported": reader.frame_count,
        "silhouettes": bool(silhouettes),
        "extract_seconds": round(seconds, 3),
    }
    return Sequence(
        keypoints=np.stack(kps),
        fps=reader.fps,
        image_size=(height, width),
        layout="mediapipe33",
        detected=np.asarray(detected, bool),
        frame_index=np.asarray(indices, np.int32),
        depth=np.stack(depths),
        world=np.stack(worlds),
        silhouettes=np.stack(sils) if silhouettes else None,
        meta=meta,
    )


# ------------------------------------------------------------------------------------------ batches
@dataclass
class Job:
    """One input video of a batch."""

    name: str
    input: Path
    output: Path
    overlay: Path | None = None


@dataclass
class JobResult:
    """One manifest row."""

    name: str
    input: str
    status: str  # ok | failed | skipped
    frames: int = 0
    detected_fraction: float = float("nan")
    seconds: float = 0.0
    error: str = ""

    def row(self) -> dict[str, str]:
        d = asdict(self)
        d["detected_fraction"] = "" if not math.isfinite(self.detected_fraction) else f"{self.detected_fraction:.4f}"
        d["seconds"] = f"{self.seconds:.2f}"
        return {k: str(d[k]) for k in MANIFEST_COLUMNS}


@dataclass
class Settings:
    """Options shared by all jobs of a batch (picklable, sent to workers)."""

    backend: str = "legacy"
    model: str | None = None
    silhouettes: bool = True
    fps: float | None = None
    quiet: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def collect_inputs(inputs: Iterable[str | os.PathLike], exclude: str | os.PathLike | None = None):
    """Expand files and folders (recursive) into video paths.

    Args:
        inputs: files and folders. Files named explicitly are used whatever their extension.
        exclude: a folder whose contents are never collected from folders (the output folder).

    Returns:
        (videos: list[Path] in input order, the same path given twice kept once; missing: list[Path] that do not exist)
    """
    seen: set[Path] = set()
    videos: list[Path] = []
    missing: list[Path] = []
    excl = Path(exclude).resolve() if exclude is not None else None
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found = find_videos(p)
            if excl is not None:
                found = [f for f in found if excl not in f.resolve().parents]
        elif p.exists():
            found = [p]
        else:
            missing.append(p)
            continue
        for f in found:
            key = Path(os.path.abspath(f))  # symlinks are distinct inputs (not resolved)
            if key not in seen:
                seen.add(key)
                videos.append(f)
    return videos, missing


_UNSAFE = re.compile(r"[\x00-\x1f/\\]")


def _clean(name: str) -> str:
    return _UNSAFE.sub("_", name).strip() or "video"


def assign_names(paths: Seq[Path]) -> list[str]:
    """Output names (no extension) for input videos, unique and deterministic.

    A video's name is its stem. Videos sharing a stem are told apart by their path relative to
    the deepest folder they share (``a/walk.mp4``, ``b/walk.mp4`` → ``a__walk``, ``b__walk``),
    and by their extension when they share a folder (``walk.mp4``, ``walk.avi`` →
    ``walk_mp4``, ``walk_avi``). Any remaining clash gets ``-2``, ``-3``... in sorted path order.
    Names are case-insensitively unique (safe on case-insensitive file systems).
    """
    resolved = [Path(os.path.abspath(p)) for p in paths]
    stems = [_clean(p.stem) for p in resolved]
    names = list(stems)
    groups: dict[str, list[int]] = {}
    for i, s in enumerate(stems):
        groups.setdefault(s.lower(), []).append(i)
    for members in groups.values():
        if len(members) < 2:
            continue
        parents = [resolved[i].parent for i in members]
        common = Path(os.path.commonpath([str(p) for p in parents]))
        for i in members:
            rel = resolved[i].parent.relative_to(common).parts
            names[i] = "__".join(_clean(x) for x in (*rel, stems[i]))
        sub: dict[str, list[int]] = {}
        for i in members:
            sub.setdefault(names[i].lower(), []).append(i)
        for same in sub.values():
            if len(same) > 1:
                for i in same:
                    names[i] = f"{names[i]}_{_clean(resolved[i].suffix.lstrip('.').lower()) or 'noext'}"
    # Final guarantee of uniqueness (e.g. a literal file called a__walk.mp4, or WALK.mp4 and walk.mp4).
    taken: set[str] = set()
    order = sorted(range(len(names)), key=lambda i: (names[i].lower(), str(resolved[i])))
    final = list(names)
    for i in order:
        base, n, cand = names[i], 1, names[i]
        while cand.lower() in taken:
            n += 1
            cand = f"{base}-{n}"
        taken.add(cand.lower())
        final[i] = cand
    return final


def _is_done(job: Job) -> Sequence | None:
    """The existing output when it is complete (and the overlay exists if wanted), else None."""
    if not job.output.is_file():
        return None
    if job.overlay is not None and not job.overlay.is_file():
        return None
    try:
        return load_sequence(job.output)
    except SequenceFormatError:
        return None


def run_job(job: Job, settings: Settings, progress: Callable[[int, int], None] | bool = False) -> JobResult:
    """Extract one job and save its Sequence atomically; failures become a ``failed`` result."""
    t0 = time.perf_counter()
    try:
        seq = extract_video(
            job.input,
            backend=settings.backend,
            silhouettes=settings.silhouettes,
            model=settings.model,
            progress=progress,
            fps=settings.fps,
            overlay=job.overlay,
            quiet=settings.quiet,
        )
        save_sequence(job.output, seq)
    except (ExtractError, VideoError) as exc:
        return JobResult(job.name, str(job.input), "failed", seconds=time.perf_counter() - t0, error=str(exc))
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # an unexpected failure of one video must not stop the batch
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return JobResult(job.name, str(job.input), "failed", seconds=time.perf_counter() - t0,
                         error=f"{type(exc).__name__}: {msg}".rstrip(": "))  # fmt: skip
    return JobResult(job.name, str(job.input), "ok", frames=seq.num_frames,
                     detected_fraction=seq.detected_fraction, seconds=time.perf_counter() - t0)  # fmt: skip


def write_manifest(path: str | os.PathLike, results: Iterable[JobResult]) -> None:
    """Write the manifest CSV atomically."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(MANIFEST_COLUMNS), lineterminator="\n")
    w.writeheader()
    for r in results:
        w.writerow(r.row())
    atomic_write_text(path, buf.getvalue())


def read_manifest(path: str | os.PathLike) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _sweep_temps(jobs: Iterable[Job]) -> None:
    """Remove temporary files left by killed workers (``.<name>.npz.*.tmp.npz`` etc.)."""
    for job in jobs:
        for final in (job.output, job.overlay):
            if final is None:
                continue
            for tmp in final.parent.glob(f".{glob_escape(final.name)}.*.tmp*"):
                with contextlib.suppress(OSError):
                    tmp.unlink()


def glob_escape(s: str) -> str:
    import glob

    return glob.escape(s)


# ------------------------------------------------------------------------------------------ workers
def _worker_main(wid: int, settings: Settings, tasks, results) -> None:  # pragma: no cover - subprocess
    """Worker process: take jobs until None, report progress and results on ``results``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and terminates us

    def _term(signum, frame):
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, _term)
    quiet_mediapipe_env()
    if settings.quiet and not os.environ.get("GAITPOSE_VERBOSE"):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    worker_settings = Settings(**{**asdict(settings), "quiet": False})  # fd 2 already silenced
    parent = mp.parent_process()
    while True:
        job = tasks.get()
        if job is None:
            break
        last = [0.0]

        def _progress(done: int, total: int, job=job, last=last) -> None:
            if parent is not None and not parent.is_alive():
                raise SystemExit(1)  # the parent was killed: stop (temporary files are removed)
            now = time.monotonic()
            if now - last[0] > 0.25 or done == total:
                last[0] = now
                results.put(("progress", wid, job.name, done, total))

        results.put(("start", wid, job.name, 0, 0))
        res = run_job(job, worker_settings, progress=_progress)
        results.put(("done", wid, res, 0, 0))


def _mp_context():
    methods = mp.get_all_start_methods()
    return mp.get_context("forkserver" if "forkserver" in methods else "spawn")


# ------------------------------------------------------------------------------------------- batch
class _Bars:
    """Progress (gaitpose.progress): videos overall, and on a terminal one bar per worker slot (frames)."""

    def __init__(self, enabled: bool, total: int, slots: int) -> None:
        from gaitpose.progress import Progress

        self.overall = Progress(total, "videos", "video", enabled=enabled, position=0)
        self.enabled = self.overall.mode == "bar"  # per-frame bars: a terminal only
        self.slots = [
            Progress(0, "", "frame", enabled=self.enabled, inner=True, position=i + 1) for i in range(slots)
        ]

    def start(self, slot: int, name: str, total: int) -> None:
        if self.enabled:
            self.slots[slot].reset(total or None, desc=name[:30])

    def update(self, slot: int, done: int, total: int) -> None:
        if self.enabled:
            bar = self.slots[slot]
            if total and bar.total != total:
                bar.reset(total)
                bar.update(done)
            else:
                bar.update(done - bar.n)

    def finish_one(self) -> None:
        self.overall.update(1)

    def write(self, line: str) -> None:
        self.overall.write(line)

    def close(self) -> None:
        for bar in self.slots:
            bar.close()
        self.overall.close()


def plan_jobs(
    inputs: Iterable[str | os.PathLike], out_dir: str | os.PathLike, overlay: bool = False
) -> tuple[list[Job], list[Path]]:
    """Jobs for the inputs (names assigned) and the inputs that do not exist."""
    out = Path(out_dir)
    videos, missing = collect_inputs(inputs, exclude=out)
    names = assign_names(videos)
    jobs = [
        Job(name, v, out / f"{name}.npz", (out / f"{name}.overlay.mp4") if overlay else None)
        for name, v in zip(names, videos)
    ]
    return jobs, missing


def run_batch(
    inputs: Iterable[str | os.PathLike],
    out_dir: str | os.PathLike,
    jobs: int = 1,
    backend: str = "legacy",
    model: str | os.PathLike | None = None,
    silhouettes: bool = True,
    overlay: bool = False,
    force: bool = False,
    fps: float | None = None,
    progress: bool = True,
    prog: str = "gaitpose extract",
) -> list[JobResult]:
    """Extract many videos into ``out_dir`` (``<name>.npz`` each + ``manifest.csv``).

    Args:
        inputs: video files and folders (searched recursively).
        out_dir: output folder (created).
        jobs: worker processes (1: in this process).
        backend, model, silhouettes, fps: see :func:`extract_video`.
        overlay: also write ``<name>.overlay.mp4``.
        force: redo inputs whose output is already complete (otherwise ``skipped``).
        progress: progress of the batch (:mod:`gaitpose.progress`: bars for the videos and their
            frames on a terminal, a few lines in a log).
        prog: prefix of the one-line error messages on stderr.

    Returns:
        One :class:`JobResult` per input (manifest order). On Ctrl-C the manifest of the finished
        inputs is written and KeyboardInterrupt re-raised; no partial output remains.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / MANIFEST_NAME
    planned, missing = plan_jobs(inputs, out, overlay=overlay)
    settings = Settings(backend=backend, model=None if model is None else str(model),
                        silhouettes=silhouettes, fps=fps)  # fmt: skip
    results: dict[str, JobResult] = {}
    order: list[str] = []
    # Native logs (MediaPipe, FFmpeg) are silenced for the whole batch; the bars are created inside so
    # that they write to the real stderr. In a log: a line per tenth of the videos, no frame bars.
    with native_stderr_silenced():
        bars = _Bars(progress, total=len(planned) + len(missing), slots=max(1, min(jobs, len(planned))))
        progress = bars.enabled
        try:
            _batch(planned, missing, out, force, jobs, settings, bars, progress, prog, results, order)
        finally:
            bars.close()
    final = [results[n] for n in order]
    write_manifest(manifest, final)
    return final


def _batch(planned, missing, out: Path, force, jobs, settings, bars, progress, prog, results, order) -> None:
    manifest = out / MANIFEST_NAME

    def record(res: JobResult, key: str | None = None) -> None:
        results[res.name if key is None else key] = res
        if res.status == "failed":
            bars.write(f"{prog}: {res.input}: {res.error}")
        bars.finish_one()
        write_manifest(manifest, [results[n] for n in order if n in results])

    for p in missing:
        key = f"\0missing:{p}"
        order.append(key)
        record(JobResult(p.stem, str(p), "failed", error="no such file or directory"), key)
    todo: list[Job] = []
    for job in planned:
        order.append(job.name)
        done = None if force else _is_done(job)
        if done is not None:
            record(JobResult(job.name, str(job.input), "skipped", frames=done.num_frames,
                             detected_fraction=done.detected_fraction))  # fmt: skip
        else:
            todo.append(job)
    old_term = None
    if threading.current_thread() is threading.main_thread():
        # `kill PID` stops like Ctrl-C: workers terminated, temporary files removed, manifest written.
        old_term = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        if jobs <= 1 or len(todo) <= 1:
            for job in todo:
                bars.start(0, job.name, 0)
                cb = (lambda d, t: bars.update(0, d, t)) if progress else False
                record(run_job(job, settings, progress=cb))
        else:
            _run_pool(todo, settings, min(jobs, len(todo)), bars, record)
    except BaseException:
        _sweep_temps(todo)
        write_manifest(manifest, [results[n] for n in order if n in results])
        raise
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _run_pool(todo: list[Job], settings: Settings, n: int, bars: _Bars, record) -> None:
    ctx = _mp_context()
    tasks = ctx.Queue()
    results = ctx.Queue()
    for job in todo:
        tasks.put(job)
    for _ in range(n):
        tasks.put(None)
    procs = [ctx.Process(target=_worker_main, args=(i, settings, tasks, results), daemon=True) for i in range(n)]
    for p in procs:
        p.start()
    pending = {job.name: job for job in todo}
    holding: dict[int, str] = {}
    try:
        while pending:
            try:
                kind, wid, payload, done, total = results.get(timeout=0.5)
            except queue.Empty:
                dead = [i for i, p in enumerate(procs) if not p.is_alive() and p.exitcode not in (0, None)]
                for i in dead:
                    name = holding.pop(i, None)
                    if name in pending:
                        job = pending.pop(name)
                        record(JobResult(job.name, str(job.input), "failed",
                                         error=f"worker crashed (exit code {procs[i].exitcode})"))  # fmt: skip
                if all(not p.is_alive() for p in procs) and pending:
                    for job in list(pending.values()):
                        record(JobResult(job.name, str(job.input), "failed", error="worker crashed"))
                    pending.clear()
                continue
            if kind == "start":
                holding[wid] = payload
                bars.start(wid, payload, 0)
            elif kind == "progress":
                bars.update(wid, done, total)
            elif kind == "done":
                holding.pop(wid, None)
                pending.pop(payload.name, None)
                record(payload)
        for p in procs:
            p.join(timeout=10)
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():  # pragma: no cover
                p.kill()
                p.join()
        tasks.cancel_join_thread()
        results.cancel_join_thread()
        tasks.close()
        results.close()


__all__ = [
    "ExtractError",
    "Job",
    "JobResult",
    "MANIFEST_COLUMNS",
    "SIZE",
    "NUM_JOINTS",
    "assign_names",
    "collect_inputs",
    "extract_video",
    "plan_jobs",
    "read_manifest",
    "run_batch",
    "run_job",
    "write_manifest",
]
