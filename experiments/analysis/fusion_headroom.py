"""How much can fusing silhouettes and skeletons gain on a cohort? Two measurements.

1. **Cue ceilings** (needs the cohort's ``ground_truth.csv``): a logistic regression on the
   generator's *true* cue values (absolute values of the signed ones: the convex side is random)
   trained on ``TRAIN_SET`` and scored on ``TEST_SET``, for the cues each modality can see —
   posture (both), trunk contour (silhouettes only), gait timing and twist (keypoints best) —
   and for all of them. What the silhouette-visible cues miss and the skeleton-visible cues
   hold is the most a fused model could add over silhouettes alone, if it measured every cue
   perfectly.
2. **Complementarity of trained models** (needs an experiment folder with a silhouette-only and
   a skeleton-only setting): per seed, how often each model is right where the other is wrong,
   and the macro-F1 of ``w * p_sil + (1 - w) * p_skel`` for w in 0, 0.05, ..., 1 — w = 0.5 is
   the plain late average, and the best w *chosen on the test set* is an optimistic bound on
   what any late fusion of these two models could reach.
3. **Engineered features instead of the skeleton network** (needs ``--features``, the table of
   ``gaitpose features COHORT -o FEATURES.csv``, and ``--cohort`` for the split): a logistic
   regression on the asymmetry features (training sequences; signed medians dropped, since the
   convex side is random), its test macro-F1, and its late fusion with each silhouette model as
   in 2.

Run::

    PYTHONPATH=. python experiments/analysis/fusion_headroom.py --cohort COHORT_DIR \\
        --experiment EXPERIMENT_DIR [--features FEATURES.csv] [--sil silhouette --skel skeleton] \\
        [-o report.md]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

CUES = {
    "posture (both)": ["shoulder_tilt", "pelvic_obliquity", "shoulder_pelvis_tilt", "trunk_shift",
                       "trunk_lateral_lean"],
    "contour (silhouette only)": ["waist_asymmetry"],
    "gait (keypoints best)": ["thoracopelvic_twist", "arm_swing_asymmetry", "step_time_asymmetry"],
}
SETS = {
    "posture": ["posture (both)"],
    "gait": ["gait (keypoints best)"],
    "contour": ["contour (silhouette only)"],
    "skeleton-visible: posture + gait": ["posture (both)", "gait (keypoints best)"],
    "silhouette-visible: posture + contour": ["posture (both)", "contour (silhouette only)"],
    "all cues": list(CUES),
}
LABELS = ("negative", "neutral", "positive")


def cue_ceilings(cohort: Path) -> list[tuple[str, float, float]]:
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    gt = pd.read_csv(cohort / "ground_truth.csv", dtype={"id": str, "subject": str})
    part = json.loads((cohort / "partition.json").read_text())
    train = gt["subject"].isin(part["TRAIN_SET"]) | gt["id"].isin(part["TRAIN_SET"])
    test = gt["subject"].isin(part["TEST_SET"]) | gt["id"].isin(part["TEST_SET"])
    y = gt["class"].map({c: i for i, c in enumerate(LABELS)}).to_numpy()
    rows = []
    for name, groups in SETS.items():
        cols = [c for g in groups for c in CUES[g]]
        x = gt[cols].abs().to_numpy(float)
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        clf.fit(x[train], y[train])
        pred = clf.predict(x[test])
        rows.append((name, accuracy_score(y[test], pred), f1_score(y[test], pred, average="macro")))
    return rows


def complementarity(exp: Path, sil: str, skel: str) -> list[dict]:
    import pandas as pd

    cols = [f"p_{c}" for c in LABELS]
    out = []
    for a_path in sorted((exp / "runs").glob(f"{sil}-s*/metrics_test_all.predictions.csv")):
        seed = a_path.parent.name.rsplit("-s", 1)[1]
        b_path = exp / "runs" / f"{skel}-s{seed}" / "metrics_test_all.predictions.csv"
        if not b_path.is_file():
            continue
        a = pd.read_csv(a_path, dtype={"id": str})
        b = pd.read_csv(b_path, dtype={"id": str})
        if list(a["id"]) != list(b["id"]):
            raise SystemExit(f"{a_path} and {b_path} list different test sequences")
        y = a["true"].map({c: i for i, c in enumerate(LABELS)}).to_numpy()
        pa, pb = a[cols].to_numpy(float), b[cols].to_numpy(float)
        ra, rb = pa.argmax(1) == y, pb.argmax(1) == y
        late = _late(y, pa, pb)
        out.append({
            "seed": int(seed), "n": len(y), "sil_right": ra.mean(), "skel_right": rb.mean(),
            "both_right": np.mean(ra & rb), "only_sil": np.mean(ra & ~rb),
            "only_skel": np.mean(~ra & rb), "both_wrong": np.mean(~ra & ~rb),
            "f1_sil": late["f1_a"], "f1_skel": late["f1_b"], "f1_avg": late["f1_avg"],
            "best_w": late["best_w"], "f1_best": late["f1_best"],
            "corr_p_positive": float(np.corrcoef(pa[:, 2], pb[:, 2])[0, 1]),
        })
    return out


def _late(y, pa, pb) -> dict:
    from sklearn.metrics import f1_score

    f1 = {round(w, 2): f1_score(y, (w * pa + (1 - w) * pb).argmax(1), average="macro")
          for w in np.linspace(0, 1, 21)}
    best = max(f1, key=f1.get)
    return {"f1_a": f1[1.0], "f1_b": f1[0.0], "f1_avg": f1[0.5], "best_w": best, "f1_best": f1[best]}


def feature_model(features: Path, cohort: Path, exp: Path | None, sil: str) -> tuple[float, list[dict]]:
    """Logistic regression on the asymmetry features; its late fusion with the silhouette models."""
    import warnings

    import pandas as pd
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    f = pd.read_csv(features, dtype={"id": str})
    part = json.loads((cohort / "partition.json").read_text())
    meta = {"id", "class", "view", "source", "usable", "usable_reason"}
    num = [c for c in f.columns if c not in meta and not c.startswith("qc_")
           and pd.api.types.is_numeric_dtype(f[c]) and f[c].notna().any()]
    signed = [c for c in num if c.endswith("_median") and not c.endswith("abs_median")
              and "rom" not in c and "left" not in c and "right" not in c]
    use = [c for c in num if c not in signed]
    tr, te = f["id"].isin(part["TRAIN_SET"]).to_numpy(), f["id"].isin(part["TEST_SET"]).to_numpy()
    y = f["class"].map({c: i for i, c in enumerate(LABELS)}).to_numpy()
    clf = make_pipeline(SimpleImputer(strategy="median"), StandardScaler(),
                        LogisticRegression(C=0.3, max_iter=5000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(f.loc[tr, use], y[tr])
        pf = clf.predict_proba(f.loc[te, use])
    f1_feat = f1_score(y[te], pf.argmax(1), average="macro")
    rows = []
    if exp is not None:
        by_id = dict(zip(f.loc[te, "id"], pf))
        cols = [f"p_{c}" for c in LABELS]
        for a_path in sorted((exp / "runs").glob(f"{sil}-s*/metrics_test_all.predictions.csv")):
            a = pd.read_csv(a_path, dtype={"id": str})
            if not all(i in by_id for i in a["id"]):
                continue
            ya = a["true"].map({c: i for i, c in enumerate(LABELS)}).to_numpy()
            r = _late(ya, a[cols].to_numpy(float), np.stack([by_id[i] for i in a["id"]]))
            rows.append({"seed": int(a_path.parent.name.rsplit("-s", 1)[1]), **r})
    return f1_feat, rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cohort", type=Path, help="synthetic cohort folder (ground_truth.csv, partition.json)")
    ap.add_argument("--experiment", type=Path, help="experiment folder (runs/<setting>-s<seed>/)")
    ap.add_argument("--sil", default="silhouette", help="silhouette-only setting name")
    ap.add_argument("--skel", default="skeleton", help="skeleton-only setting name")
    ap.add_argument("--features", type=Path, help="gaitpose features table of the cohort (with --cohort)")
    ap.add_argument("-o", "--output", type=Path, help="also write the report (markdown) here")
    args = ap.parse_args(argv)
    if not args.cohort and not args.experiment:
        ap.error("give --cohort and/or --experiment")
    lines = ["# Fusion headroom", ""]
    if args.cohort:
        lines += [f"## Cue ceilings: logistic regression on the true cue values (`{args.cohort}`)", "",
                  "| cues | test accuracy | test macro-F1 |", "| --- | --- | --- |"]
        lines += [f"| {n} | {a:.3f} | {f:.3f} |" for n, a, f in cue_ceilings(args.cohort)]
        lines.append("")
    if args.experiment:
        rows = complementarity(args.experiment, args.sil, args.skel)
        if not rows:
            print(f"{args.experiment}: no {args.sil}/{args.skel} predictions to compare", file=sys.stderr)
            return 1
        lines += [f"## Complementarity of `{args.sil}` and `{args.skel}` (`{args.experiment}`)", "",
                  "Fractions of the test sequences; macro-F1 of the probability average "
                  "`w * p_sil + (1 - w) * p_skel` (best w picked on the test set: an optimistic bound).", "",
                  "| seed | sil right | skel right | only sil right | only skel right | both wrong "
                  "| F1 sil | F1 skel | F1 w=0.5 | best w | F1 best w | corr(p_positive) |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for r in rows:
            lines.append(
                f"| {r['seed']} | {r['sil_right']:.3f} | {r['skel_right']:.3f} | {r['only_sil']:.3f} | "
                f"{r['only_skel']:.3f} | {r['both_wrong']:.3f} | {r['f1_sil']:.3f} | {r['f1_skel']:.3f} | "
                f"{r['f1_avg']:.3f} | {r['best_w']:.2f} | {r['f1_best']:.3f} | {r['corr_p_positive']:.2f} |")
        gain = np.array([r["f1_best"] - r["f1_sil"] for r in rows])
        lines += ["", f"Best-w late fusion over silhouettes alone: {gain.mean():+.3f} ± "
                  f"{gain.std(ddof=1) if len(gain) > 1 else 0:.3f} macro-F1 (mean ± std over seeds).", ""]
    if args.features:
        if not args.cohort:
            ap.error("--features needs --cohort (the train/test split)")
        f1_feat, rows = feature_model(args.features, args.cohort, args.experiment, args.sil)
        lines += ["## Engineered asymmetry features + logistic regression", "",
                  f"Test macro-F1 of the feature model alone: **{f1_feat:.3f}**.", ""]
        if rows:
            lines += [f"Late fusion with `{args.sil}`: macro-F1 of `w * p_sil + (1 - w) * p_features`.", "",
                      "| seed | F1 sil | F1 features | F1 w=0.5 | best w | F1 best w |",
                      "| --- | --- | --- | --- | --- | --- |"]
            lines += [f"| {r['seed']} | {r['f1_a']:.3f} | {r['f1_b']:.3f} | {r['f1_avg']:.3f} | "
                      f"{r['best_w']:.2f} | {r['f1_best']:.3f} |" for r in rows]
            gain = np.array([r["f1_best"] - r["f1_a"] for r in rows])
            avg = np.array([r["f1_avg"] - r["f1_a"] for r in rows])
            lines += ["", f"Over silhouettes alone: equal average {avg.mean():+.3f}, best w "
                      f"{gain.mean():+.3f} macro-F1 (mean over seeds).", ""]
    text = "\n".join(lines)
    print(text)
    if args.output:
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
