"""`gaitpose extract` on a terminal: progress bars visible, MediaPipe's native logs not."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from extract_helpers import person_clip, shared_path

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_progress_bars_on_a_terminal_and_no_native_noise(tmp_path):
    import pty

    clip = person_clip(tmp_path / "walker.mp4", shared_path("walk_outdoor.mp4"), n=10)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\0" * 300)
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # rows, cols
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("GAITPOSE_VERBOSE", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gaitpose", "extract", str(clip), str(bad), "-o", str(tmp_path / "out")],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=env,
    )  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(master)
    text = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 1, text
    assert re.search(r"walker: .*\d+/10 \[", text) and "2/2" in text  # the per-video and overall bars
    assert f"gaitpose extract: {bad}: not a readable video" in text
    for noise in ("W0000", "INFO: Created TensorFlow", "moov atom", "absl::InitializeLog"):
        assert noise not in text, text
