"""Per-stride and per-sequence measures: robust summaries, asymmetry indices (Plotnik 2007 GA,
Robinson 1987 SI), arm swing, medio-lateral sway, walking direction, the leg-axis camera-roll
estimate and stance time. Arrays in, numbers or arrays out.
"""

from __future__ import annotations

import numpy as np

from gaitpose.features import geometry as geo


def nanmedian(x) -> float:
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else float("nan")


def nanmean(x) -> float:
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(np.mean(x)) if x.size else float("nan")


def iqr(x) -> float:
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if not x.size:
        return float("nan")
    q1, q3 = np.percentile(x, [25, 75])
    return float(q3 - q1)


def symmetry_index(left: float, right: float) -> float:
    """Robinson 1987: ``2 |L - R| / (L + R) * 100`` (%), for positive quantities."""
    den = left + right
    return (
        float(2 * abs(left - right) / den * 100) if np.isfinite(den) and den > 0 else float("nan")
    )


def gait_asymmetry(left: float, right: float) -> float:
    """Plotnik 2007: ``|ln(L / R)| * 100`` (%), for positive quantities."""
    if not (np.isfinite(left) and np.isfinite(right)) or left <= 0 or right <= 0:
        return float("nan")
    return float(abs(np.log(left / right)) * 100)


def segment_means(x: np.ndarray, start: np.ndarray, end: np.ndarray, cover: float) -> np.ndarray:
    """Mean of each column of ``x`` over frames ``start..end`` (inclusive), ignoring NaN; NaN
    where fewer than ``cover`` of the frames are valid. Vectorised with cumulative sums.

    Shapes: x [T, C], start/end [K] → [K, C]
    """
    f = np.isfinite(x)
    cs = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(np.where(f, x, 0.0), 0)])
    cn = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(f, 0)])
    if not len(start):
        return np.zeros((0, x.shape[1]))
    tot = cs[end + 1] - cs[start]
    n = cn[end + 1] - cn[start]
    length = (end - start + 1)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        m = tot / n
    return np.where((n > 0) & (n / length >= cover), m, np.nan)


def covered_range(x: np.ndarray, cover: float) -> float:
    f = np.isfinite(x)
    return float(x[f].max() - x[f].min()) if x.size and f.mean() >= cover else float("nan")


def arm_swing(sh: np.ndarray, wr: np.ndarray, arm_length: np.ndarray, cover: float) -> float:
    """Range of the wrist relative to the shoulder along its main direction / arm length.

    Shapes: sh, wr [N, 2] (one stride), arm_length [N] → scalar
    """
    r = wr - sh
    f = np.isfinite(r).all(-1)
    if not r.size or f.mean() < cover or f.sum() < 3:
        return float("nan")
    rv = r[f] - r[f].mean(0)
    _, vecs = np.linalg.eigh(rv.T @ rv)
    proj = rv @ vecs[:, -1]
    length = nanmedian(arm_length)
    return float((proj.max() - proj.min()) / length) if length > 0 else float("nan")


def ml_sway(mh_x: np.ndarray, hip_width: np.ndarray, cover: float) -> float:
    """Range of the linearly detrended mid-hip x over a stride / hip width."""
    f = np.isfinite(mh_x)
    if not mh_x.size or f.mean() < cover or f.sum() < 3:
        return float("nan")
    t = np.nonzero(f)[0].astype(float)
    y = mh_x[f]
    tc = t - t.mean()
    slope = (tc @ (y - y.mean())) / (tc @ tc)
    res = y - slope * tc
    w = nanmedian(hip_width)
    return float((res.max() - res.min()) / w) if w > 0 else float("nan")


def wrap_deg(deg: np.ndarray) -> np.ndarray:
    """Angles (deg) wrapped into [-180, 180)."""
    return (deg + 180.0) % 360.0 - 180.0


def walking_direction(mh_x: np.ndarray, fps: float) -> np.ndarray:
    """Per-frame sign of the 1-s smoothed horizontal velocity of the mid-hip (+1 towards +x)."""
    T = mh_x.shape[0]
    if T < 2:
        return np.ones(T)
    v = np.gradient(mh_x) if np.isfinite(mh_x).sum() > 1 else np.full(T, np.nan)
    k = min(max(int(round(fps)), 1), T)
    vf = np.where(np.isfinite(v), v, 0.0)
    n = np.convolve(np.isfinite(v).astype(float), np.ones(k), "same")
    with np.errstate(invalid="ignore", divide="ignore"):
        vs = np.convolve(vf, np.ones(k), "same") / n
    glob = np.sign(np.nanmedian(v)) if np.isfinite(v).any() else 1.0
    glob = glob if glob != 0 else 1.0
    d = np.sign(vs)
    return np.where(np.isfinite(d) & (d != 0), d, glob)


def camera_roll(joints: dict[str, np.ndarray], side_ratio: float = 0.25) -> float:
    """Camera roll (deg) from the mean leg axis in front/back frames [S].

    A level camera sees the hip→ankle axis of each leg, averaged over both legs and over the
    gait cycle, as vertical (the legs swing in the sagittal plane, which a front or back view
    sees edge-on); a rolled camera rotates it. Positive = the image content is rotated
    clockwise on screen (the ``x cos r - y sin r`` convention with y down), which lowers the
    subject's left side when facing the camera. NaN without front/back frames or leg joints.

    Args:
        joints: name → [T, 2] pixels (as returned by :func:`clean_keypoints`).
    """
    need = ("left_hip", "right_hip", "left_ankle", "right_ankle", "left_shoulder", "right_shoulder")
    if not all(n in joints for n in need):
        return float("nan")
    ls, rs, lh, rh = (
        joints[n] for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
    )
    torso = geo.torso_length(geo.midpoint(ls, rs), geo.midpoint(lh, rh))
    face = geo.facing(ls, rs, lh, rh, np.where(torso > 0, torso, np.nan), side_ratio)
    frontal = (face == geo.FRONT) | (face == geo.BACK)
    ang = []
    for lr in ("left", "right"):
        d = joints[f"{lr}_ankle"] - joints[f"{lr}_hip"]
        ang.append(np.degrees(np.arctan2(d[:, 0], d[:, 1])))
    mean = np.where(frontal, 0.5 * (ang[0] + ang[1]), np.nan)
    return -nanmedian(mean)


def stance_time(
    hs: np.ndarray, to: np.ndarray, fps: float, max_s: float, method: str, has_toes: bool
) -> float:
    """Mean time from a heel strike to the next toe-off of the same foot (side view, toes needed)."""
    if method != "side" or not has_toes or not len(hs) or not len(to):
        return float("nan")
    out = []
    for t in hs:
        later = to[to > t]
        if later.size and (later[0] - t) / fps < max_s:
            out.append((later[0] - t) / fps)
    return nanmean(out)
