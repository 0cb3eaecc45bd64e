"""``gaitpose agreement A.csv B.csv -o DIR``: per-feature agreement of two feature tables."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DESCRIPTION = """\
Two feature tables of the same walks (two sessions, two cameras, two pose backends), matched
by id (and view when both have one). Per numeric feature present in both: ICC(2,1) (absolute
agreement) and ICC(3,1) (consistency) with 95 % confidence intervals, Bland-Altman bias (B - A)
with its 95 % CI and the 95 % limits of agreement, SEM = sqrt(MS_error) and MDC95 =
1.96 * sqrt(2) * SEM. Ranked by ICC(2,1). Writes DIR/agreement.csv, DIR/agreement.md,
DIR/bland_altman.png (the top features) and DIR/icc.png. Rows with usable = false in either
table are left out unless --all-rows. QC columns and keys are not features."""


def add_parser(subparsers, name: str, help_: str) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        name, help=help_, description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    p.add_argument("a", metavar="A", help="first feature table (.csv/.parquet)")
    p.add_argument("b", metavar="B", help="second feature table (.csv/.parquet)")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder")
    p.add_argument("--all-rows", action="store_true", help="keep rows flagged usable = false")
    p.add_argument("--top", type=int, default=12, help="features in the Bland-Altman plot (12)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from gaitpose.cli import UsageError
    from gaitpose.features.agreement_table import agreement_table, match_tables, write_outputs
    from gaitpose.features.report import read_table

    if args.top < 1:
        raise UsageError(f"--top must be at least 1, got {args.top}")
    tables = []
    for path in (Path(args.a), Path(args.b)):
        if not path.is_file():
            print(f"gaitpose agreement: {path}: no such file or directory", file=sys.stderr)
            return 1
        try:
            df = read_table(path)
        except Exception as exc:  # noqa: BLE001 - any unreadable table
            print(f"gaitpose agreement: {path}: unreadable table ({exc})", file=sys.stderr)
            return 1
        if "id" not in df.columns:
            print(f"gaitpose agreement: {path}: no id column", file=sys.stderr)
            return 1
        tables.append(df)
    pairs, keys = match_tables(tables[0], tables[1], usable_only=not args.all_rows)
    if len(pairs) < 3:
        print(
            f"gaitpose agreement: {args.a}, {args.b}: only {len(pairs)} walk(s) in both "
            f"(matched on {', '.join(keys)}); need at least 3",
            file=sys.stderr,
        )
        return 1
    table = agreement_table(pairs)
    if table.empty:
        print(f"gaitpose agreement: {args.a}, {args.b}: no numeric feature in both", file=sys.stderr)
        return 1
    out = write_outputs(table, pairs, Path(args.output), args.top, (args.a, args.b))
    print(
        f"gaitpose agreement: {len(pairs)} walks, {len(table)} features → {out / 'agreement.csv'}, "
        f"{out / 'agreement.md'}, {out / 'bland_altman.png'}",
        file=sys.stderr,
    )
    return 0
