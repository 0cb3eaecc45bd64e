"""``gaitpose extract --shard I/N``: the union of 3 shards equals the unsharded run, byte for byte;
``--merge-manifests`` joins the shards' manifests into the unsharded manifest's rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from extract_helpers import person_clip, shared_path

from gaitpose.cli import main
from gaitpose.io.shards import parse_shard
from gaitpose.pose.batch import assign_names, read_manifest, select_shard

TIMING = ("seconds",)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """Four 6-frame excerpts of the real clip (two sharing a stem in sub-folders) and a text file."""
    d = tmp_path_factory.mktemp("in")
    src = shared_path("walk_outdoor.mp4")
    (d / "a").mkdir()
    (d / "b").mkdir()
    for name, start in (("w1.mp4", 100), ("w2.mp4", 120), ("a/walk.mp4", 140), ("b/walk.mp4", 160)):
        person_clip(d / name, src, start=start, n=6)
    (d / "text.mp4").write_text("not a video\n" * 50)
    return d


def _rows(path: Path) -> list[dict[str, str]]:
    return sorted(({k: v for k, v in r.items() if k not in TIMING} for r in read_manifest(path)),
                  key=lambda r: r["input"])  # fmt: skip


def test_three_shards_equal_the_unsharded_run(inputs, tmp_path):
    missing = str(tmp_path / "missing.mp4")
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    assert main(["extract", str(inputs), missing, "-o", str(whole), "-q"]) == 1
    codes = [main(["extract", str(inputs), missing, "-o", str(parts), "-q", "--shard", f"{i}/3"]) for i in range(3)]
    assert 1 in codes  # the text file and the missing path fail in their shards
    shard_rows = [read_manifest(parts / f"manifest.shard-{i}-of-3.csv") for i in range(3)]
    assert sorted(len(r) for r in shard_rows) == [2, 2, 2]  # 6 inputs, every third one each
    npz = sorted(p.name for p in whole.glob("*.npz"))
    assert npz == ["a__walk.npz", "b__walk.npz", "w1.npz", "w2.npz"]
    assert sorted(p.name for p in parts.glob("*.npz")) == npz
    for name in npz:
        assert (whole / name).read_bytes() == (parts / name).read_bytes(), name
    assert main(["extract", "--merge-manifests", str(parts)]) == 1  # a failed row → exit 1
    assert _rows(parts / "manifest.csv") == _rows(whole / "manifest.csv")


def test_merge_needs_every_shard(inputs, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["extract", str(inputs / "w1.mp4"), "-o", str(out), "-q", "--shard", "0/2"]) == 0
    assert main(["extract", "--merge-manifests", str(out)]) == 1
    assert "shards 1 of 2 have no manifest yet" in capsys.readouterr().err
    assert main(["extract", "--merge-manifests", str(tmp_path / "nothing")]) == 1
    assert not (out / "manifest.csv").exists()


def test_shard_selection_is_stable_and_complete(tmp_path):
    from gaitpose.pose.batch import Job

    paths = [tmp_path / f"v{i:02d}.mp4" for i in range(10)]
    jobs = [Job(n, p, tmp_path / f"{n}.npz") for n, p in zip(assign_names(paths), paths)]
    shards = [select_shard(jobs[::-1], [], (i, 4))[0] for i in range(4)]  # input order does not matter
    names = [j.name for s in shards for j in s]
    assert sorted(names) == sorted(j.name for j in jobs) and len(set(names)) == 10
    assert [j.name for j in shards[1]] == ["v01", "v05", "v09"]
    assert parse_shard("2/5") == (2, 5)
    for bad in ("5/5", "-1/3", "1", "a/b"):
        with pytest.raises(ValueError):
            parse_shard(bad)
