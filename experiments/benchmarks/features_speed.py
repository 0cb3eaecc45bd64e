"""Speed of `gaitpose features`: sequences per second for 300-frame sequences.

Prints, in one run (same machine, same inputs):
  * load     — numpy loading of the Sequence .npz files alone (the I/O floor);
  * clean    — per-frame signal processing alone (threshold, gaps, Hampel, Butterworth);
  * features — the whole per-sequence computation (clean + geometry + events + strides + QC);
  * e2e      — load + features, as the command does per input (single process);
  * command  — `gaitpose features DIR -o f.csv -j 2` on the same files (wall clock);
and the ratios features/clean and e2e/load, then a projection to sequences per minute on 2 cores.

    PYTHONPATH=. python experiments/benchmarks/features_speed.py [--n 200] [--frames 300]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from gaitpose.features import FeatureParams, sequence_features
from gaitpose.features.constructed import walker
from gaitpose.features.pipeline import clean_keypoints
from gaitpose.io import Sequence, load_sequence, save_sequence


def rate(fn, items) -> float:
    t0 = time.perf_counter()
    for it in items:
        fn(it)
    return len(items) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=200, help="sequences")
    ap.add_argument("--frames", type=int, default=300)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    views = ("front", "back", "side")
    kps = []
    for i in range(args.n):
        kp = walker(T=args.frames, view=views[i % 3], stride_hz=rng.uniform(0.8, 1.1),
                    shoulder_tilt=rng.normal(0, 3), noise=1.0, seed=i)  # fmt: skip
        drop = rng.random(kp.shape[:2]) < 0.02  # some missing keypoints
        kp[drop, :2] = np.nan
        kp[drop, 2] = 0
        kps.append(kp)
    params = FeatureParams()
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, kp in enumerate(kps):
            p = Path(tmp) / f"s{i:04d}.npz"
            save_sequence(p, Sequence(keypoints=kp, fps=30.0, image_size=(720, 1280)))
            paths.append(p)
        sequence_features(kps[0], 30.0, "mediapipe33")  # warm-up (imports)
        r_load = rate(load_sequence, paths)
        r_clean = rate(lambda k: clean_keypoints(k, 30.0, "mediapipe33", params), kps)
        r_feat = rate(lambda k: sequence_features(k, 30.0, "mediapipe33", params=params), kps)

        def e2e(p):
            s = load_sequence(p)
            sequence_features(s.keypoints, s.fps, s.layout, s.world, s.detected, params)

        r_e2e = rate(e2e, paths)
        from gaitpose.cli import main as cli

        t0 = time.perf_counter()
        cli(["features", tmp, "-o", str(Path(tmp) / "out" / "f.csv"), "-j", "2"])
        r_cli = len(paths) / (time.perf_counter() - t0)
    print(f"{args.n} sequences x {args.frames} frames (MediaPipe-33, front/back/side), one process")
    print(f"  load      {r_load:8.1f} seq/s")
    print(f"  clean     {r_clean:8.1f} seq/s")
    print(f"  features  {r_feat:8.1f} seq/s   ({r_clean / r_feat:.2f}x the time of clean alone)")
    print(f"  e2e       {r_e2e:8.1f} seq/s   ({r_load / r_e2e:.1f}x the time of loading alone)")
    print(f"  command   {r_cli:8.1f} seq/s   (gaitpose features -j 2, incl. start-up and writing)")
    print(
        f"  → {60 * r_cli:,.0f} sequences/min measured with -j 2 "
        f"({60 * r_e2e * 2:,.0f}/min projected from one process x 2)"
    )


if __name__ == "__main__":
    main()
