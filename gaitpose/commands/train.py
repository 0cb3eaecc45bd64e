"""``gaitpose train CONFIG [-o RUN] [--set key=value]...``: train a model (resumes from RUN)."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Train a model from a YAML config in OpenGait's vocabulary (data_cfg, model_cfg, loss_cfg,
optimizer_cfg, scheduler_cfg, trainer_cfg). Checkpoints, train_log.csv and the resolved
config.yaml go to RUN; a RUN that holds checkpoints/latest.pt resumes from it.
An experiment config (with an 'experiment' grid) trains its base config.
Multi-process: torchrun --nproc_per_node=N -m gaitpose train CONFIG (NCCL on GPUs, gloo on CPU).
"""


def add_parser(subparsers, name: str, help_: str) -> argparse.ArgumentParser:
    from gaitpose.cli import add_quiet_flag

    p = subparsers.add_parser(
        name, help=help_, description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("config", help="YAML config")
    p.add_argument("-o", "--output", metavar="RUN", help="run directory (default runs/<config stem>)")
    p.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override a config value, e.g. --set trainer.total_iter=6 --set trainer.device=cpu "
        "(trainer. = trainer_cfg., data. = data_cfg., model., loss., optimizer., scheduler., evaluator.)",
    )
    add_quiet_flag(p)
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from gaitpose.cli import InputError, UsageError
    from gaitpose.engine.checkpoint import CheckpointError
    from gaitpose.engine.config import ConfigError, ConfigFileError
    from gaitpose.engine.trainer import TrainingDiverged, train

    overrides = [*args.overrides, *(["trainer.progress=false"] if args.quiet else [])]
    try:
        ckpt = train(args.config, args.output, overrides=overrides)
    except ConfigFileError as exc:
        raise InputError(str(exc)) from None
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    except (TrainingDiverged, CheckpointError) as exc:
        print(f"gaitpose train: {exc}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as exc:  # bad data for this config: say so on one line
        print(f"gaitpose train: {args.config}: {exc}", file=sys.stderr)
        return 1
    import os

    if int(os.environ.get("RANK", "0")) == 0:
        print(ckpt)
    return 0
