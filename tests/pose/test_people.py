"""Two real people in one clip: the walker is chosen, ``--person all`` writes both, ``--person-at`` the other.

The clip is built in the test from two stretches of walk_outdoor.mp4 side by side (see
``extract_helpers.two_person_clip``): the man on the box on the left (x < 200 px), the woman
walking right to left on the right (x from ~530 down to ~290 px). Tracks are also checked on
constructed detections (crossing people, a short occlusion).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from extract_helpers import shared_path, two_person_clip

from gaitpose.cli import main
from gaitpose.io.sequence import load_sequence
from gaitpose.pose.batch import read_manifest
from gaitpose.pose.person_choice import PointPick, choose_at, choose_by_rule, parse_point
from gaitpose.pose.tracking import link_tracks, summarize

PANEL = 200  # the left panel's width in the scaled clip


@pytest.fixture(scope="module")
def two(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("two")
    return two_person_clip(d / "two.mp4", shared_path("walk_outdoor.mp4"))


@pytest.fixture(scope="module")
def all_out(two, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("all")
    assert main(["extract", str(two), "-o", str(out), "--person", "all", "--overlay"]) == 0
    return out


def _hips(seq) -> np.ndarray:
    return seq.keypoints[seq.detected][:, [23, 24], :2].mean(1)


def test_walker_is_chosen(two, tmp_path):
    out = tmp_path / "out"
    assert main(["extract", str(two), "-o", str(out)]) == 0
    seq = load_sequence(out / "two.npz")
    hips = _hips(seq)
    assert seq.detected.mean() > 0.8 and (hips[:, 0] > PANEL).all()
    assert hips[0, 0] - hips[-1, 0] > 150  # walked right to left
    person = seq.meta["person"]
    assert person["rule"] == "walker" and person["people"] == 2
    (row,) = read_manifest(out / "manifest.csv")
    assert row["people"] == "2" and row["person"] == "walker" and row["track"] == str(person["track"])


def test_all_writes_both(two, all_out):
    files = sorted(all_out.glob("two.p*.npz"))
    assert len(files) == 2
    seqs = [load_sequence(f) for f in files]
    sides = sorted(bool((_hips(s)[:, 0] > PANEL).all()) for s in seqs)
    assert sides == [False, True]  # one on each side, never crossing
    left = next(s for s in seqs if (_hips(s)[:, 0] < PANEL).all())
    assert np.ptp(_hips(left)[:, 0]) < 40 and left.detected.mean() > 0.8
    for f, s in zip(files, seqs):
        assert f.name == f"two.p{s.meta['person']['track']}.npz" and s.meta["person"]["rule"] == "all"
    (row,) = read_manifest(all_out / "manifest.csv")
    assert row["status"] == "ok" and sorted(row["track"].split(";")) == sorted(
        str(s.meta["person"]["track"]) for s in seqs)  # fmt: skip
    stamps = [f.stat().st_mtime_ns for f in files]
    assert main(["extract", str(two), "-o", str(all_out), "--person", "all", "--overlay"]) == 0
    (row,) = read_manifest(all_out / "manifest.csv")
    assert row["status"] == "skipped" and [f.stat().st_mtime_ns for f in files] == stamps


def test_person_at_picks_the_other(two, all_out, tmp_path):
    left = next(load_sequence(f) for f in sorted(all_out.glob("two.p*.npz"))
                if (_hips(load_sequence(f))[:, 0] < PANEL).all())  # fmt: skip
    x, y = _hips(left)[0]
    out = tmp_path / "out"
    assert main(["extract", str(two), "-o", str(out), "--person-at", f"{x:.0f},{y:.0f}@10"]) == 0
    seq = load_sequence(out / "two.npz")
    assert seq.meta["person"]["rule"] == "at" and seq.meta["person"]["track"] == left.meta["person"]["track"]
    np.testing.assert_array_equal(seq.keypoints, left.keypoints)
    # Nobody there: one failed row, exit 1, nothing written.
    out2 = tmp_path / "out2"
    assert main(["extract", str(two), "-o", str(out2), "--person-at", "5,5"]) == 1
    (row,) = read_manifest(out2 / "manifest.csv")
    assert row["status"] == "failed" and "nobody there" in row["error"]
    assert sorted(p.name for p in out2.iterdir()) == ["manifest.csv"]


def test_overlay_colours_the_chosen_and_numbers_the_others(all_out):
    import cv2

    cap = cv2.VideoCapture(str(all_out / "two.overlay.mp4"))
    ok, frame = cap.read()
    cap.release()
    assert ok
    hsv = cv2.cvtColor(frame, cv2.COLOR_BGR2HSV)
    coloured = (hsv[..., 1] > 200) & (hsv[..., 2] > 150) & (np.abs(hsv[..., 0].astype(int) - 25) < 8)  # yellow bones
    grey = (np.abs(frame.astype(int) - 170).max(-1) < 6)
    ys, xs = np.nonzero(coloured)
    assert len(xs) > 50  # the chosen person (the first track written) is drawn in colour
    gy, gx = np.nonzero(grey)
    assert len(gx) > 50


# ----------------------------------------------------------------------------- constructed cases
def _pose(cx: float, cy: float, h: float = 200.0, who: int = 0) -> np.ndarray:
    """Person ``who``'s figure (fixed random joint offsets) of height h around (cx, cy), all joints visible."""
    rng = np.random.default_rng(who)
    offs = rng.uniform(-0.5, 0.5, (33, 2)) * [0.3 * h, h]
    offs[[23, 24]] = [[-0.05 * h, 0], [0.05 * h, 0]]
    kp = np.ones((33, 3))
    kp[:, :2] = [cx, cy] + offs
    return kp


def test_tracks_do_not_swap_when_people_cross_and_bridge_an_occlusion():
    frames = []
    for t in range(40):
        a = _pose(100 + 10 * t, 300)  # walks right
        b = _pose(500 - 10 * t, 300, h=150, who=1)  # walks left, smaller
        people = [b, a] if t % 2 else [a, b]  # detection order changes
        if 18 <= t <= 22:
            people = [a]  # b hidden behind a for 5 frames
        frames.append(people)
    tracks = link_tracks(frames)
    assert len(tracks) == 2
    s = [summarize(tr, frames) for tr in tracks]
    for sm in s:
        dx = np.diff(sm.hips[:, 0])
        assert (np.sign(dx) == np.sign(dx[0])).all()  # each track keeps one direction: no swap
    assert sorted(x.frames for x in s) == [35, 40]


def test_gate_refuses_a_jump_to_another_person():
    frames = [[_pose(100, 300)] for _ in range(10)] + [[_pose(600, 300)] for _ in range(10)]
    tracks = link_tracks(frames)
    assert [len(t.frames) for t in tracks] == [10, 10]


def test_rules_on_constructed_tracks():
    frames = []
    for t in range(100):
        people = [_pose(100, 300, h=300)]  # stands still, large, from frame 0
        if t >= 10:
            people.append(_pose(200 + 8 * (t - 10), 320, who=1))  # walks, from frame 10
        if t >= 40:
            people.append(_pose(900, 200, h=100, who=2))  # small, still
        frames.append(people)
    s = [summarize(tr, frames) for tr in link_tracks(frames)]
    assert [choose_by_rule(s, r, 100)[0].id for r in ("walker", "largest", "longest", "first")] == [2, 1, 1, 1]
    assert choose_at(s, parse_point("900,200"), np.arange(100))[0].id == 3
    assert choose_at(s, PointPick(300, 320, 20), np.arange(100))[0].id == 2
    assert parse_point(" 12.5, 30 @ 7 ") == PointPick(12.5, 30.0, 7)
    with pytest.raises(ValueError):
        parse_point("12")
