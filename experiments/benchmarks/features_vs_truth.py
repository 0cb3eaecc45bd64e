"""Do the exported medians track the synthetic cohort's ground truth?

Generates a synthetic cohort (gaitpose.synth) or uses an existing one (--cohort DIR with
ground_truth.csv), runs `gaitpose features` on it, and prints Spearman's rho between the
exported medians and the generator's true values, the cadence agreement, and (with
--report DIR) runs `gaitpose report` and prints the top-ranked features.

    PYTHONPATH=. python experiments/benchmarks/features_vs_truth.py --sequences 300 --view front
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from gaitpose.cli import main as cli

PAIRS = (
    ("shoulder_tilt_median", "shoulder_tilt"),
    ("pelvic_obliquity_median", "pelvic_obliquity"),
    ("trunk_shift_median", "trunk_shift"),
    ("shoulder_pelvis_tilt_median", "shoulder_pelvis_tilt"),
    ("shoulder_tilt_mean", "shoulder_tilt"),
    ("pelvic_obliquity_mean", "pelvic_obliquity"),
    ("trunk_shift_mean", "trunk_shift"),
    ("trunk_lateral_lean_median", "trunk_lateral_lean"),
    ("arm_swing_asymmetry_si", "arm_swing_asymmetry"),
    ("step_time_asymmetry_si", "step_time_asymmetry"),
    ("step_time_left_mean", "step_time_left"),
)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--cohort", help="existing cohort folder (else one is generated)")
    ap.add_argument("--sequences", type=int, default=300)
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--view", default="front", choices=("front", "back", "side"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--report", help="also run gaitpose report into this folder")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.cohort) if args.cohort else Path(tmp) / "cohort"
        if not args.cohort:
            from gaitpose.synth.cohort import make_cohort

            make_cohort(root, sequences=args.sequences, frames=args.frames, seed=args.seed,
                        view=args.view, progress=False)  # fmt: skip
        feats = Path(tmp) / "features.csv"
        cli(["features", str(root), "-o", str(feats)])
        f = pd.read_csv(feats, dtype={"id": str})
        g = pd.read_csv(root / "ground_truth.csv", dtype={"id": str})
        m = f.merge(g, on="id", suffixes=("", "_truth"))
        view = g["view"].iloc[0] if "view" in g else args.view
        print(f"cohort {root} ({len(g)} sequences, view {view}); {int(m['usable'].sum())} usable")
        print(f"{'feature':32s} {'truth':22s} {'spearman':>9s} {'median |err|':>13s}  n")
        for col, truth in PAIRS:
            if col not in m or truth not in m:
                continue
            ok = m[col].notna() & m[truth].notna()
            if ok.sum() < 3:
                print(f"{col:32s} {truth:22s} {'n/a':>9s}")
                continue
            rho = spearmanr(m.loc[ok, col], m.loc[ok, truth]).statistic
            err = np.median(np.abs(m.loc[ok, col] - m.loc[ok, truth]))
            print(f"{col:32s} {truth:22s} {rho:9.3f} {err:13.3f}  {int(ok.sum())}")
        rel = np.abs(m["cadence_mean"] / m["cadence"] - 1)
        print(f"cadence within 5 % of the truth: {(rel < 0.05).mean():.1%} of sequences "
              f"(median relative error {np.nanmedian(rel):.2%})")  # fmt: skip
        if args.report:
            cli(
                [
                    "report",
                    str(feats),
                    "--labels",
                    str(root / "ground_truth.csv"),
                    "-o",
                    args.report,
                ]
            )


if __name__ == "__main__":
    main()
