"""Speed of `gaitpose extract` against a bare MediaPipe loop, and -j 1 vs -j 2 scaling.

Usage (from the repository root):

    python experiments/benchmarks/extract_speed.py [CLIP] [--rounds 3] [--mode speed|scaling|both]
                                                   [--copies 4] [--frames N]

speed:   in one process, alternating A B A B ... (``--rounds`` times): A = a bare loop
         (cv2 read, cvtColor, ``mediapipe.solutions.pose.Pose.process`` with the pipeline's settings:
         model_complexity 1, smooth_landmarks, segmentation on), B = the extraction pipeline with
         one worker (``run_batch(jobs=1)``: threaded decode, keypoints, silhouettes, atomic .npz).
         Prints frames/s of each and the ratio pipeline wall / bare wall (median over rounds).
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


def bare_loop(clip: Path) -> tuple[float, int]:
    """Wall seconds and frames of the plain MediaPipe loop (graph creation included)."""
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


def pipeline(clips: list[Path], out: Path, jobs: int = 1) -> float:
    from gaitpose.pose.extract import run_batch

    t0 = time.perf_counter()
    results = run_batch(clips, out, jobs=jobs, force=True, progress=False)
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
            bare, pipe, cpu_a, cpu_b = [], [], [], []
            frames = 0
            for r in range(args.rounds):
                c0 = cpu_seconds()
                wall_a, frames = bare_loop(clip)
                c1 = cpu_seconds()
                wall_b = pipeline([clip], tmp / "speed", jobs=1)
                c2 = cpu_seconds()
                bare.append(wall_a)
                pipe.append(wall_b)
                cpu_a.append(c1 - c0)
                cpu_b.append(c2 - c1)
                print(f"round {r + 1}: bare {frames / wall_a:6.2f} frames/s ({wall_a:.2f} s, cpu {c1 - c0:.2f} s)   "
                      f"pipeline -j 1 {frames / wall_b:6.2f} frames/s ({wall_b:.2f} s, cpu {c2 - c1:.2f} s)   "
                      f"ratio {wall_b / wall_a:.3f}", flush=True)  # fmt: skip
            ma, mb = statistics.median(bare), statistics.median(pipe)
            ratios = statistics.median(b / a for a, b in zip(bare, pipe))
            print(f"speed ({frames} frames, median of {args.rounds}): bare {frames / ma:.2f} frames/s, "
                  f"pipeline {frames / mb:.2f} frames/s, ratio pipeline/bare wall {mb / ma:.3f} "
                  f"(median of per-round ratios {ratios:.3f}); CPU seconds bare {statistics.median(cpu_a):.2f}, "
                  f"pipeline {statistics.median(cpu_b):.2f}, ratio {statistics.median(cpu_b) / statistics.median(cpu_a):.3f}")  # fmt: skip
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
