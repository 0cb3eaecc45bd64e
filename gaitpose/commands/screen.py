"""``gaitpose screen INPUT... -o DIR [--checkpoint CKPT] [--reference FEATURES.csv --labels CSV]``."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Screen walks: videos or Sequence .npz files (folders are searched). Each walk is extracted (or
read), passes the quality gate (complete strides, the person in enough frames, no track jumps,
keypoint confidence, and the view, frame rate and length the model was trained on) or gets the
verdict "insufficient video" with every reason and no probability. With a checkpoint, a walk
that passes gets calibrated class probabilities, the screening score and "refer" / "no referral"
at the operating point stored by `gaitpose calibrate` (an uncalibrated checkpoint says so and
makes no decision), and the body parts that drove the score.

Writes DIR/<name>/report.html (one self-contained file), DIR/<name>/result.json and
DIR/summary.csv. Exit 0 when every input was screened ("insufficient video" is a result), 1 when
an input could not be read (one line each; the others are still screened), 2 on bad usage.
"""


def add_parser(subparsers, name: str, help_: str) -> argparse.ArgumentParser:
    p = subparsers.add_parser(name, help=help_, description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="videos, Sequence .npz files, or folders of them")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder")
    p.add_argument("--checkpoint", metavar="CKPT", help="a gaitpose checkpoint (best calibrated: gaitpose calibrate)")
    p.add_argument("--reference", metavar="FEATURES.csv",
                   help="features table (gaitpose features) to place the walk's features in; needs --labels")
    p.add_argument("--labels", metavar="CSV", help="classes of the reference rows (id,class)")
    p.add_argument("-q", "--quiet", action="store_true", help="no per-input progress lines")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from gaitpose.cli import UsageError
    from gaitpose.engine.checkpoint import CheckpointError

    if bool(args.reference) != bool(args.labels):
        raise UsageError("--reference and --labels go together")
    from gaitpose.screen.run import screen

    try:
        return screen(args.inputs, args.output, checkpoint=args.checkpoint,
                      reference=(args.reference, args.labels) if args.reference else None,
                      progress=not args.quiet)
    except CheckpointError as exc:
        raise UsageError(str(exc)) from None
    except (ValueError, OSError) as exc:  # a reference table that cannot be used
        raise UsageError(f"{args.reference}: {exc}") from None
