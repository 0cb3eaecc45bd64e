"""Extraction on the real clip walk_outdoor.mp4 (extracted once per module), and the tasks backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from extract_helpers import shared_path

from gaitpose.cli import main
from gaitpose.io.sequence import load_sequence
from gaitpose.pose.extract import extract_video, read_manifest

COMPARE_FRAMES = 60


@pytest.fixture(scope="module")
def walk_out(tmp_path_factory) -> Path:
    """OUT folder of `gaitpose extract walk_outdoor.mp4 -o OUT` (legacy backend)."""
    clip = shared_path("walk_outdoor.mp4")
    out = tmp_path_factory.mktemp("walk")
    assert main(["extract", str(clip), "-o", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def walk_seq(walk_out):
    return load_sequence(walk_out / "walk_outdoor.npz")


def test_manifest_and_counts(walk_out, walk_seq):
    (row,) = read_manifest(walk_out / "manifest.csv")
    assert row["name"] == "walk_outdoor" and row["status"] == "ok" and row["frames"] == "230"
    assert walk_seq.num_frames == 230 and walk_seq.fps == pytest.approx(30.0)
    assert walk_seq.image_size == (994, 1768) and walk_seq.layout == "mediapipe33"
    assert walk_seq.detected.sum() >= 0.9 * 230
    assert float(row["detected_fraction"]) == pytest.approx(walk_seq.detected_fraction, abs=1e-3)
    np.testing.assert_array_equal(walk_seq.frame_index, np.arange(230))


def test_keypoints_in_image_and_missing_marked(walk_seq):
    kp, det = walk_seq.keypoints, walk_seq.detected
    h, w = walk_seq.image_size
    assert np.isfinite(kp[det]).all() and np.isnan(kp[~det, :, :2]).all() and (kp[~det, :, 2] == 0).all()
    vis = kp[..., 2] > 0.5
    x, y = kp[..., 0][vis], kp[..., 1][vis]
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    assert inside.mean() > 0.97
    # Nothing visible is far outside the frame (MediaPipe extrapolates a little at the borders).
    assert (x > -0.05 * w).all() and (x < 1.05 * w).all() and (y > -0.05 * h).all() and (y < 1.05 * h).all()
    assert ((kp[..., 2] >= 0) & (kp[..., 2] <= 1)).all()


def test_depth_and_world(walk_seq):
    det = walk_seq.detected
    assert walk_seq.depth.shape == (230, 33) and walk_seq.world.shape == (230, 33, 3)
    assert np.isfinite(walk_seq.depth[det]).all() and np.isnan(walk_seq.depth[~det]).all()
    world = walk_seq.world[det]
    mid_hip = world[:, [23, 24]].mean(1)
    assert np.abs(mid_hip).max() < 0.1  # origin at the hips, metres
    height = np.abs(world[:, 0, 1] - world[:, [27, 28], 1].mean(1))  # nose to ankles
    assert 0.8 < np.median(height) < 2.2


def test_silhouettes(walk_seq):
    sils, det = walk_seq.silhouettes, walk_seq.detected
    assert sils.shape == (230, 64, 64) and sils.dtype == np.uint8
    filled = sils.reshape(230, -1).max(1) > 0
    assert filled[det].mean() > 0.95 and not filled[~det].any()
    # OpenGait normalisation: the person spans the full height and is centred.
    for s in sils[det & filled][::10]:
        rows = np.flatnonzero(s.max(1) > 127)
        assert rows[0] <= 1 and rows[-1] >= 62
        cols = np.flatnonzero(s.sum(0) > 0)
        assert 16 <= (cols[0] + cols[-1]) / 2 <= 48


def test_meta(walk_seq):
    m = walk_seq.meta
    assert m["backend"] == "legacy" and m["source"].endswith("walk_outdoor.mp4")
    assert "model_complexity=1" in m["model"] and m["versions"]["mediapipe"] == "0.10.21"
    assert m["created"][:2] == "20"


def test_info_on_produced_file(walk_out, capsys):
    assert main(["info", str(walk_out / "walk_outdoor.npz")]) == 0
    out = capsys.readouterr().out
    for piece in ("230 frames", "30 fps", "7.67 s", "1768x994", "mediapipe33", "silhouettes uint8 [230, 64, 64]",
                  "backend legacy", "walk_outdoor.mp4"):  # fmt: skip
        assert piece in out, (piece, out)


@pytest.fixture(scope="module")
def task_bundle(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("models") / "pose landmarker.task"
    assert main(["models", "build-task", "-o", str(path)]) == 0
    return path


def test_tasks_backend_agrees_with_legacy(walk_seq, task_bundle):
    clip = shared_path("walk_outdoor.mp4")
    seq = extract_video(clip, backend="tasks", model=task_bundle, silhouettes=False, max_frames=COMPARE_FRAMES)
    assert seq.num_frames == COMPARE_FRAMES and seq.meta["backend"] == "tasks"
    ref = walk_seq.keypoints[:COMPARE_FRAMES]
    ref_det = walk_seq.detected[:COMPARE_FRAMES]
    assert abs(int(seq.detected.sum()) - int(ref_det.sum())) <= 0.1 * COMPARE_FRAMES
    both = seq.detected & ref_det
    assert both.sum() >= 0.8 * COMPARE_FRAMES
    a, b = seq.keypoints[both], ref[both]
    vis = (a[..., 2] > 0.5) & (b[..., 2] > 0.5)
    dist = np.linalg.norm(a[..., :2] - b[..., :2], axis=-1)[vis]
    assert np.median(dist) < 8.0, np.median(dist)
    w = seq.world[both]
    assert np.isfinite(w).all() and np.abs(w[:, [23, 24]].mean(1)).max() < 0.1


def test_tasks_backend_cli_with_silhouettes(task_bundle, tmp_path):
    """The CLI path of the tasks backend (segmentation masks → silhouettes) on a short excerpt."""
    from extract_helpers import person_clip

    clip = person_clip(tmp_path / "walker.mp4", shared_path("walk_outdoor.mp4"), n=8)
    out = tmp_path / "out"
    assert main(["extract", str(clip), "-o", str(out), "--backend", "tasks", "--model", str(task_bundle)]) == 0
    seq = load_sequence(out / "walker.npz")
    assert seq.detected.all() and seq.meta["backend"] == "tasks"
    assert (seq.silhouettes.reshape(8, -1).max(1) > 0).all()
