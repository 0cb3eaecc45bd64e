"""Does the synthetic walker's foot contact look like real walking's?

At each heel strike (Zeni et al. 2008: maximum of heel − pelvis along the walk, on 3D points):
the heel's height above its lowest point in the trial, its speed, and the delay until it comes
to rest (speed < 0.1 m/s); and the heel's largest speed while the foot should be planted
(the 0.1–0.3 s after coming to rest). Real trials: gaitkit's bundled marker data (see
real_motion.py); synthetic: ``gaitpose.synth.walker.simulate`` for sampled subjects, moved
along the path at the renderer's speed (step length × cadence).

    PYTHONPATH=. python experiments/validation/walker_contact.py [--subjects 20]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_motion as rm  # noqa: E402


def contact_timing(heel: np.ndarray, pelvis: np.ndarray, fps: float) -> list[dict]:
    """Per Zeni heel strike: height (m), speed (m/s), delay to rest (s), planted slip (m/s).

    heel, pelvis: [T, 3] in a frame with x forward, y up (metres).
    """
    from scipy.signal import find_peaks

    speed = np.linalg.norm(np.gradient(heel, axis=0), axis=1) * fps
    floor = heel[:, 1].min()
    peaks, _ = find_peaks(heel[:, 0] - pelvis[:, 0], distance=int(0.5 * fps), prominence=0.1)
    out = []
    for p in peaks:
        still = np.flatnonzero(speed[p:] < 0.1)
        if not still.size:
            continue
        rest = p + int(still[0])
        planted = speed[rest + int(0.1 * fps) : rest + int(0.3 * fps)]
        if planted.size < int(0.2 * fps) - 1:
            continue
        out.append({
            "height_m": float(heel[p, 1] - floor), "speed_ms": float(speed[p]),
            "delay_to_rest_s": (rest - p) / fps, "planted_slip_ms": float(planted.max()),
        })  # fmt: skip
    return out


def real_contacts() -> list[dict]:
    rows = []
    for name in rm.TRIALS:
        tr = rm.load_trial(name)
        pelvis = (tr.markers["left_hip"] + tr.markers["right_hip"]) / 2
        for side in ("left", "right"):
            for r in contact_timing(tr.markers[f"{side}_heel"], pelvis, tr.fps):
                rows.append({"source": f"real {name}", **r})
    return rows


def synthetic_contacts(subjects: int, seed: int = 0, fps: float = 100.0) -> list[dict]:
    from gaitpose.synth.walker import sample_subject, simulate

    rng = np.random.default_rng(seed)
    rows = []
    for i in range(subjects):
        s = sample_subject(rng, ("negative", "neutral", "positive")[i % 3])
        m = simulate(s, int(6 * fps), fps, np.random.default_rng(seed + 1000 + i))
        fwd = s.step_length * s.cadence / 60.0 * np.arange(m.joints.shape[0]) / fps
        # body frame (l, u, f) → x forward, y up
        pts = np.stack([m.joints[..., 2] + fwd[:, None], m.joints[..., 1], m.joints[..., 0]], -1)
        pelvis = (pts[:, 23] + pts[:, 24]) / 2
        for j in (29, 30):
            rows += [{"source": "synthetic walker", **r} for r in contact_timing(pts[:, j], pelvis, fps)]
    return rows


def main(argv: list[str] | None = None) -> int:
    import pandas as pd

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--subjects", type=int, default=20)
    ap.add_argument("-o", "--output", default="experiments/validation/results/walker_contact.md")
    args = ap.parse_args(argv)
    if rm.data_dir() is None:
        print("walker_contact: gaitkit is not installed", file=sys.stderr)
        return 1
    df = pd.DataFrame(real_contacts() + synthetic_contacts(args.subjects))
    summary = df.groupby("source").agg(
        strikes=("height_m", "size"), height_m=("height_m", "median"),
        speed_ms=("speed_ms", "median"), delay_to_rest_s=("delay_to_rest_s", "median"),
        planted_slip_ms=("planted_slip_ms", "median"),
    ).reset_index()  # fmt: skip
    text = "\n".join([
        "# Heel contact: synthetic walker vs real walking", "",
        f"Command: `PYTHONPATH=. python experiments/validation/walker_contact.py --subjects "
        f"{args.subjects}` (medians over heel strikes; heel strikes by Zeni et al. 2008 on 3D "
        "points; rest = heel speed < 0.1 m/s; planted slip = the heel's largest speed 0.1–0.3 s "
        "after coming to rest).", "", rm._md(summary), "",
    ])  # fmt: skip
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(text)
    print(summary.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
