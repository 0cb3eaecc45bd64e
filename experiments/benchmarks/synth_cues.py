"""How much does each modality of the synthetic cohort tell? Quick CPU proxies, not the models.

Generates a cohort (or reads one), then 5-fold cross-validated (grouped by subject) accuracy on
3 classes and positive-vs-negative AUC of logistic regressions on

* ``truth``: the ground-truth asymmetry values (absolute values of signed ones);
* ``keypoints``: hand-made per-sequence features from pose.pkl (tilts, shift, arm swing
  and step-time asymmetry, shoulder/hip width ratio), measured on the noisy 2D keypoints;
* ``silhouettes``: the gait energy image (mean 64x44 silhouette) and its left-right
  asymmetry, PCA-reduced;
* ``both``: keypoint features + silhouette components.

Run: PYTHONPATH=. python experiments/benchmarks/synth_cues.py [--sequences 300] [--frames 90] [--root DIR]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from pathlib import Path

import numpy as np

TRUTH = ("shoulder_tilt", "pelvic_obliquity", "trunk_shift", "trunk_lateral_lean",
         "thoracopelvic_twist", "arm_swing_asymmetry", "step_time_asymmetry", "cadence")


def tilt(a, b):
    return np.degrees(np.arctan2(b[:, 1] - a[:, 1], np.abs(a[:, 0] - b[:, 0])))


def kp_features(pose: np.ndarray, fps: float) -> np.ndarray:
    """Per-sequence keypoint features from a pkl pose [T, 33, 3] (score-0 joints missing)."""
    kp = pose.astype(np.float64).copy()
    kp[kp[..., 2] < 0.5, :2] = np.nan
    sl, sr, hl, hr = kp[:, 11], kp[:, 12], kp[:, 23], kp[:, 24]
    wl, wr, al, ar = kp[:, 15], kp[:, 16], kp[:, 27], kp[:, 28]
    s = np.sign(np.nanmedian(hl[:, 0] - hr[:, 0]))
    ms, mh = (sl + sr) / 2, (hl + hr) / 2
    torso = np.hypot(*(ms - mh)[:, :2].T)
    st, po = tilt(sl, sr), tilt(hl, hr)
    shift = s * (ms[:, 0] - mh[:, 0]) / torso * 100
    ratio = np.abs(sl[:, 0] - sr[:, 0]) / np.abs(hl[:, 0] - hr[:, 0])
    # arm swing: range of wrist y relative to shoulder (front view: swing shows as depth → y)
    swl = np.nanpercentile((wl - sl)[:, 1] / torso, 95) - np.nanpercentile((wl - sl)[:, 1] / torso, 5)
    swr = np.nanpercentile((wr - sr)[:, 1] / torso, 95) - np.nanpercentile((wr - sr)[:, 1] / torso, 5)
    arm_si = 200 * abs(swl - swr) / (swl + swr)
    # step timing: extrema of the (smoothed) ankle y difference
    d = (al[:, 1] - ar[:, 1]) / torso
    d = np.interp(np.arange(len(d)), np.flatnonzero(np.isfinite(d)), d[np.isfinite(d)])
    k = max(1, int(fps * 0.1))
    d = np.convolve(d, np.ones(k) / k, mode="same")
    from scipy.signal import find_peaks

    pk, _ = find_peaks(d, distance=int(fps * 0.3))
    tr, _ = find_peaks(-d, distance=int(fps * 0.3))
    ev = sorted([(i, 1) for i in pk] + [(i, -1) for i in tr])
    durs = {1: [], -1: []}
    for (i0, _), (i1, k1) in zip(ev[:-1], ev[1:]):
        durs[k1].append(i1 - i0)
    if durs[1] and durs[-1]:
        a, b = np.median(durs[1]), np.median(durs[-1])
        step_si = 200 * abs(a - b) / (a + b)
    else:
        step_si = 0.0
    med = np.nanmedian
    return np.array([abs(med(st)), abs(med(po)), abs(med(st) - med(po)), abs(med(shift)),
                     med(ratio), arm_si, step_si])


def load(root: Path):
    from gaitpose.io import load_pickle

    rows = list(csv.DictReader(open(root / "ground_truth.csv")))
    K, S, Y, G, GT = [], [], [], [], []
    for r in rows:
        d = root / r["id"] / r["class"] / r["view"]
        pose, sils = load_pickle(d / "pose.pkl"), load_pickle(d / "sils.pkl")
        K.append(kp_features(pose, float(r["fps"])))
        valid = sils.reshape(len(sils), -1).max(1) > 0
        gei = sils[valid, :, 10:-10].astype(np.float32).mean(0) / 255
        # sign-free asymmetry: the convex side is random, a linear model needs |left - right|
        asym = gei - gei[:, ::-1]
        prof = np.abs(asym[:, :22]).reshape(16, 4, 22).sum((1, 2))  # 16 strips, like ScoNet
        # left and right silhouette widths per row (waist / flank contour), sign-free difference
        width_l = (gei[:, :22] > 0.5).sum(1)
        width_r = (gei[:, 22:] > 0.5).sum(1)
        S.append(np.concatenate([prof, np.abs(width_l - width_r), gei.ravel()]))
        Y.append(int(r["label"]))
        G.append(r["subject"])
        GT.append([abs(float(r[c])) for c in TRUTH])
    return np.array(K), np.array(S), np.array(Y), np.array(G), np.array(GT)


def evaluate(X, y, groups, pca: int | None = None, n_kp: int = 0):
    from sklearn.compose import ColumnTransformer
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedGroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if pca and n_kp:  # keypoint columns as they are, silhouette columns PCA-reduced
        sil = make_pipeline(StandardScaler(), PCA(pca, random_state=0))
        steps = [ColumnTransformer([("kp", StandardScaler(), list(range(n_kp))),
                                    ("sil", sil, list(range(n_kp, X.shape[1])))]),
                 StandardScaler()]
    else:
        steps = [StandardScaler()] + ([PCA(pca, random_state=0)] if pca else [])
    pred = np.zeros(len(y), int)
    prob = np.zeros((len(y), 3))
    for tr, te in StratifiedGroupKFold(5, shuffle=True, random_state=0).split(X, y, groups):
        m = make_pipeline(*steps, LogisticRegression(C=0.5, max_iter=2000))
        m.fit(X[tr], y[tr])
        pred[te] = m.predict(X[te])
        prob[te] = m.predict_proba(X[te])
    acc = (pred == y).mean()
    pn = y != 1
    auc = roc_auc_score(y[pn] == 2, prob[pn, 2] - prob[pn, 0])
    return acc, auc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sequences", type=int, default=300)
    ap.add_argument("--frames", type=int, default=90)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--root", type=Path, default=None, help="an existing cohort instead")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.root
        if root is None:
            from gaitpose.synth import make_cohort

            root = Path(tmp)
            make_cohort(root, sequences=args.sequences, frames=args.frames, seed=args.seed,
                        workers=2, progress=False)
        K, S, y, g, GT = load(root)
    print(f"cohort: {len(y)} sequences, class counts {np.bincount(y, minlength=3).tolist()}, "
          f"majority baseline {np.bincount(y).max() / len(y):.3f}")
    S = S[:, : 16 + 64]  # the sign-free profiles (the raw GEI only adds noise to a linear model)
    for name, X, pca, n_kp in (("truth", GT, None, 0), ("keypoints", K, None, 0),
                               ("silhouettes", S, 20, 0),
                               ("both", np.concatenate([K, S], 1), 20, K.shape[1])):
        acc, auc = evaluate(X, y, g, pca, n_kp)
        print(f"{name:12s} 3-class accuracy {acc:.3f}   positive-vs-negative AUC {auc:.3f}")


if __name__ == "__main__":
    main()
