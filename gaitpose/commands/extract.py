"""``gaitpose extract``: videos or folders of videos → Sequence files + manifest."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

DESCRIPTION = """\
Extract MediaPipe pose keypoints (33 landmarks, pixels + visibility, depth, world landmarks in
metres) and OpenGait-normalised silhouettes from videos. Folders are searched recursively for
.mp4 .avi .mov .mkv .webm (any case). Writes OUT/<name>.npz per video and OUT/manifest.csv
(name, input, status ok/failed/skipped, frames, detected_fraction, seconds, error).
Re-running skips finished outputs unless --force. Exit code 1 when any input failed."""


def add_parser(subparsers, name: str, help_: str) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        name, help=help_, description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="video files and/or folders")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output folder")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="worker processes (default 1)")
    p.add_argument("--no-silhouettes", dest="silhouettes", action="store_false",
                   help="skip silhouettes (also turns MediaPipe segmentation off: faster)")  # fmt: skip
    p.add_argument("--backend", choices=("legacy", "tasks"), default="legacy",
                   help="legacy: mediapipe.solutions.pose (default); tasks: PoseLandmarker, needs --model")  # fmt: skip
    p.add_argument("--model", metavar="FILE", help="PoseLandmarker .task bundle for --backend tasks "
                   "(make one offline: gaitpose models build-task -o FILE.task)")  # fmt: skip
    p.add_argument("--fps", type=float, metavar="F", help="frame rate to use when a video reports none (0)")
    p.add_argument("--overlay", action="store_true", help="also write OUT/<name>.overlay.mp4")
    p.add_argument("--force", action="store_true", help="redo inputs whose output already exists")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from gaitpose.cli import UsageError

    if args.jobs < 1:
        raise UsageError("-j/--jobs must be at least 1")
    if args.fps is not None and not (math.isfinite(args.fps) and args.fps > 0):
        raise UsageError(f"--fps must be a positive number, got {args.fps}")
    if args.backend == "tasks":
        if not args.model:
            from gaitpose.pose.backends import MODEL_HINT

            raise UsageError(MODEL_HINT)
        if not Path(args.model).is_file():
            raise UsageError(f"--model {args.model}: no such file (build one with `gaitpose models build-task -o FILE.task`)")
    elif args.model:
        raise UsageError("--model applies to --backend tasks only (the legacy backend uses the model inside mediapipe)")
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UsageError(f"-o {out}: exists and is not a folder")

    from gaitpose.pose.backends import quiet_mediapipe_env

    quiet_mediapipe_env()
    if args.backend == "legacy":
        import importlib.util

        try:
            legacy_ok = importlib.util.find_spec("mediapipe.python.solutions.pose") is not None
        except ModuleNotFoundError:
            legacy_ok = False
        if not legacy_ok:
            raise UsageError(
                "the legacy backend needs mediapipe 0.10.21 (mediapipe.solutions); this installation has "
                "only the Tasks API: use --backend tasks --model FILE.task"
            )
    from gaitpose.pose.extract import plan_jobs, run_batch

    jobs, missing = plan_jobs(args.inputs, out, overlay=args.overlay)
    if not jobs and not missing:
        raise UsageError("no video files found in " + ", ".join(args.inputs))
    results = run_batch(
        args.inputs,
        out,
        jobs=args.jobs,
        backend=args.backend,
        model=args.model,
        silhouettes=args.silhouettes,
        overlay=args.overlay,
        force=args.force,
        fps=args.fps,
        progress=not args.quiet,
    )
    counts = {s: sum(r.status == s for r in results) for s in ("ok", "skipped", "failed")}
    import sys

    print(
        f"gaitpose extract: {counts['ok']} ok, {counts['skipped']} skipped, {counts['failed']} failed "
        f"→ {out / 'manifest.csv'}",
        file=sys.stderr,
    )
    return 1 if counts["failed"] else 0
