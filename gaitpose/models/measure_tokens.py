"""The package's own asymmetry measures as an extra input token of the skeleton stream.

A linear model on gaitpose's hand-made asymmetry features beat the graph network on the same
keypoints (issue 11): the network has to discover a tilt from joint coordinates through
graph convolutions, max-pooling and BN, and on a few hundred training walks it does so only
in part. :class:`ClipMeasures` computes the clip-level frontal-plane measures directly, with
the formulas of :mod:`gaitpose.features.geometry` (tilts of the shoulder and hip lines,
trunk shift and lateral lean, head offset, in the subject's frame through the facing sign),
and :class:`MeasureToken` turns them into one more part token beside the graph's.

The measures are computed after the training augmentation: a mirrored walk has mirrored
measures (tilts and offsets change sign, sizes stay), so the token follows the label-keeping
mirror the rest of the stream sees.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

import graphs
from gaitpose.models.heads import visible_keypoints
from gaitpose.models.step_timing import step_time_log_ratio

#: Per-frame measures (each summarised by its mean and standard deviation over the clip).
FRAME_MEASURES: tuple[str, ...] = (
    "shoulder_tilt", "pelvic_obliquity", "shoulder_pelvis_tilt",
    "trunk_shift", "trunk_lateral_lean", "head_pelvis_offset",
)  # fmt: skip
#: Clip-level left/right ratios (log, positive = the left is larger): vertical amplitudes of the
#: wrist and ankle, and step times (0 where the layout has no heels and toes).
RATIO_MEASURES: tuple[str, ...] = ("arm_swing_log_ratio", "leg_lift_log_ratio", "step_time_log_ratio")

MEASURE_NAMES: tuple[str, ...] = tuple(
    f"{m}_{stat}" for m in FRAME_MEASURES for stat in ("mean", "std")
) + RATIO_MEASURES

_JOINTS = (
    "left_shoulder", "right_shoulder", "left_hip", "right_hip", "left_ear", "right_ear",
    "left_wrist", "right_wrist", "left_ankle", "right_ankle",
)  # fmt: skip
_FEET = ("left_heel", "right_heel", "left_foot_index", "right_foot_index")


def _tilt(left: Tensor, right: Tensor) -> Tensor:
    """Degrees, positive = the subject's left higher (image y down). [..., 2] -> [...]."""
    dy = right[..., 1] - left[..., 1]
    dx = (left[..., 0] - right[..., 0]).abs()
    return torch.rad2deg(torch.atan2(dy, dx))


def _masked_mean_std(x: Tensor, ok: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and standard deviation over time of x where ok (0 where no frame is ok).

    Shapes: x, ok [N, T] -> ([N], [N]).
    """
    w = ok.to(x.dtype)
    n = w.sum(1).clamp(min=1)
    x = torch.where(ok, x, torch.zeros_like(x))
    mean = x.sum(1) / n
    var = ((x - mean[:, None]) ** 2 * w).sum(1) / n
    return mean, var.clamp(min=0).sqrt()


class ClipMeasures(nn.Module):
    """Clip-level asymmetry measures from 2-D keypoints (no parameters).

    Per frame (frames where the joints involved are visible; ``s`` = facing sign
    ``sign(x_left_hip - x_right_hip)``, torso length ``T`` = |mid-shoulder - mid-hip|):
    shoulder tilt, pelvic obliquity and their difference (deg); trunk shift
    ``s (x_ms - x_mh) / T * 100``; trunk lateral lean ``s atan2(x_ms - x_mh, y_mh - y_ms)``
    (deg); head–pelvis offset (mid-ear vs mid-hip, % torso) — each as mean and standard
    deviation over the clip. Then three left/right ratios, as ``log(left / right)``: the
    amplitudes (standard deviation over time) of the wrist's and the ankle's height above
    the mid-hip in torso lengths (arm swing, leg movement: in a front or back view the swing
    along the walk shows as height), and the step times
    (:func:`gaitpose.models.step_timing.step_time_log_ratio`, heel strikes at the feet's
    pitch peaks).

    Shapes:
        pose: [N, T, V, >=3] (x, y pixels, score; missing joints score 0), seq_lens [N] or
        None -> [N, len(MEASURE_NAMES)].
    """

    names = MEASURE_NAMES

    def __init__(self, layout: graphs.Layout):
        super().__init__()
        feet = _FEET if all(map(layout.has, _FEET)) else ()
        self.joints = {name: layout.index(name) for name in _JOINTS + feet}

    def forward(self, pose: Tensor, seq_lens: Tensor | None = None) -> Tensor:
        xy, _, valid = visible_keypoints(pose, seq_lens)
        p = {k: xy[:, :, j] for k, j in self.joints.items()}
        ok = {k: valid[:, :, j] for k, j in self.joints.items()}
        torso = self.torso_length(p, ok)
        frames = self.frame_measures(p, ok, torso)
        stats = []
        for name in FRAME_MEASURES:
            value, good = frames[name]
            stats.extend(_masked_mean_std(value, good))
        stats.append(self.amplitude_log_ratio(p, ok, torso, "wrist"))
        stats.append(self.amplitude_log_ratio(p, ok, torso, "ankle"))
        stats.append(self.step_time_log_ratio(p, ok, torso))
        return torch.stack(stats, -1)

    @staticmethod
    def torso_length(p: dict[str, Tensor], ok: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """Per-frame |mid-shoulder - mid-hip| (1 where undefined) and the frames where it is
        defined. [N, T] each."""
        ms = 0.5 * (p["left_shoulder"] + p["right_shoulder"])
        mh = 0.5 * (p["left_hip"] + p["right_hip"])
        torso = (ms - mh).norm(dim=-1)
        good = ok["left_shoulder"] & ok["right_shoulder"] & ok["left_hip"] & ok["right_hip"] & (torso > 0)
        return torch.where(good, torso, torch.ones_like(torso)), good

    @staticmethod
    def frame_measures(
        p: dict[str, Tensor], ok: dict[str, Tensor], torso: tuple[Tensor, Tensor]
    ) -> dict[str, tuple[Tensor, Tensor]]:
        """Per-frame measures and the frames where each is defined: name -> ([N, T], [N, T])."""
        ls, rs, lh, rh = p["left_shoulder"], p["right_shoulder"], p["left_hip"], p["right_hip"]
        ms, mh, ear = 0.5 * (ls + rs), 0.5 * (lh + rh), 0.5 * (p["left_ear"] + p["right_ear"])
        sh_ok = ok["left_shoulder"] & ok["right_shoulder"]
        hip_ok = ok["left_hip"] & ok["right_hip"]
        ear_ok = ok["left_ear"] & ok["right_ear"]
        s = torch.sign(lh[..., 0] - rh[..., 0])
        safe_torso, torso_ok = torso
        trunk_ok = torso_ok & (s != 0)
        dx, dy = ms[..., 0] - mh[..., 0], mh[..., 1] - ms[..., 1]
        head_ok = trunk_ok & ear_ok
        return {
            "shoulder_tilt": (_tilt(ls, rs), sh_ok),
            "pelvic_obliquity": (_tilt(lh, rh), hip_ok),
            "shoulder_pelvis_tilt": (_tilt(ls, rs) - _tilt(lh, rh), sh_ok & hip_ok),
            "trunk_shift": (s * dx / safe_torso * 100.0, trunk_ok),
            "trunk_lateral_lean": (s * torch.rad2deg(torch.atan2(dx, dy)), trunk_ok),
            "head_pelvis_offset": (s * (ear[..., 0] - mh[..., 0]) / safe_torso * 100.0, head_ok),
        }

    @staticmethod
    def amplitude_log_ratio(
        p: dict[str, Tensor], ok: dict[str, Tensor], torso: tuple[Tensor, Tensor], joint: str
    ) -> Tensor:
        """``log(amplitude_left / amplitude_right)`` of a joint's height above the mid-hip in
        torso lengths (amplitude: its standard deviation over the frames where the joint and the
        trunk are seen; 0 when either side has fewer than 3 such frames). [N]."""
        length, trunk_ok = torso
        mid_hip_y = 0.5 * (p["left_hip"][..., 1] + p["right_hip"][..., 1])
        amps, enough = [], []
        for side in ("left", "right"):
            good = ok[f"{side}_{joint}"] & trunk_ok
            height = (mid_hip_y - p[f"{side}_{joint}"][..., 1]) / length
            amps.append(_masked_mean_std(height, good)[1])
            enough.append(good.sum(1) >= 3)
        usable = enough[0] & enough[1] & (amps[0] > 0) & (amps[1] > 0)
        eps = torch.finfo(amps[0].dtype).tiny
        ratio = torch.log(amps[0].clamp(min=eps)) - torch.log(amps[1].clamp(min=eps))
        return torch.where(usable, ratio, torch.zeros_like(ratio))

    @classmethod
    def step_time_log_ratio(cls, p: dict[str, Tensor], ok: dict[str, Tensor], torso: tuple[Tensor, Tensor]) -> Tensor:
        """``log(left / right step time)``; 0 without heels and toes in the layout. [N]."""
        if "left_heel" not in p:
            return torch.zeros(torso[0].shape[0], dtype=torso[0].dtype, device=torso[0].device)
        pitch = cls.foot_pitch(p, ok, torso)
        return step_time_log_ratio(*pitch["left"], *pitch["right"])

    @staticmethod
    def foot_pitch(p: dict[str, Tensor], ok: dict[str, Tensor], torso: tuple[Tensor, Tensor]) -> dict:
        """Per side, ``(y_heel - y_toe) / torso`` and the frames where heel and toe are seen:
        side -> ([N, T], [N, T]). The torso is the frame's (a walk towards or away from the
        camera changes the scale), or the clip's median where a trunk joint is missing."""
        length, trunk_ok = torso
        median = torch.where(trunk_ok, length, torch.full_like(length, torch.nan)).nanmedian(1, keepdim=True).values
        median = torch.where(torch.isfinite(median), median, torch.ones_like(median))
        length = torch.where(trunk_ok, length, median.expand_as(length))
        return {
            side: (
                (p[f"{side}_heel"][..., 1] - p[f"{side}_foot_index"][..., 1]) / length,
                ok[f"{side}_heel"] & ok[f"{side}_foot_index"],
            )
            for side in ("left", "right")
        }


class MeasureToken(nn.Module):
    """One part token from the clip measures: BatchNorm of ``[m, |m|]``, then one linear map.

    ``|m|`` beside ``m`` lets the map see the size of an asymmetry whichever side it is on
    (the convex side of a curve is random in the cohort, so the class lies in the size).

    Linear on purpose: the token then feeds the stream's part FC and BN-neck, so the measure
    part's prediction is a (cosine-normalised) linear model of the measures — the model that
    reads them best on a few hundred walks. A hidden layer (BN -> 64 -> ReLU -> C -> ReLU, the
    first version) overfits them: the measure path alone, trained as in the quick grid (800
    iterations of 16 walks, mirroring, CE with smoothing 0.1), reaches validation macro-F1
    0.471 (train 0.74) against 0.545 (train 0.58) linear; a logistic regression on the same
    inputs 0.574 (front cohort; experiments/results/variant_pilots.md).

    Shapes:
        pose: [N, T, V, >=3], seq_lens [N] or None -> [N, out_channels, 1].
    """

    def __init__(self, layout: graphs.Layout, out_channels: int):
        super().__init__()
        self.measures = ClipMeasures(layout)
        k = len(MEASURE_NAMES)
        self.linear = nn.Sequential(nn.BatchNorm1d(2 * k), nn.Linear(2 * k, out_channels))

    def forward(self, pose: Tensor, seq_lens: Tensor | None = None) -> Tensor:
        with torch.autocast(device_type=pose.device.type, enabled=False):
            token = self.linear(measure_inputs(self.measures(pose, seq_lens)))
        return token[..., None]


def measure_inputs(m: Tensor) -> Tensor:
    """``[m, |m|]`` in float32, non-finite measures as 0. [N, k] -> [N, 2k]."""
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m)).float()
    return torch.cat([m, m.abs()], -1)


class MeasureReadout(nn.Module):
    """A logistic regression on the clip measures ``[m, |m|]``, fitted after training.

    The measure token learns its linear map by SGD together with the graph, through a cosine
    BN-neck, and reads the measures less well than their convex fit: on the quick grid's front
    cohort the token alone reaches validation macro-F1 0.540, a logistic regression on the
    same inputs 0.574 (experiments/results/variant_pilots.md). :meth:`fit` solves the
    L2-regularised multinomial logistic regression (sklearn's objective: ``0.5 |W|^2 + C *
    sum of log-losses``, on standardised inputs) by L-BFGS; the model then predicts the measure
    part with it. Its logits are divided by ``logit_scale`` (the loss's scale, 16), so that,
    like the cosine parts', they are log-odds once the evaluator multiplies them back.

    Until fitted (``fitted`` is 0: during training, or a checkpoint without the step) the
    read-out returns None and the measure token's own logits stand.

    Shapes:
        inputs [N, 2k] (``measure_inputs``) -> logits [N, num_classes] or None.
    """

    def __init__(self, num_classes: int, c: float, logit_scale: float = 16.0):
        super().__init__()
        if not c > 0:
            raise ValueError(f"the read-out's C must be > 0, got {c}")
        k = 2 * len(MEASURE_NAMES)
        self.c, self.logit_scale = float(c), float(logit_scale)
        self.register_buffer("mean", torch.zeros(k))
        self.register_buffer("std", torch.ones(k))
        self.register_buffer("weight", torch.zeros(num_classes, k))
        self.register_buffer("bias", torch.zeros(num_classes))
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))

    @torch.no_grad()
    def fit(self, inputs: Tensor, labels: Tensor, max_iter: int = 500) -> None:
        """Fit on training walks: inputs [N, 2k], labels [N] (class indices)."""
        x = inputs.double().cpu()
        y = labels.long().cpu()
        mean, std = x.mean(0), x.std(0, unbiased=False)
        std = torch.where(std > 0, std, torch.ones_like(std))
        z = (x - mean) / std
        k = self.weight.shape[0]
        w = torch.zeros(k, z.shape[1], dtype=torch.float64, requires_grad=True)
        b = torch.zeros(k, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([w, b], max_iter=max_iter, tolerance_grad=1e-9, line_search_fn="strong_wolfe")

        def objective():  # LBFGS runs it with gradients enabled
            opt.zero_grad()
            loss = 0.5 * (w**2).sum() + self.c * nn.functional.cross_entropy(z @ w.T + b, y, reduction="sum")
            loss.backward()
            return loss

        opt.step(objective)
        device = self.weight.device
        self.mean.copy_(mean.float().to(device))
        self.std.copy_(std.float().to(device))
        self.weight.copy_(w.detach().float().to(device))
        self.bias.copy_(b.detach().float().to(device))
        self.fitted.fill_(True)

    def forward(self, inputs: Tensor) -> Tensor | None:
        if not bool(self.fitted):
            return None
        z = (inputs.float() - self.mean) / self.std
        return (z @ self.weight.T + self.bias) / self.logit_scale
