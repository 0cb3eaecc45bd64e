"""The ``gaitpose`` command line.

Each sub-command lives in its own module under :mod:`gaitpose.commands`, exposing
``add_parser(subparsers)`` (registers the parser, sets ``func``) and is imported only
when named, so ``gaitpose info`` does not pay for importing torch or mediapipe.

Conventions shared by every command:

- exit codes: 0 success; 1 when an input (a file or folder named on the command line: a video,
  a Sequence, a config, a checkpoint, a table) is missing or could not be read or processed,
  the other inputs still processed; 2 on bad usage (unknown flags, bad values, options that
  do not go together, a setting this machine cannot honour such as ``device=cuda`` without a GPU);
- errors: one line on stderr, ``gaitpose <command>: <path>: <reason>``, never a traceback for
  an expected failure;
- the same flags for the same ideas: ``-o/--output``, ``-j/--jobs N`` worker processes
  (default 1), ``-q/--quiet`` (no progress output), ``--fps F`` (the frame rate to use for an
  input that stores none), ``--set KEY=VALUE`` (config overrides), ``--force`` (redo/overwrite);
- progress: a bar on a terminal, a few plain lines in a log (:mod:`gaitpose.progress`).
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
    "agreement": ("agreement", "ICC, Bland-Altman, SEM and MDC of two feature tables"),
    "train": ("train", "train a model from a YAML config (resumes)"),
    "evaluate": ("evaluate", "evaluate a checkpoint on a config's validation or test set"),
    "calibrate": ("calibrate", "fit temperature scaling and the operating point on the validation split"),
    "screen": ("screen", "screen walks (videos or .npz): quality gate, calibrated verdict, one HTML report each"),
    "experiment": ("experiment", "run a grid of trainings and evaluations"),
    "demo": ("demo", "the whole pipeline on a synthetic cohort (and a real clip if present)"),
}


#: the reason given for a path that does not exist, by every command
MISSING = "no such file or directory"


class UsageError(Exception):
    """Bad command-line usage (exit code 2)."""


class InputError(Exception):
    """An input that stops the command could not be read (exit code 1); the message names it."""


def add_jobs_flag(parser: argparse.ArgumentParser, what: str = "worker processes") -> None:
    """``-j/--jobs N``, the same flag and default (1) in every command."""
    parser.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help=f"{what} (default 1)")


def add_quiet_flag(parser: argparse.ArgumentParser) -> None:
    """``-q/--quiet``: no progress output (errors and the final summary still print)."""
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars or progress lines")


def parse_shard_flag(value: str | None):
    """``--shard I/N`` as a :class:`gaitpose.io.shards` shard (None when not given); bad usage
    otherwise."""
    if value is None:
        return None
    from gaitpose.io.shards import parse_shard

    try:
        return parse_shard(value)
    except ValueError as exc:
        raise UsageError(f"--shard: {exc}") from None


def check_jobs(jobs: int | None) -> None:
    if jobs is not None and jobs < 1:
        raise UsageError(f"-j/--jobs must be at least 1, got {jobs}")


class DeprecatedAlias(argparse.Action):
    """A renamed flag that still works: stores into the new flag's dest and says so on stderr."""

    def __init__(self, option_strings, dest, new: str, **kwargs):
        self.new = new
        kwargs.setdefault("help", argparse.SUPPRESS)
        kwargs.setdefault("default", argparse.SUPPRESS)
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"{parser.prog}: {option_string} is deprecated, use {self.new}", file=sys.stderr)
        setattr(namespace, self.dest, values)


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
    except InputError as exc:
        print(f"gaitpose {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("gaitpose: interrupted", file=sys.stderr)
        return 130
    return int(code or 0)
