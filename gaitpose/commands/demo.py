"""``gaitpose demo``: the whole pipeline on the embedded default, in a few minutes on a CPU.

Steps (each through the same CLI a user runs, so the demo exercises the contracts):

1. ``gaitpose synth``: a small synthetic labelled cohort (front view);
2. ``gaitpose train``: a short training of the fused ScoNet-MT variant (narrow, CPU-sized);
3. ``gaitpose calibrate`` (temperature and operating point on the validation split), then
   ``gaitpose evaluate``: metrics, calibration and the operating point's 2x2 table on the
   held-out test subjects;
4. ``gaitpose features`` + ``gaitpose report``: asymmetry features and the group comparison;
5. ``gaitpose extract`` + ``gaitpose features`` on a real clip, when one is given or
   ``../shared/data/walk_outdoor.mp4`` exists;
6. ``gaitpose screen`` on new synthetic walks and the real clip: a verdict and one HTML report
   each (the real clip, a side view, is refused by the quality gate: the model saw front views).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "experiments" / "demo.yaml"

DESCRIPTION = """\
The whole pipeline on a synthetic cohort, in a few minutes on a CPU. Each step runs through
the same command a user types, and is printed before it runs:

  1. gaitpose synth      a small synthetic labelled cohort (front view)
  2. gaitpose train      a short training of the fused ScoNet-MT variant (narrow, CPU-sized)
  3. gaitpose evaluate   metrics and the confusion matrix on the held-out subjects
  4. gaitpose features   asymmetry features, then gaitpose report: the group comparison
  5. gaitpose extract    a real clip, then its features (when --video is given or
                         ../shared/data/walk_outdoor.mp4 exists)

Outputs go to OUT (default demo_out); a cohort already in OUT/cohort is reused."""


def add_parser(sub, name: str, help_: str) -> None:
    from gaitpose.cli import add_jobs_flag, add_quiet_flag

    p = sub.add_parser(name, help=help_, description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("-o", "--output", default="demo_out", metavar="OUT", help="output folder (default: demo_out)")
    p.add_argument("--video", action="append", default=None, metavar="FILE",
                   help="a real walking video to extract (default: ../shared/data/walk_outdoor.mp4 when present)")
    p.add_argument("--sequences", type=int, default=96, metavar="N", help="synthetic sequences (default 96)")
    p.add_argument("--frames", type=int, default=150, metavar="N", help="frames per synthetic sequence (default 150: 5 s at 30 fps, three strides a side)")
    p.add_argument("--iterations", type=int, default=None, metavar="N", help="training iterations (default: the demo config's)")
    p.add_argument("--skip-train", action="store_true", help="skip training/evaluation")
    p.add_argument("--no-video", action="store_true", help="skip the real-clip extraction")
    add_jobs_flag(p, "worker processes for synth, features and extract")
    add_quiet_flag(p)
    p.set_defaults(func=run)


def _default_videos() -> list[Path]:
    candidates = [Path.cwd().parent / "shared" / "data", Path(__file__).resolve().parents[3] / "shared" / "data"]
    env = os.environ.get("GAITPOSE_SHARED_DATA")
    if env:
        candidates.insert(0, Path(env))
    for folder in candidates:
        clip = folder / "walk_outdoor.mp4"
        if clip.is_file():
            return [clip]
    return []


def _step(title: str, argv: list[str], summary: list[tuple[str, str, str]], outputs: str) -> bool:
    from gaitpose.cli import main

    print(f"\n=== {title}\n$ gaitpose {' '.join(argv)}", flush=True)
    t0 = time.perf_counter()
    code = main(argv)
    dt = time.perf_counter() - t0
    status = "ok" if code == 0 else f"exit {code}"
    summary.append((title, f"{status}, {dt:.0f} s", outputs))
    return code == 0


def _calibrate_step(run_dir: Path, sets: list[str], summary) -> Path:
    """Calibrate the demo model on the validation split; the checkpoint to evaluate and screen with
    (the uncalibrated one when calibration failed: it still screens, and says so)."""
    ckpt = run_dir / "checkpoints" / "latest.pt"
    calibrated = run_dir / "calibrated.pt"
    ok = _step("calibrate on the validation split",
               ["calibrate", str(DEMO_CONFIG), "--checkpoint", str(ckpt), "-o", str(calibrated), *sets[:2]],
               summary, f"{calibrated} (+ .calibration.json, .reliability.png)")
    return calibrated if ok else ckpt


def _screen_step(out: Path, cohort: Path, model: Path, frames: int, summary) -> bool:
    """Screen fresh synthetic walks (not in the cohort) and the extracted real clip, if any."""
    walks = out / "walks"
    ok = True
    if not (walks / "npz").is_dir():
        ok &= _step("new synthetic walks to screen",
                    ["synth", "-o", str(walks), "--sequences", "4", "--frames", str(frames), "--seed", "1",
                     "--view", "front", "--npz"], summary, f"{walks / 'npz'}")
    real = sorted((out / "extract").glob("*.npz"))
    ok &= _step("screen walks", ["screen", str(walks / "npz"), *map(str, real), "-o", str(out / "screen"),
                                 "--checkpoint", str(model), "--reference", str(out / "features.csv"),
                                 "--labels", str(cohort / "ground_truth.csv")],
                summary, f"{out / 'screen'}/<walk>/report.html, summary.csv")
    return ok


def run(args: argparse.Namespace) -> int:
    out = Path(args.output).resolve()
    out.mkdir(parents=True, exist_ok=True)
    summary: list[tuple[str, str, str]] = []
    cohort = out / "cohort"
    ok = True
    quiet = ["-q"] if args.quiet else []
    jobs = ["-j", str(args.jobs), *quiet]  # for the commands with worker processes
    if (cohort / "cohort.json").is_file():
        print(f"\n=== synthetic cohort: reusing {cohort}")
        summary.append(("synthetic cohort", "reused", str(cohort)))
    else:
        ok &= _step("synthetic cohort",
                    ["synth", "-o", str(cohort), "--sequences", str(args.sequences), "--frames",
                     str(args.frames), "--seed", "0", "--view", "front", *jobs],
                    summary, f"{cohort} (OpenGait tree, partition.json, ground_truth.csv)")
    if not args.skip_train:
        run_dir = out / "run"
        sets = ["--set", f"data_cfg.dataset_root={cohort}"]
        if args.iterations:
            sets += ["--set", f"trainer_cfg.total_iter={args.iterations}"]
        ok &= _step("train fused ScoNet-MT (skeleton GCN + silhouettes)",
                    ["train", str(DEMO_CONFIG), "-o", str(run_dir), *sets, *quiet], summary, f"{run_dir}")
        ckpt = _calibrate_step(run_dir, sets, summary)
        ok &= ckpt.name == "calibrated.pt"
        ok &= _step("evaluate on held-out subjects",
                    ["evaluate", str(DEMO_CONFIG), "--checkpoint", str(ckpt), "-o", str(run_dir / "metrics.json"), *sets[:2], *quiet],
                    summary, f"{run_dir / 'metrics.json'} and the confusion-matrix PNG beside it")
    feats = out / "features.csv"
    ok &= _step("asymmetry features", ["features", str(cohort), "-o", str(feats), *jobs], summary,
                f"{feats} + {feats.with_suffix('.dictionary.csv').name}")
    ok &= _step("group report", ["report", str(feats), "--labels", str(cohort / "ground_truth.csv"), "-o",
                                 str(out / "report")], summary, str(out / "report"))
    videos = [] if args.no_video else [Path(v) for v in args.video] if args.video else _default_videos()
    if videos:
        ext = out / "extract"
        ok &= _step("extract a real clip", ["extract", *map(str, videos), "-o", str(ext), "--overlay", *jobs], summary,
                    f"{ext} (.npz, manifest.csv, overlay .mp4)")
        ok &= _step("features of the real clip", ["features", str(ext), "-o", str(out / "real_features.csv"), *jobs],
                    summary, str(out / "real_features.csv"))
    else:
        print("\n(no real clip: pass --video FILE or put ../shared/data/walk_outdoor.mp4 beside the project)")
    if not args.skip_train:
        ok &= _screen_step(out, cohort, ckpt, args.frames, summary)
    print("\n=== summary")
    width = max(len(s[0]) for s in summary)
    for title, status, where in summary:
        print(f"{title:<{width}}  {status:<12}  {where}")
    return 0 if ok else 1
