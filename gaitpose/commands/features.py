"""``gaitpose features INPUT... -o FILE.csv|.parquet``: asymmetry features, one row per sequence.

Writes the table, its data dictionary ``<stem>.dictionary.csv`` beside it, and optionally one
row per stride (``--per-cycle``) and one CSV of per-frame signals per sequence (``--per-frame``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

DESCRIPTION = """\
Biomechanical asymmetry features (ASYMMETRY.md) from Sequence .npz files, folders of them,
or OpenGait trees with a pose modality (frame rate: the Sequence's own, cohort.json beside
the tree, else --fps).
One row per sequence keyed by id (and class when known), QC columns prefixed qc_, a `usable`
flag with the reason; the data dictionary goes to <output stem>.dictionary.csv.
A bad input is reported and skipped; exit 1 if any input failed.

Clusters: --shard I/N (0 <= I < N) processes every N-th input of the sorted list from the I-th;
`gaitpose features --join PART... -o FILE` then joins the shards' tables into one (rows sorted
by source, view) and writes its dictionary."""

KEY_COLUMNS = ("id", "class", "view", "source")


def add_parser(subparsers, name: str, help_: str) -> argparse.ArgumentParser:
    from gaitpose.cli import add_jobs_flag, add_quiet_flag

    p = subparsers.add_parser(name, help=help_, description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="Sequence .npz files, folders, OpenGait trees"
    )
    p.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="features table (.csv or .parquet)"
    )
    p.add_argument(
        "--per-cycle", metavar="FILE", help="also write one row per stride (.csv or .parquet)"
    )
    p.add_argument(
        "--per-frame", metavar="DIR", help="also write per-frame signals, one CSV per sequence"
    )
    p.add_argument(
        "--fps", type=float, metavar="F",
        help="frame rate for inputs that store none (an OpenGait tree without cohort.json)",
    )  # fmt: skip
    p.add_argument(
        "--min-score", type=float, default=0.5, help="keypoints below this score are missing (0.5)"
    )
    p.add_argument(
        "--max-gap",
        type=float,
        default=0.15,
        metavar="S",
        help="longest gap to interpolate, s (0.15)",
    )
    p.add_argument(
        "--cutoff", type=float, default=6.0, metavar="HZ", help="Butterworth cut-off, Hz (6)"
    )
    p.add_argument("--filter-order", type=int, default=4, help="Butterworth order (4)")
    p.add_argument(
        "--hampel-window", type=int, default=7, metavar="FRAMES", help="Hampel window (7)"
    )
    p.add_argument(
        "--hampel-sigmas", type=float, default=3.0, help="Hampel threshold in scaled MADs (3)"
    )
    p.add_argument("--min-strides", type=int, default=3, help="strides per side for `usable` (3)")
    p.add_argument(
        "--no-roll-correction",
        action="store_true",
        help="do not de-rotate front/back views by the estimated camera roll",
    )
    add_jobs_flag(p)
    add_quiet_flag(p)
    p.add_argument("--shard", metavar="I/N", help="only this share of the sorted inputs (0 <= I < N)")
    p.add_argument("--join", action="store_true", help="the inputs are feature tables (shards): join them into -o")
    p.set_defaults(func=run)
    return p


def _table_format(path: str, what: str) -> str:
    from gaitpose.cli import UsageError

    suffix = Path(path).suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise UsageError(f"{what} {path}: must end in .csv or .parquet")
    return suffix[1:]


def write_table(df, path: Path) -> None:
    """Write a DataFrame as CSV or Parquet (by suffix), atomically."""
    from gaitpose.io import atomic_path

    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".parquet":
            df.to_parquet(tmp, index=False)
        else:
            df.to_csv(tmp, index=False)


def process_one(
    item, params, want_frames: bool
) -> tuple[dict[str, Any] | None, list, dict | None, str]:
    """Features of one input: (row, cycles, frames, error). Pure apart from reading the input."""
    from gaitpose.features.pipeline import sequence_features
    from gaitpose.features.readers import InputError, load_input

    try:
        seq = load_input(item)
        res = sequence_features(seq.keypoints, seq.fps, seq.layout, seq.world, seq.detected, params)
    except InputError as exc:
        return None, [], None, str(exc)
    except Exception as exc:  # noqa: BLE001 - one bad input must not stop the batch
        return None, [], None, f"{item.source}: {type(exc).__name__}: {exc}"
    keys = {
        "id": item.id,
        "class": item.label or seq.label,
        "view": item.view,
        "source": str(item.source),
    }
    row = {**keys, **res.row, "qc_lr_swaps": lr_swaps_recorded(seq)}
    cycles = [{"id": item.id, "class": keys["class"], "view": item.view, **c} for c in res.cycles]
    return row, cycles, (res.frames if want_frames else None), ""


def lr_swaps_recorded(seq) -> float:
    """The left/right swaps ``gaitpose extract`` corrected (Sequence meta ``lr_swaps``), else NaN."""
    value = seq.meta.get("lr_swaps")
    return float(value) if isinstance(value, (int, float)) else float("nan")


def _star(args):
    return process_one(*args)


def join_tables(parts: list[str], out: Path) -> int:
    """``--join``: concatenate feature tables (sorted by source, view) into ``out`` + its dictionary."""
    import pandas as pd

    from gaitpose.features.dictionary import DICTIONARY_FIELDS, dictionary_rows

    frames = []
    for part in parts:
        try:
            frames.append(pd.read_parquet(part) if part.lower().endswith(".parquet") else pd.read_csv(part))
        except Exception as exc:  # noqa: BLE001 - one line per unreadable part
            print(f"gaitpose features: {part}: not a readable feature table ({type(exc).__name__})", file=sys.stderr)
            return 1
    df = pd.concat(frames, ignore_index=True).sort_values(["source", "view"], kind="stable", na_position="first")
    write_table(df.reset_index(drop=True), out)
    dict_path = out.with_name(out.stem + ".dictionary.csv")
    write_table(pd.DataFrame(dictionary_rows(df.columns), columns=list(DICTIONARY_FIELDS)), dict_path)
    print(f"gaitpose features: joined {len(parts)} tables, {len(df)} sequences → {out}", file=sys.stderr)
    return 0


def _fps_fallback(items: list, fps: float | None) -> list:
    """``--fps`` for the inputs that store no frame rate (OpenGait trees without cohort.json);
    says on stderr how many used it, or that none did (every input had its own)."""
    from dataclasses import replace

    if fps is None:
        return items
    used = sum(it.kind != "npz" and it.fps is None for it in items)
    items = [replace(it, fps=fps, fps_error="") if it.kind != "npz" and it.fps is None else it for it in items]
    if used:
        print(f"gaitpose features: --fps {fps:g} used for {used} input(s) without a frame rate", file=sys.stderr)
    else:
        print(
            f"gaitpose features: --fps {fps:g} not used: every input stores its frame rate "
            "(Sequence .npz files, cohort.json beside OpenGait trees)",
            file=sys.stderr,
        )
    return items


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from gaitpose.cli import UsageError, check_jobs, parse_shard_flag
    from gaitpose.features.dictionary import DICTIONARY_FIELDS, dictionary_rows
    from gaitpose.features.pipeline import FeatureParams
    from gaitpose.features.readers import discover_inputs
    from gaitpose.progress import Progress

    _table_format(args.output, "output")
    if args.per_cycle:
        _table_format(args.per_cycle, "--per-cycle")
    if args.fps is not None and not args.fps > 0:
        raise UsageError(f"--fps must be positive, got {args.fps}")
    check_jobs(args.jobs)
    params = FeatureParams(
        min_score=args.min_score, max_gap_s=args.max_gap, cutoff_hz=args.cutoff,
        filter_order=args.filter_order, hampel_window=args.hampel_window,
        hampel_sigmas=args.hampel_sigmas, min_strides=args.min_strides,
        correct_roll=not args.no_roll_correction,
    )  # fmt: skip
    if args.join:
        for part in args.inputs:
            _table_format(part, "--join")
        return join_tables(args.inputs, Path(args.output))
    shard = parse_shard_flag(args.shard)
    items, errors = discover_inputs(args.inputs)
    items = _fps_fallback(items, args.fps)
    if shard is not None:
        from gaitpose.io.shards import take_shard

        items = take_shard(items, shard, key=lambda it: f"{it.source}\0{it.view}")
    for e in errors:
        print(f"gaitpose features: {e}", file=sys.stderr)
    if not items:  # a missing or unreadable input is an input failure (exit 1), not bad usage
        if not errors:
            print("gaitpose features: no sequence found; nothing written", file=sys.stderr)
        return 1

    rows, cycles, failed = [], [], len(errors)
    per_frame = Path(args.per_frame) if args.per_frame else None
    tasks = [(it, params, per_frame is not None) for it in items]
    if args.jobs > 1 and len(items) > 1:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(max_workers=args.jobs)
        results = pool.map(_star, tasks, chunksize=max(1, len(tasks) // (8 * args.jobs)))
    else:
        pool = None
        results = map(_star, tasks)
    bar = Progress(len(items), "features", "seq", enabled=not args.quiet)
    try:
        for item, (row, cyc, frames, err) in zip(items, results):
            bar.update()
            if err:
                failed += 1
                bar.write(f"gaitpose features: {err}")
                continue
            rows.append(row)
            cycles.extend(cyc)
            if per_frame is not None and frames is not None:
                name = f"{item.id}_{item.view}" if item.view else item.id
                write_table(pd.DataFrame(frames), per_frame / f"{name}.csv")
    finally:
        bar.close()
        if pool is not None:
            pool.shutdown()

    if not rows:
        print("gaitpose features: no sequence could be processed; nothing written", file=sys.stderr)
        return 1
    df = pd.DataFrame(rows)
    out = Path(args.output)
    write_table(df, out)
    dict_path = out.with_name(out.stem + ".dictionary.csv")
    write_table(
        pd.DataFrame(dictionary_rows(df.columns), columns=list(DICTIONARY_FIELDS)), dict_path
    )
    if args.per_cycle:
        write_table(pd.DataFrame(cycles), Path(args.per_cycle))
    n_ok = int(df["usable"].sum())
    few = df["usable_reason"].astype(str).str.contains("strides per side", regex=False)
    if few.any():
        print(
            f"gaitpose features: {int(few.sum())} sequence(s) have fewer than {args.min_strides} "
            f"strides per side (median duration {df.loc[few, 'qc_duration_s'].median():.1f} s); "
            "lower --min-strides to keep them as usable",
            file=sys.stderr,
        )
    print(
        f"gaitpose features: {len(df)} sequences → {out} ({n_ok} usable, {len(df) - n_ok} flagged), "
        f"dictionary → {dict_path}" + (f", {failed} failed" if failed else ""),
        file=sys.stderr,
    )
    return 1 if failed else 0
