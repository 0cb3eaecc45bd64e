"""Camera, projection and rendering of a simulated walk: keypoints and silhouettes.

World frame: ``X`` to the camera's right, ``Y`` up (floor ``Y = 0``), ``Z`` away from the
camera along its optical axis. The camera sits at ``(0, Hc, 0)`` looking along ``+Z``
(pinhole, focal ``f`` px) and has a small roll. The walker's body frame (``l`` left,
``u`` up, ``f`` forward, see :mod:`gaitpose.synth.walker`) is placed with a heading
``θ``: ``X = l cos θ + f sin θ``, ``Z = l sin θ − f cos θ`` — ``θ = 0`` walks towards the
camera (front), ``π`` away from it (back), ``π/2`` across it to the right (side).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gaitpose.pose.silhouette import normalize_silhouette
from gaitpose.synth.walker import Motion, Subject

IMAGE_SIZE = (720, 1280)  # (h, w)
FOCAL = 1100.0
SIL_PERSON_PX = 200  # height of the person in the silhouette render canvas
NUM_JOINTS = 33

# capsules: (joint a, joint b, radius as a fraction of body height, scaled by girth?)
_CAPSULES = (
    (11, 13, 0.031, True), (12, 14, 0.031, True),  # upper arms
    (13, 15, 0.025, True), (14, 16, 0.025, True),  # forearms
    (15, 19, 0.02, False), (16, 20, 0.02, False),  # hands
    (23, 25, 0.05, True), (24, 26, 0.05, True),  # thighs
    (25, 27, 0.033, True), (26, 28, 0.033, True),  # shanks
    (29, 31, 0.022, False), (30, 32, 0.022, False),  # feet
)  # fmt: skip
_HEADISH = (0, 7, 8)  # nose and ears: head render uses the head centre instead
_FACE = tuple(range(11))


@dataclass
class Camera:
    """Pinhole camera: focal (px), principal point, height above the floor (m), roll (deg)."""

    focal: float
    cx: float
    cy: float
    height: float
    roll: float
    image_size: tuple[int, int]


@dataclass
class Path:
    """Where the body frame is in the world: origin at t=0, heading (rad), speed (m/s)."""

    start: np.ndarray  # [3] world (X, 0, Z)
    heading: float
    speed: float


VIEW_HEADING = {"front": 0.0, "back": np.pi, "side": np.pi / 2}


def make_scene(view: str, s: Subject, T: int, fps: float, rng: np.random.Generator):
    """A camera and a straight path that keep the walker in view for the whole sequence."""
    h, w = IMAGE_SIZE
    cam = Camera(
        focal=FOCAL * float(np.exp(rng.normal(0, 0.05))),
        cx=w / 2,
        cy=h / 2,
        height=float(rng.uniform(0.9, 1.3)),
        roll=float(rng.normal(0, 1.0)),
        image_size=IMAGE_SIZE,
    )
    speed = s.step_length * s.cadence / 60.0
    dist = speed * T / fps
    heading = VIEW_HEADING[view] + float(rng.normal(0, 2.0)) * np.pi / 180
    if view == "front":
        z_end = 3.6 + rng.uniform(0, 1.0)
        start = np.array([rng.normal(0, 0.25), 0.0, z_end + dist])
    elif view == "back":
        start = np.array([rng.normal(0, 0.25), 0.0, 3.6 + rng.uniform(0, 1.0)])
    elif view == "side":
        half_fov = np.arctan(w / 2 / cam.focal)
        z = max(4.5, dist / (2 * 0.85 * np.tan(half_fov))) + rng.uniform(0, 0.5)
        start = np.array([-dist / 2, 0.0, z])
    else:
        raise ValueError(f"unknown view {view!r} (front, back or side)")
    return cam, Path(start=start, heading=heading, speed=speed)


def to_world(p: np.ndarray, path: Path, t: np.ndarray) -> np.ndarray:
    """Body-frame points [T, ..., 3] (l, u, f) → world [T, ..., 3]; the body advances along f."""
    c, s = np.cos(path.heading), np.sin(path.heading)
    shape = (-1,) + (1,) * (p.ndim - 2)
    fwd = p[..., 2] + (path.speed * t).reshape(shape)
    X = path.start[0] + p[..., 0] * c + fwd * s
    Z = path.start[2] + p[..., 0] * s - fwd * c
    return np.stack([X, p[..., 1], Z], -1)


def project(world: np.ndarray, cam: Camera) -> tuple[np.ndarray, np.ndarray]:
    """World points [..., 3] → pixels [..., 2] (with roll) and depth [...]."""
    Z = np.maximum(world[..., 2], 0.3)
    x = cam.focal * world[..., 0] / Z
    y = -cam.focal * (world[..., 1] - cam.height) / Z
    r = np.deg2rad(cam.roll)
    xr = x * np.cos(r) - y * np.sin(r)
    yr = x * np.sin(r) + y * np.cos(r)
    return np.stack([xr + cam.cx, yr + cam.cy], -1), Z


def render_keypoints(
    m: Motion, s: Subject, view: str, cam: Camera, path: Path, fps: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MediaPipe-33 keypoints with visibility, like a pose estimator would return them.

    Returns:
        keypoints [T, 33, 3] float32 (x px, y px, visibility), NaN x, y and 0 where missing;
        world [T, 33, 3] float32: clean joints in metres, mid-hip origin, MediaPipe axes
        (x to the image right, y down, z away from the camera), like MediaPipe's world landmarks;
        detected [T] bool: False for the (rare) frames where the "detector" found nobody.
    """
    T = m.joints.shape[0]
    t = np.arange(T) / fps
    world = to_world(m.joints, path, t)
    xy, Z = project(world, cam)
    person_px = cam.focal * s.height / Z.mean(1)  # [T]
    # noise: white + slowly varying (AR(1)), proportional to the person's size
    sigma = (0.004 * person_px + 0.6)[:, None, None]
    ar = np.zeros((T, NUM_JOINTS, 2))
    e = rng.normal(size=(T, NUM_JOINTS, 2))
    for i in range(1, T):
        ar[i] = 0.8 * ar[i - 1] + 0.6 * e[i]
    noise = sigma * (0.7 * rng.normal(size=(T, NUM_JOINTS, 2)) + 0.5 * ar)
    vis = np.clip(rng.normal(0.95, 0.03, size=(T, NUM_JOINTS)), 0, 1)
    if view == "back":
        vis[:, _FACE] = np.clip(rng.normal(0.55, 0.15, size=(T, len(_FACE))), 0, 1)
    if view == "side":  # the far side (the subject's left when walking to the right)
        far = np.array([i for i in range(NUM_JOINTS) if i % 2 == 1 and i >= 11] + [1, 2, 3, 7, 9])
        vis[:, far] = np.clip(rng.normal(0.6, 0.15, size=(T, far.size)), 0, 1)
        noise[:, far] *= 1.6
    # occasional bursts of low visibility (occlusion, blur): noisier, lower score
    for _ in range(rng.poisson(T / 60)):
        j, t0, dur = rng.integers(NUM_JOINTS), rng.integers(T), rng.integers(2, 8)
        sl = slice(t0, min(T, t0 + dur))
        vis[sl, j] = rng.uniform(0.05, 0.45)
        noise[sl, j] *= 3.0
    kp = np.concatenate([xy + noise, vis[..., None]], -1).astype(np.float32)
    # missing joints (rare) and undetected frames (rarer)
    miss = rng.random((T, NUM_JOINTS)) < 0.002
    undetected = rng.random(T) < 0.003
    miss |= undetected[:, None]
    h, w = cam.image_size
    out = (kp[..., 0] < 0) | (kp[..., 0] >= w) | (kp[..., 1] < 0) | (kp[..., 1] >= h)
    miss |= out
    kp[miss, :2] = np.nan
    kp[miss, 2] = 0.0
    # world landmarks, MediaPipe convention: origin mid-hip, x image-right, y down, z depth
    mid = (world[:, 23] + world[:, 24]) / 2
    wl = world - mid[:, None]
    wl = np.stack([wl[..., 0], -wl[..., 1], wl[..., 2]], -1).astype(np.float32)
    return kp, wl, ~undetected


def _capsule_set(m: Motion, s: Subject) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs and radii (m) of the limb capsules, plus the neck."""
    a = np.array([c[0] for c in _CAPSULES])
    b = np.array([c[1] for c in _CAPSULES])
    r = np.array([c[2] * s.height * (s.girth if c[3] else 1.0) for c in _CAPSULES])
    return a, b, r


def render_silhouettes(m: Motion, s: Subject, cam: Camera, path: Path, fps: float) -> np.ndarray:
    """Filled body silhouettes, normalised like ``gaitpose extract`` → uint8 [T, 64, 64].

    The body is drawn from its segments at a modest resolution (person ≈ 200 px tall):
    limbs as capsules (thick lines with round caps), the head as a disc, the neck as a
    capsule and the trunk as the union of convex hulls of consecutive cross-sections
    (so the waist and flanks keep their shape, asymmetries included).
    """
    T = m.joints.shape[0]
    t = np.arange(T) / fps
    ca, cb, cr = _capsule_set(m, s)
    neck_top = m.head - np.array([0, 0.045 * s.height, 0])
    pts = np.concatenate(
        [
            m.joints[:, ca],
            m.joints[:, cb],
            ((m.joints[:, 11] + m.joints[:, 12]) / 2)[:, None],
            neck_top[:, None],
            m.head[:, None],
            m.torso.reshape(T, -1, 3),
        ],
        axis=1,
    )
    xy, Z = project(to_world(pts, path, t), cam)
    n = len(ca)
    pa, pb = xy[:, :n], xy[:, n : 2 * n]
    za = (Z[:, :n] + Z[:, n : 2 * n]) / 2
    neck_a, neck_b, head_c = xy[:, 2 * n], xy[:, 2 * n + 1], xy[:, 2 * n + 2]
    torso = xy[:, 2 * n + 3 :].reshape(T, m.torso.shape[1], m.torso.shape[2], 2)
    zmean = Z.mean(1)
    person_px = cam.focal * s.height / zmean
    k = SIL_PERSON_PX / person_px  # image px → render px
    rad = cam.focal * cr[None] / za * k[:, None]
    neck_r = cam.focal * 0.03 * s.height * s.girth / zmean * k
    head_r = cam.focal * 0.05 * s.height / zmean * k
    head_ry = cam.focal * 0.066 * s.height / zmean * k
    margin = 12
    # all frames' render-canvas coordinates at once (integer pixels), then one loop of cv2 fills
    every = np.concatenate([pa, pb, torso.reshape(T, -1, 2), head_c[:, None]], 1)
    origin = every.min(1) - ((head_ry + margin) / k)[:, None]  # [T, 2] image px

    def q(p):  # p [T, ..., 2] image px → canvas px (int)
        shape = (T,) + (1,) * (p.ndim - 2) + (2,)
        kk = k.reshape((T,) + (1,) * (p.ndim - 1))
        return np.round((p - origin.reshape(shape)) * kk).astype(np.int32)

    A, B = q(pa).tolist(), q(pb).tolist()
    NA, NB, HC = q(neck_a).tolist(), q(neck_b).tolist(), q(head_c).tolist()
    TQ = q(torso)
    hulls = TQ.shape[1] - 1
    pairs = np.concatenate([TQ[:, :-1], TQ[:, 1:]], 2)  # [T, L-1, 2S, 2] consecutive sections
    thick = np.maximum(1, np.round(2 * rad)).astype(int).tolist()
    neck_t = np.maximum(1, (2 * neck_r).astype(int)).tolist()
    axes = np.stack([head_r, head_ry], 1).astype(int).tolist()
    sizes = (SIL_PERSON_PX * 1.6 + 2 * margin + 2 * head_ry).astype(int)
    canvas_all = np.zeros((int(sizes.max()), int(sizes.max())), np.uint8)
    out = np.empty((T, 64, 64), np.uint8)
    for i in range(T):
        canvas = canvas_all[: sizes[i], : sizes[i]]
        canvas[:] = 0
        Ai, Bi, ti = A[i], B[i], thick[i]
        for j in range(n):
            cv2.line(canvas, Ai[j], Bi[j], 255, ti[j])
        cv2.line(canvas, NA[i], NB[i], 255, neck_t[i])
        cv2.ellipse(canvas, HC[i], axes[i], cam.roll, 0, 360, 255, -1)
        for L in range(hulls):
            cv2.fillConvexPoly(canvas, cv2.convexHull(pairs[i, L]), 255)
        out[i] = normalize_silhouette(canvas)
    return out
