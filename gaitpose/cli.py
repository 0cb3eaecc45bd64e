"""The ``gaitpose`` command line.

Each sub-command lives in its own module under :mod:`gaitpose.commands`, exposing
``add_parser(subparsers)`` (registers the parser, sets ``func``) and is imported only
when named, so ``gaitpose info`` does not pay for importing torch or mediapipe.

Exit codes: 0 success, 1 some inputs failed (the rest processed), 2 bad usage.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# command name -> (module under gaitpose.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "extract": ("extract", "videos or folders → pose keypoints + silhouettes (.npz) and a manifest"),
    "info": ("info", "summarise Sequence files or pkl files"),
    "models": ("models", "model files: build a MediaPipe Tasks pose bundle offline"),
    "convert": ("convert", "convert between Sequence, OpenGait, pyskl, OpenPose JSON and TRC"),
    "synth": ("synth", "make a synthetic labelled scoliosis cohort (OpenGait tree)"),
    "features": ("features", "biomechanical asymmetry features, one row per sequence"),
    "report": ("report", "group comparison of features between classes"),
    "train": ("train", "train a model from a YAML config (resumes)"),
    "evaluate": ("evaluate", "evaluate a checkpoint on a config's validation or test set"),
    "experiment": ("experiment", "run a grid of trainings and evaluations"),
    "demo": ("demo", "the whole pipeline on a synthetic cohort (and a real clip if present)"),
}


class UsageError(Exception):
    """Bad command-line usage (exit code 2)."""


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    from gaitpose import __version__

    parser = argparse.ArgumentParser(
        prog="gaitpose",
        description="Scoliosis screening from walking videos.",
    )
    parser.add_argument("--version", action="version", version=f"gaitpose {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # Only import the module of the command that was named (plus all for --help).
    wanted = next((a for a in argv if not a.startswith("-")), None)
    for name, (module, help_) in COMMANDS.items():
        if wanted is not None and name != wanted:
            sub.add_parser(name, help=help_, add_help=False)
            continue
        importlib.import_module(f"gaitpose.commands.{module}").add_parser(sub, name, help_)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        code = args.func(args)
    except UsageError as exc:
        print(f"gaitpose {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gaitpose: interrupted", file=sys.stderr)
        return 130
    return int(code or 0)
