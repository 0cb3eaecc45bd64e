"""Ctrl-C on `gaitpose extract -j 2` in a subprocess: workers stop, no partial files, manifest written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from extract_helpers import shared_path

ROOT = Path(__file__).resolve().parents[2]


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            parents[int(d.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    out, frontier = set(), {pid}
    while frontier:
        frontier = {c for c, p in parents.items() if p in frontier} - out
        out |= frontier
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc (Linux)")
def test_ctrl_c_stops_workers_cleanly(tmp_path):
    clip = shared_path("walk_outdoor.mp4")
    inp = tmp_path / "in"
    inp.mkdir()
    for i in range(3):
        (inp / f"v{i}.mp4").symlink_to(clip)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gaitpose", "extract", str(inp), "-o", str(out), "-j", "2", "--overlay"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        # Wait until both workers are writing their overlay videos (temporary files).
        while time.monotonic() < deadline and proc.poll() is None:
            if out.is_dir() and len([p for p in out.iterdir() if p.name.startswith(".")]) >= 2:
                break
            time.sleep(0.2)
        assert proc.poll() is None, proc.communicate()
        workers = _descendants(proc.pid)
        assert workers
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted" in err
    time.sleep(0.5)
    assert not [p for p in workers if _alive(p)]
    names = sorted(p.name for p in out.iterdir())
    # Nothing half-written: no temporary files, no .npz without its overlay; the manifest lists what finished.
    assert "manifest.csv" in names and not [n for n in names if n.startswith(".")]
    finished = [n for n in names if n.endswith(".npz")]
    rows = (out / "manifest.csv").read_text().splitlines()
    assert len(rows) == 1 + len(finished)
