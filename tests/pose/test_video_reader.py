"""VideoReader: validation of bad inputs, prefetching iteration, folder search; output naming."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from extract_helpers import no_person_video, truncated_copy, write_video, zero_frame_video

from gaitpose.io.video import VideoError, VideoReader, find_videos
from gaitpose.pose.batch import assign_names, collect_inputs


def _frames(n=9, h=48, w=64):
    """Flat BGR frames, blue-ish, brighter with the index (survive MJPEG compression)."""
    return [np.broadcast_to(np.array([200, 60, (10 + 20 * i) % 256], np.uint8), (h, w, 3)).copy() for i in range(n)]


def test_reader_yields_all_frames_in_order_rgb(tmp_path):
    frames = _frames()
    path = write_video(tmp_path / "v.avi", frames, fps=12.0, fourcc="MJPG")
    r = VideoReader(path, prefetch=2)
    assert r.fps == pytest.approx(12.0) and r.frame_count == 9 and r.size == (48, 64)
    got = list(r)
    assert [i for i, _ in got] == list(range(9))
    for (_, rgb), bgr in zip(got, frames):
        assert rgb.shape == (48, 64, 3)
        # RGB: channel order reversed relative to what was written (BGR), within JPEG error.
        assert np.abs(rgb.reshape(-1, 3).mean(0) - bgr[0, 0, ::-1]).max() < 8


def test_reader_early_stop_does_not_hang(tmp_path):
    path = write_video(tmp_path / "v.avi", _frames(30), fourcc="MJPG")
    r = VideoReader(path, prefetch=1, strict_length=False)
    for i, _ in r:
        if i == 3:
            break
    assert r.frames_read == 4


@pytest.mark.parametrize(
    "kind, reason",
    [
        ("empty", "empty file"),
        ("random", "not a readable video"),
        ("text", "not a readable video"),
        ("zero", "no frames"),
        ("missing", "no such file"),
    ],
)
def test_bad_inputs_raise_a_clear_reason(tmp_path, kind, reason):
    path = tmp_path / f"bad {kind}.mp4"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "random":
        path.write_bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    elif kind == "text":
        path.write_text("this is not a video\n" * 20)
    elif kind == "zero":
        path = zero_frame_video(tmp_path / "zero.avi")
    with pytest.raises(VideoError, match=reason):
        VideoReader(path)


def test_truncated_videos(tmp_path):
    grad = [f.copy() for f in _frames(20, 120, 160)]
    for i, f in enumerate(grad):
        f[:, :, 1] = (np.arange(160)[None, :] * (i + 1)) % 256  # some texture, so frames are not tiny
    full = write_video(tmp_path / "full.avi", grad, fourcc="MJPG")
    cut = truncated_copy(full, tmp_path / "cut.avi", 0.5)
    r = VideoReader(cut)  # header intact, the stream ends early
    with pytest.raises(VideoError, match=r"truncated: decoded \d+ of 20 frames"):
        list(r)
    mp4 = no_person_video(tmp_path / "np.mp4")
    with pytest.raises(VideoError, match="not a readable video"):  # mp4v: the index is at the end
        VideoReader(truncated_copy(mp4, tmp_path / "cut.mp4", 0.5))


class _ZeroFps:
    """cv2.VideoCapture whose container reports 0 fps (FFmpeg itself substitutes 25 for broken rates)."""

    def __init__(self, *a, _real=cv2.VideoCapture):
        self._cap = _real(*a)

    def get(self, prop):
        return 0.0 if prop == cv2.CAP_PROP_FPS else self._cap.get(prop)

    def __getattr__(self, name):
        return getattr(self._cap, name)


def test_fps_zero_fails_unless_overridden(tmp_path, monkeypatch):
    path = write_video(tmp_path / "v.avi", _frames(5), fourcc="MJPG")
    monkeypatch.setattr(cv2, "VideoCapture", _ZeroFps)
    with pytest.raises(VideoError, match="fps reported as 0"):
        VideoReader(path)
    r = VideoReader(path, fps=7.5)
    assert r.fps == 7.5 and len(list(r)) == 5


def test_find_videos_recursive_any_case(tmp_path):
    (tmp_path / "a b" / "c").mkdir(parents=True)
    for name in ("x.MP4", "a b/y.avi", "a b/c/z z.MoV", "a b/c/w.mkv", "v.webm", "notes.txt", "a b/.hidden.mp4"):
        (tmp_path / name).write_bytes(b"0")
    found = [p.relative_to(tmp_path).as_posix() for p in find_videos(tmp_path)]
    assert sorted(found) == sorted(["x.MP4", "a b/y.avi", "a b/c/z z.MoV", "a b/c/w.mkv", "v.webm"])


def test_collect_inputs_keeps_order_drops_repeats_and_output_folder(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "out").mkdir()
    for n in ("in/a.mp4", "in/b.mp4", "in/out/a.overlay.mp4", "odd.bin"):
        (tmp_path / n).write_bytes(b"0")
    videos, missing = collect_inputs(
        [tmp_path / "odd.bin", tmp_path / "in", tmp_path / "in" / "a.mp4", tmp_path / "nope.mp4"],
        exclude=tmp_path / "in" / "out",
    )
    assert [v.name for v in videos] == ["odd.bin", "a.mp4", "b.mp4"]  # explicit files whatever the extension
    assert missing == [tmp_path / "nope.mp4"]


def test_assign_names_unique_and_deterministic():
    paths = [Path(p) for p in ("/d/a/walk.mp4", "/d/b/walk.mp4", "/d/c/run.mp4", "/d/c/run.avi",
                               "/d/a__walk.mp4", "/e/Walk.MP4", "/d/c/other one.mp4")]  # fmt: skip
    names = assign_names(paths)
    assert len({n.lower() for n in names}) == len(names)
    assert names[2:4] == ["run_mp4", "run_avi"] and names[6] == "other one"
    assert names == assign_names(list(paths))
    # Order of the inputs does not change a video's name.
    rev = assign_names(paths[::-1])[::-1]
    assert rev == names


def _rotated_mp4(path, width=64, height=48, frames=5):
    """An mp4 whose track header says 'display rotated by 90 degrees' (as phones write portrait video)."""
    import struct

    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (width, height))
    for _ in range(frames):
        frame = np.zeros((height, width, 3), np.uint8)
        frame[:, :10] = 255  # a white band on the left edge of the stored frame
        writer.write(frame)
    writer.release()
    data = bytearray(path.read_bytes())
    at = data.find(b"tkhd")
    offset = at + 4 + (40 if data[at + 4] == 0 else 52)  # the 3x3 display matrix
    data[offset : offset + 36] = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
    path.write_bytes(bytes(data))


def test_rotation_flag_is_applied(tmp_path):
    from gaitpose.io.video import VideoReader

    path = tmp_path / "portrait.mp4"
    _rotated_mp4(path)
    reader = VideoReader(path)
    try:
        assert reader.size == (64, 48)  # upright: height 64, width 48
        frames = [f for _, f in reader]
    finally:
        reader.close()
    assert frames and all(f.shape[:2] == (64, 48) for f in frames)
    # the stored left band becomes the top band after a 90-degree clockwise turn
    assert frames[0][:8].mean() > 200 and frames[0][-20:].mean() < 30
