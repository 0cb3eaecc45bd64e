"""Signal processing: gap interpolation limits, Hampel, Butterworth."""

from __future__ import annotations

import numpy as np
import pytest

from gaitpose.features.signal import butter_lowpass, gap_lengths, hampel, interpolate_gaps, runs


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("max_gap", [1, 4])
def test_interpolation_never_bridges_long_gaps(seed: int, max_gap: int) -> None:
    rng = np.random.default_rng(seed)
    T, C = 200, 3
    x = rng.normal(size=(T, C)).cumsum(0)
    missing = np.zeros((T, C), bool)
    for c in range(C):  # gaps of lengths 1..8 at random places
        for _ in range(12):
            a = rng.integers(0, T - 8)
            missing[a : a + rng.integers(1, 9), c] = True
    x[missing] = np.nan
    filled, interp = interpolate_gaps(x, max_gap)
    gaps = gap_lengths(x)
    # filled exactly the interior gaps no longer than the limit
    for c in range(C):
        for a, b in runs(missing[:, c]):
            inner = a > 0 and b < T
            if inner and b - a <= max_gap:
                assert np.isfinite(filled[a:b, c]).all()
                assert interp[a:b, c].all()
                assert (gaps[a:b, c] == b - a).all()
            else:
                assert np.isnan(filled[a:b, c]).all(), (a, b, c)
                assert not interp[a:b, c].any()
    # valid samples untouched
    assert np.array_equal(filled[~missing], x[~missing])


def test_interpolation_is_linear_and_not_extrapolated() -> None:
    x = np.array([np.nan, 0.0, np.nan, np.nan, 3.0, np.nan])
    filled, interp = interpolate_gaps(x, 2)
    np.testing.assert_allclose(filled[1:5], [0, 1, 2, 3])
    assert np.isnan(filled[0]) and np.isnan(filled[5])
    assert interp.tolist() == [False, False, True, True, False, False]


def test_hampel_replaces_a_spike_only() -> None:
    t = np.arange(100) / 30
    x = np.sin(2 * np.pi * 0.5 * t)
    y = x.copy()
    y[40] += 5.0
    out, bad = hampel(y, 7, 3.0)
    assert bad[40] and bad.sum() == 1
    assert abs(out[40] - x[40]) < 0.1


def test_butterworth_keeps_slow_removes_fast_and_keeps_nan() -> None:
    fps = 30.0
    t = np.arange(300) / fps
    slow = np.sin(2 * np.pi * 1.0 * t)
    fast = 0.5 * np.sin(2 * np.pi * 12.0 * t)
    x = np.stack([slow + fast, slow + fast], 1)
    x[100:110, 1] = np.nan
    y = butter_lowpass(x, fps, 6.0, 4)
    inner = slice(20, 280)
    assert np.max(np.abs(y[inner, 0] - slow[inner])) < 0.05
    assert np.isnan(y[100:110, 1]).all()
    assert np.max(np.abs(y[20:90, 1] - slow[20:90])) < 0.05
    # a run shorter than the filter padding is left as it is
    z = np.full(300, np.nan)
    z[10:20] = 1.0
    np.testing.assert_array_equal(butter_lowpass(z, fps), z)


def test_butterworth_equals_scipy_sosfiltfilt_run_by_run() -> None:
    from scipy.signal import butter, sosfiltfilt

    rng = np.random.default_rng(3)
    x = rng.normal(size=(240, 3)).cumsum(0)
    x[100:130, 1] = np.nan
    y = butter_lowpass(x, 25.0, 6.0, 4)
    sos = butter(4, 6.0 / 12.5, output="sos")
    np.testing.assert_allclose(y[:, 0], sosfiltfilt(sos, x[:, 0], padlen=15), atol=1e-10)
    np.testing.assert_allclose(y[:100, 1], sosfiltfilt(sos, x[:100, 1], padlen=15), atol=1e-10)
    np.testing.assert_allclose(y[130:, 1], sosfiltfilt(sos, x[130:, 1], padlen=15), atol=1e-10)
