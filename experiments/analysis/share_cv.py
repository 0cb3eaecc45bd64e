"""Choose the fused model's prediction shares by subject-grouped cross-validation (issue 11).

The validation split alone (252 walks, 151 subjects in the quick cohort) chose the shares so
far; this pools held-out predictions over all of TRAIN_SET + VAL_SET instead. The test split
is never read.

    python experiments/analysis/share_cv.py folds CONFIG OUT [--folds 5] [--set K=V]
        OUT/fold-K/partition.json for K = 0 .. folds-1: VAL_SET = fold K of TRAIN_SET +
        VAL_SET (whole subjects, stratified by class: sklearn's StratifiedGroupKFold,
        shuffled with seed 0), TRAIN_SET = the other folds, TEST_SET unchanged (not read);
        the walks, their classes and subjects as CONFIG's data reads them (a synthetic
        cohort's ground_truth.csv, an OpenGait tree such as Scoliosis1K — whose partition has
        no VAL_SET: the pool is then TRAIN_SET —, a folder of Sequence files)
    python experiments/analysis/share_cv.py train CONFIG OUT [--seeds 0 1 2] [--jobs 2] [--set K=V]
        trains CONFIG's base model once per fold and seed (`gaitpose train CONFIG -o
        OUT/fold-K/seed-S --set data.dataset_partition=OUT/fold-K/partition.json --set
        trainer.seed=S`, and any further --set), JOBS at a time; a finished run is not retrained, an interrupted one resumes
    python experiments/analysis/share_cv.py score OUT
        every run's held-out fold predicted once per stream part (kept in the run's
        held_out_parts.npz for the next score), the folds pooled per seed,
        and the macro-F1 of the mix at a grid of (measure_weight, sil_weight): the shares
        change the prediction only, so one set of checkpoints serves the whole grid
    python experiments/analysis/share_cv.py designs OUT
        other late-fusion designs on the same held-out predictions: mixing the streams'
        probabilities instead of their logits, and a stacking logistic regression on the
        three parts' logits (fitted on four folds' held-out walks, scored on the fifth)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedGroupKFold
from variant_pilots import skeleton_at, stream_parts

MEASURE_SHARES = (0.5, 0.6, 0.75, 0.9)
SIL_SHARES = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def pool_walks(cfg, part: dict[str, list[str]]) -> pd.DataFrame:
    """The training and validation walks of a resolved config's data (validation: the
    partition's VAL_SET or what ``data_cfg.val_carve`` carves), one row per partition id
    (``key``; an OpenGait id holding several views is one key): its ``class`` and
    ``subject``."""
    from gaitpose import LABELS
    from gaitpose.engine import builders

    rows = []
    has_val = "VAL_SET" in part or cfg["data_cfg"].get("val_carve")
    for split in ("train", "val") if has_val else ("train",):
        ds = builders.build_dataset(cfg, tuple(cfg["data_cfg"]["modalities"]), split)
        rows += [(k, LABELS[y], s) for k, y, s in zip(ds.tree_ids, ds.labels, ds.subjects)]
    return pd.DataFrame(rows, columns=["key", "class", "subject"]).drop_duplicates("key").set_index("key")


def read_split_ids(cfg) -> dict[str, list[str]]:
    """The config's partition JSON (ids in the file's order)."""
    from gaitpose.engine import builders
    from gaitpose.io.opengait import read_partition

    return read_partition(cfg["data_cfg"]["dataset_partition"] or builders.ensure_dataset(cfg) / "partition.json")


def folds(config: str, out: str, k: int, overrides: list[str] = ()) -> None:
    from gaitpose.engine.config import load_config

    cfg = load_config(config, overrides)
    part = read_split_ids(cfg)
    walks = pool_walks(cfg, part)
    # the partition's order (TRAIN_SET, then VAL_SET when it has one): the folds follow it
    pool = [i for i in part["TRAIN_SET"] + part.get("VAL_SET", []) if i in walks.index]
    split = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=0)
    for n, (_, held) in enumerate(split.split(pool, walks.loc[pool, "class"], walks.loc[pool, "subject"])):
        val = sorted(pool[i] for i in held)
        keep = set(val)
        fold = {"TRAIN_SET": [i for i in pool if i not in keep], "VAL_SET": val, "TEST_SET": part["TEST_SET"]}
        path = Path(out) / f"fold-{n}" / "partition.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(fold, indent=1))
        counts = walks.loc[val, "class"].value_counts().to_dict()
        print(f"{path}: {len(fold['TRAIN_SET'])} training, {len(val)} held out "
              f"({walks.loc[val, 'subject'].nunique()} subjects; {counts})")


def finished(run: Path) -> bool:
    """Whether the run's last checkpoint is its final one (an interrupted run resumes)."""
    from gaitpose.engine.checkpoint import load_checkpoint

    ckpt = run / "checkpoints" / "latest.pt"
    if not ckpt.is_file():
        return False
    state = load_checkpoint(ckpt)
    return state["iteration"] >= state["config"]["trainer_cfg"]["total_iter"]


def train_one(config: str, fold: Path, seed: int, overrides: list[str]) -> str:
    run = fold / f"seed-{seed}"
    if finished(run):
        return f"{run}: already trained"
    cmd = [sys.executable, "-m", "gaitpose", "train", config, "-o", str(run), "-q",
           "--set", f"data.dataset_partition={fold / 'partition.json'}", "--set", f"trainer.seed={seed}"]
    cmd += [arg for kv in overrides for arg in ("--set", kv)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        return f"{run}: FAILED ({done.stderr.strip().splitlines()[-1:]})"
    return f"{run}: trained"


def train(config: str, out: str, seeds: list[int], jobs: int, overrides: list[str]) -> None:
    fold_dirs = sorted(p.parent for p in Path(out).glob("fold-*/partition.json"))
    if not fold_dirs:
        raise SystemExit(f"{out}: no fold-*/partition.json (run `folds` first)")
    with ThreadPoolExecutor(jobs) as pool:
        for line in pool.map(lambda fs: train_one(config, *fs, overrides), [(f, s) for s in seeds for f in fold_dirs]):
            print(line, flush=True)


def held_out_parts(run: Path) -> dict[str, np.ndarray]:
    """:func:`variant_pilots.stream_parts` of a run's held-out fold, kept in the run's
    held_out_parts.npz (made again when the checkpoint is newer)."""
    cache = run / "held_out_parts.npz"
    if cache.is_file() and cache.stat().st_mtime > (run / "checkpoints" / "latest.pt").stat().st_mtime:
        with np.load(cache) as saved:
            return dict(saved)
    parts = stream_parts(str(run), fused=True)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, **parts)
    tmp.replace(cache)
    return parts


def pooled_parts(out: str) -> dict[str, dict[str, np.ndarray]]:
    """Per seed, every fold's held-out parts concatenated, with each walk's ``fold``."""
    runs: dict[str, list[dict]] = {}
    for run in sorted(Path(out).glob("fold-*/seed-*")):
        parts = held_out_parts(run)
        parts["fold"] = np.full(len(parts["labels"]), int(run.parent.name.removeprefix("fold-")))
        runs.setdefault(run.name, []).append(parts)
        print(f"{run} predicted", flush=True)
    return {seed: {key: np.concatenate([r[key] for r in rs]) for key in rs[0]} for seed, rs in sorted(runs.items())}


def score(out: str) -> None:
    table: dict[tuple, list[float]] = {}
    for seed, p in pooled_parts(out).items():
        print(f"{seed}: {len(p['labels'])} held-out walks from {len(np.unique(p['fold']))} folds; silhouette half "
              f"{f1_score(p['labels'], p['sil'].argmax(1), average='macro'):.3f}")
        for mw in MEASURE_SHARES:
            pose = skeleton_at(p, mw)
            table.setdefault((mw, None), []).append(f1_score(p["labels"], pose.argmax(1), average="macro"))
            for ws in SIL_SHARES:
                fused = ws * p["sil"] + (1 - ws) * pose
                table.setdefault((mw, ws), []).append(f1_score(p["labels"], fused.argmax(1), average="macro"))
    for (mw, ws), f in table.items():
        what = "skeleton half" if ws is None else f"fused, sil_weight {ws}"
        print(f"measure_weight {mw}, {what}: mean {np.mean(f):.3f}; per seed {' '.join(f'{x:.3f}' for x in f)}")


def designs(out: str, measure_weight: float = 0.6) -> None:
    from scipy.special import softmax
    from sklearn.linear_model import LogisticRegression

    table: dict[str, list[float]] = {}
    for p in pooled_parts(out).values():
        y = p["labels"]
        pose = skeleton_at(p, measure_weight)
        for ws in SIL_SHARES:
            for space, z in (("logits", ws * p["sil"] + (1 - ws) * pose),
                             ("probabilities", ws * softmax(p["sil"], 1) + (1 - ws) * softmax(pose, 1))):
                table.setdefault(f"mix of {space}, sil_weight {ws}", []).append(
                    f1_score(y, z.argmax(1), average="macro"))
        x = np.hstack([p["sil"], p["graph"], p["measures"]])
        for c in (0.01, 0.1, 1.0):
            pred = np.zeros_like(y)
            for fold in np.unique(p["fold"]):
                fit, held = p["fold"] != fold, p["fold"] == fold
                pred[held] = LogisticRegression(C=c, max_iter=2000).fit(x[fit], y[fit]).predict(x[held])
            table.setdefault(f"stacking logistic regression, C {c}", []).append(f1_score(y, pred, average="macro"))
    print(f"measure_weight {measure_weight}:")
    for name, f in table.items():
        print(f"{name}: mean {np.mean(f):.3f}; per seed {' '.join(f'{x:.3f}' for x in f)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    f = sub.add_parser("folds")
    f.add_argument("config")
    f.add_argument("out")
    f.add_argument("--folds", type=int, default=5)
    f.add_argument("--set", dest="overrides", action="append", default=[], metavar="K=V")
    t = sub.add_parser("train")
    t.add_argument("config")
    t.add_argument("out")
    t.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    t.add_argument("--jobs", type=int, default=2)
    t.add_argument("--set", dest="overrides", action="append", default=[], metavar="K=V")
    for name in ("score", "designs"):
        sub.add_parser(name).add_argument("out")
    a = ap.parse_args()
    if a.what == "folds":
        folds(a.config, a.out, a.folds, a.overrides)
    elif a.what == "train":
        train(a.config, a.out, a.seeds, a.jobs, a.overrides)
    else:
        {"score": score, "designs": designs}[a.what](a.out)


if __name__ == "__main__":
    main()
