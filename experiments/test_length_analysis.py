"""Re-evaluate every checkpoint of a finished experiment at several test lengths.

Why: the streams pool over time with a maximum, so features of a 60-frame test sequence are
not distributed like those of the short clips the model was trained on. This script measures
how much that mismatch costs each setting (and each stream of the fused models), without
retraining: it only re-runs evaluation with ``evaluator.sampler.frames_all_limit`` changed.

Run (from the repository root, after ``gaitpose experiment CONFIG -o DIR``):

    python experiments/test_length_analysis.py DIR --limits 8 60 [-o DIR/test_length.md]

Prints and writes a markdown table: setting × evaluation × test length → macro-F1 and
accuracy, mean ± std over seeds.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from gaitpose.engine.evaluator import evaluate
from gaitpose.engine.metrics import markdown_table
from gaitpose.io.atomic import atomic_write_text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("exp_dir", type=Path)
    ap.add_argument("--limits", type=int, nargs="+", default=[8, 60])
    ap.add_argument("-o", "--output", type=Path)
    args = ap.parse_args()
    rows = []
    results = pd.read_csv(args.exp_dir / "results.csv")
    for (setting, seed, tag, run_dir), _ in results.groupby(
        ["setting", "seed", "evaluated_with", "run_dir"], sort=False
    ):
        ckpt = Path(run_dir) / "checkpoints" / "latest.pt"
        drop = () if tag == "all" else (tag.removeprefix("without_"),)
        for limit in args.limits:
            rep = evaluate(None, ckpt, drop_modalities=drop, progress=False,
                           overrides=[f"evaluator.sampler.frames_all_limit={limit}", "evaluator.bootstrap=0"])
            rows.append({"setting": setting, "evaluated_with": tag, "seed": seed, "test_frames": limit,
                         "accuracy": rep["accuracy"], "macro_f1": rep["macro_f1"]})
            print(json.dumps(rows[-1]))
    df = pd.DataFrame(rows)
    summary = (
        df.groupby(["setting", "evaluated_with", "test_frames"], sort=False)[["macro_f1", "accuracy"]]
        .agg(lambda v: f"{np.mean(v):.3f} ± {np.std(v, ddof=1) if len(v) > 1 else 0.0:.3f}")
        .reset_index()
    )
    text = markdown_table(summary)
    print(text)
    if args.output:
        atomic_write_text(args.output, text + "\n")


if __name__ == "__main__":
    main()
