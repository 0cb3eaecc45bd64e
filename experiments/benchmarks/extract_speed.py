"""Speed of `gaitpose extract` against bare MediaPipe loops, and -j 1 vs -j 2 scaling.

Usage (from the repository root):

    python experiments/benchmarks/extract_speed.py [CLIP] [--rounds 3] [--mode speed|scaling|both]
                                                   [--copies 4] [--frames N]

speed:   in one process, each round runs four things in turn (``--rounds`` times):
         bare-multi  = cv2 read, cvtColor, PoseLandmarker ``detect_for_video`` (tasks API, VIDEO
                       mode, num_poses 4, segmentation masks on, the bundle the default path uses);
         default     = ``gaitpose extract`` with default options (``run_batch(person="walker")``:
                       threaded decode, every person, tracking, choice, left/right swaps,
                       silhouettes, atomic .npz);
         bare-single = cv2 read, cvtColor, ``mediapipe.solutions.pose.Pose.process`` (model_complexity
                       1, smooth_landmarks, segmentation on: the single-person path's settings);
         single      = ``run_batch(person="single")`` (the legacy single-person path).
         Prints frames/s of each and three wall-time ratios (median over rounds):
         default / bare-multi, single / bare-single, and default / single (the multi-person cost).
scaling: ``--copies`` symlinks of the clip in a temp folder, extracted with -j 1 and -j 2
         (worker processes); prints videos/s and the ratio wall(-j 2) / wall(-j 1).

CLIP defaults to $GAITPOSE_SHARED_DATA/walk_outdoor.mp4, else ../shared/data/walk_outdoor.mp4
relative to the repository root.
``--frames N`` cuts the clip to its first N frames first (a temporary copy) for quick runs.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from gaitpose.pose.backends import native_stderr_silenced, quiet_mediapipe_env  # noqa: E402

quiet_mediapipe_env()


def cpu_seconds() -> float:
    """User + system CPU time of this process (all threads)."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def bare_multi_loop(clip: Path, model: Path, num_poses: int) -> tuple[float, int]:
    """Wall seconds and frames of a plain PoseLandmarker loop (graph creation included)."""
    import cv2
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    t0 = time.perf_counter()
    with native_stderr_silenced():
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model)), running_mode=vision.RunningMode.VIDEO,
            num_poses=num_poses, min_pose_detection_confidence=0.5, min_pose_presence_confidence=0.5,
            min_tracking_confidence=0.5, output_segmentation_masks=True)  # fmt: skip
        landmarker = vision.PoseLandmarker.create_from_options(options)
        cap = cv2.VideoCapture(str(clip))
        fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
        n = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            landmarker.detect_for_video(image, int(round(n * 1000 / fps)))
            n += 1
        cap.release()
        landmarker.close()
    return time.perf_counter() - t0, n


def bare_loop(clip: Path) -> tuple[float, int]:
    """Wall seconds and frames of the plain legacy MediaPipe loop (graph creation included)."""
    import cv2
    from mediapipe.python.solutions import pose as mp_pose

    t0 = time.perf_counter()
    with native_stderr_silenced():
        pose = mp_pose.Pose(static_image_mode=False, model_complexity=1, smooth_landmarks=True,
                            enable_segmentation=True, smooth_segmentation=True,
                            min_detection_confidence=0.5, min_tracking_confidence=0.5)  # fmt: skip
        cap = cv2.VideoCapture(str(clip))
        n = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            pose.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            n += 1
        cap.release()
        pose.close()
    return time.perf_counter() - t0, n


def pipeline(clips: list[Path], out: Path, jobs: int = 1, person: str = "walker") -> float:
    from gaitpose.pose.batch import run_batch

    t0 = time.perf_counter()
    results = run_batch(clips, out, jobs=jobs, force=True, progress=False, person=person)
    wall = time.perf_counter() - t0
    bad = [r for r in results if r.status != "ok"]
    if bad:
        raise SystemExit(f"extraction failed: {bad[0].input}: {bad[0].error}")
    return wall


def cut_clip(clip: Path, frames: int, folder: Path) -> Path:
    import cv2

    cap = cv2.VideoCapture(str(clip))
    fps = cap.get(cv2.CAP_PROP_FPS)
    out = folder / f"{clip.stem}_first{frames}.avi"
    writer = None
    for _ in range(frames):
        ok, f = cap.read()
        if not ok:
            break
        if writer is None:
            h, w = f.shape[:2]
            writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
        writer.write(f)
    writer.release()
    return out


def speed(clip: Path, tmp: Path, rounds: int) -> None:
    """The four runs per round and the three ratios (see the module docstring)."""
    from gaitpose.pose.extract import MAX_PEOPLE
    from gaitpose.pose.task_bundle import default_bundle

    model = default_bundle()
    runs = {
        "bare-multi": lambda: bare_multi_loop(clip, model, MAX_PEOPLE)[0],
        "default": lambda: pipeline([clip], tmp / "default", person="walker"),
        "bare-single": lambda: bare_loop(clip)[0],
        "single": lambda: pipeline([clip], tmp / "single", person="single"),
    }
    frames = bare_loop(clip)[1]  # also warms the file cache
    walls: dict[str, list[float]] = {k: [] for k in runs}
    cpus: dict[str, list[float]] = {k: [] for k in runs}
    for r in range(rounds):
        line = []
        for name, run in runs.items():
            c0 = cpu_seconds()
            wall = run()
            walls[name].append(wall)
            cpus[name].append(cpu_seconds() - c0)
            line.append(f"{name} {frames / wall:6.2f} f/s ({wall:.1f} s, cpu {cpus[name][-1]:.1f} s)")
        print(f"round {r + 1} (load {os.getloadavg()[0]:.1f}): " + "   ".join(line), flush=True)
    med = {k: statistics.median(v) for k, v in walls.items()}
    per_round = {
        (a, b): statistics.median(x / y for x, y in zip(walls[a], walls[b]))
        for a, b in (("default", "bare-multi"), ("single", "bare-single"), ("default", "single"))
    }
    print(f"speed ({frames} frames, median of {rounds} rounds): "
          + ", ".join(f"{k} {frames / v:.2f} frames/s" for k, v in med.items()))  # fmt: skip
    for (a, b), ratio in per_round.items():
        cpu = statistics.median(cpus[a]) / statistics.median(cpus[b])
        print(f"ratio {a} / {b}: wall {med[a] / med[b]:.3f} (median per-round ratio {ratio:.3f}); cpu {cpu:.3f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    shared = Path(os.environ.get("GAITPOSE_SHARED_DATA", ROOT.parent / "shared" / "data"))
    ap.add_argument("clip", nargs="?", default=str(shared / "walk_outdoor.mp4"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--mode", choices=("speed", "scaling", "both"), default="both")
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--frames", type=int, default=None, help="use only the first N frames")
    args = ap.parse_args()
    clip = Path(args.clip)
    if not clip.is_file():
        print(f"extract_speed: {clip}: no such file", file=sys.stderr)
        return 1
    print(f"clip {clip}  cpus {os.cpu_count()}  load {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.frames:
            clip = cut_clip(clip, args.frames, tmp)
        if args.mode in ("speed", "both"):
            speed(clip, tmp, args.rounds)
        if args.mode in ("scaling", "both"):
            links = tmp / "copies"
            links.mkdir()
            copies = []
            for i in range(args.copies):
                link = links / f"copy{i:02d}{clip.suffix}"
                link.symlink_to(clip.resolve())
                copies.append(link)
            w1 = pipeline(copies, tmp / "j1", jobs=1)
            w2 = pipeline(copies, tmp / "j2", jobs=2)
            n = len(copies)
            print(f"scaling ({n} videos): -j 1 {n / w1:.3f} videos/s ({w1:.1f} s), "
                  f"-j 2 {n / w2:.3f} videos/s ({w2:.1f} s), ratio wall -j2/-j1 {w2 / w1:.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
