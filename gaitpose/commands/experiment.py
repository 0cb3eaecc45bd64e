"""``gaitpose experiment CONFIG [-o DIR]``: a grid of trainings and evaluations."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DESCRIPTION = """\
Run an experiment config: every setting × seed of its 'experiment' section is trained and
evaluated (settings may also be evaluated with a stream removed). Writes DIR/results.csv
(one row per evaluation), DIR/results.md (mean ± std over seeds), DIR/results_macro_f1.png,
DIR/confusion/*.png and DIR/runs/<setting>-s<seed>/. Finished cells are skipped and
interrupted ones resume, so re-running the same command completes an experiment. A cell
that fails is reported on stderr and the others go on (exit status 1). With --report-only,
nothing is trained: the tables are rebuilt from the cells already finished in DIR.
"""


def add_parser(subparsers, name: str, help_: str) -> argparse.ArgumentParser:
    from gaitpose.cli import add_quiet_flag

    p = subparsers.add_parser(
        name, help=help_, description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("config", help="experiment YAML (base config + 'experiment' grid)")
    p.add_argument("-o", "--output", metavar="DIR", help="output folder (default runs/experiments/<stem>)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a base-config value for every cell")
    p.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                   help="cells trained at once in separate processes (default: experiment.jobs or 1)")
    p.add_argument("--only", metavar="NAME[,NAME...]",
                   help="run only these settings of the grid (comma-separated names)")
    p.add_argument("--report-only", action="store_true",
                   help="train nothing; rebuild results.* from the finished cells in DIR")
    add_quiet_flag(p)
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from gaitpose.cli import InputError, UsageError, check_jobs
    from gaitpose.engine.checkpoint import CheckpointError
    from gaitpose.engine.config import ConfigError, ConfigFileError
    from gaitpose.engine.experiment import CellsFailed, run_experiment
    from gaitpose.engine.trainer import TrainingDiverged

    out = Path(args.output) if args.output else Path("runs/experiments") / Path(args.config).stem
    check_jobs(args.jobs)
    overrides = [*args.overrides, *(["trainer.progress=false"] if args.quiet else [])]
    status = 0
    try:
        run_experiment(args.config, out, overrides=overrides, jobs=args.jobs,
                       report_only=args.report_only, progress=not args.quiet,
                       only=[x for x in (args.only or "").split(",") if x] or None)
    except ConfigFileError as exc:
        raise InputError(str(exc)) from None
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    except (TrainingDiverged, CheckpointError) as exc:
        print(f"gaitpose experiment: {exc}", file=sys.stderr)
        return 1
    except CellsFailed as exc:
        print(f"gaitpose experiment: {exc}", file=sys.stderr)
        status = 1
    print((out / "results.md").read_text())
    print(f"results in {out}")
    return status
