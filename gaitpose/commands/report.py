"""``gaitpose report FEATURES --labels CSV -o DIR``: group comparison of features between classes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DESCRIPTION = """\
Per feature: median and IQR per class, Kruskal-Wallis across the classes, Mann-Whitney U
positive vs negative (Holm-corrected), Cliff's delta with a bootstrap 95 % interval.
Writes DIR/stats.csv and DIR/stats.md (ranked by |Cliff's delta|), DIR/exclusions.csv,
box/strip plots of the top features (DIR/top_features.png, DIR/plots/) and a heat map of
effect sizes (DIR/effect_sizes.png). Only rows with usable = true and a class are used.
--labels: any CSV with id and class (e.g. a synthetic cohort's ground_truth.csv); it wins
over a class column already in FEATURES."""


def add_parser(subparsers, name: str, help_: str) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        name,
        help=help_,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "features", metavar="FEATURES", help="table from `gaitpose features` (.csv/.parquet)"
    )
    p.add_argument("--labels", metavar="CSV", help="CSV with columns id and class (or label)")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder")
    p.add_argument("--top", type=int, default=12, metavar="N", help="features to plot (default 12)")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="bootstrap resamples (default 1000)")
    p.set_defaults(func=run)
    return p


def _read(path: Path, what: str):
    """A table read with :func:`read_table`; :class:`InputError` (exit 1) when it cannot be."""
    from gaitpose.cli import MISSING, InputError
    from gaitpose.features.report import read_table

    if not path.is_file():
        raise InputError(f"{path}: {'a folder, not a ' + what if path.is_dir() else MISSING}")
    try:
        return read_table(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable table
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(f"{path}: unreadable {what} ({reason})") from None


def run(args: argparse.Namespace) -> int:
    from gaitpose.cli import InputError, UsageError
    from gaitpose.features.report import make_report

    path = Path(args.features)
    features = _read(path, "table")
    if "id" not in features.columns:
        raise InputError(f"{path}: no id column")
    labels = None
    if args.labels:
        labels = _read(Path(args.labels), "CSV")
    elif "class" not in features.columns:
        raise UsageError(f"{path} has no class column: pass --labels CSV")
    try:
        res = make_report(features, labels, args.output, top=args.top, n_boot=args.bootstrap)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    stats = res["stats"]
    if res["n_used"] == 0:
        print(
            f"gaitpose report: no usable row with a class in {path} (see {args.output}/exclusions.csv)",
            file=sys.stderr,
        )
        return 1
    print(
        f"gaitpose report: {res['n_used']} sequences used, {res['n_excluded']} excluded → "
        f"{args.output}/stats.md",
        file=sys.stderr,
    )
    if len(stats):
        cols = ["rank", "feature", "cliffs_delta_positive_vs_negative", "mw_p_holm"]
        print(stats[cols].head(10).to_string(index=False))
    return 0
