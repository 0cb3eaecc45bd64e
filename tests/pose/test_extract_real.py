"""`gaitpose extract walk_outdoor.mp4` with default options (extracted once per module): the walker.

walk_outdoor.mp4 shows a woman walking right to left across the lawn (visible from frame ~55, gone
after ~200) while a man stands and jumps on a box (later he jumps down and runs right). MediaPipe's
single-person mode follows the man for most of the clip; the default ``--person walker`` must hold
the woman. Her mid-hip positions below were read by hand from frames exported to PNG (half size, a
100-px grid drawn on), accurate to about ±20 px.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from extract_helpers import shared_path

from gaitpose.cli import main
from gaitpose.io.sequence import load_sequence
from gaitpose.pose.batch import read_manifest
from gaitpose.pose.extract import extract_video
from gaitpose.pose.lr_swaps import apply_swaps, find_swaps, mirror_permutation

COMPARE_FRAMES = 60
# frame → the walker's mid-hip (x, y) in pixels, annotated by hand.
WALKER_MID_HIP = {60: (1424, 730), 80: (1230, 730), 100: (1030, 730), 120: (820, 730), 140: (624, 716),
                  170: (330, 740), 190: (110, 740)}  # fmt: skip


@pytest.fixture(scope="module")
def walk_out(tmp_path_factory) -> Path:
    """OUT folder of `gaitpose extract walk_outdoor.mp4 -o OUT` (default options)."""
    clip = shared_path("walk_outdoor.mp4")
    out = tmp_path_factory.mktemp("walk")
    assert main(["extract", str(clip), "-o", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def walk_seq(walk_out):
    return load_sequence(walk_out / "walk_outdoor.npz")


def _mid_hip(seq) -> np.ndarray:
    return seq.keypoints[:, [23, 24], :2].mean(1)


def _height(seq) -> float:
    kp = seq.keypoints[seq.detected]
    return float(np.median(kp[..., 1].max(1) - kp[..., 1].min(1)))


def test_default_holds_the_walker_in_hand_annotated_frames(walk_seq):
    hip = _mid_hip(walk_seq)
    for frame, xy in WALKER_MID_HIP.items():
        assert walk_seq.detected[frame], frame
        err = float(np.hypot(*(hip[frame] - xy)))
        assert err < 0.15 * _height(walk_seq), (frame, hip[frame], xy, err)


def test_chosen_track_never_switches_person(walk_seq):
    """Every detected frame is on the walker's hand-annotated path: never on the man on the box
    (hips above y = 450), never on him running right in the last second (x > 1000 after frame 198)."""
    det = np.flatnonzero(walk_seq.detected)
    hip = _mid_hip(walk_seq)[det]
    assert (hip[:, 1] > 600).all()
    frames, xs = np.array(list(WALKER_MID_HIP)), np.array([x for x, _ in WALKER_MID_HIP.values()])
    inside = (det >= frames[0]) & (det <= frames[-1])
    off_path = np.abs(hip[inside, 0] - np.interp(det[inside], frames, xs))
    assert off_path.max() < 0.3 * _height(walk_seq), off_path.max()
    assert (hip[det < frames[0], 0] > 1300).all() and (hip[det > frames[-1], 0] < 200).all()
    assert 55 <= det[0] <= 62 and det[-1] <= 205 and len(det) >= 120
    person = walk_seq.meta["person"]
    assert person["rule"] == "walker" and person["people"] >= 2
    chosen = next(t for t in person["tracks"] if t["id"] == person["track"])
    assert chosen["displacement"] == max(t["displacement"] for t in person["tracks"] if t["frames"] >= 0.25 * 230)
    assert chosen["displacement"] > 3.0  # crosses the view: more than 3 body heights


def test_manifest_and_counts(walk_out, walk_seq):
    (row,) = read_manifest(walk_out / "manifest.csv")
    assert row["name"] == "walk_outdoor" and row["status"] == "ok" and row["frames"] == "230"
    assert row["person"] == "walker" and row["track"] == str(walk_seq.meta["person"]["track"])
    assert row["people"] == str(walk_seq.meta["person"]["people"]) and row["lr_swaps"] == str(walk_seq.meta["lr_swaps"])
    assert walk_seq.num_frames == 230 and walk_seq.fps == pytest.approx(30.0)
    assert walk_seq.image_size == (994, 1768) and walk_seq.layout == "mediapipe33"
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
    assert (x > -0.05 * w).all() and (x < 1.05 * w).all() and (y > -0.05 * h).all() and (y < 1.05 * h).all()
    assert ((kp[..., 2] >= 0) & (kp[..., 2] <= 1)).all()


def test_depth_and_world(walk_seq):
    det = walk_seq.detected
    assert walk_seq.depth.shape == (230, 33) and walk_seq.world.shape == (230, 33, 3)
    assert np.isfinite(walk_seq.depth[det]).all() and np.isnan(walk_seq.depth[~det]).all()
    world = walk_seq.world[det]
    assert np.abs(world[:, [23, 24]].mean(1)).max() < 0.1  # origin at the hips, metres
    height = np.abs(world[:, 0, 1] - world[:, [27, 28], 1].mean(1))  # nose to ankles
    assert 0.8 < np.median(height) < 2.2


def test_silhouettes_are_the_walkers(walk_seq):
    sils, det = walk_seq.silhouettes, walk_seq.detected
    assert sils.shape == (230, 64, 64) and sils.dtype == np.uint8
    filled = sils.reshape(230, -1).max(1) > 0
    assert filled[det].mean() > 0.95 and not filled[~det].any()
    for s in sils[det & filled][::10]:
        rows = np.flatnonzero(s.max(1) > 127)
        assert rows[0] <= 1 and rows[-1] >= 62
        cols = np.flatnonzero(s.sum(0) > 0)
        assert 16 <= (cols[0] + cols[-1]) / 2 <= 48


def test_meta(walk_seq):
    m = walk_seq.meta
    assert m["backend"] == "tasks" and m["source"].endswith("walk_outdoor.mp4")
    assert "pose_landmarker" in m["model"] and m["versions"]["mediapipe"] == "0.10.21"
    assert isinstance(m["lr_swaps"], int) and m["lr_swapped_frames"] >= m["lr_swaps"] >= 0
    assert "created" not in m and "extract_seconds" not in m  # outputs are reproducible byte for byte


def test_info_on_produced_file(walk_out, capsys):
    assert main(["info", str(walk_out / "walk_outdoor.npz")]) == 0
    out = capsys.readouterr().out
    for piece in ("230 frames", "30 fps", "7.67 s", "1768x994", "mediapipe33", "silhouettes uint8 [230, 64, 64]",
                  "backend tasks", "walk_outdoor.mp4", "person: walker, track", "left/right swaps corrected"):  # fmt: skip
        assert piece in out, (piece, out)


def test_injected_left_right_swaps_are_found_and_corrected(walk_seq):
    """Swap the legs' left and right labels in single frames and in a run of five frames of the real
    walker's keypoints: exactly those frames change their verdict, and the corrected poses are the
    same as without the injection. (In this side view the far arm's visibility is ~0.05, so the arms
    give no evidence and are left as labelled; swaps are injected into the legs, MediaPipe's usual
    side-view confusion, at frames whose feet and knees are apart.)"""
    kp, det = walk_seq.keypoints, walk_seq.detected
    base = find_swaps(kp, det)
    sep = np.linalg.norm(kp[:, 25:29:2, :2] - kp[:, 26:29:2, :2], axis=-1).mean(1)  # knees, ankles
    height = np.where(det, np.nanmax(np.where(det[:, None], kp[..., 1], 0), 1) - np.nanmin(
        np.where(det[:, None], kp[..., 1], 1e9), 1), 1.0)  # fmt: skip
    apart = np.flatnonzero(det & (sep > 0.12 * height))
    apart = apart[(apart > 70) & (apart < 195)]
    singles = apart[::12][:5]
    starts = [t for t in apart if t > singles[-1] + 3 and all(u in set(apart) for u in range(t - 2, t + 7))]
    run = np.arange(starts[0], starts[0] + 5)
    injected = np.zeros(len(kp), bool)
    injected[singles] = True
    injected[run] = True
    dirty = kp.copy()
    dirty[injected] = dirty[injected][:, mirror_permutation(groups=("legs",))]
    found = find_swaps(dirty, det)
    np.testing.assert_array_equal(found.legs ^ base.legs, injected)
    np.testing.assert_array_equal(found.arms, base.arms)
    assert found.events == base.events + len(singles) + 1
    fixed, ref = apply_swaps({"kp": dirty}, found)["kp"], apply_swaps({"kp": kp}, base)["kp"]
    np.testing.assert_array_equal(fixed, ref)


@pytest.fixture(scope="module")
def task_bundle(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("models") / "pose landmarker.task"
    assert main(["models", "build-task", "-o", str(path)]) == 0
    return path


def test_tasks_single_agrees_with_legacy(task_bundle):
    """On the first 60 frames both single-person backends follow the same person, a few pixels apart."""
    clip = shared_path("walk_outdoor.mp4")
    legacy = extract_video(clip, person="single", silhouettes=False, max_frames=COMPARE_FRAMES)
    seq = extract_video(clip, person="single", backend="tasks", model=task_bundle, silhouettes=False,
                        max_frames=COMPARE_FRAMES)  # fmt: skip
    assert seq.num_frames == COMPARE_FRAMES and seq.meta["backend"] == "tasks" and legacy.meta["backend"] == "legacy"
    assert abs(int(seq.detected.sum()) - int(legacy.detected.sum())) <= 0.1 * COMPARE_FRAMES
    both = seq.detected & legacy.detected
    assert both.sum() >= 0.8 * COMPARE_FRAMES
    a, b = seq.keypoints[both], legacy.keypoints[both]
    vis = (a[..., 2] > 0.5) & (b[..., 2] > 0.5)
    dist = np.linalg.norm(a[..., :2] - b[..., :2], axis=-1)[vis]
    assert np.median(dist) < 8.0, np.median(dist)
    w = seq.world[both]
    assert np.isfinite(w).all() and np.abs(w[:, [23, 24]].mean(1)).max() < 0.1


def test_tasks_backend_cli_with_silhouettes(task_bundle, tmp_path):
    """--person single --backend tasks --model (segmentation masks → silhouettes) on a short excerpt."""
    from extract_helpers import person_clip

    clip = person_clip(tmp_path / "walker.mp4", shared_path("walk_outdoor.mp4"), n=8)
    out = tmp_path / "out"
    assert main(["extract", str(clip), "-o", str(out), "--person", "single", "--backend", "tasks",
                 "--model", str(task_bundle)]) == 0  # fmt: skip
    seq = load_sequence(out / "walker.npz")
    assert seq.detected.all() and seq.meta["backend"] == "tasks"
    assert (seq.silhouettes.reshape(8, -1).max(1) > 0).all()
