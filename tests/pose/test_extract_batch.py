"""Batch extraction on small generated videos: bad inputs, resume, interruption, workers, overlay."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from extract_helpers import (
    no_person_video,
    person_clip,
    shared_path,
    truncated_copy,
    zero_frame_video,
)

from gaitpose.cli import main
from gaitpose.io.sequence import load_sequence
from gaitpose.pose.batch import read_manifest, run_batch
from gaitpose.pose.extract import ExtractError, extract_video


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    """walker.mp4: 12 frames (442x248) of the real walk clip; no_person.mp4: gradients only."""
    d = tmp_path_factory.mktemp("clips")
    person_clip(d / "walker.mp4", shared_path("walk_outdoor.mp4"))
    no_person_video(d / "no_person.mp4")
    return d


def _rows(out: Path) -> dict[str, dict[str, str]]:
    return {Path(r["input"]).name: r for r in read_manifest(out / "manifest.csv")}


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith("."))


def test_python_api_and_no_person(clips):
    import gaitpose.pose

    seq = gaitpose.pose.extract_video(clips / "walker.mp4")
    assert seq.num_frames == 12 and seq.detected.all()
    assert seq.keypoints.shape == (12, 33, 3) and seq.silhouettes.shape == (12, 64, 64)
    assert seq.meta["backend"] == "tasks" and seq.meta["source"].endswith("walker.mp4")
    assert seq.meta["person"]["rule"] == "walker" and seq.meta["person"]["people"] == 1
    single = gaitpose.pose.extract_video(clips / "walker.mp4", person="single")
    assert single.meta["backend"] == "legacy" and single.meta["person"] == {
        "rule": "single", "reason": "MediaPipe's own choice (num_poses=1)"}  # fmt: skip
    both = seq.detected & single.detected
    assert np.nanmedian(np.linalg.norm(seq.keypoints[both, :, :2] - single.keypoints[both, :, :2], axis=-1)) < 3.0
    for person in ("walker", "single"):
        with pytest.raises(ExtractError, match="no person detected"):
            extract_video(clips / "no_person.mp4", silhouettes=False, person=person)


def test_batch_goes_on_after_bad_inputs(clips, tmp_path, capfd):
    inp = tmp_path / "in put"
    (inp / "sub").mkdir(parents=True)
    shutil.copy(clips / "walker.mp4", inp / "sub" / "good walker.MP4")
    shutil.copy(clips / "no_person.mp4", inp / "no person.mp4")
    (inp / "empty.mp4").write_bytes(b"")
    (inp / "random.avi").write_bytes(np.random.default_rng(0).integers(0, 256, 4096, np.uint8).tobytes())
    (inp / "text.mp4").write_text("not a video\n" * 50)
    truncated_copy(clips / "walker.mp4", inp / "truncated.mp4", 0.6)
    zero_frame_video(inp / "zero.avi")
    out = tmp_path / "out"
    code = main(["extract", str(inp), str(tmp_path / "missing.mp4"), "-o", str(out)])
    assert code == 1
    rows = _rows(out)
    assert len(rows) == 8
    expected = {
        "no person.mp4": "no person detected",
        "empty.mp4": "empty file",
        "random.avi": "not a readable video",
        "text.mp4": "not a readable video",
        "truncated.mp4": "not a readable video",
        "zero.avi": "no frames",
        "missing.mp4": "no such file",
    }
    for name, reason in expected.items():
        assert rows[name]["status"] == "failed" and reason in rows[name]["error"], rows[name]
    good = rows["good walker.MP4"]
    assert good["status"] == "ok" and good["frames"] == "12" and float(good["detected_fraction"]) == 1.0
    assert sorted(p.name for p in out.iterdir()) == ["good walker.npz", "manifest.csv"]
    err = capfd.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    for name, reason in expected.items():
        hits = [ln for ln in lines if ln.startswith("gaitpose extract: ") and ln.endswith(reason) or (
            ln.startswith("gaitpose extract: ") and name in ln and reason in ln)]  # fmt: skip
        assert any(name in h for h in hits), (name, err)
    # Nothing else than our lines (no FFmpeg/MediaPipe noise): errors, and progress lines in a log.
    assert all(ln.startswith(("gaitpose extract: ", "videos: ")) for ln in lines), err


def test_resume_skips_and_force_redoes(clips, tmp_path):
    out = tmp_path / "out"
    assert main(["extract", str(clips / "walker.mp4"), "-o", str(out), "--no-silhouettes"]) == 0
    npz = out / "walker.npz"
    seq = load_sequence(npz)
    assert seq.silhouettes is None and seq.num_frames == 12
    stamp = npz.stat().st_mtime_ns
    assert main(["extract", str(clips / "walker.mp4"), "-o", str(out)]) == 0
    row = _rows(out)["walker.mp4"]
    assert row["status"] == "skipped" and row["frames"] == "12" and npz.stat().st_mtime_ns == stamp
    assert main(["extract", str(clips / "walker.mp4"), "-o", str(out), "--force"]) == 0
    assert _rows(out)["walker.mp4"]["status"] == "ok" and npz.stat().st_mtime_ns != stamp
    assert load_sequence(npz).silhouettes.shape == (12, 64, 64)
    # An incomplete output is not "finished": it is redone.
    npz.write_bytes(npz.read_bytes()[:100])
    assert main(["extract", str(clips / "walker.mp4"), "-o", str(out)]) == 0
    assert _rows(out)["walker.mp4"]["status"] == "ok" and load_sequence(npz).num_frames == 12


def test_interrupted_write_leaves_no_npz(clips, tmp_path, monkeypatch):
    inp = tmp_path / "in"
    inp.mkdir()
    shutil.copy(clips / "walker.mp4", inp / "a.mp4")
    shutil.copy(clips / "walker.mp4", inp / "b.mp4")
    import gaitpose.io.sequence as sequence_module

    real = sequence_module._write_npz
    calls = []

    def half_then_interrupt(file, arrays, compress):
        calls.append(file)
        if len(calls) == 2:  # second video: write part of the file, then Ctrl-C
            Path(file).write_bytes(b"PK\x03\x04" + b"\0" * 1000)
            raise KeyboardInterrupt
        return real(file, arrays, compress)

    monkeypatch.setattr(sequence_module, "_write_npz", half_then_interrupt)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_batch([inp], out, progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["a.npz", "manifest.csv"]  # no temp, no b.npz
    rows = read_manifest(out / "manifest.csv")
    assert [(r["name"], r["status"]) for r in rows] == [("a", "ok")]
    # A failure (not an interrupt) inside the write is one failed row; the batch continues.
    calls.clear()

    def broken(file, arrays, compress):
        Path(file).write_bytes(b"PK")
        raise OSError("disk full")

    monkeypatch.setattr(sequence_module, "_write_npz", broken)
    results = run_batch([inp], out, progress=False, force=True)
    assert [(r.name, r.status) for r in results] == [("a", "failed"), ("b", "failed")]
    assert "disk full" in results[0].error and not (out / "b.npz").exists() and not _leftovers(out)


def test_two_workers_and_name_collisions(clips, tmp_path):
    for sub in ("x", "y"):
        (tmp_path / "in" / sub).mkdir(parents=True)
        shutil.copy(clips / "walker.mp4", tmp_path / "in" / sub / "walker.mp4")
    out = tmp_path / "out"
    assert main(["extract", str(tmp_path / "in"), "-o", str(out), "-j", "2"]) == 0
    rows = read_manifest(out / "manifest.csv")
    assert sorted((r["name"], r["status"], r["frames"]) for r in rows) == [
        ("x__walker", "ok", "12"),
        ("y__walker", "ok", "12"),
    ]
    a, b = (load_sequence(out / f"{n}__walker.npz") for n in "xy")
    assert a.detected.all() and b.detected.all()
    assert np.nanmedian(np.linalg.norm(a.keypoints[..., :2] - b.keypoints[..., :2], axis=-1)) < 1.0
    assert not _leftovers(out)


def test_overlay_video(clips, tmp_path):
    out = tmp_path / "out"
    assert main(["extract", str(clips / "walker.mp4"), "-o", str(out), "--overlay"]) == 0
    ov = out / "walker.overlay.mp4"
    cap = cv2.VideoCapture(str(ov))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    src = cv2.VideoCapture(str(clips / "walker.mp4"))
    ok, first = src.read()
    assert len(frames) == 12 and frames[0].shape == first.shape
    # Drawing changed many pixels, all of them on or around the person (skeleton + outline).
    changed = np.abs(frames[0].astype(int) - first.astype(int)).sum(-1) > 120
    kp = load_sequence(out / "walker.npz").keypoints[0]
    x0, y0 = np.nanmin(kp[:, :2], 0) - 15
    x1, y1 = np.nanmax(kp[:, :2], 0) + 15
    ys, xs = np.nonzero(changed)
    inside = (xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)
    assert changed.sum() > 100 and inside.mean() > 0.9
    # Re-running with --overlay skips; without an overlay file it would redo.
    assert main(["extract", str(clips / "walker.mp4"), "-o", str(out), "--overlay"]) == 0
    assert _rows(out)["walker.mp4"]["status"] == "skipped"


def test_usage_errors(clips, tmp_path, capsys):
    """--person single --backend tasks needs --model; bad --person/--person-at/--shard combinations; ..."""
    code = main(["extract", str(clips / "walker.mp4"), "-o", str(tmp_path / "o"), "--person", "single",
                 "--backend", "tasks"])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "--model" in err and "gaitpose models build-task" in err
    with pytest.raises(ValueError, match="gaitpose models build-task"):
        extract_video(clips / "walker.mp4", backend="tasks", person="single")
    with pytest.raises(ValueError, match="legacy backend follows one person"):
        extract_video(clips / "walker.mp4", backend="legacy")
    bad = [["--backend", "legacy"], ["--person-at", "10"], ["--person-at", "1,2", "--person", "all"],
           ["--person-at", "1,2", "--person", "single"], ["--shard", "3/3"], ["--shard", "1"]]
    for extra in bad:
        assert main(["extract", str(clips / "walker.mp4"), "-o", str(tmp_path / "o"), *extra]) == 2, extra
    assert main(["extract", "--merge-manifests", str(tmp_path / "o"), str(clips / "walker.mp4")]) == 2
    from gaitpose.commands.extract import PERSON_MODES as listed
    from gaitpose.pose.extract import PERSON_MODES

    assert listed == PERSON_MODES  # the parser's copy (kept there so that --help imports no scipy)
    assert main(["extract", str(clips / "walker.mp4"), "-o", str(tmp_path / "o"), "--model", "x.task"]) == 2
    # Other usage errors: a folder without videos, -j 0, a non-positive --fps.
    (tmp_path / "empty").mkdir()
    assert main(["extract", str(tmp_path / "empty"), "-o", str(tmp_path / "o")]) == 2
    assert "no video files found" in capsys.readouterr().err
    assert main(["extract", str(clips / "walker.mp4"), "-o", str(tmp_path / "o"), "-j", "0"]) == 2
    assert main(["extract", str(clips / "walker.mp4"), "-o", str(tmp_path / "o"), "--fps", "0"]) == 2
    assert not (tmp_path / "o" / "walker.npz").exists()


class _ZeroFps:
    def __init__(self, *a, _real=cv2.VideoCapture):
        self._cap = _real(*a)

    def get(self, prop):
        return 0.0 if prop == cv2.CAP_PROP_FPS else self._cap.get(prop)

    def __getattr__(self, name):
        return getattr(self._cap, name)


def test_fps_zero_needs_override(clips, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cv2, "VideoCapture", _ZeroFps)
    out = tmp_path / "out"
    assert main(["extract", str(clips / "walker.mp4"), "-o", str(out), "--no-silhouettes"]) == 1
    row = _rows(out)["walker.mp4"]
    assert row["status"] == "failed" and "fps reported as 0" in row["error"]
    assert f"gaitpose extract: {clips / 'walker.mp4'}: fps reported as 0" in capsys.readouterr().err
    assert main(["extract", str(clips / "walker.mp4"), "-o", str(out), "--no-silhouettes", "--fps", "25"]) == 0
    assert load_sequence(out / "walker.npz").fps == 25.0
