"""``gaitpose extract``: videos or folders of videos → Sequence files + manifest."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

DESCRIPTION = """\
Extract MediaPipe pose keypoints (33 landmarks, pixels + visibility, depth, world landmarks in
metres) and OpenGait-normalised silhouettes of one person per video. Folders are searched
recursively for .mp4 .avi .mov .mkv .webm (any case). Writes OUT/<name>.npz per video and
OUT/manifest.csv (name, input, status ok/failed/skipped, frames, detected_fraction, seconds,
people, person, track, lr_swaps, error). Re-running skips finished outputs unless --force.
Exit code 1 when any input failed.

Every person is detected (PoseLandmarker, up to 4 per frame, the model bundle built offline from
the mediapipe wheel on first use) and followed across frames; --person chooses the subject:
  walker   (default) among people seen in >= 25 % of the frames, the one whose hips travel
           farthest relative to their body height
  largest  the largest body; longest: seen in the most frames; first: seen first
  all      everybody, each as OUT/<name>.p<track>.npz
  single   MediaPipe's own single-person tracking (faster; --backend applies)
--person-at X,Y[@FRAME] picks the person under an image point (pixels) instead; --overlay draws
the chosen person in colour and the others in grey with their track numbers.
Left/right label swaps are found and corrected (count in the manifest and meta: lr_swaps).

Clusters: --shard I/N (0 <= I < N) extracts every N-th input of the sorted list from the I-th
and writes OUT/manifest.shard-I-of-N.csv; afterwards `gaitpose extract --merge-manifests OUT`
writes OUT/manifest.csv from all N."""


PERSON_MODES = ("walker", "largest", "longest", "first", "all", "single")


def add_parser(subparsers, name: str, help_: str) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        name, help=help_, description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("inputs", nargs="*", metavar="INPUT", help="video files and/or folders")
    p.add_argument("-o", "--output", metavar="OUT", help="output folder (required unless --merge-manifests)")
    p.add_argument("--person", choices=PERSON_MODES, default="walker",
                   help="which person to analyse (default walker; see above)")  # fmt: skip
    p.add_argument("--person-at", metavar="X,Y[@FRAME]",
                   help="the person under this image point (pixels; in that frame, else in most frames)")  # fmt: skip
    p.add_argument("--shard", metavar="I/N", help="only this share of the sorted inputs (0 <= I < N)")
    p.add_argument("--merge-manifests", metavar="OUT", help="join OUT/manifest.shard-*.csv into OUT/manifest.csv")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="worker processes (default 1)")
    p.add_argument("--no-silhouettes", dest="silhouettes", action="store_false",
                   help="skip silhouettes (also turns MediaPipe segmentation off: faster)")  # fmt: skip
    p.add_argument("--backend", choices=("legacy", "tasks"), default=None,
                   help="with --person single: legacy (mediapipe.solutions.pose, default) or tasks "
                   "(PoseLandmarker, needs --model); the other --person rules use tasks")  # fmt: skip
    p.add_argument("--model", metavar="FILE", help="PoseLandmarker .task bundle (default for the multi-person "
                   "rules: built offline from the mediapipe wheel; make one: gaitpose models build-task -o FILE.task)")  # fmt: skip
    p.add_argument("--fps", type=float, metavar="F", help="frame rate to use when a video reports none (0)")
    p.add_argument("--overlay", action="store_true", help="also write OUT/<name>.overlay.mp4")
    p.add_argument("--force", action="store_true", help="redo inputs whose output already exists")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)
    return p


def _merge(args: argparse.Namespace) -> int:
    import sys

    from gaitpose.cli import UsageError
    from gaitpose.pose.batch import merge_manifests

    if args.inputs or args.output:
        raise UsageError("--merge-manifests OUT takes no inputs and no -o")
    try:
        path, rows = merge_manifests(args.merge_manifests)
    except ValueError as exc:
        print(f"gaitpose extract: {exc}", file=sys.stderr)
        return 1
    failed = sum(r["status"] == "failed" for r in rows)
    print(f"gaitpose extract: merged {len(rows)} rows ({failed} failed) → {path}", file=sys.stderr)
    return 1 if failed else 0


def _check_person(args: argparse.Namespace):
    """The --person-at point and the backend/model checks; UsageError on a bad combination."""
    from gaitpose.cli import UsageError
    from gaitpose.pose.person_choice import parse_point

    at = None
    if args.person_at is not None:
        if args.person in ("single", "all"):
            raise UsageError(f"--person-at chooses one person: it cannot be combined with --person {args.person}")
        try:
            at = parse_point(args.person_at)
        except ValueError as exc:
            raise UsageError(f"--person-at: {exc}") from None
    if args.person != "single" and args.backend == "legacy":
        raise UsageError("--backend legacy follows one person: use it with --person single")
    if args.model and not Path(args.model).is_file():
        raise UsageError(f"--model {args.model}: no such file (build one with `gaitpose models build-task -o FILE.task`)")
    if args.person == "single" and args.backend == "tasks" and not args.model:
        from gaitpose.pose.backends import MODEL_HINT

        raise UsageError(MODEL_HINT)
    if args.person == "single" and args.backend != "tasks" and args.model:
        raise UsageError("--model applies to --backend tasks only (the legacy backend uses the model inside mediapipe)")
    return at


def _check_legacy_available() -> None:
    import importlib.util

    from gaitpose.cli import UsageError

    try:
        legacy_ok = importlib.util.find_spec("mediapipe.python.solutions.pose") is not None
    except ModuleNotFoundError:
        legacy_ok = False
    if not legacy_ok:
        raise UsageError(
            "the legacy backend needs mediapipe 0.10.21 (mediapipe.solutions); this installation has "
            "only the Tasks API: use --backend tasks --model FILE.task"
        )


def run(args: argparse.Namespace) -> int:
    from gaitpose.cli import UsageError, parse_shard_flag

    if args.merge_manifests:
        return _merge(args)
    if not args.inputs or not args.output:
        raise UsageError("give INPUT... and -o OUT (or --merge-manifests OUT)")
    if args.jobs < 1:
        raise UsageError("-j/--jobs must be at least 1")
    if args.fps is not None and not (math.isfinite(args.fps) and args.fps > 0):
        raise UsageError(f"--fps must be a positive number, got {args.fps}")
    at = _check_person(args)
    shard = parse_shard_flag(args.shard)
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UsageError(f"-o {out}: exists and is not a folder")

    from gaitpose.pose.backends import quiet_mediapipe_env

    quiet_mediapipe_env()
    if args.person == "single" and args.backend != "tasks":
        _check_legacy_available()
    from gaitpose.pose.batch import collect_inputs, run_batch

    videos, missing = collect_inputs(args.inputs, exclude=out)
    if not videos and not missing:
        raise UsageError("no video files found in " + ", ".join(args.inputs))
    return _run_batch(args, out, at, shard, run_batch)


def _run_batch(args: argparse.Namespace, out: Path, at, shard, run_batch) -> int:
    import sys

    from gaitpose.pose.task_bundle import BundleError

    try:
        results = run_batch(
            args.inputs,
            out,
            jobs=args.jobs,
            person=args.person,
            person_at=at,
            backend=args.backend,
            model=args.model,
            silhouettes=args.silhouettes,
            overlay=args.overlay,
            force=args.force,
            fps=args.fps,
            progress=not args.quiet,
            shard=shard,
        )
    except BundleError as exc:
        print(f"gaitpose extract: {exc}", file=sys.stderr)
        return 1
    from gaitpose.pose.batch import shard_manifest_name

    counts = {s: sum(r.status == s for r in results) for s in ("ok", "skipped", "failed")}
    print(
        f"gaitpose extract: {counts['ok']} ok, {counts['skipped']} skipped, {counts['failed']} failed "
        f"→ {out / shard_manifest_name(shard)}",
        file=sys.stderr,
    )
    return 1 if counts["failed"] else 0
