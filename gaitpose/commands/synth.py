"""``gaitpose synth``: a synthetic labelled scoliosis cohort as an OpenGait tree."""

from __future__ import annotations

import argparse
import os
import sys


def _ratio(text: str) -> tuple[float, float, float]:
    parts = text.replace(",", ":").split(":")
    try:
        vals = tuple(float(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NEG:NEU:POS numbers, got {text!r}") from None
    if len(vals) != 3 or min(vals) < 0 or sum(vals) <= 0:
        raise argparse.ArgumentTypeError(f"expected three non-negative numbers NEG:NEU:POS, got {text!r}")
    return vals  # type: ignore[return-value]


def add_parser(subparsers, name: str, help_: str) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        name,
        help=help_,
        description=(
            "Generate a synthetic labelled cohort (negative / neutral / positive) from a parametric "
            "3D walker: MediaPipe-33 keypoints and OpenGait-normalised silhouettes per frame, "
            "written as OUT/<id>/<class>/<view>/{pose,sils}.pkl with partition.json (TRAIN_SET, "
            "VAL_SET, TEST_SET: disjoint by subject, stratified by class), "
            "ground_truth.csv and cohort.json. A pipeline check, not clinical evidence. "
            "The same arguments give byte-identical files."
        ),
    )
    p.add_argument("-o", "--output", required=True, help="output folder (the OpenGait tree root)")
    p.add_argument("--sequences", type=int, default=300, help="number of sequences (default 300)")
    p.add_argument("--frames", type=int, default=300, help="frames per sequence (default 300)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--view", choices=("front", "back", "side"), default="front",
                   help="walking towards (front) / away from (back) / across (side) the camera")
    p.add_argument("--fps", type=float, default=30.0, help="frame rate (default 30)")
    p.add_argument("--class-ratio", type=_ratio, default=(800.0, 200.0, 493.0), metavar="NEG:NEU:POS",
                   help="class proportions (default 800:200:493, Scoliosis1K overall)")
    p.add_argument("--test-fraction", type=float, default=0.3,
                   help="share of each class's sequences in TEST_SET, whole subjects (default 0.3)")
    p.add_argument("--val-fraction", type=float, default=0.2,
                   help="share of each class's remaining (training) sequences in VAL_SET, whole "
                        "subjects (default 0.2)")
    p.add_argument("--force", action="store_true",
                   help="replace OUT if it is not empty (the new cohort replaces it whole, once complete)")
    p.add_argument("--npz", action="store_true",
                   help="also write OUT/npz/<id>.npz Sequence files (with world landmarks)")
    p.add_argument("--preview", action="store_true", help="also draw OUT/preview.png (a few sequences per class)")
    p.add_argument("-j", "--workers", type=int, default=min(2, os.cpu_count() or 1),
                   help="worker processes (default 2; output does not depend on it)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from gaitpose.cli import UsageError

    if args.sequences < 1:
        raise UsageError("--sequences must be at least 1")
    if args.frames < 2:
        raise UsageError("--frames must be at least 2")
    if args.fps <= 0:
        raise UsageError("--fps must be positive")
    if not 0.0 <= args.test_fraction < 1.0:
        raise UsageError("--test-fraction must be in [0, 1)")
    if not 0.0 <= args.val_fraction < 1.0:
        raise UsageError("--val-fraction must be in [0, 1)")
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    from pathlib import Path

    from gaitpose.synth import make_cohort
    from gaitpose.synth.cohort import folder_in_use

    if folder_in_use(Path(args.output)) and not args.force:
        raise UsageError(f"{args.output}: folder is not empty (use --force to replace it)")
    rows = make_cohort(
        args.output,
        sequences=args.sequences,
        frames=args.frames,
        seed=args.seed,
        view=args.view,
        fps=args.fps,
        ratio=tuple(args.class_ratio),
        test_fraction=args.test_fraction,
        val_fraction=args.val_fraction,
        force=args.force,
        workers=args.workers,
        write_npz=args.npz,
        progress=sys.stderr.isatty() or args.sequences * args.frames > 3000,
    )
    if args.preview:
        from gaitpose.synth.preview import write_preview

        write_preview(args.output)
    counts = {c: sum(r["class"] == c for r in rows) for c in ("negative", "neutral", "positive")}
    n = {s: sum(r["split"] == s for r in rows) for s in ("train", "val", "test")}
    print(
        f"wrote {len(rows)} sequences ({counts['negative']} negative, {counts['neutral']} neutral, "
        f"{counts['positive']} positive; {n['train']} train / {n['val']} val / {n['test']} test) "
        f"to {args.output}"
    )
    return 0
