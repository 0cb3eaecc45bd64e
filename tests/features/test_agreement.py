"""Agreement statistics (ICC, Bland-Altman, SEM, MDC) and the ``gaitpose agreement`` command.

References: pingouin.intraclass_corr (to 1e-6, when installed); Bland & Altman's (1986) worked
example (Wright vs mini Wright peak flow meters, first readings of 17 subjects: mean difference
−2.1 l/min, SD 38.8); a test–retest of constructed walkers (two sessions of the same subjects).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gaitpose.cli import main as cli
from gaitpose.features import sequence_features
from gaitpose.features.agreement import agreement_stats, anova_mean_squares, icc
from gaitpose.features.constructed import walker

# Bland & Altman 1986, Lancet i:307-310, Table 1 (first measurement with each meter)
WRIGHT = [494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427]
MINI = [512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350, 451]


def _pingouin_icc(x: np.ndarray) -> dict[str, tuple[float, float, float]]:
    pg = pytest.importorskip("pingouin", reason="pingouin (test extra) is the reference ICC")
    n, k = x.shape
    long = pd.DataFrame({
        "t": np.repeat(np.arange(n), k), "r": np.tile(np.arange(k), n), "x": x.ravel(),
    })  # fmt: skip
    old = dict(pg.options)
    pg.options["round"] = None
    pg.options["round.column.CI95"] = None
    try:
        res = pg.intraclass_corr(long, targets="t", raters="r", ratings="x")
    finally:
        pg.options.clear()
        pg.options.update(old)
    res = res.set_index("Type")
    # pingouin ≥ 0.6 names them ICC(A,1) / ICC(C,1), older versions ICC2 / ICC3
    a = "ICC(A,1)" if "ICC(A,1)" in res.index else "ICC2"
    c = "ICC(C,1)" if "ICC(C,1)" in res.index else "ICC3"
    return {
        "icc2_1": (res.loc[a, "ICC"], *res.loc[a, "CI95"]),
        "icc3_1": (res.loc[c, "ICC"], *res.loc[c, "CI95"]),
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [2, 3])
def test_icc_matches_pingouin(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    n = 15 + 5 * seed
    subject = rng.normal(0, 2, (n, 1))
    x = subject + rng.normal(0, 1, (n, k)) + np.arange(k) * 0.4 * seed
    ref = _pingouin_icc(x)
    ours = icc(x)
    for name in ("icc2_1", "icc3_1"):
        got = (ours[name], ours[f"{name}_lo"], ours[f"{name}_hi"])
        assert got == pytest.approx(ref[name], abs=1e-6), name


def test_bland_altman_worked_example() -> None:
    st = agreement_stats(WRIGHT, MINI)
    d = np.subtract(MINI, WRIGHT)
    assert st["n"] == 17
    assert round(st["bias"], 1) == 2.1  # Bland & Altman report Wright − mini = −2.1
    assert round(st["sd_diff"], 1) == 38.8
    assert st["loa_lo"] == pytest.approx(d.mean() - 1.96 * d.std(ddof=1))
    assert st["loa_hi"] == pytest.approx(d.mean() + 1.96 * d.std(ddof=1))
    assert st["bias_lo"] < st["bias"] < st["bias_hi"]
    # SEM from the ANOVA equals SD(diff)/√2 for two measurements; MDC95 = 1.96·√2·SEM
    assert st["sem"] == pytest.approx(st["sd_diff"] / np.sqrt(2))
    assert st["mdc95"] == pytest.approx(1.96 * st["sd_diff"])
    msb, msj, mse = anova_mean_squares(np.stack([WRIGHT, MINI], 1))
    assert mse == pytest.approx(st["sd_diff"] ** 2 / 2)


def test_identical_measurements_agree_perfectly_and_a_shift_lowers_only_icc2() -> None:
    x = np.linspace(0, 10, 12)
    st = agreement_stats(x, x)
    assert st["icc2_1"] == pytest.approx(1.0) and st["bias"] == 0.0
    assert st["sem"] == pytest.approx(0.0, abs=1e-7)
    shifted = agreement_stats(x, x + 3 + 0.01 * np.sin(x))
    assert shifted["icc3_1"] > 0.99 and shifted["icc2_1"] < shifted["icc3_1"] - 0.05
    assert shifted["bias"] == pytest.approx(3.0, abs=0.01)
    assert np.isnan(agreement_stats([1.0, 2.0], [1.0, 2.0])["icc2_1"])  # < 3 pairs


def _session(tilts, shifts, session: int, noise: float) -> pd.DataFrame:
    rows = []
    for i, (st, ts) in enumerate(zip(tilts, shifts)):
        kp = walker(
            T=180, stride_hz=1.0, shoulder_tilt=st, trunk_shift=ts,
            noise=noise, seed=100 * session + i,
        )  # fmt: skip
        row = sequence_features(kp, 30.0, "mediapipe33").row
        rows.append({"id": f"s{i:02d}", **row})
    return pd.DataFrame(rows)


def test_test_retest_of_two_synthetic_sessions(tmp_path) -> None:
    # the same 8 subjects walk twice; session 2 has more keypoint noise
    rng = np.random.default_rng(5)
    tilts, shifts = rng.uniform(-4, 4, 8), rng.uniform(-6, 6, 8)
    a, b = _session(tilts, shifts, 1, 1.0), _session(tilts, shifts, 2, 3.0)
    a.to_csv(tmp_path / "a.csv", index=False)
    b.iloc[::-1].to_csv(tmp_path / "b.csv", index=False)  # row order must not matter
    out = tmp_path / "agree"
    args = ["agreement", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "-o", str(out)]
    assert cli([*args, "--top", "4"]) == 0
    t = pd.read_csv(out / "agreement.csv").set_index("feature")
    for f in ("shoulder_tilt_median", "trunk_shift_median"):
        assert t.loc[f, "n"] == 8
        assert t.loc[f, "icc2_1"] > 0.95, t.loc[f]
        assert abs(t.loc[f, "bias"]) < t.loc[f, "mdc95"]
    assert (t["rank"].diff().dropna() == 1).all()
    assert t["icc2_1"].dropna().is_monotonic_decreasing
    assert "| rank | feature |" in (out / "agreement.md").read_text()
    assert (out / "bland_altman.png").stat().st_size > 1000 and (out / "icc.png").is_file()


def test_agreement_command_errors(tmp_path, capsys) -> None:
    pd.DataFrame({"id": ["a", "b"], "x": [1.0, 2.0]}).to_csv(tmp_path / "a.csv", index=False)
    assert cli(["agreement", str(tmp_path / "a.csv"), str(tmp_path / "nope.csv"), "-o",
                str(tmp_path / "o")]) == 1  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"gaitpose agreement: {tmp_path / 'nope.csv'}: no such file or directory"]
    assert cli(["agreement", str(tmp_path / "a.csv"), str(tmp_path / "a.csv"), "-o",
                str(tmp_path / "o")]) == 1  # fmt: skip
    assert "need at least 3" in capsys.readouterr().err
    assert not (tmp_path / "o" / "agreement.csv").exists()
