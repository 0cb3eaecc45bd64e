import numpy as np
import pytest

from gaitpose.io import Sequence, SequenceFormatError, load_sequence, save_sequence
from gaitpose.io.sequence import is_complete_sequence


def _seq(T=12, V=33, sils=True):
    rng = np.random.default_rng(0)
    k = rng.uniform(0, 100, (T, V, 3)).astype(np.float32)
    k[3] = np.nan
    k[3, :, 2] = 0
    return Sequence(
        keypoints=k,
        fps=30.0,
        image_size=(480, 640),
        depth=rng.normal(size=(T, V)).astype(np.float32),
        world=rng.normal(size=(T, V, 3)).astype(np.float32),
        silhouettes=(rng.uniform(size=(T, 64, 64)) > 0.5).astype(np.uint8) * 255 if sils else None,
        meta={"source": "x.mp4", "backend": "legacy"},
    )


def test_round_trip(tmp_path):
    seq = _seq()
    path = save_sequence(tmp_path / "a.npz", seq)
    back = load_sequence(path)
    np.testing.assert_array_equal(back.keypoints, seq.keypoints)
    np.testing.assert_array_equal(back.silhouettes, seq.silhouettes)
    np.testing.assert_array_equal(back.world, seq.world)
    np.testing.assert_array_equal(back.detected, seq.detected)
    assert not back.detected[3] and back.detected[0]
    assert back.fps == 30.0 and back.image_size == (480, 640) and back.layout == "mediapipe33"
    assert back.meta == seq.meta
    assert not list(tmp_path.glob(".*tmp*"))


def test_optional_arrays_absent(tmp_path):
    seq = _seq(sils=False)
    back = load_sequence(save_sequence(tmp_path / "b.npz", seq))
    assert back.silhouettes is None


def test_bad_shapes_rejected():
    with pytest.raises(SequenceFormatError, match="layout"):
        Sequence(keypoints=np.zeros((5, 17, 3)), fps=30, image_size=(10, 10), layout="mediapipe33")
    with pytest.raises(SequenceFormatError, match="fps"):
        Sequence(keypoints=np.zeros((5, 33, 3)), fps=0, image_size=(10, 10))


def test_truncated_file_is_not_complete(tmp_path):
    path = save_sequence(tmp_path / "c.npz", _seq())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert not is_complete_sequence(path)
    with pytest.raises(SequenceFormatError, match="c.npz"):
        load_sequence(path)


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    seq = _seq()

    def boom(*a, **k):
        raise RuntimeError("disk full")

    import gaitpose.io.sequence as sequence_module

    monkeypatch.setattr(sequence_module, "_write_npz", boom)
    with pytest.raises(RuntimeError):
        save_sequence(tmp_path / "d.npz", seq)
    assert list(tmp_path.iterdir()) == []


def test_equal_content_gives_identical_bytes(tmp_path):
    a = save_sequence(tmp_path / "a.npz", _seq())
    import time

    time.sleep(2.1)  # zip timestamps have a 2-second resolution
    b = save_sequence(tmp_path / "b.npz", _seq())
    assert a.read_bytes() == b.read_bytes()
    np.testing.assert_array_equal(np.load(a)["keypoints"], _seq().keypoints)


def test_saved_file_has_usual_permissions(tmp_path):
    import os

    path = save_sequence(tmp_path / "p.npz", _seq())
    umask = os.umask(0)
    os.umask(umask)
    assert (path.stat().st_mode & 0o777) == (0o666 & ~umask)
