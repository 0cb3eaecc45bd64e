"""``gaitpose extract`` on many videos: jobs, names, shards, manifest, worker pool, signals, progress.

:func:`run_batch`: inputs → ``OUT/<name>.npz`` (``OUT/<name>.p<k>.npz`` per person with
``person="all"``) + ``OUT/manifest.csv``, with resume, ``-j N`` worker processes, progress bars,
clean Ctrl-C and atomic writes. ``shard=(I, N)`` extracts a stable share of the sorted inputs and
writes ``OUT/manifest.shard-I-of-N.csv``; :func:`merge_manifests` joins the shards' manifests.
One video is :func:`gaitpose.pose.extract.extract_people`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import multiprocessing as mp
import os
import queue
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable
from collections.abc import Sequence as Seq
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gaitpose.io.atomic import atomic_write_text
from gaitpose.io.sequence import Sequence, SequenceFormatError, load_sequence, save_sequence
from gaitpose.io.shards import take_shard
from gaitpose.io.video import VideoError, find_videos
from gaitpose.pose.backends import native_stderr_silenced, quiet_mediapipe_env
from gaitpose.pose.extract import ExtractError, extract_people
from gaitpose.pose.person_choice import PointPick

MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = ("name", "input", "status", "frames", "detected_fraction", "seconds", "people", "person",
                    "track", "lr_swaps", "error")  # fmt: skip
_SHARD_MANIFEST = re.compile(r"^manifest\.shard-(\d+)-of-(\d+)\.csv$")


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
    people: str = ""
    person: str = ""
    track: str = ""
    lr_swaps: str = ""
    error: str = ""

    def row(self) -> dict[str, str]:
        d = asdict(self)
        d["detected_fraction"] = "" if not math.isfinite(self.detected_fraction) else f"{self.detected_fraction:.4f}"
        d["seconds"] = f"{self.seconds:.2f}"
        return {k: str(d[k]) for k in MANIFEST_COLUMNS}


@dataclass
class Settings:
    """Options shared by all jobs of a batch (picklable, sent to workers)."""

    backend: str | None = None
    person: str = "walker"
    person_at: PointPick | None = None
    model: str | None = None
    silhouettes: bool = True
    fps: float | None = None
    quiet: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def collect_inputs(inputs: Iterable[str | os.PathLike], exclude: str | os.PathLike | None = None,
                   find: Callable[[Path], list[Path]] = find_videos):
    """Expand files and folders (recursive) into video paths.

    Args:
        inputs: files and folders. Files named explicitly are used whatever their extension.
        exclude: a folder whose contents are never collected from folders (the output folder).
        find: the files of a folder to take (default: its videos).

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
            found = find(p)
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


def outputs_of(job: Job, person: str) -> list[Path]:
    """The existing ``.npz`` outputs of a job (``<name>.p<k>.npz`` files for ``person="all"``)."""
    if person != "all":
        return [job.output] if job.output.is_file() else []
    found = job.output.parent.glob(f"{glob_escape(job.name)}.p*.npz")
    return sorted(p for p in found if re.fullmatch(rf"{re.escape(job.name)}\.p\d+\.npz", p.name))


def _is_done(job: Job, person: str) -> list[Sequence] | None:
    """The existing outputs when complete (and the overlay exists if wanted), else None."""
    paths = outputs_of(job, person)
    if not paths or (job.overlay is not None and not job.overlay.is_file()):
        return None
    try:
        return [load_sequence(p) for p in paths]
    except SequenceFormatError:
        return None


def _summary(job: Job, status: str, seqs: list[Sequence], seconds: float = 0.0) -> JobResult:
    """A manifest row from the Sequence(s) of one video."""
    import numpy as np

    detected = np.any([s.detected for s in seqs], axis=0)
    persons = [s.meta.get("person", {}) for s in seqs]
    return JobResult(
        job.name, str(job.input), status, frames=seqs[0].num_frames, detected_fraction=float(detected.mean()),
        seconds=seconds, people=str(persons[0].get("people", "")), person=str(persons[0].get("rule", "")),
        track=";".join(str(p.get("track", "")) for p in persons),
        lr_swaps=";".join(str(s.meta.get("lr_swaps", "")) for s in seqs),
    )  # fmt: skip


def _save(job: Job, seqs: list[Sequence], person: str) -> None:
    if person != "all":
        save_sequence(job.output, seqs[0])
        return
    for seq in seqs:
        save_sequence(job.output.parent / f"{job.name}.p{seq.meta['person']['track']}.npz", seq)


def run_job(job: Job, settings: Settings, progress: Callable[[int, int], None] | bool = False) -> JobResult:
    """Extract one job and save its Sequence(s) atomically; failures become a ``failed`` result."""
    t0 = time.perf_counter()
    try:
        seqs = extract_people(
            job.input,
            person=settings.person,
            person_at=settings.person_at,
            backend=settings.backend,
            silhouettes=settings.silhouettes,
            model=settings.model,
            progress=progress,
            fps=settings.fps,
            overlay=job.overlay,
            quiet=settings.quiet,
        )
        _save(job, seqs, settings.person)
    except (ExtractError, VideoError) as exc:
        return JobResult(job.name, str(job.input), "failed", seconds=time.perf_counter() - t0, error=str(exc))
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # an unexpected failure of one video must not stop the batch
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return JobResult(job.name, str(job.input), "failed", seconds=time.perf_counter() - t0,
                         error=f"{type(exc).__name__}: {msg}".rstrip(": "))  # fmt: skip
    return _summary(job, "ok", seqs, time.perf_counter() - t0)


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
        for tmp in job.output.parent.glob(f".{glob_escape(job.name)}.p*.npz.*.tmp*"):  # person="all"
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


def shard_manifest_name(shard: tuple[int, int] | None) -> str:
    return MANIFEST_NAME if shard is None else f"manifest.shard-{shard[0]}-of-{shard[1]}.csv"


def select_shard(jobs: list[Job], missing: list[Path], shard: tuple[int, int] | None):
    """The share of shard (I, N): every N-th input from the I-th in sorted path order.

    Names are assigned before sharding (over all inputs), so every shard names a video as the
    unsharded run does and the union of the shards' outputs is the unsharded output.
    """
    if shard is None:
        return jobs, missing
    mine = take_shard([(str(j.input), "j", j) for j in jobs] + [(str(m), "m", m) for m in missing], shard,
                      key=lambda x: x[0] + "\0" + x[1])  # fmt: skip
    return [x[2] for x in mine if x[1] == "j"], [x[2] for x in mine if x[1] == "m"]


def plan_jobs(
    inputs: Iterable[str | os.PathLike],
    out_dir: str | os.PathLike,
    overlay: bool = False,
    shard: tuple[int, int] | None = None,
) -> tuple[list[Job], list[Path]]:
    """Jobs for the inputs (names assigned) and the inputs that do not exist (this shard's share)."""
    out = Path(out_dir)
    videos, missing = collect_inputs(inputs, exclude=out)
    names = assign_names(videos)
    jobs = [
        Job(name, v, out / f"{name}.npz", (out / f"{name}.overlay.mp4") if overlay else None)
        for name, v in zip(names, videos)
    ]
    return select_shard(jobs, missing, shard)


def merge_manifests(out_dir: str | os.PathLike) -> tuple[Path, list[dict[str, str]]]:
    """Join ``OUT/manifest.shard-I-of-N.csv`` (all N of them) into ``OUT/manifest.csv``, sorted by input.

    Raises:
        ValueError: no shard manifests, shards of different N, or some shards missing.
    """
    out = Path(out_dir)
    found: dict[int, set[int]] = {}
    for p in out.glob("manifest.shard-*-of-*.csv"):
        m = _SHARD_MANIFEST.match(p.name)
        if m:
            found.setdefault(int(m[2]), set()).add(int(m[1]))
    if not found:
        raise ValueError(f"{out}: no shard manifests (manifest.shard-I-of-N.csv)")
    if len(found) > 1:
        raise ValueError(f"{out}: shard manifests of different shard counts ({sorted(found)})")
    ((n, have),) = found.items()
    lacking = sorted(set(range(n)) - have)
    if lacking:
        raise ValueError(f"{out}: shards {', '.join(map(str, lacking))} of {n} have no manifest yet")
    rows = [r for i in range(n) for r in read_manifest(out / shard_manifest_name((i, n)))]
    rows.sort(key=lambda r: r["input"])
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(MANIFEST_COLUMNS), lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows({k: r.get(k, "") for k in MANIFEST_COLUMNS} for r in rows)
    atomic_write_text(out / MANIFEST_NAME, buf.getvalue())
    return out / MANIFEST_NAME, rows


def run_batch(
    inputs: Iterable[str | os.PathLike],
    out_dir: str | os.PathLike,
    jobs: int = 1,
    person: str = "walker",
    person_at: PointPick | None = None,
    backend: str | None = None,
    model: str | os.PathLike | None = None,
    silhouettes: bool = True,
    overlay: bool = False,
    force: bool = False,
    fps: float | None = None,
    progress: bool = True,
    prog: str = "gaitpose extract",
    shard: tuple[int, int] | None = None,
) -> list[JobResult]:
    """Extract many videos into ``out_dir`` (``<name>.npz`` each + ``manifest.csv``).

    Args:
        inputs: video files and folders (searched recursively).
        out_dir: output folder (created).
        jobs: worker processes (1: in this process).
        person, person_at, backend, model, silhouettes, fps: see :func:`gaitpose.pose.extract.extract_people`.
        overlay: also write ``<name>.overlay.mp4``.
        force: redo inputs whose output is already complete (otherwise ``skipped``).
        progress: progress of the batch (:mod:`gaitpose.progress`: bars for the videos and their
            frames on a terminal, a few lines in a log).
        prog: prefix of the one-line error messages on stderr.
        shard: (I, N): only this shard's share of the inputs; the manifest is
            ``manifest.shard-I-of-N.csv`` (join them with :func:`merge_manifests`).

    Returns:
        One :class:`JobResult` per input (manifest order). On Ctrl-C the manifest of the finished
        inputs is written and KeyboardInterrupt re-raised; no partial output remains.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / shard_manifest_name(shard)
    planned, missing = plan_jobs(inputs, out, overlay=overlay, shard=shard)
    settings = Settings(backend=backend, person=person, person_at=person_at,
                        model=None if model is None else str(model), silhouettes=silhouettes, fps=fps)  # fmt: skip
    if settings.person != "single" and settings.model is None and planned:
        from gaitpose.pose.task_bundle import default_bundle

        settings.model = str(default_bundle())  # built once here, not by every worker
    results: dict[str, JobResult] = {}
    order: list[str] = []
    # Native logs (MediaPipe, FFmpeg) are silenced for the whole batch; the bars are created inside so
    # that they write to the real stderr. In a log: a line per tenth of the videos, no frame bars.
    with native_stderr_silenced():
        bars = _Bars(progress, total=len(planned) + len(missing), slots=max(1, min(jobs, len(planned))))
        progress = bars.enabled
        try:
            _batch(planned, missing, manifest, force, jobs, settings, bars, progress, prog, results, order)
        finally:
            bars.close()
    final = [results[n] for n in order]
    write_manifest(manifest, final)
    return final


def _batch(planned, missing, manifest: Path, force, jobs, settings, bars, progress, prog, results, order) -> None:
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
        done = None if force else _is_done(job, settings.person)
        if done is not None:
            record(_summary(job, "skipped", done))
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
    "Job",
    "JobResult",
    "MANIFEST_COLUMNS",
    "assign_names",
    "collect_inputs",
    "merge_manifests",
    "plan_jobs",
    "read_manifest",
    "run_batch",
    "run_job",
    "write_manifest",
]
