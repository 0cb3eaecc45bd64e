"""``gaitpose calibrate CONFIG --checkpoint CKPT [--target-specificity 0.90] [-o OUT.pt]``."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Calibrate a checkpoint on the config's validation split (never the test split): temperature
scaling fitted by negative log-likelihood, then the screening score's threshold at the target
specificity (refer when score >= threshold). The screening score is P(positive) by default
(--score positive+neutral refers borderline walks too). Prints ECE, Brier and NLL before and after,
stores a `calibration` entry in the checkpoint (OUT.pt, default: the checkpoint itself, replaced
atomically; loadable with torch.load(weights_only=True)), and writes <stem>.calibration.json and
the reliability diagram <stem>.reliability.png beside it. `gaitpose evaluate` then reports the
2x2 table at this operating point on the test split, and `gaitpose screen` uses it.
"""


def add_parser(subparsers, name: str, help_: str) -> argparse.ArgumentParser:
    p = subparsers.add_parser(name, help=help_, description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", help="YAML config (the one used for training)")
    p.add_argument("--checkpoint", required=True, metavar="CKPT", help="gaitpose checkpoint")
    p.add_argument("--target-specificity", type=float, default=0.90, metavar="S",
                   help="specificity the threshold keeps on the validation split (default 0.90)")
    p.add_argument("--score", choices=("positive", "positive+neutral"), default="positive",
                   help="screening score: P(positive) (default) or P(positive) + P(neutral)")
    p.add_argument("-o", "--output", metavar="OUT.pt", help="calibrated checkpoint (default: overwrite CKPT)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value (as for train)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from gaitpose.cli import UsageError
    from gaitpose.engine.calibrator import calibrate, format_calibration
    from gaitpose.engine.checkpoint import CheckpointError
    from gaitpose.engine.config import ConfigError

    if not 0.0 < args.target_specificity < 1.0:
        raise UsageError(f"--target-specificity must lie in (0, 1), got {args.target_specificity}")
    try:
        entry = calibrate(args.config, args.checkpoint, target_specificity=args.target_specificity,
                          score=args.score, out=args.output, overrides=args.overrides)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    except CheckpointError as exc:
        print(f"gaitpose calibrate: {exc}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as exc:
        print(f"gaitpose calibrate: {args.config}: {exc}", file=sys.stderr)
        return 1
    print(format_calibration(entry))
    out = args.output or args.checkpoint
    print(f"calibration stored in {out} (and {out.rsplit('.', 1)[0]}.calibration.json, .reliability.png)")
    return 0
