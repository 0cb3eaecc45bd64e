"""`gaitpose features --shard I/N` + `--join`: the joined shards equal the unsharded table; the
left/right swap count recorded by `gaitpose extract` (meta ``lr_swaps``) becomes ``qc_lr_swaps``."""

from __future__ import annotations

import pandas as pd

from gaitpose.cli import main
from gaitpose.features.constructed import walker
from gaitpose.io import Sequence, save_sequence


def test_three_shards_joined_equal_the_unsharded_table(tmp_path) -> None:
    src = tmp_path / "seqs"
    for i in range(5):
        meta = {"lr_swaps": i} if i != 3 else {}  # one input that did not record swaps
        kp = walker(view="front", shoulder_tilt=float(i), noise=0.5, seed=i)
        save_sequence(src / f"s{i}.npz", Sequence(keypoints=kp, fps=30.0, image_size=(720, 1280), meta=meta))
    whole = tmp_path / "whole.csv"
    assert main(["features", str(src), "-o", str(whole)]) == 0
    parts = [tmp_path / f"part{i}.csv" for i in range(3)]
    for i, part in enumerate(parts):
        assert main(["features", str(src), "-o", str(part), "--shard", f"{i}/3"]) == 0
    assert sorted(len(pd.read_csv(p)) for p in parts) == [1, 2, 2]
    joined = tmp_path / "joined.csv"
    assert main(["features", "--join", *map(str, parts), "-o", str(joined)]) == 0
    a = pd.read_csv(whole).sort_values("source").reset_index(drop=True)
    b = pd.read_csv(joined)
    pd.testing.assert_frame_equal(a, b)
    assert (tmp_path / "joined.dictionary.csv").is_file()
    swaps = a.set_index("id")["qc_lr_swaps"]
    assert swaps.drop("s3").tolist() == [0, 1, 2, 4] and pd.isna(swaps["s3"])
    d = pd.read_csv(tmp_path / "whole.dictionary.csv").set_index("column")
    assert "swaps" in d.loc["qc_lr_swaps", "definition"]
    assert main(["features", str(src), "-o", str(tmp_path / "x.csv"), "--shard", "3/3"]) == 2
