"""The synthetic labelled cohort: plan, generate, and write it as an OpenGait tree.

Output of :func:`make_cohort` (``OUT``):

* ``OUT/<id>/<class>/<view>/pose.pkl`` — float32 [T, 33, 3] MediaPipe-33 (x px, y px,
  visibility); missing joints stored NaN-free as ``x = y = 0, score = 0`` (readers turn
  score-0 joints back into NaN);
* ``OUT/<id>/<class>/<view>/sils.pkl`` — uint8 [T, 64, 64], OpenGait-normalised;
* ``OUT/partition.json`` — ``TRAIN_SET`` / ``VAL_SET`` / ``TEST_SET``, disjoint by subject,
  stratified by class, seeded (VAL_SET is drawn from the subjects left after TEST_SET);
* ``OUT/ground_truth.csv`` — one row per sequence: id, subject, class, severity and the
  true asymmetry values (ASYMMETRY.md conventions: tilts positive = subject's left higher,
  shifts/leans positive = towards the subject's left);
* ``OUT/cohort.json`` — how it was made (fps, frames, view, seed, generator version, …);
* optionally ``OUT/npz/<id>.npz`` — the same sequences as Sequence files (with world
  landmarks), with ``OUT/npz/labels.csv`` and ``OUT/npz/partition.json`` (a dataset on its
  own). The ``.npz`` zip members carry write times, so only they are not byte-identical.

Determinism: every subject and sequence draws from its own child of
``numpy.random.SeedSequence(seed)``, pickles use protocol 4, JSON is sorted, and no file
holds a timestamp — the same arguments give byte-identical files, whatever the number of
worker processes.
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing as mp
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gaitpose import LABELS, label_index
from gaitpose.io.atomic import atomic_write_text
from gaitpose.io.splits import draw_subjects

GENERATOR_VERSION = "1.1"  # 1.1: VAL_SET in partition.json (same sequences as 1.0)
DEFAULT_RATIO = (800, 200, 493)  # Scoliosis1K overall: negative : neutral : positive
TRUTH_COLUMNS = (
    "shoulder_tilt",
    "pelvic_obliquity",
    "shoulder_pelvis_tilt",
    "trunk_shift",
    "trunk_lateral_lean",
    "thoracopelvic_twist",
    "arm_swing_left",
    "arm_swing_right",
    "arm_swing_asymmetry",
    "step_time_left",
    "step_time_right",
    "step_time_asymmetry",
    "step_time_asymmetry_ga",
    "cadence",
    "waist_asymmetry",
)
COLUMN_DOC = {
    "id": "sequence id (the tree's first level)",
    "subject": "subject id; sequences of a subject share body, severity and class",
    "class": "negative / neutral / positive", "label": "class index (negative 0, neutral 1, positive 2)",
    "split": "train / val / test (partition.json)", "view": "front / back / side", "frames": "frames",
    "fps": "frames per second",
    "severity": "latent severity in [0, 1]; class ranges overlap",
    "convex_side": "side of the curve's convexity (subject's left / right)",
    "shoulder_tilt": "deg, + = subject's left shoulder higher (mean over frames)",
    "pelvic_obliquity": "deg, + = left hip joint higher",
    "shoulder_pelvis_tilt": "deg, shoulder_tilt - pelvic_obliquity",
    "trunk_shift": "% torso, mid-shoulder minus mid-hip, + = towards the subject's left",
    "trunk_lateral_lean": "deg, + = trunk leaning to the subject's left",
    "thoracopelvic_twist": "deg, thorax minus pelvis axial rotation, + = left shoulder forward",
    "arm_swing_left": "range of wrist minus shoulder along the walk / arm length",
    "arm_swing_right": "same, right arm",
    "arm_swing_asymmetry": "%, SI = 200 |L - R| / (L + R) of the arm swings",
    "step_time_left": "s, step ending at a left heel strike",
    "step_time_right": "s, step ending at a right heel strike",
    "step_time_asymmetry": "%, SI = 200 |L - R| / (L + R) (Robinson 1987)",
    "step_time_asymmetry_ga": "%, GA = 100 |ln(L / R)| (Plotnik 2007)",
    "cadence": "steps / min",
    "waist_asymmetry": "relative waist/flank width difference, + = left wider (silhouette only)",
    "expr_posture": "how much of the severity shows in posture (mean 1)",
    "expr_contour": "how much shows in the trunk contour (silhouettes only; mean 1)",
    "expr_gait": "how much shows in twist, arm swing, step timing (mean 1)",
    "detected_fraction": "fraction of frames where the simulated detector found the person",
}
NOTE = (
    "Synthetic cohort from a parametric walker: a pipeline check, not clinical evidence. "
    "Cue sizes are chosen so that models have something to learn in each modality."
)


@dataclass(frozen=True)
class PlannedSequence:
    """One sequence of the plan."""

    id: str
    subject: str
    cls: str
    split: str
    subject_seed: np.random.SeedSequence
    seed: np.random.SeedSequence


def class_counts(n: int, ratio: tuple[float, ...]) -> list[int]:
    """Split ``n`` into classes by ``ratio`` (largest remainder; every class ≥ 1 when n ≥ 3)."""
    r = np.asarray(ratio, float)
    if r.shape != (3,) or (r < 0).any() or r.sum() <= 0:
        raise ValueError(f"class ratio must be three non-negative numbers, got {ratio}")
    exact = n * r / r.sum()
    counts = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - counts), kind="stable")[: n - counts.sum()]:
        counts[i] += 1
    if n >= 3:
        for i in range(3):
            if counts[i] == 0 and r[i] > 0:
                counts[i] = 1
                counts[int(np.argmax(counts))] -= 1
    return counts.tolist()


def plan_cohort(
    n: int, ratio=DEFAULT_RATIO, seed: int = 0, test_fraction: float = 0.3, val_fraction: float = 0.2
) -> list[PlannedSequence]:
    """Subjects (1–3 sequences each), classes, ids and the train/val/test split.

    The splits are disjoint by subject and stratified by class
    (:func:`gaitpose.io.splits.draw_subjects`): within each class, whole subjects go to the
    test set until it holds ``test_fraction`` of the class's sequences; then, from the
    remaining subjects, to the validation set until it holds ``val_fraction`` of the class's
    remaining (training) sequences. The test draw is the same whatever ``val_fraction``.
    """
    root = np.random.SeedSequence(seed)
    plan_ss, subj_ss, seq_ss = root.spawn(3)
    rng = np.random.default_rng(plan_ss)
    counts = class_counts(n, ratio)
    subjects: list[tuple[str, int]] = []  # (class, number of sequences)
    for cls, count in zip(LABELS, counts):
        left = count
        while left > 0:
            k = int(min(left, rng.choice([1, 2, 3], p=[0.5, 0.3, 0.2])))
            subjects.append((cls, k))
            left -= k
    order = rng.permutation(len(subjects))
    subjects = [subjects[i] for i in order]
    subj_names = [f"S{i:05d}" for i in range(len(subjects))]
    table = [(name, cls, k) for name, (cls, k) in zip(subj_names, subjects)]
    test = draw_subjects(table, test_fraction, rng, take_single=True)
    val = draw_subjects([t for t in table if t[0] not in test], val_fraction, rng)
    split = {name: "test" if name in test else "val" if name in val else "train" for name in subj_names}
    subj_seeds = subj_ss.spawn(len(subjects))
    seq_seeds = seq_ss.spawn(n)
    width = max(5, len(str(n - 1)))
    out: list[PlannedSequence] = []
    for si, (cls, k) in enumerate(subjects):
        for _ in range(k):
            i = len(out)
            out.append(
                PlannedSequence(
                    id=f"{i:0{width}d}",
                    subject=subj_names[si],
                    cls=cls,
                    split=split[subj_names[si]],
                    subject_seed=subj_seeds[si],
                    seed=seq_seeds[i],
                )
            )
    return out


def generate_sequence(
    ps: PlannedSequence, frames: int, fps: float, view: str
) -> dict:
    """Simulate and render one planned sequence.

    Returns:
        dict with ``keypoints`` float32 [T, 33, 3] (NaN where missing), ``world`` float32
        [T, 33, 3], ``silhouettes`` uint8 [T, 64, 64], ``detected`` bool [T],
        ``subject`` (the :class:`~gaitpose.synth.walker.Subject`), ``truth`` dict, ``camera``.
    """
    from gaitpose.synth.render import make_scene, render_keypoints, render_silhouettes
    from gaitpose.synth.walker import sample_subject, simulate

    subject = sample_subject(np.random.default_rng(ps.subject_seed), ps.cls)
    sim_ss, cam_ss, kp_ss = (_child(ps.seed, k) for k in range(3))
    motion = simulate(subject, frames, fps, np.random.default_rng(sim_ss))
    cam, path = make_scene(view, subject, frames, fps, np.random.default_rng(cam_ss))
    kp, world, detected = render_keypoints(
        motion, subject, view, cam, path, fps, np.random.default_rng(kp_ss)
    )
    sils = render_silhouettes(motion, subject, cam, path, fps)
    sils[~detected] = 0
    return {
        "keypoints": kp,
        "world": world,
        "silhouettes": sils,
        "detected": detected,
        "subject": subject,
        "truth": motion.truth,
        "camera": {"focal": cam.focal, "height": cam.height, "roll": cam.roll},
    }


def _child(ss: np.random.SeedSequence, k: int) -> np.random.SeedSequence:
    """The k-th child of ``ss``, without ``spawn``'s state (the same on every call)."""
    return np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, k))


def _work(args) -> dict:
    ps, frames, fps, view, out_dir, write_npz = args
    from gaitpose.io import dump_pickle
    from gaitpose.io.opengait import pose_to_pkl

    g = generate_sequence(ps, frames, fps, view)
    seq_dir = Path(out_dir) / ps.id / ps.cls / view
    dump_pickle(seq_dir / "pose.pkl", pose_to_pkl(g["keypoints"]))
    dump_pickle(seq_dir / "sils.pkl", g["silhouettes"])
    if write_npz:
        from gaitpose.io import Sequence, save_sequence
        from gaitpose.synth.render import IMAGE_SIZE

        seq = Sequence(
            keypoints=g["keypoints"],
            fps=fps,
            image_size=IMAGE_SIZE,
            layout="mediapipe33",
            detected=g["detected"],
            world=g["world"],
            silhouettes=g["silhouettes"],
            meta={
                "source": "gaitpose synth",
                "generator_version": GENERATOR_VERSION,
                "id": ps.id,
                "subject": ps.subject,
                "class": ps.cls,
                "view": view,
            },
        )
        save_sequence(Path(out_dir) / "npz" / f"{ps.id}.npz", seq)
    s = g["subject"]
    row = {
        "id": ps.id,
        "subject": ps.subject,
        "class": ps.cls,
        "label": label_index(ps.cls),
        "split": ps.split,
        "view": view,
        "frames": frames,
        "fps": fps,
        "severity": s.severity,
        "convex_side": "left" if s.convex > 0 else "right",
        **{k: g["truth"][k] for k in TRUTH_COLUMNS},
        "expr_posture": s.expr_posture,
        "expr_contour": s.expr_contour,
        "expr_gait": s.expr_gait,
        "detected_fraction": float(g["detected"].mean()),
    }
    return row


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def folder_in_use(out: Path) -> bool:
    """True when ``out`` exists and is not an empty folder (a cohort would overwrite or mix)."""
    return out.exists() and (not out.is_dir() or any(out.iterdir()))


def make_cohort(
    out: str | os.PathLike,
    sequences: int = 300,
    frames: int = 300,
    seed: int = 0,
    view: str = "front",
    fps: float = 30.0,
    ratio=DEFAULT_RATIO,
    test_fraction: float = 0.3,
    val_fraction: float = 0.2,
    workers: int = 1,
    write_npz: bool = False,
    progress: bool = True,
    force: bool = False,
) -> list[dict]:
    """Generate and write a cohort (see the module docstring); returns the ground-truth rows.

    The cohort is written to a temporary folder beside ``out`` and renamed into place, so an
    interrupted run leaves nothing under ``out``. An ``out`` that exists and is not empty is
    refused (:class:`FileExistsError`: a second cohort would leave stale ids and ids under two
    classes) unless ``force``, which replaces it whole once the new cohort is complete.
    """
    if sequences < 1 or frames < 1 or fps <= 0:
        raise ValueError("sequences and frames must be ≥ 1 and fps > 0")
    if view not in ("front", "back", "side"):
        raise ValueError(f"unknown view {view!r} (front, back or side)")
    out = Path(out)
    if folder_in_use(out) and not force:
        raise FileExistsError(f"{out}: folder is not empty (use --force to replace it)")
    plan = plan_cohort(sequences, ratio, seed, test_fraction, val_fraction)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700 folders; give the cohort the usual mode
    try:
        rows = _generate(plan, frames, fps, view, tmp, write_npz, workers, progress)
        _write_tables(tmp, rows, write_npz)
        meta = _cohort_meta(rows, seed, frames, fps, view, ratio, test_fraction, val_fraction, write_npz)
        atomic_write_text(tmp / "cohort.json", json.dumps(meta, indent=1, sort_keys=True) + "\n")
        _move_into_place(tmp, out, force)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return rows


def _generate(plan, frames, fps, view, out: Path, write_npz: bool, workers: int, progress: bool) -> list[dict]:
    """Simulate and write every planned sequence (in worker processes when ``workers`` > 1)."""
    jobs = [(ps, frames, fps, view, str(out), write_npz) for ps in plan]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), desc="synth", unit="seq")
    rows: list[dict] = []
    if workers > 1 and len(jobs) > 1:
        ctx = mp.get_context("spawn")
        with ctx.Pool(workers) as pool:
            for row in pool.imap(_work, jobs, chunksize=1):
                rows.append(row)
                if bar:
                    bar.update()
    else:
        for job in jobs:
            rows.append(_work(job))
            if bar:
                bar.update()
    if bar:
        bar.close()
    return sorted(rows, key=lambda r: r["id"])


def _partition(rows: list[dict]) -> str:
    part = {name: [r["id"] for r in rows if r["split"] == split]
            for name, split in (("TRAIN_SET", "train"), ("VAL_SET", "val"), ("TEST_SET", "test"))}
    return json.dumps(part, indent=1, sort_keys=True) + "\n"


def _write_tables(out: Path, rows: list[dict], write_npz: bool) -> None:
    """partition.json, ground_truth.csv (and the npz folder's labels.csv + partition.json)."""
    atomic_write_text(out / "partition.json", _partition(rows))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0].keys()), lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: _fmt(v) for k, v in r.items()})
    atomic_write_text(out / "ground_truth.csv", buf.getvalue())
    if write_npz:  # the Sequence folder is a dataset of its own: labels + partition beside it
        lab = "id,class,subject,split\n" + "".join(
            f"{r['id']},{r['class']},{r['subject']},{r['split']}\n" for r in rows
        )
        atomic_write_text(out / "npz" / "labels.csv", lab)
        atomic_write_text(out / "npz" / "partition.json", _partition(rows))


def _cohort_meta(rows, seed, frames, fps, view, ratio, test_fraction, val_fraction, write_npz) -> dict:
    """The content of cohort.json: how the cohort was made and what its files hold."""
    from gaitpose import __version__
    from gaitpose.synth.render import IMAGE_SIZE

    return {
        "generator": "gaitpose.synth",
        "generator_version": GENERATOR_VERSION,
        "gaitpose_version": __version__,
        "note": NOTE,
        "seed": seed,
        "sequences": len(rows),
        "subjects": len({r["subject"] for r in rows}),
        "frames": frames,
        "fps": fps,
        "view": view,
        "class_ratio": list(ratio),
        "class_counts": {c: sum(r["class"] == c for r in rows) for c in LABELS},
        "split_counts": {s: sum(r["split"] == s for r in rows) for s in ("train", "val", "test")},
        "labels": list(LABELS),
        "test_fraction": test_fraction,
        "val_fraction": val_fraction,
        "image_size": list(IMAGE_SIZE),
        "layout": "mediapipe33",
        "silhouette_size": [64, 64],
        "tree": "<id>/<class>/<view>/{pose.pkl,sils.pkl}",
        "pose_pkl": "float32 [T, 33, 3] x px, y px, visibility; missing joints x = y = 0, score 0",
        "sils_pkl": "uint8 [T, 64, 64] OpenGait-normalised silhouettes; zeros where undetected",
        "ground_truth_columns": COLUMN_DOC,
        "files": ["partition.json", "ground_truth.csv", "cohort.json"]
        + (["npz/<id>.npz", "npz/labels.csv", "npz/partition.json"] if write_npz else []),
    }


def _move_into_place(tmp: Path, out: Path, force: bool) -> None:
    """Rename the finished cohort ``tmp`` to ``out``; with ``force`` the old ``out`` goes only
    after the new one is complete (renamed aside, the new one renamed in, the old one deleted)."""
    old = None
    if out.exists() and (force or not folder_in_use(out)):
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
        os.replace(out, old / "cohort")
    os.replace(tmp, out)  # fails if another process filled ``out`` meanwhile: nothing is mixed
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
