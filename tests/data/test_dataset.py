"""GaitDataset / PKSampler / collate_clips (INTERFACES.md, data layer)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from gaitpose.data import GaitDataset, PKSampler, align_modalities, collate_clips
from gaitpose.io import Sequence, dump_pickle, save_sequence
from gaitpose.io.opengait import write_partition

CLASSES = ("negative", "neutral", "positive")


def _coded_sils(codes: np.ndarray) -> np.ndarray:
    """Silhouette frame k: columns 10 .. 10 + codes[k] filled (visible after the 10-px crop)."""
    s = np.zeros((len(codes), 64, 64), np.uint8)
    for k, c in enumerate(codes):
        s[k, 4:60, 10 : 10 + int(c) + 1] = 255
    return s


def _coded_pose(codes: np.ndarray, V: int = 33) -> np.ndarray:
    p = np.zeros((len(codes), V, 3), np.float32)
    p[..., 0] = codes[:, None]
    p[..., 1] = 100.0
    p[..., 2] = 0.9
    return p


def _sil_code(sils: torch.Tensor) -> np.ndarray:
    """Inverse of _coded_sils on cropped [T, 64, 44] clips."""
    return (sils[:, 30] > 0.5).sum(-1).numpy() - 1


@pytest.fixture
def tree(tmp_path):
    """6 subjects x 1-3 sequences, frame t of every sequence encodes t in both modalities."""
    root = tmp_path / "tree"
    rows, n = [], 0
    sizes = [1, 2, 3, 1, 2, 3]
    for s, k in enumerate(sizes):
        for _ in range(k):
            sid = f"{n:05d}"
            cls = CLASSES[s % 3]
            T = 20 + n
            codes = np.arange(T)
            dump_pickle(root / sid / cls.capitalize() / "000" / "sils.pkl", _coded_sils(codes))
            dump_pickle(root / sid / cls.capitalize() / "000" / "pose.pkl", _coded_pose(codes))
            rows.append({"id": sid, "subject": f"S{s}", "class": cls})
            n += 1
    with open(root / "ground_truth.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["id", "subject", "class"])
        w.writeheader()
        w.writerows(rows)
    ids = [r["id"] for r in rows]
    write_partition(root / "partition.json", ids[:9], ids[9:])
    return root


def test_metadata_and_partition(tree):
    tr = GaitDataset(tree, split="train")
    te = GaitDataset(tree, split="test")
    al = GaitDataset(tree, split="all")
    assert len(tr) == 9 and len(te) == 3 and len(al) == 12
    assert tr.labels[0] == 0 and tr.subjects[0] == "S0" and tr.ids[0] == "00000"
    assert tr.layout == "mediapipe33" and tr.num_joints == 33
    assert GaitDataset(tree, split="all", layout="coco17").num_joints == 17
    assert set(tr.labels) == {0, 1, 2}  # class folders in any case


def test_train_clip_shapes_and_paired_frames(tree):
    ds = GaitDataset(tree, split="train", frames=30, seed=1)
    for i in range(len(ds)):
        item = ds[i]
        assert item["sils"].shape == (30, 64, 44) and item["sils"].dtype == torch.float32
        assert item["pose"].shape == (30, 33, 3) and item["seq_len"] == 30
        assert 0.0 <= float(item["sils"].min()) and float(item["sils"].max()) <= 1.0
        codes = _sil_code(item["sils"])
        np.testing.assert_array_equal(codes, item["pose"][:, 0, 0].numpy().astype(int))
        T = 20 + i
        if T >= 30:  # without replacement when long enough
            assert len(set(codes.tolist())) == 30
        assert not np.all(np.diff(codes) > 0)  # drawn without order


def test_test_clips_all_frames_in_order(tree):
    ds = GaitDataset(tree, split="test", max_frames=25)
    for i in range(len(ds)):
        item = ds[i]
        codes = _sil_code(item["sils"])
        np.testing.assert_array_equal(codes, np.arange(len(codes)))
        assert item["seq_len"] == min(25, 29 + i)
        batch = collate_clips([ds[0], ds[1]])
    assert batch["sils"].shape[0] == 2 and batch["seq_lens"].tolist() == [25, 25]


def test_unequal_lengths_matched_by_relative_position_and_invalid_dropped(tmp_path):
    root = tmp_path / "t"
    pose = _coded_pose(np.arange(20) * 2)  # pose frame i = sils frame 2i
    pose[5, :, 2] = 0  # undetected in pose only → dropped from both
    sils = _coded_sils(np.arange(39))
    dump_pickle(root / "00000" / "positive" / "v" / "pose.pkl", pose)
    dump_pickle(root / "00000" / "positive" / "v" / "sils.pkl", sils)
    ds = GaitDataset(root, split="all")
    item = ds[0]
    codes = _sil_code(item["sils"])
    assert item["seq_len"] == 19 and 10 not in codes.tolist()
    np.testing.assert_array_equal(codes, item["pose"][:, 0, 0].numpy().astype(int))
    # the same frames whichever modality is asked for alone
    s_only = GaitDataset(root, split="all", modalities=("sils",))[0]
    assert "pose" not in s_only and s_only["seq_len"] == 39
    p_only = GaitDataset(root, split="all", modalities=("pose",))[0]
    assert "sils" not in p_only and p_only["seq_len"] == 19


def test_align_modalities_direct():
    s = _coded_sils(np.arange(10))
    p = _coded_pose(np.arange(30))
    s2, p2 = align_modalities(s, p)
    assert len(s2) == len(p2) == 10
    np.testing.assert_array_equal(p2[:, 0, 0], np.round(np.arange(10) * 29 / 9))


def test_pk_sampler_batches(tree):
    ds = GaitDataset(tree, split="all")
    P, K = 4, 3
    it = iter(PKSampler(ds, P, K, seed=3))
    for _ in range(20):
        batch = next(it)
        assert len(batch) == P * K
        subjects = [ds.subjects[i] for i in batch]
        groups = [subjects[j * K : (j + 1) * K] for j in range(P)]
        assert all(len(set(g)) == 1 for g in groups)  # K clips of one subject
        assert len({g[0] for g in groups}) == P  # P distinct subjects
    # deterministic stream; ranks get disjoint shares of the same global batch
    a = next(iter(PKSampler(ds, P, K, seed=5)))
    r0 = next(iter(PKSampler(ds, P, K, seed=5, rank=0, world_size=2)))
    r1 = next(iter(PKSampler(ds, P, K, seed=5, rank=1, world_size=2)))
    assert r0 + r1 == a
    with pytest.raises(ValueError):
        PKSampler(ds, 10, 2)  # only 6 subjects


def test_dataloader_with_workers(tree):
    ds = GaitDataset(tree, split="all", frames=8, sample_type="fixed_unordered")
    dl = DataLoader(ds, batch_sampler=PKSampler(ds, 3, 2, seed=0), collate_fn=collate_clips,
                    num_workers=2)
    it = iter(dl)
    for _ in range(3):
        b = next(it)
        assert b["sils"].shape == (6, 8, 64, 44) and b["pose"].shape == (6, 8, 33, 3)
        assert b["labels"].dtype == torch.long and len(b["ids"]) == 6
        for j in range(6):
            np.testing.assert_array_equal(_sil_code(b["sils"][j]), b["pose"][j, :, 0, 0].numpy())
    del it


def test_sequence_folder_with_labels_csv(tmp_path):
    rows = []
    for n in range(4):
        T = 12
        kp = _coded_pose(np.arange(T)).copy()
        kp[3, 4, :2] = np.nan  # a missing joint → x = y = 0, score 0
        kp[3, 4, 2] = 0
        det = np.ones(T, bool)
        det[7] = False
        seq = Sequence(keypoints=kp, fps=30, image_size=(480, 640), detected=det,
                       silhouettes=_coded_sils(np.arange(T)))
        save_sequence(tmp_path / f"clip{n}.npz", seq)
        rows.append(f"clip{n},{CLASSES[n % 3].upper()},P{n // 2}")
    (tmp_path / "labels.csv").write_text("id,class,subject\n" + "\n".join(rows) + "\n")
    ds = GaitDataset(tmp_path, split="all", labels_csv=tmp_path / "labels.csv")
    assert len(ds) == 4 and ds.labels == [0, 1, 2, 0] and ds.subjects == ["P0", "P0", "P1", "P1"]
    item = ds[0]
    assert item["seq_len"] == 11  # undetected frame 7 dropped
    codes = _sil_code(item["sils"])
    assert 7 not in codes.tolist()
    pose = item["pose"].numpy()
    assert np.isfinite(pose).all()
    assert pose[3, 4].tolist() == [0.0, 0.0, 0.0]


def test_synth_cohort_loads(tmp_path):
    from gaitpose.synth import make_cohort

    make_cohort(tmp_path, sequences=8, frames=20, seed=0, progress=False)
    ds = GaitDataset(tmp_path, split="all", layout="coco17")
    assert len(ds) == 8 and ds.num_joints == 17
    item = ds[0]
    assert item["pose"].shape[1:] == (17, 3) and item["sils"].shape[1:] == (64, 44)
    # subjects from ground_truth.csv
    assert all(s.startswith("S") for s in ds.subjects)


def test_several_views_per_id(tmp_path):
    for view in ("000_180", "000_000"):
        dump_pickle(tmp_path / "007" / "neutral" / view / "sils.pkl", _coded_sils(np.arange(10)))
        dump_pickle(tmp_path / "007" / "neutral" / view / "pose.pkl", _coded_pose(np.arange(10)))
    dump_pickle(tmp_path / "008" / "negative" / "000_000" / "pose.pkl", _coded_pose(np.arange(10)))
    write_partition(tmp_path / "partition.json", ["007"], ["008"])
    ds = GaitDataset(tmp_path, split="train", modalities=("pose",))
    assert ds.ids == ["007/neutral/000_000", "007/neutral/000_180"]
    assert ds.subjects == ["007", "007"] and ds.labels == [1, 1]


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("touch pwned_by_dataset",))


def test_malicious_pkl_in_tree_refused(tmp_path, monkeypatch):
    import pickle

    from gaitpose.io import UnsafePickleError

    monkeypatch.chdir(tmp_path)
    d = tmp_path / "t" / "000" / "positive" / "v"
    d.mkdir(parents=True)
    (d / "sils.pkl").write_bytes(pickle.dumps(_Evil()))
    dump_pickle(d / "pose.pkl", _coded_pose(np.arange(5)))
    ds = GaitDataset(tmp_path / "t", split="all")  # lazy: nothing is unpickled yet
    with pytest.raises(UnsafePickleError, match="sils.pkl"):
        ds[0]
    assert not (tmp_path / "pwned_by_dataset").exists()


def test_val_split_from_partition_and_carved(tree):
    """split='val' reads VAL_SET; without one, val_carve carves whole subjects off TRAIN_SET
    (seeded: the same seed gives the same ids) and 'train' then excludes them."""
    with pytest.raises(ValueError, match="no VAL_SET"):
        GaitDataset(tree, split="val")
    carve = {"fraction": 0.3, "seed": 4}
    tr = GaitDataset(tree, split="train", val_carve=carve)
    va = GaitDataset(tree, split="val", val_carve=carve)
    te = GaitDataset(tree, split="test", val_carve=carve)
    assert len(tr) + len(va) == 9 and len(te) == 3 and va.ids
    assert not set(tr.subjects) & set(va.subjects)  # whole subjects
    assert va.ids == GaitDataset(tree, split="val", val_carve=carve).ids
    assert te.ids == GaitDataset(tree, split="test").ids  # the test set is untouched
    ids = GaitDataset(tree, split="all").ids
    write_partition(tree / "partition.json", ids[:7], ids[9:], val=ids[7:9])
    assert GaitDataset(tree, split="val").ids == ids[7:9]
    assert GaitDataset(tree, split="val", val_carve=carve).ids == ids[7:9]  # VAL_SET wins
    assert GaitDataset(tree, split="train").ids == ids[:7]


def test_refuses_an_id_under_two_classes(tree):
    """Two cohorts mixed in one folder: the same id under two class folders is refused."""
    dump_pickle(tree / "00001" / "positive" / "000" / "sils.pkl", _coded_sils(np.arange(5)))
    dump_pickle(tree / "00001" / "positive" / "000" / "pose.pkl", _coded_pose(np.arange(5)))
    with pytest.raises(ValueError, match=r"id 00001 appears under two classes \(neutral, positive\)"):
        GaitDataset(tree, split="all")
