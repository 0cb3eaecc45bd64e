"""A PNG overview of a synthetic cohort: per class, a middle frame and the gait energy image."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from gaitpose import LABELS


def write_preview(root: str | os.PathLike, path: str | os.PathLike | None = None, per_class: int = 3) -> Path:
    """Draw ``per_class`` sequences of each class from a cohort tree → ``root/preview.png``.

    Each column: the middle frame's silhouette (titled with class and severity) and the
    sequence's gait energy image (mean silhouette; titled with the true shoulder tilt and
    the number of detected joints in the middle frame).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gaitpose.io import load_pickle
    from gaitpose.io.atomic import save_figure

    root = Path(root)
    path = Path(path) if path is not None else root / "preview.png"
    with open(root / "ground_truth.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    chosen = [r for c in LABELS for r in [r for r in rows if r["class"] == c][:per_class]]
    fig, axes = plt.subplots(2, max(1, len(chosen)), figsize=(1.6 * max(1, len(chosen)), 4.4), squeeze=False)
    for k, r in enumerate(chosen):
        d = root / r["id"] / r["class"] / r["view"]
        sils = load_pickle(d / "sils.pkl")
        pose = load_pickle(d / "pose.pkl")
        t = len(sils) // 2
        axes[0, k].imshow(sils[t], cmap="gray", vmin=0, vmax=255)
        axes[0, k].set_title(f"{r['id']} {r['class'][:3]}\nsev {float(r['severity']):.2f}", fontsize=7)
        valid = sils.reshape(len(sils), -1).max(1) > 0
        axes[1, k].imshow(sils[valid].astype(np.float32).mean(0), cmap="gray")
        ok = pose[t, :, 2] > 0
        axes[1, k].set_title(f"GEI, tilt {float(r['shoulder_tilt']):+.1f}°\n{int(ok.sum())}/33 joints", fontsize=7)
        for a in axes[:, k]:
            a.set_xticks([])
            a.set_yticks([])
    fig.suptitle("gaitpose synth (synthetic: a pipeline check, not clinical data)", fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path, dpi=100, metadata={"Software": None})
