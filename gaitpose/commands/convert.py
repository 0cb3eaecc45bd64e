"""``gaitpose convert``: between Sequence files, OpenGait trees, pyskl, OpenPose JSON and TRC."""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers, name: str, help_: str) -> argparse.ArgumentParser:
    from gaitpose.cli import add_quiet_flag

    p = subparsers.add_parser(
        name,
        help=help_,
        description=(
            "Convert pose sequences. Inputs: Sequence .npz files or folders of them, OpenGait trees "
            "(<id>/<class>/<view>/*.pkl), pyskl pkls, Scoliosis1K pose pkls ([T, 17, 3]) and "
            "OpenPose JSON folders. Outputs: npz (OUT/<name>.npz), opengait (OUT/<id>/<class>/<view>/"
            "{pose,sils}.pkl), pyskl (one pkl: OUT, or OUT/sequences.pkl when OUT is a folder) and trc "
            "(OUT/<name>.trc, from world landmarks). A bad input is reported in one line and skipped "
            "(exit code 1)."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files or folders to convert")
    p.add_argument("--to", required=True, choices=("npz", "opengait", "pyskl", "trc"), help="output format")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output folder (pyskl: a .pkl file or folder)")
    p.add_argument("--labels", metavar="CSV",
                   help="CSV with columns id,class (optional view, split): classes for opengait/pyskl; "
                        "a split column (train/test) also gives opengait output a partition.json")
    p.add_argument("--view", default=None, help="view folder name for opengait output when unknown (default 000)")
    p.add_argument("--fps", type=float, default=None, metavar="F",
                   help="frame rate for inputs that store none (OpenPose, pyskl, Scoliosis1K pkls, "
                        "OpenGait trees without cohort.json; default 30)")
    p.add_argument("--units", choices=("m", "mm"), default="m", help="TRC units (default m)")
    add_quiet_flag(p)
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    import pickle
    from pathlib import Path

    from gaitpose import LABELS, label_index
    from gaitpose.cli import MISSING, InputError, UsageError
    from gaitpose.io.formats import read_inputs
    from gaitpose.progress import Progress

    table: dict[str, dict[str, str]] = {}
    if args.labels:
        from gaitpose.io.formats import read_labels_csv

        try:
            table = read_labels_csv(args.labels)
        except OSError as exc:
            reason = MISSING if not Path(args.labels).exists() else exc.strerror or exc
            raise InputError(f"{args.labels}: {reason}") from None
        except ValueError as exc:  # the message names the file
            raise InputError(str(exc)) from None
    if args.fps is not None and not args.fps > 0:
        raise UsageError(f"--fps must be positive, got {args.fps}")
    out = Path(args.output)
    if args.to == "pyskl":
        pkl_path = out if out.suffix == ".pkl" else out / "sequences.pkl"
    elif out.exists() and not out.is_dir():
        raise UsageError(f"-o {out}: exists and is not a folder")
    failed = 0
    written = 0
    pyskl_items: list = []
    pyskl_split: dict[str, list[str]] = {}

    bar = Progress(None, "convert", "seq", enabled=not args.quiet)

    def fail(msg: str) -> None:
        nonlocal failed
        failed += 1
        bar.write(f"gaitpose convert: {msg}")

    def class_of(item) -> str | None:
        row = table.get(item.name) or table.get(str(item.sequence.meta.get("id", "")))
        if row:
            if row.get("class"):
                return LABELS[label_index(row["class"])]
            lab = str(row.get("label", "")).strip()
            if lab.isdigit() and int(lab) < len(LABELS):
                return LABELS[int(lab)]
        return item.cls

    for inp in args.inputs:
        if not Path(inp).exists():
            fail(f"{inp}: {MISSING}")
            continue
        try:
            items = list(read_inputs(inp, fps=args.fps))
        except (ValueError, OSError, pickle.UnpicklingError) as exc:
            fail(str(exc))
            continue
        if not items:
            fail(f"{inp}: no sequences found")
            continue
        for item in items:
            bar.update()
            if item.error:
                fail(item.error)
                continue
            seq = item.sequence
            try:
                if args.to == "npz":
                    from gaitpose.io import save_sequence

                    save_sequence(out / f"{item.name}.npz", seq)
                elif args.to == "trc":
                    from gaitpose.io.trc import write_trc

                    write_trc(out / f"{item.name}.trc", seq, units=args.units)
                elif args.to == "opengait":
                    from gaitpose.io.opengait import write_opengait_sequence

                    cls = class_of(item)
                    if cls is None:
                        fail(f"{inp} [{item.name}]: no class known (give --labels CSV with id,class)")
                        continue
                    row = table.get(item.name, {})
                    view = row.get("view") or item.view or args.view or "000"
                    write_opengait_sequence(out, item.name, cls, view, seq)
                    split = (row.get("split") or item.split or "").strip().lower()
                    if split in ("train", "test"):
                        pyskl_split.setdefault(split, []).append(item.name)
                else:  # pyskl: gathered, written once at the end
                    cls = class_of(item)
                    label = LABELS.index(cls) if cls else -1
                    pyskl_items.append((item.name, seq, label))
                    split = (table.get(item.name, {}).get("split") or item.split or "all").strip()
                    pyskl_split.setdefault(split, []).append(item.name)
                written += 1
            except (ValueError, OSError) as exc:
                fail(f"{inp} [{item.name}]: {exc}")
    bar.close()
    if args.to == "opengait" and pyskl_split:  # splits known (CSV split column or source partition)
        from gaitpose.io.opengait import write_partition

        write_partition(out / "partition.json", sorted(set(pyskl_split.get("train", []))),
                        sorted(set(pyskl_split.get("test", []))))
    if args.to == "pyskl" and pyskl_items:
        from gaitpose.io.pyskl import write_pyskl

        write_pyskl(pkl_path, pyskl_items, pyskl_split)
        if any(lab < 0 for _, _, lab in pyskl_items):
            print("gaitpose convert: some sequences have no class (label -1); give --labels", file=sys.stderr)
    target = pkl_path if args.to == "pyskl" else out
    print(f"converted {written} sequence(s) to {args.to} in {target}; {failed} failed")
    return 1 if failed else 0
