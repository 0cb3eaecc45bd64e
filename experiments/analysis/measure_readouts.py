"""How well the measure token's read-out reads its measures (issue 11, validation pilots).

    python experiments/analysis/measure_readouts.py compare ROOT
        read-outs of the clip measures ([m, |m|] of ClipMeasures over the first 60 frames),
        each trained as the quick grid trains the skeleton stream (800 iterations of 16 walks,
        half of them mirrored, Adam 3e-3 with x0.1 at 640, CE with smoothing 0.1; 5 seeds),
        fitted on TRAIN_SET, scored on VAL_SET; and logistic regression for comparison
    python experiments/analysis/measure_readouts.py reference ROOT [ROOT ...] [--frames N]
        a reference row: logistic regression on the same inputs, C chosen on VAL_SET, fitted on
        TRAIN_SET, scored once on TEST_SET (it chooses nothing); --frames: the measures over
        the first N frames instead of 60 (every command takes it)
    python experiments/analysis/measure_readouts.py stack ROOT 'RUNS/fused-s*' fused|skeleton
        validation only: the checkpoints' graph-part logits (measure share 0) with the measure
        part replaced by that logistic regression's log-probabilities (C = 0.1), mixed at a
        grid of shares (and with the silhouette half for fused checkpoints)
"""

from __future__ import annotations

import argparse
import glob

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn
from variant_pilots import skeleton_at, stream_parts

import graphs
from gaitpose.data import GaitDataset
from gaitpose.data.transforms import mirror_pose
from gaitpose.models.measure_tokens import ClipMeasures, measure_inputs

LAYOUT = graphs.get_layout("mediapipe33")
FRAMES = 60


def clip_inputs(root: str, split: str, mirrored: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """[m, |m|] of every sequence of a split (the walk mirrored when asked) and the labels."""
    clip = ClipMeasures(LAYOUT)
    ds = GaitDataset(root, split=split, modalities=("pose",), sample_type="all_ordered")
    rows, labels = [], []
    for i in range(len(ds)):
        item = ds[i]
        pose = torch.as_tensor(item["pose"])[None, :FRAMES].float()
        if mirrored:
            pose = mirror_pose(pose, LAYOUT.flip_index)
        rows.append(measure_inputs(clip(pose))[0].numpy())
        labels.append(item["label"])
    return np.array(rows, dtype=np.float32), np.array(labels)


def logistic(c: float):
    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000))


class Cosine(nn.Module):
    """BN-neck as in the streams: BatchNorm, then cosine logits x16."""

    def __init__(self, width: int, classes: int = 3):
        super().__init__()
        self.bn = nn.BatchNorm1d(width)
        self.w = nn.Parameter(torch.randn(width, classes) * 0.01)

    def forward(self, x):
        return 16 * F.normalize(self.bn(x), dim=1) @ F.normalize(self.w, dim=0)


def readout(kind: str, k: int) -> nn.Module:
    bn = nn.BatchNorm1d(k)
    if kind == "mlp64":  # the first token: hidden layer, ReLU token, part FC, BN-neck
        return nn.Sequential(bn, nn.Linear(k, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 256), Cosine(256))
    if kind == "mlp16":
        return nn.Sequential(bn, nn.Linear(k, 16), nn.ReLU(), nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 256), Cosine(256))
    if kind == "linear-cosine":  # the linear token through the part FC and BN-neck
        return nn.Sequential(bn, nn.Linear(k, 256), Cosine(256))
    return nn.Sequential(bn, nn.Linear(k, 3))  # "linear-logits"


def train_readout(kind, wd, adamw, seed, x, xm, y, xval) -> tuple[np.ndarray, np.ndarray]:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = readout(kind, x.shape[1])
    opt = (torch.optim.AdamW if adamw else torch.optim.Adam)(net.parameters(), lr=0.003, weight_decay=wd)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [640], 0.1)
    for _ in range(800):
        idx, flip = rng.integers(0, len(y), 16), rng.random(16) < 0.5
        batch = torch.tensor(np.where(flip[:, None], xm[idx], x[idx]))
        loss = F.cross_entropy(net.train()(batch), torch.tensor(y[idx]), label_smoothing=0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        net.eval()
        return net(torch.tensor(xval)).argmax(1).numpy(), net(torch.tensor(x)).argmax(1).numpy()


def compare(root: str) -> None:
    torch.set_num_threads(1)
    x, y = clip_inputs(root, "train")
    xm, _ = clip_inputs(root, "train", mirrored=True)
    xv, yv = clip_inputs(root, "val")
    for c in (0.03, 0.1, 0.3):
        print(f"logistic regression C={c}: val {f1_score(yv, logistic(c).fit(x, y).predict(xv), average='macro'):.3f}")
    for kind, wd, adamw in (("mlp64", 0, False), ("mlp16", 0, False), ("mlp64", 1.0, True),
                            ("linear-cosine", 0, False), ("linear-logits", 0, False), ("linear-logits", 1e-2, False)):
        val, tr = zip(*[(f1_score(yv, pv, average="macro"), f1_score(y, pt, average="macro"))
                        for pv, pt in (train_readout(kind, wd, adamw, s, x, xm, y, xv) for s in range(5))])
        decay = f", {'AdamW' if adamw else 'Adam L2'} {wd}" if wd else ""
        print(f"{kind}{decay}: val {np.mean(val):.3f} ± {np.std(val):.3f} (train {np.mean(tr):.3f}), 5 seeds")


def reference(*roots: str) -> None:
    for root in roots:
        (x, y), (xv, yv), (xt, yt) = (clip_inputs(root, s) for s in ("train", "val", "test"))
        val = {c: f1_score(yv, logistic(c).fit(x, y).predict(xv), average="macro") for c in (0.01, 0.03, 0.1, 0.3, 1.0)}
        c = max(val, key=val.get)
        test = f1_score(yt, logistic(c).fit(x, y).predict(xt), average="macro")
        print(f"{root}: val {' / '.join(f'{v:.3f}' for v in val.values())} (C 0.01 .. 1); C={c}: val {val[c]:.3f}, test {test:.3f} ({len(yt)} sequences)")


def stack(root: str, pattern: str, kind: str) -> None:
    (x, y), (xv, yv) = clip_inputs(root, "train"), clip_inputs(root, "val")
    lr_val = logistic(0.1).fit(x, y).predict_log_proba(xv)
    print(f"logistic regression alone (C=0.1): val {f1_score(yv, lr_val.argmax(1), average='macro'):.3f}")
    table: dict[tuple, list[float]] = {}
    for run in sorted(glob.glob(pattern)):
        parts = stream_parts(run, kind == "fused")
        if not np.array_equal(parts["labels"], yv):
            raise SystemExit(f"{run}: the validation sequences are not in the dataset's order")
        for w in (0.5, 0.6, 0.75, 0.9):
            pose = skeleton_at({"graph": parts["graph"], "measures": lr_val}, w)
            for ws in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8) if kind == "fused" else (0.0,):
                z = pose if kind != "fused" else ws * parts["sil"] + (1 - ws) * pose
                table.setdefault((w, ws), []).append(f1_score(yv, z.argmax(1), average="macro"))
    for (w, ws), f in table.items():
        mix = f", sil_weight {ws}" if kind == "fused" else ""
        print(f"LR share {w}{mix}: val {np.mean(f):.3f}; per run {' '.join(f'{v:.3f}' for v in f)}")


def main() -> None:
    global FRAMES
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["compare", "reference", "stack"])
    ap.add_argument("args", nargs="+")
    ap.add_argument("--frames", type=int, default=FRAMES, help="clip length of the measures (first N frames)")
    a = ap.parse_args()
    FRAMES = a.frames
    {"compare": compare, "reference": reference, "stack": stack}[a.what](*a.args)


if __name__ == "__main__":
    main()
