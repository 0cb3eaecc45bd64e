"""Benchmark: `gaitpose synth` speed (target: 300 sequences x 300 frames in < 60 s on 2 cores).

Run: PYTHONPATH=. python experiments/benchmarks/synth_speed.py [--sequences 300] [--frames 300] [-j 2]
Prints the wall time, frames per second and the ratio to the 60-s budget.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from gaitpose.synth import make_cohort


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sequences", type=int, default=300)
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("-j", "--workers", type=int, default=2)
    ap.add_argument("--budget", type=float, default=60.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        make_cohort(out, sequences=args.sequences, frames=args.frames, seed=0,
                    workers=args.workers, progress=False)
        dt = time.perf_counter() - t0
    n = args.sequences * args.frames
    print(f"synth: {args.sequences} x {args.frames} frames, {args.workers} workers "
          f"({os.cpu_count()} CPUs): {dt:.1f} s, {n / dt:.0f} frames/s, "
          f"{dt / args.budget:.2f} of the {args.budget:.0f}-s budget")


if __name__ == "__main__":
    main()
