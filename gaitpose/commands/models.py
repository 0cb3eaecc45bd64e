"""``gaitpose models``: model files (``build-task``: a MediaPipe Tasks pose bundle, offline)."""

from __future__ import annotations

import argparse


def add_parser(subparsers, name: str, help_: str) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        name,
        help=help_,
        description="Model files for the pose backends.",
    )
    sub = p.add_subparsers(dest="models_command", metavar="SUBCOMMAND")
    b = sub.add_parser(
        "build-task",
        help="build a PoseLandmarker .task bundle from the models inside the mediapipe wheel",
        description=(
            "Build a MediaPipe Tasks PoseLandmarker bundle (.task) offline from the two pose models "
            "shipped inside the mediapipe 0.10.21 wheel, for `gaitpose extract --backend tasks --model FILE`."
        ),
    )
    b.add_argument("-o", "--output", required=True, metavar="FILE.task", help="bundle to write")
    b.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=run, _models_parser=p)
    return p


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from gaitpose.cli import UsageError

    if args.models_command != "build-task":
        raise UsageError("name a sub-command: gaitpose models build-task -o FILE.task")
    out = Path(args.output)
    if out.exists() and not args.force:
        raise UsageError(f"{out} exists (use --force to overwrite)")
    from gaitpose.pose.task_bundle import BundleError, build_task_bundle, bundle_members

    try:
        build_task_bundle(out)
    except (BundleError, OSError) as exc:
        print(f"gaitpose models: {out}: {exc}", file=sys.stderr)
        return 1
    size = out.stat().st_size / 1e6
    print(f"wrote {out} ({size:.1f} MB: {', '.join(bundle_members(out))})")
    return 0
