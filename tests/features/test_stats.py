"""Group statistics against direct definitions / scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gaitpose.features.stats import bootstrap_cliffs_delta, cliffs_delta, group_comparison, holm


def test_cliffs_delta_matches_the_pairwise_definition() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 6, 30).astype(float)  # ties included
    b = rng.integers(1, 7, 25).astype(float)
    direct = np.mean(np.sign(a[:, None] - b[None, :]))
    assert cliffs_delta(a, b) == pytest.approx(direct)
    assert cliffs_delta(b, a) == pytest.approx(-direct)
    lo, hi = bootstrap_cliffs_delta(a, b, n_boot=300)
    assert lo < direct < hi


def test_holm_against_hand_computation() -> None:
    p = np.array([0.01, 0.04, np.nan, 0.03, 0.2])
    # sorted: 0.01*4, 0.03*3, 0.04*2, 0.2*1 → running max
    np.testing.assert_allclose(holm(p), [0.04, 0.09, np.nan, 0.09, 0.2])


def test_group_comparison_ranks_by_effect_size() -> None:
    rng = np.random.default_rng(1)
    n = 20
    df = pd.DataFrame({
        "class": ["negative"] * n + ["neutral"] * n + ["positive"] * n,
        "strong": np.r_[rng.normal(0, 1, n), rng.normal(1, 1, n), rng.normal(3, 1, n)],
        "none": rng.normal(0, 1, 3 * n),
    })  # fmt: skip
    out = group_comparison(df, ["none", "strong"], n_boot=200)
    assert list(out["feature"]) == ["strong", "none"]
    assert out.loc[0, "mw_p_holm"] < 1e-4 and out.loc[0, "kw_p_holm"] < 1e-4
    assert out.loc[0, "median_positive"] > out.loc[0, "median_negative"]


def test_ids_with_leading_zeros_join_across_csv_and_parquet(tmp_path) -> None:
    from gaitpose.features.report import join_labels, read_table

    feats = pd.DataFrame({"id": ["007", "010"], "x": [1.0, 2.0], "usable": [True, True]})
    feats.to_parquet(tmp_path / "f.parquet")
    pd.DataFrame({"id": ["007", "010"], "class": ["positive", "negative"]}).to_csv(
        tmp_path / "labels.csv", index=False
    )
    df = join_labels(read_table(tmp_path / "f.parquet"), read_table(tmp_path / "labels.csv"))
    assert df["class"].tolist() == ["positive", "negative"]
