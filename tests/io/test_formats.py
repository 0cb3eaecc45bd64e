"""Importers/exporters: pyskl, TRC, OpenPose JSON, Scoliosis1K pose pkl, and `gaitpose convert`."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from gaitpose.cli import main
from gaitpose.io import Sequence, dump_pickle, load_pickle, load_sequence, save_sequence
from gaitpose.io.openpose import BODY25_TO_COCO17, COCO18_TO_COCO17, read_openpose_folder
from gaitpose.io.pyskl import read_pyskl, write_pyskl
from gaitpose.io.scoliosis1k import read_scoliosis1k_pose
from gaitpose.io.trc import TRCError, write_trc


def _seq(T=12, V=33, layout="mediapipe33", world=True, seed=0, cls=None):
    rng = np.random.default_rng(seed)
    kp = np.concatenate([rng.uniform(10, 600, (T, V, 2)), rng.uniform(0.3, 1, (T, V, 1))], -1)
    kp = kp.astype(np.float32)
    kp[1, 3, :2] = np.nan
    kp[1, 3, 2] = 0
    w = rng.normal(0, 0.3, (T, V, 3)).astype(np.float32) if world else None
    meta = {"class": cls} if cls else {}
    sils = rng.integers(0, 2, (T, 64, 64)).astype(np.uint8) * 255
    return Sequence(keypoints=kp, fps=25.0, image_size=(480, 640), layout=layout, world=w,
                    silhouettes=sils, meta=meta)


def test_pyskl_round_trip(tmp_path):
    a, b = _seq(seed=1), _seq(V=17, layout="coco17", seed=2, T=9)
    write_pyskl(tmp_path / "x.pkl", [("a", a, 2), ("b", b, 0)], {"train": ["a"], "test": ["b"]})
    raw = load_pickle(tmp_path / "x.pkl")
    ann = raw["annotations"][0]
    assert ann["keypoint"].shape == (1, 12, 33, 2) and ann["keypoint_score"].shape == (1, 12, 33)
    assert ann["img_shape"] == (480, 640) and ann["total_frames"] == 12 and ann["label"] == 2
    assert np.isfinite(ann["keypoint"]).all()
    items = read_pyskl(tmp_path / "x.pkl", fps=25.0)
    assert [(i.name, i.label, i.split) for i in items] == [("a", 2, "train"), ("b", 0, "test")]
    np.testing.assert_array_equal(items[0].sequence.keypoints, a.keypoints)
    np.testing.assert_array_equal(items[1].sequence.keypoints, b.keypoints)
    assert items[1].sequence.layout == "coco17" and items[0].sequence.image_size == (480, 640)


def _parse_trc(text: str):
    """A TRC parser written from the format description (not from gaitpose.io.trc)."""
    lines = text.split("\n")
    assert lines[0].split("\t")[0] == "PathFileType" and lines[0].split("\t")[1] == "4"
    keys = lines[1].split("\t")
    vals = lines[2].split("\t")
    header = dict(zip(keys, vals))
    n_frames, n_markers = int(header["NumFrames"]), int(header["NumMarkers"])
    names = [c for c in lines[3].split("\t")[2:] if c]
    assert lines[3].split("\t")[:2] == ["Frame#", "Time"]
    sub = lines[4].split("\t")[2:]
    assert sub[:3] == ["X1", "Y1", "Z1"] and len(sub) == 3 * n_markers
    rows = [ln for ln in lines[5:] if ln.strip()]
    assert len(rows) == n_frames
    frames, times, data = [], [], np.full((n_frames, n_markers, 3), np.nan)
    for i, row in enumerate(rows):
        cells = row.split("\t")
        frames.append(int(cells[0]))
        times.append(float(cells[1]))
        for j in range(n_markers):
            xyz = cells[2 + 3 * j : 5 + 3 * j]
            if all(c != "" for c in xyz):
                data[i, j] = [float(c) for c in xyz]
    return header, names, np.array(frames), np.array(times), data


@pytest.mark.parametrize("units,scale", [("m", 1.0), ("mm", 1000.0)])
def test_trc_readable(tmp_path, units, scale):
    seq = _seq()
    write_trc(tmp_path / "s.trc", seq, units=units)
    header, names, frames, times, data = _parse_trc((tmp_path / "s.trc").read_text())
    assert header["Units"] == units and float(header["DataRate"]) == 25.0
    assert int(header["NumMarkers"]) == 33 and names[0] == "nose" and names[11] == "left_shoulder"
    np.testing.assert_array_equal(frames, np.arange(1, 13))
    np.testing.assert_allclose(times, np.arange(12) / 25.0, atol=1e-6)
    w = seq.world.astype(np.float64) * scale
    expect = np.stack([w[..., 0], -w[..., 1], -w[..., 2]], -1)  # Y up
    expect[1, 3] = np.nan  # the missing keypoint is an empty marker
    np.testing.assert_allclose(data, expect, atol=2e-6 * scale, equal_nan=True)


def test_trc_needs_world(tmp_path):
    with pytest.raises(TRCError, match="s.trc.*world"):
        write_trc(tmp_path / "s.trc", _seq(world=False))
    assert not (tmp_path / "s.trc").exists()


@pytest.mark.parametrize("V,mapping", [(25, BODY25_TO_COCO17), (18, COCO18_TO_COCO17)])
def test_openpose_folder(tmp_path, V, mapping):
    rng = np.random.default_rng(0)
    truth = []
    for t in range(5):
        j = np.concatenate([rng.uniform(0, 500, (V, 2)), rng.uniform(0.5, 1, (V, 1))], 1)
        j[mapping[6]] = 0  # right shoulder not found
        other = j.copy()
        other[:, :2] += 300  # a second, less confident person far away
        other[:, 2] *= 0.5
        people = [{"pose_keypoints_2d": j.ravel().tolist()}, {"pose_keypoints_2d": other.ravel().tolist()}]
        if t == 3:
            people = []
        (tmp_path / f"clip_{t:012d}_keypoints.json").write_text(json.dumps({"version": 1.3, "people": people}))
        truth.append(j)
    seq = read_openpose_folder(tmp_path, fps=30)
    assert seq.layout == "coco17" and seq.keypoints.shape == (5, 17, 3)
    assert seq.detected.tolist() == [True, True, True, False, True]
    for t in (0, 4):
        np.testing.assert_allclose(seq.keypoints[t, 5], truth[t][mapping[5]], rtol=1e-6)
        np.testing.assert_allclose(seq.keypoints[t, 15, :2], truth[t][mapping[15], :2], rtol=1e-6)
        assert np.isnan(seq.keypoints[t, 6, 0]) and seq.keypoints[t, 6, 2] == 0
    # COCO-17 names line up: left shoulder is OpenPose's LShoulder (5 in both)
    assert mapping[5] == 5 and mapping[6] == 2


def test_scoliosis1k_pose_pkl(tmp_path):
    arr = np.random.default_rng(0).uniform(1, 300, (10, 17, 3)).astype(np.float32)
    arr[..., 2] = 0.8
    arr[2, 4] = 0
    p = tmp_path / "00012" / "positive" / "000_180" / "000_180.pkl"
    dump_pickle(p, arr)
    seq = read_scoliosis1k_pose(p)
    assert seq.layout == "coco17" and seq.meta["class"] == "positive" and seq.meta["id"] == "00012"
    assert np.isnan(seq.keypoints[2, 4, 0]) and seq.keypoints[2, 4, 2] == 0
    np.testing.assert_array_equal(seq.keypoints[0], arr[0])


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("touch pwned_by_convert",))


def test_convert_cli(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    save_sequence(tmp_path / "a.npz", _seq(seed=1))
    save_sequence(tmp_path / "b.npz", _seq(seed=2))
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps(_Evil()))
    (tmp_path / "labels.csv").write_text("id,class\na,positive\nb,Negative\n")
    # npz → opengait (with labels), a malicious pkl among the inputs
    code = main(["convert", "a.npz", "evil.pkl", "b.npz", "--to", "opengait", "-o", "tree",
                 "--labels", "labels.csv"])
    err = capsys.readouterr().err
    assert code == 1 and "evil.pkl" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "pwned_by_convert").exists()
    assert (tmp_path / "tree" / "a" / "positive" / "000" / "pose.pkl").is_file()
    assert (tmp_path / "tree" / "b" / "negative" / "000" / "sils.pkl").is_file()
    # opengait → npz → pyskl; classes travel with the tree
    assert main(["convert", "tree", "--to", "npz", "-o", "back"]) == 0
    back = load_sequence(tmp_path / "back" / "a.npz")
    np.testing.assert_array_equal(back.keypoints, _seq(seed=1).keypoints)
    assert main(["convert", "tree", "--to", "pyskl", "-o", "s.pkl"]) == 0
    items = read_pyskl(tmp_path / "s.pkl")
    assert sorted((i.name, i.label) for i in items) == [("a", 2), ("b", 0)]
    # no class known → that input fails, others continue
    save_sequence(tmp_path / "c.npz", _seq(seed=3))
    assert main(["convert", "c.npz", "a.npz", "--to", "opengait", "-o", "t2", "--labels", "labels.csv"]) == 1
    assert "c.npz" in capsys.readouterr().err
    # a split column gives the tree a partition.json
    (tmp_path / "split.csv").write_text("id,class,split\na,positive,train\nb,negative,test\n")
    assert main(["convert", "a.npz", "b.npz", "--to", "opengait", "-o", "t3", "--labels", "split.csv"]) == 0
    assert json.loads((tmp_path / "t3" / "partition.json").read_text()) == {"TRAIN_SET": ["a"], "TEST_SET": ["b"]}
    assert main(["convert", "a.npz", "--to", "trc", "-o", "trc"]) == 0
    assert (tmp_path / "trc" / "a.trc").is_file()
