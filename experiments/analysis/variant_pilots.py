"""Helpers behind experiments/results/variant_pilots.md (validation-only pilots of issue 11).

    python experiments/analysis/variant_pilots.py mix SIL.predictions.csv POSE.predictions.csv
        macro-F1 of w * logits_sil + (1 - w) * logits_pose for a range of w (the logits are
        recovered from the evaluator's probabilities, softmax(16 * logits), up to a per-sample
        constant, which leaves every argmax unchanged)
    python experiments/analysis/variant_pilots.py fit SIL.predictions.csv POSE.predictions.csv
        the two softmax weights that minimise the fused cross-entropy (scale 16, smoothing 0.1)
    python experiments/analysis/variant_pilots.py probe ROOT PARTITION
        logistic regression on time-averaged / time-std normalised keypoint channels
        (train -> the partition's TEST_SET, which the pilots point at their validation ids)
    python experiments/analysis/variant_pilots.py measures ROOT FRAMES[,FRAMES...]
        logistic regression on the measure token's inputs ([m, |m|] of ClipMeasures over the
        first FRAMES frames), subject-grouped 5-fold cross-validation on TRAIN_SET + VAL_SET,
        and fitted on TRAIN_SET, scored on VAL_SET (the test split is not read)
    python experiments/analysis/variant_pilots.py cues ROOT -
        the same two figures for the true cue values of ground_truth.csv (sizes) that the
        keypoints can show: posture, posture + step time + arm swing, and each of those alone
    python experiments/analysis/variant_pilots.py shares 'RUNS/skeleton-s*' skeleton
    python experiments/analysis/variant_pilots.py shares 'RUNS/fused-s*' fused
        validation macro-F1 of trained checkpoints re-evaluated with other prediction shares:
        the measure token's share of the skeleton prediction (``measure_weight``) and, for
        fused checkpoints, the silhouette share of the fused mix (``sil_weight``); both shares
        change the prediction only, not the training, so one set of checkpoints serves all
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import f1_score

CLASSES = ["negative", "neutral", "positive"]
WEIGHTS = (0.0, 0.3, 0.5, 0.58, 0.7, 0.8, 0.9, 1.0)


def read_logits(path: str) -> tuple[np.ndarray, np.ndarray]:
    """(labels [N], logits up to a per-row constant [N, 3]) of a predictions CSV, sorted by id."""
    d = pd.read_csv(path, dtype={"id": str}).set_index("id").sort_index()
    probs = d[[f"p_{c}" for c in CLASSES]].to_numpy().clip(1e-12)
    return d["true"].map(CLASSES.index).to_numpy(), np.log(probs) / 16


def mix(sil: str, pose: str) -> None:
    y, ls = read_logits(sil)
    y2, lp = read_logits(pose)
    if not np.array_equal(y, y2):
        raise SystemExit("the two files do not hold the same sequences")
    for w in WEIGHTS:
        pred = (w * ls + (1 - w) * lp).argmax(1)
        print(f"w_sil={w:.2f}: macro-F1 {f1_score(y, pred, average='macro'):.3f}")


def fit(sil: str, pose: str) -> None:
    y, ls = read_logits(sil)
    _, lp = read_logits(pose)
    for name, lg in (("silhouette", ls), ("skeleton", lp)):
        print(f"{name} half macro-F1 {f1_score(y, lg.argmax(1), average='macro'):.3f}")
    a, b, t = torch.tensor(ls), torch.tensor(lp), torch.tensor(y)
    z = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([z], max_iter=200)

    def closure():
        opt.zero_grad()
        w = torch.softmax(z, 0)
        loss = torch.nn.functional.cross_entropy(16 * (w[0] * a + w[1] * b), t, label_smoothing=0.1)
        loss.backward()
        return loss

    opt.step(closure)
    print("fitted weights (sil, pose):", torch.softmax(z, 0).detach().numpy().round(3))


def probe(root: str, partition: str) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    import graphs
    from gaitpose.data import GaitDataset
    from gaitpose.models.skeleton import PoseNormalizer

    norm = PoseNormalizer(graphs.get_layout("mediapipe33"), velocity=True, bones=True)

    def features(split: str):
        ds = GaitDataset(root, split=split, partition=partition, modalities=("pose",), sample_type="all_ordered")
        rows, labels = [], []
        for i in range(len(ds)):
            item = ds[i]
            f = norm(item["pose"][None])[0]  # [c, t, v]
            rows.append(torch.cat([f.mean(1).flatten(), f.std(1).flatten()]).numpy())
            labels.append(item["label"])
        return np.array(rows), np.array(labels)

    xtr, ytr = features("train")
    xva, yva = features("test")
    sc = StandardScaler().fit(xtr)
    for c in (0.01, 0.1, 1.0):
        lr = LogisticRegression(C=c, max_iter=3000).fit(sc.transform(xtr), ytr)
        f_va = f1_score(yva, lr.predict(sc.transform(xva)), average="macro")
        f_tr = f1_score(ytr, lr.predict(sc.transform(xtr)), average="macro")
        print(f"C={c}: held-out macro-F1 {f_va:.3f}, training {f_tr:.3f}")


def measures(root: str, frames: str) -> None:
    import json
    from pathlib import Path

    import graphs
    from gaitpose.data import GaitDataset
    from gaitpose.models.measure_tokens import ClipMeasures

    clip = ClipMeasures(graphs.get_layout("mediapipe33"))
    parts = json.loads((Path(root) / "partition.json").read_text())
    for n in (int(f) for f in frames.split(",")):
        rows, labels, groups, splits = [], [], [], []
        for split in ("train", "val"):
            ds = GaitDataset(root, split=split, modalities=("pose",), sample_type="all_ordered")
            for i in range(len(ds)):
                item = ds[i]
                m = clip(torch.as_tensor(item["pose"])[None, :n])[0].numpy()
                rows.append(np.concatenate([m, np.abs(m)]))
                labels.append(item["label"])
                groups.append(item["subject"])
                splits.append(split)
        x, y = np.array(rows), np.array(labels)
        subjects = len(set(groups))
        print(f"first {n} frames, {len(y)} sequences of {subjects} subjects "
              f"({sum(len(parts[k]) for k in ('TRAIN_SET', 'VAL_SET'))} in TRAIN+VAL): "
              f"{linear_scores(x, y, groups, np.array(splits) == 'train')}")


def linear_scores(x: np.ndarray, y: np.ndarray, groups: list, train: np.ndarray) -> str:
    """Macro-F1 of a standardised logistic regression (C = 0.01, 0.1, 1): subject-grouped
    5-fold CV over all rows, and fitted on the ``train`` rows, scored on the others."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    cv, held = [], []
    for c in (0.01, 0.1, 1.0):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000))
        pred = np.zeros_like(y)
        for tr, te in GroupKFold(5).split(x, y, groups):
            pred[te] = model.fit(x[tr], y[tr]).predict(x[te])
        cv.append(f"{f1_score(y, pred, average='macro'):.3f}")
        pred = model.fit(x[train], y[train]).predict(x[~train])
        held.append(f"{f1_score(y[~train], pred, average='macro'):.3f}")
    return f"CV macro-F1 (C=0.01/0.1/1) {'/'.join(cv)}; train -> val {'/'.join(held)}"


CUES = {
    "posture": ["shoulder_tilt", "pelvic_obliquity", "shoulder_pelvis_tilt", "trunk_shift", "trunk_lateral_lean"],
    "step time": ["step_time_asymmetry"],
    "arm swing": ["arm_swing_asymmetry"],
}


def cues(root: str, _: str) -> None:
    from pathlib import Path

    gt = pd.read_csv(Path(root) / "ground_truth.csv", dtype={"id": str, "subject": str})
    gt = gt[gt["split"].isin(["train", "val"])]
    sets = {**{k: [k] for k in CUES}, "posture + step time + arm swing": list(CUES)}
    for name, keys in sets.items():
        x = gt[[c for k in keys for c in CUES[k]]].abs().to_numpy(float)
        print(f"{name}: {linear_scores(x, gt['label'].to_numpy(), list(gt['subject']), (gt['split'] == 'train').to_numpy())}")


MEASURE_SHARES = (0.0, 0.25, 0.5, 0.6, 0.75, 0.9, 1.0)
SIL_SHARES = (0.5, 0.6, 0.7, 0.8)


@contextlib.contextmanager
def measure_share(w: float):
    """Evaluate skeleton streams with the measure token's share ``w`` (patches
    ``SkeletonEncoder.weigh_parts``: the checkpoints' own option is frozen in their config)."""
    from gaitpose.models.skeleton import SkeletonEncoder, weigh_measure_part

    original = SkeletonEncoder.weigh_parts

    def weigh(self, logits, readout=None):
        return weigh_measure_part(logits, w, readout)

    SkeletonEncoder.weigh_parts = weigh
    try:
        yield
    finally:
        SkeletonEncoder.weigh_parts = original


def validation_run(run: str) -> tuple[dict, dict, Path]:
    """(resolved config for the validation split, loaded checkpoint, its path) of a grid cell."""
    from gaitpose.engine.checkpoint import load_checkpoint
    from gaitpose.engine.evaluator import evaluation_config

    ckpt = Path(run) / "checkpoints" / "latest.pt"
    state = load_checkpoint(ckpt)
    return evaluation_config(str(Path(run) / "config.yaml"), state, ckpt, [], "val"), state, ckpt


def stream_parts(run: str, fused: bool) -> dict[str, np.ndarray]:
    """Validation labels and logits of a grid cell's checkpoint by part: ``sil``, the silhouette
    half (fused checkpoints only), and the skeleton prediction with its measure part at share 0
    (``graph``: the graph parts alone) and at share 1 (``measures``). The skeleton prediction is
    linear in the share: at share w it is ``(1 - w) * graph + w * measures``."""
    from gaitpose.engine.evaluator import predict_split

    cfg, state, ckpt = validation_run(run)
    parts: dict[str, np.ndarray] = {}
    if fused:
        parts["sil"] = predict_split(cfg, state, ckpt, "val", drop=["pose"], progress=False)["logits"]
    for name, share in (("graph", 0.0), ("measures", 1.0)):
        with measure_share(share):
            pose = predict_split(cfg, state, ckpt, "val", drop=["sils"] if fused else [], progress=False)
        if "labels" in parts and not np.array_equal(parts["labels"], pose["labels"]):
            raise SystemExit(f"{run}: the predictions do not hold the same sequences")
        parts["labels"], parts[name] = pose["labels"], pose["logits"]
    return parts


def skeleton_at(parts: dict[str, np.ndarray], share: float) -> np.ndarray:
    """The skeleton prediction with the measure part's ``share`` (see :func:`stream_parts`)."""
    return (1 - share) * parts["graph"] + share * parts["measures"]


def shares(pattern: str, kind: str) -> None:
    import glob

    table: dict[tuple, list[float]] = {}
    for run in sorted(glob.glob(pattern)):
        parts = stream_parts(run, kind == "fused")
        y = parts["labels"]
        for mw in MEASURE_SHARES:
            pose = skeleton_at(parts, mw)
            for ws in SIL_SHARES if kind == "fused" else (0.0,):
                logits = pose if kind != "fused" else ws * parts["sil"] + (1 - ws) * pose
                table.setdefault((mw, ws), []).append(f1_score(y, logits.argmax(1), average="macro"))
        print(f"{Path(run).name} done", flush=True)
    for (mw, ws), f in table.items():
        mix = f" sil_weight {ws}" if kind == "fused" else ""
        print(f"measure_weight {mw}{mix}: mean {np.mean(f):.3f}; per run {' '.join(f'{x:.3f}' for x in f)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["mix", "fit", "probe", "measures", "cues", "shares"])
    ap.add_argument("a")
    ap.add_argument("b")
    args = ap.parse_args()
    modes = {"mix": mix, "fit": fit, "probe": probe, "measures": measures, "cues": cues, "shares": shares}
    modes[args.what](args.a, args.b)


if __name__ == "__main__":
    main()
