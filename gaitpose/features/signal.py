"""Signal processing for keypoint trajectories: arrays in, arrays out, vectorised over channels.

Every function takes a ``[T, C]`` float array (time first, any number of channels; NaN =
missing) and returns an array of the same shape. Time constants are given in seconds by
the caller and converted with the sequence's fps (see :class:`gaitpose.features.FeatureParams`).

Pipeline (ASYMMETRY.md, "Signal processing"): score threshold → gap interpolation
(:func:`interpolate_gaps`) → Hampel filter (:func:`hampel`) → zero-lag Butterworth low-pass
(:func:`butter_lowpass`).
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["butter_lowpass", "gap_lengths", "hampel", "interpolate_gaps", "runs", "sliding"]


def _as2d(x: np.ndarray) -> tuple[np.ndarray, bool]:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        return x[:, None], True
    if x.ndim != 2:
        raise ValueError(f"expected [T] or [T, C], got shape {list(x.shape)}")
    return x, False


def _neighbours(valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the last valid sample at or before t and of the next at or after t ([T, C]).

    -1 / T where there is none.
    """
    T = valid.shape[0]
    t = np.arange(T)[:, None]
    prev = np.where(valid, t, -1)
    prev = np.maximum.accumulate(prev, axis=0)
    nxt = np.where(valid, t, T)
    nxt = np.minimum.accumulate(nxt[::-1], axis=0)[::-1]
    return prev, nxt


def gap_lengths(x: np.ndarray) -> np.ndarray:
    """Length (frames) of the missing run each sample belongs to, 0 for valid samples.

    Runs touching either end of the sequence count too (their length is to the edge).

    Shapes:
        x: [T] or [T, C] → same shape, int.
    """
    x2, squeeze = _as2d(x)
    valid = np.isfinite(x2)
    prev, nxt = _neighbours(valid)
    out = np.where(valid, 0, nxt - prev - 1)
    return out[:, 0] if squeeze else out


def interpolate_gaps(x: np.ndarray, max_gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Linearly interpolate interior gaps of at most ``max_gap`` missing frames.

    Gaps longer than ``max_gap`` and gaps at either end stay NaN (never extrapolated).

    Args:
        x: [T] or [T, C] samples, NaN where missing.
        max_gap: longest run of missing frames to fill (e.g. ``round(0.15 * fps)``).

    Returns:
        (filled, interpolated) with the shape of ``x``: the filled array and a bool mask of
        the samples that were filled.
    """
    x2, squeeze = _as2d(x)
    T = x2.shape[0]
    valid = np.isfinite(x2)
    prev, nxt = _neighbours(valid)
    gap = nxt - prev - 1
    fill = ~valid & (prev >= 0) & (nxt < T) & (gap <= max_gap)
    out = x2.copy()
    if fill.any():
        cols = np.broadcast_to(np.arange(x2.shape[1])[None, :], x2.shape)
        p, n, c = prev[fill], nxt[fill], cols[fill]
        t = np.nonzero(fill)[0]
        w = (t - p) / (n - p)
        out[fill] = x2[p, c] * (1.0 - w) + x2[n, c] * w
    if squeeze:
        return out[:, 0], fill[:, 0]
    return out, fill


def sliding(x: np.ndarray, half: int) -> np.ndarray:
    """Centered windows of ``2*half+1`` samples, NaN-padded at the ends.

    Shapes:
        x: [T, C] → [T, C, 2*half+1]
    """
    pad = np.full((half, x.shape[1]), np.nan)
    xp = np.concatenate([pad, x, pad], axis=0)
    win = np.lib.stride_tricks.sliding_window_view(xp, 2 * half + 1, axis=0)
    return win


def _nanmedian_last(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median over the last axis ignoring NaN, by sorting (fast for short windows)."""
    s = np.sort(w, axis=-1)  # NaN sort last
    n = np.isfinite(s).sum(-1)
    lo = np.clip((n - 1) // 2, 0, None)
    hi = np.clip(n // 2, 0, None)
    a = np.take_along_axis(s, lo[..., None], -1)[..., 0]
    b = np.take_along_axis(s, hi[..., None], -1)[..., 0]
    med = np.where(n > 0, 0.5 * (a + b), np.nan)
    return med, n


def hampel(x: np.ndarray, window: int = 7, n_sigma: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """Hampel outlier filter: replace samples further than ``n_sigma`` scaled MADs from the
    window median by that median.

    Args:
        x: [T] or [T, C], NaN where missing (NaN is ignored inside windows and kept).
        window: full window length in frames (odd; 7 in ASYMMETRY.md).
        n_sigma: threshold in scaled MADs (MAD × 1.4826).

    Returns:
        (filtered, replaced) with the shape of ``x``.
    """
    x2, squeeze = _as2d(x)
    if x2.shape[0] == 0:
        return (x2[:, 0], np.zeros(0, bool)) if squeeze else (x2.copy(), np.zeros(x2.shape, bool))
    half = max(int(window) // 2, 1)
    win = sliding(x2, half)
    med, n = _nanmedian_last(win)
    mad, _ = _nanmedian_last(np.abs(win - med[..., None]))
    sigma = 1.4826 * mad
    with np.errstate(invalid="ignore"):
        bad = np.isfinite(x2) & (n >= 3) & (np.abs(x2 - med) > n_sigma * sigma) & (sigma > 0)
    out = np.where(bad, med, x2)
    if squeeze:
        return out[:, 0], bad[:, 0]
    return out, bad


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of the runs of True in a 1-D bool array (stop exclusive)."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.diff(m.astype(np.int8))
    starts = np.nonzero(d == 1)[0]
    stops = np.nonzero(d == -1)[0]
    return list(zip(starts.tolist(), stops.tolist()))


@functools.lru_cache(maxsize=64)
def _butter(order: int, wn: float) -> tuple[np.ndarray, np.ndarray]:
    """Second-order sections and their steady-state initial conditions (cached)."""
    from scipy.signal import butter, sosfilt_zi

    sos = butter(order, wn, btype="low", output="sos")
    return sos, sosfilt_zi(sos)


def _filtfilt(sos: np.ndarray, zi: np.ndarray, x: np.ndarray, padlen: int) -> np.ndarray:
    """Forward-backward sosfilt along axis 0 with odd extension (as scipy's sosfiltfilt).

    Shapes: x [N, C] with N > padlen → [N, C]
    """
    from scipy.signal import sosfilt

    ext = np.concatenate(
        [2 * x[:1] - x[padlen:0:-1], x, 2 * x[-1:] - x[-2 : -padlen - 2 : -1]], axis=0
    )
    z = zi[:, :, None]
    y = sosfilt(sos, ext, axis=0, zi=z * ext[:1][None])[0]
    y = sosfilt(sos, y[::-1], axis=0, zi=z * y[-1:][None])[0][::-1]
    return y[padlen:-padlen]


def butter_lowpass(x: np.ndarray, fps: float, cutoff: float = 6.0, order: int = 4) -> np.ndarray:
    """Zero-lag (forward-backward) Butterworth low-pass on every valid run.

    Runs no longer than the filter's padding (``3 * (2 * sections + 1)`` frames, scipy's
    default) are left unfiltered; NaN stays NaN. When ``cutoff`` is at or above 0.9 × the
    Nyquist frequency the input is returned unchanged (nothing to remove). Equivalent to
    ``scipy.signal.sosfiltfilt`` run by run; channels sharing a run are filtered together.

    Args:
        x: [T] or [T, C].
        fps: sampling rate (Hz).
        cutoff: cut-off frequency (Hz).
        order: Butterworth order of the filter design (applied forward and backward).

    Returns:
        Array of the shape of ``x``.
    """
    x2, squeeze = _as2d(x)
    nyq = 0.5 * fps
    if cutoff >= 0.9 * nyq or x2.shape[0] == 0:
        return x2[:, 0].copy() if squeeze else x2.copy()
    sos, zi = _butter(int(order), float(cutoff / nyq))
    padlen = 3 * (2 * len(sos) + 1)
    out = x2.copy()
    valid = np.isfinite(x2)
    groups: dict[tuple[int, int], list[int]] = {}
    for c in range(x2.shape[1]):
        col = valid[:, c]
        spans = [(0, x2.shape[0])] if col.all() else runs(col)
        for a, b in spans:
            if b - a > padlen:
                groups.setdefault((a, b), []).append(c)
    for (a, b), cols in groups.items():
        out[a:b, cols] = _filtfilt(sos, zi, x2[a:b, cols], padlen)
    return out[:, 0] if squeeze else out
