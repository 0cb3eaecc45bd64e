"""`gaitpose info` on Sequence files, pkl files and bad files."""

from __future__ import annotations

import numpy as np

from gaitpose.cli import main
from gaitpose.io import Sequence, dump_pickle, save_sequence


def _seq(T=20):
    kp = np.random.default_rng(0).uniform(0, 100, (T, 17, 3)).astype(np.float32)
    kp[:5, :, :2] = np.nan
    kp[:5, :, 2] = 0
    return Sequence(keypoints=kp, fps=25.0, image_size=(480, 640), layout="coco17",
                    silhouettes=np.zeros((T, 64, 64), np.uint8),
                    meta={"backend": "legacy", "source": "/videos/a.mp4", "model": "m1"})  # fmt: skip


def test_info_sequence_pkl_and_bad_files(tmp_path, capsys):
    seq_path = tmp_path / "a.npz"
    save_sequence(seq_path, _seq())
    pkl = tmp_path / "b.pkl"
    dump_pickle(pkl, {"pose": np.zeros((3, 17, 3), np.float32), "label": "positive"})
    arr_pkl = tmp_path / "c.pkl"
    dump_pickle(arr_pkl, np.zeros((7, 64, 64), np.uint8))
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(b"cos\nsystem\n(S'echo hi'\ntR.")
    code = main(["info", str(bad), str(seq_path), str(evil), str(pkl), str(arr_pkl), str(tmp_path / "nope.pkl")])
    assert code == 1
    cap = capsys.readouterr()
    out = cap.out
    assert "20 frames at 25 fps (0.80 s)" in out and "640x480" in out and "coco17 (17 joints)" in out
    assert "15/20 frames (75.0 %)" in out and "keypoints float32 [20, 17, 3]" in out
    assert "silhouettes uint8 [20, 64, 64]" in out and "backend legacy (m1)" in out and "/videos/a.mp4" in out
    assert "'pose': ndarray float32 [3, 17, 3]" in out and "'label': str 'positive'" in out
    assert "ndarray uint8 [7, 64, 64]" in out
    err = [ln for ln in cap.err.splitlines() if ln]
    assert len(err) == 3 and all(ln.startswith("gaitpose info: ") for ln in err)
    assert any(str(bad) in ln for ln in err) and any("refused" in ln and str(evil) in ln for ln in err)
    assert any("nope.pkl: no such file" in ln for ln in err)
    assert main(["info", str(seq_path)]) == 0
