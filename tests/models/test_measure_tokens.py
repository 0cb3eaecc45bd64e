"""The measure token: the package's asymmetry measures as a part token of the skeleton stream."""

import math

import numpy as np
import pytest
import torch
from modeltest_utils import POSE_NARROW, walking_pose

import graphs
from gaitpose.data.transforms import mirror_pose
from gaitpose.features import geometry as geo
from gaitpose.models import SkeletonGCN
from gaitpose.models.measure_tokens import MEASURE_NAMES, ClipMeasures, MeasureToken

LAYOUT = graphs.get_layout("mediapipe33")


def _measures(pose: torch.Tensor, seq_lens=None) -> dict[str, torch.Tensor]:
    out = ClipMeasures(LAYOUT)(pose, seq_lens)
    return {name: out[:, i] for i, name in enumerate(MEASURE_NAMES)}


def _set(pose: torch.Tensor, name: str, x: float, y: float) -> None:
    pose[:, :, LAYOUT.index(name)] = torch.tensor([x, y, 1.0])


def test_constructed_tilt_shift_and_lean():
    """Left shoulder 10 degrees higher, level pelvis, mid-shoulder 20 % of the torso to the
    subject's left of the mid-hip, facing the camera (left hip at larger x)."""
    pose = walking_pose(1, 5, "mediapipe33")
    torso = 100.0
    half = 30.0
    dy = 2 * half * math.tan(math.radians(10))
    _set(pose, "left_hip", 215.0, 300.0)
    _set(pose, "right_hip", 185.0, 300.0)
    msx = 200.0 + 0.2 * torso
    msy = 300.0 - math.sqrt(torso**2 - (0.2 * torso) ** 2)
    _set(pose, "left_shoulder", msx + half, msy - dy / 2)
    _set(pose, "right_shoulder", msx - half, msy + dy / 2)
    m = _measures(pose)
    assert torch.allclose(m["shoulder_tilt_mean"], torch.tensor([10.0]), atol=1e-4)
    assert torch.allclose(m["pelvic_obliquity_mean"], torch.tensor([0.0]), atol=1e-4)
    assert torch.allclose(m["shoulder_pelvis_tilt_mean"], torch.tensor([10.0]), atol=1e-4)
    assert torch.allclose(m["trunk_shift_mean"], torch.tensor([20.0]), atol=1e-3)
    lean = math.degrees(math.asin(0.2))
    assert torch.allclose(m["trunk_lateral_lean_mean"], torch.tensor([lean]), atol=1e-3)
    assert torch.allclose(m["shoulder_tilt_std"], torch.tensor([0.0]), atol=1e-3)


def test_agrees_with_the_feature_geometry():
    """Per-frame values equal gaitpose.features.geometry's; the clip mean is their mean."""
    pose = walking_pose(2, 12, "mediapipe33", seed=3)
    pose[..., 1] += 3.0 * torch.randn(2, 12, 33)  # some tilt in every frame
    m = _measures(pose)
    for i in range(2):
        p = {n: pose[i, :, LAYOUT.index(n), :2].double().numpy() for n in LAYOUT.names}
        ok = (pose[i, :, :, 2] > 0).numpy()
        ms = geo.midpoint(p["left_shoulder"], p["right_shoulder"])
        mh = geo.midpoint(p["left_hip"], p["right_hip"])
        s = geo.facing_sign(p["left_hip"], p["right_hip"])
        torso = geo.torso_length(ms, mh)
        sh = ok[:, LAYOUT.index("left_shoulder")] & ok[:, LAYOUT.index("right_shoulder")]
        hip = ok[:, LAYOUT.index("left_hip")] & ok[:, LAYOUT.index("right_hip")]
        expected = {
            "shoulder_tilt_mean": geo.tilt(p["left_shoulder"], p["right_shoulder"])[sh].mean(),
            "pelvic_obliquity_mean": geo.tilt(p["left_hip"], p["right_hip"])[hip].mean(),
            "trunk_shift_mean": geo.lateral_offset(ms, mh, s, torso)[sh & hip].mean(),
            "trunk_lateral_lean_mean": geo.lean_angle(ms, mh, s)[sh & hip].mean(),
        }
        for name, value in expected.items():
            assert abs(float(m[name][i]) - value) < 1e-3, name


def test_the_same_walk_seen_from_behind_has_the_same_measures():
    """Turning the camera round (x -> -x, joint names unchanged) leaves anatomical measures."""
    pose = walking_pose(3, 10, "mediapipe33", seed=1)
    pose[..., 1] += 2.0 * torch.randn(3, 10, 33)
    behind = pose.clone()
    behind[..., 0] = 1000.0 - behind[..., 0]
    assert torch.allclose(ClipMeasures(LAYOUT)(pose), ClipMeasures(LAYOUT)(behind), atol=1e-3)


def test_mirroring_flips_the_signed_measures_and_keeps_their_size():
    pose = walking_pose(3, 10, "mediapipe33", seed=2)
    pose[..., 1] += 2.0 * torch.randn(3, 10, 33)
    pose[:, :, LAYOUT.index("left_wrist"), 1] += 10 * torch.sin(torch.arange(10.0))
    mirrored = mirror_pose(pose, LAYOUT.flip_index)
    a, b = ClipMeasures(LAYOUT)(pose), ClipMeasures(LAYOUT)(mirrored)
    signed = [i for i, n in enumerate(MEASURE_NAMES) if not n.endswith("_std")]
    spread = [i for i, n in enumerate(MEASURE_NAMES) if n.endswith("_std")]
    assert torch.allclose(b[:, signed], -a[:, signed], atol=1e-3)
    assert torch.allclose(b[:, spread], a[:, spread], atol=1e-3)
    assert (a[:, MEASURE_NAMES.index("arm_swing_log_ratio")] > 0.1).all()


def test_missing_joints_and_padded_frames_are_left_out():
    pose = walking_pose(1, 8, "mediapipe33", seed=4)
    pose[..., 1] += 2.0 * torch.randn(1, 8, 33)
    full = _measures(pose[:, :5])
    padded = pose.clone()
    padded[:, 5:, :, :2] = 1e4  # padding garbage beyond seq_lens
    assert torch.allclose(
        ClipMeasures(LAYOUT)(padded, torch.tensor([5])), ClipMeasures(LAYOUT)(pose[:, :5]), atol=1e-4
    )
    hidden = pose[:, :5].clone()
    hidden[:, 2, LAYOUT.index("left_shoulder"), 2] = 0.0  # one frame without the left shoulder
    kept = pose[:, [0, 1, 3, 4]]
    got, want = _measures(hidden), _measures(kept)
    for name in ("shoulder_tilt_mean", "shoulder_tilt_std", "trunk_shift_mean"):
        assert torch.allclose(got[name], want[name], atol=1e-4), name
    assert torch.allclose(got["pelvic_obliquity_mean"], full["pelvic_obliquity_mean"], atol=1e-4)
    none = pose.clone()
    none[:, :, LAYOUT.index("right_shoulder"), 2] = 0.0
    assert float(_measures(none)["shoulder_tilt_mean"]) == 0.0
    assert torch.isfinite(ClipMeasures(LAYOUT)(none)).all()


def test_the_token_learns_a_tilt_class_and_the_stream_has_ten_parts():
    """Two classes that differ only in the size of the shoulder tilt (either side): a linear
    read-out of the measure token separates them after a short training."""
    torch.manual_seed(0)
    pose = walking_pose(64, 8, "mediapipe33", seed=5)
    label = torch.arange(64) % 2
    side = torch.where(torch.rand(64) < 0.5, -1.0, 1.0)
    tilt_px = side * (2.0 + 8.0 * label)  # class 1: a large tilt, to a random side
    pose[:, :, LAYOUT.index("left_shoulder"), 1] -= tilt_px[:, None] / 2
    pose[:, :, LAYOUT.index("right_shoulder"), 1] += tilt_px[:, None] / 2
    token = MeasureToken(LAYOUT, out_channels=16)
    head = torch.nn.Linear(16, 2)
    opt = torch.optim.Adam([*token.parameters(), *head.parameters()], lr=0.01)
    for _ in range(150):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(head(token(pose)[..., 0]), label)
        loss.backward()
        opt.step()
    token.eval()
    acc = (head(token(pose)[..., 0]).argmax(1) == label).float().mean()
    assert acc > 0.95
    model = SkeletonGCN(3, "mediapipe33", {"channels": POSE_NARROW, "measures": True}).eval()
    out = model(walking_pose(2, 6, "mediapipe33"))
    assert out["logits"].shape == (2, 3, 10)
    assert np.isfinite(out["logits"].detach().numpy()).all()


def _weighted_and_plain(model_cls, **kw):
    """The same weights built with measure_weight 0.25 and without it."""
    opts = {"channels": POSE_NARROW, "measures": True}
    torch.manual_seed(0)
    weighted = model_cls(num_classes=3, layout="mediapipe33", skeleton={**opts, "measure_weight": 0.25}, **kw)
    plain = model_cls(num_classes=3, layout="mediapipe33", skeleton=opts, **kw)
    plain.load_state_dict(weighted.state_dict())
    return weighted, plain


def test_measure_weight_sets_the_measure_tokens_share_of_the_prediction():
    weighted, plain = _weighted_and_plain(SkeletonGCN)
    pose = walking_pose(4, 6, "mediapipe33", seed=2)
    raw = plain.eval()(pose)["logits"]
    got = weighted.eval()(pose)["logits"].mean(-1)
    want = 0.25 * raw[..., -1] + 0.75 * raw[..., :-1].mean(-1)
    assert torch.allclose(got, want, atol=1e-6) and not torch.allclose(got, raw.mean(-1), atol=1e-3)
    # training: the per-part logits (what the loss sees) are the plain ones
    torch.manual_seed(1)
    a = weighted.train()(pose)["logits"]
    torch.manual_seed(1)
    assert torch.equal(a, plain.train()(pose)["logits"])


def test_measure_weight_in_late_fusion_and_its_options():
    from gaitpose.models import FusionScoNet

    weighted, plain = _weighted_and_plain(FusionScoNet, channels=(4, 8, 8, 8), fusion="late")
    pose = walking_pose(3, 6, "mediapipe33", seed=3)
    sils = torch.rand(3, 6, 64, 44)
    out, raw = weighted.eval()(sils=sils, pose=pose), plain.eval()(sils=sils, pose=pose)
    lp = raw["streams"]["pose"]["logits"]
    pose_pred = 0.25 * lp[..., -1] + 0.75 * lp[..., :-1].mean(-1)
    assert torch.allclose(out["streams"]["pose"]["logits"].mean(-1), pose_pred, atol=1e-6)
    w = weighted.stream_weights()
    fused = w[0] * raw["streams"]["sils"]["logits"].mean(-1) + w[1] * pose_pred
    assert torch.allclose(out["logits"][..., 0], fused, atol=1e-5)
    with pytest.raises(ValueError, match="measure_weight"):
        SkeletonGCN(3, "mediapipe33", {"channels": POSE_NARROW, "measure_weight": 0.5})


def test_measure_readout_agrees_with_sklearn_logistic_regression():
    """The read-out's L-BFGS fit is sklearn's L2 multinomial logistic regression on
    standardised inputs (same objective): the same coefficients and class probabilities."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from gaitpose.models.measure_tokens import MeasureReadout

    rng = np.random.default_rng(0)
    k = 2 * len(MEASURE_NAMES)
    y = rng.integers(0, 3, 300)
    x = rng.normal(size=(300, k)) * rng.uniform(0.5, 20, k) + rng.normal(size=k)
    x[:, :3] += y[:, None] * np.array([1.0, -2.0, 0.5])  # three informative columns
    readout = MeasureReadout(3, c=0.1)
    assert readout(torch.tensor(x)) is None  # not fitted: no prediction of its own
    readout.fit(torch.tensor(x), torch.tensor(y))
    scaler = StandardScaler().fit(x)
    ref = LogisticRegression(C=0.1, max_iter=5000, tol=1e-10).fit(scaler.transform(x), y)
    np.testing.assert_allclose(readout.weight.numpy(), ref.coef_, atol=2e-4)
    logits = readout(torch.tensor(x, dtype=torch.float32)) * readout.logit_scale
    np.testing.assert_allclose(
        torch.softmax(logits, 1).numpy(), ref.predict_proba(scaler.transform(x)), atol=1e-4
    )


def test_a_fitted_readout_predicts_the_measure_part_and_survives_a_checkpoint():
    """SkeletonGCN / late FusionScoNet: unfitted, the prediction is the token's; fitted, the
    measure part's logits are the read-out's (here measure_weight 1: the prediction is the
    read-out; sil_weight 0: the fused prediction is the skeleton's); the fit is in the state."""
    from gaitpose.models import FusionScoNet

    opts = {"channels": POSE_NARROW, "measures": True, "measure_weight": 1.0, "measure_readout": 1.0}
    pose = walking_pose(6, 8, "mediapipe33", seed=4)
    pose[:, :, LAYOUT.index("left_shoulder"), 1] -= torch.linspace(0, 10, 6)[:, None]
    labels = torch.arange(6) % 3
    late = {"channels": (4, 8, 8, 8), "fusion": "late", "sil_weight": 0.0}
    for cls, kw, inputs in ((SkeletonGCN, {}, {"pose": pose}),
                            (FusionScoNet, late, {"pose": pose, "sils": torch.rand(6, 8, 64, 44)})):
        torch.manual_seed(0)
        model = cls(num_classes=3, layout="mediapipe33", skeleton=opts, **kw).eval()
        encoder = model.encoder if cls is SkeletonGCN else model.pose
        before = model(**inputs)["logits"].mean(-1)
        assert encoder.readout_logits(pose) is None
        assert encoder.fit_measure_readout(zip(pose, labels)) == 6
        after = model(**inputs)["logits"].mean(-1)
        readout = encoder.readout_logits(pose)
        assert torch.allclose(after, readout, atol=1e-6) and not torch.allclose(before, after)
        twin = cls(num_classes=3, layout="mediapipe33", skeleton=opts, **kw).eval()
        twin.load_state_dict(model.state_dict())
        assert torch.allclose(twin(**inputs)["logits"].mean(-1), after, atol=1e-6)
    with pytest.raises(ValueError, match="measure_readout needs measures"):
        SkeletonGCN(3, "mediapipe33", {"measure_readout": 1.0})
    with pytest.raises(ValueError, match="needs fusion: late"):
        FusionScoNet(3, (4, 8, 8, 8), layout="mediapipe33", skeleton=opts, fusion="concat")


def test_the_measure_share_mixes_the_graph_parts_and_the_measure_part_linearly():
    """The share analyses (share_cv.py, variant_pilots.py shares) predict each checkpoint at
    shares 0 and 1 and mix: the part-averaged prediction must be linear in the share, with
    share 0 the graph parts' mean and share 1 the measure part (or the read-out) alone."""
    from gaitpose.models.skeleton import weigh_measure_part

    torch.manual_seed(0)
    logits, readout = torch.randn(4, 3, 9), torch.randn(4, 3)
    for r in (None, readout):
        at = {w: weigh_measure_part(logits, w, r).mean(-1) for w in (0.0, 0.6, 1.0)}
        last = logits[..., -1] if r is None else readout
        assert torch.allclose(at[0.0], logits[..., :-1].mean(-1), atol=1e-6)
        assert torch.allclose(at[1.0], last, atol=1e-6)
        assert torch.allclose(at[0.6], 0.4 * at[0.0] + 0.6 * at[1.0], atol=1e-6)
    assert torch.equal(weigh_measure_part(logits, None), logits)
