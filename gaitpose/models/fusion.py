"""FusionScoNet: ScoNet's silhouette strips and the skeleton stream's part tokens, one head.

Both streams' part tokens go through separate FCs (one matrix per part, so one "set" of
part FCs whose input width differs between the streams) to [N, 256, 16 + P], then one set
of separate BN-necks -> cosine logits [N, K, 16 + P]; the prediction averages the logits
over all parts. The objective is ScoNet-MT's.

Fusion modes:

* ``late`` (the recommended variant): each stream has its **own** BN-necks and its own
  ScoNet-MT loss (the output's ``streams`` entry; ``ScoNetMTLoss`` sums them), so neither
  starves; the fused prediction is a learned convex combination of the two streams'
  part-averaged logits, ``w_sil * mean(sil logits) + w_pose * mean(pose logits)`` with
  ``w = softmax(WEIGHT_SCALE * fusion_logits)`` (two parameters, starting at an even split), trained by a
  cross-entropy on the fused prediction whose gradient reaches only ``w`` (the streams'
  logits are detached there). So the weights follow how good each stream's *prediction* is,
  and a weak stream cannot dilute the vote part by part as in ``concat``. Or, with
  ``sil_weight``, a fixed share chosen on validation: the weights learned on the training walks
  favour the stream that fits them best (the skeleton's earlier MLP measure token: w_sil 0.28-0.44
  on the quick grid, where validation asked for 0.6-0.7; with the linear token it asks for 0.5).
  The skeleton
  stream's prediction is its parts' mean, or with ``SkeletonOptions.measure_weight`` a mean
  that gives its measure token that share (here and in its own output at eval). Output
  ``logits`` [N, K, 1] (the fused prediction), ``embeddings`` [N, 256, 16 + P] (both
  streams, for inspection), ``streams`` {``sils``, ``pose``: {embeddings, logits}}.
* ``concat``: the tokens are simply concatenated.
* ``gated``: a small MLP on the two streams' part-averaged tokens (each scaled to unit length,
  zero when modality dropout removed the stream) gives per-sample softmax
  weights (w_sil, w_pose); each stream's part **logits** (after the BN-neck) are scaled by
  2 * w (1 at an even split, where the output equals ``concat``'s), so the prediction
  ``logits.mean(-1)`` is a per-sample weighted vote of the two streams and the CE sees each
  stream's parts sharpened or flattened by its weight. The streams' gradients are not scaled
  by w (the gate learns from the weighted logits, the streams from the unweighted ones): with
  w in the streams' gradients, the gate down-weighted one stream early (w_sil = 0.12 on the
  synthetic cohort) and that stream then hardly trained. (An earlier version scaled the
  embeddings *before* the BN-neck: BatchNorm cancels any weight that is constant over the
  batch, so only the per-sample variation of w survived, as a multiplicative distortion of
  the features; on the synthetic cohort the gate then drifted to w_sil ≈ 0.03 on one seed
  and the model predicted one class in eval mode.)

Modality dropout (training only): with probability ``modality_dropout`` per sample, one
stream (chosen at random) has its tokens zeroed (``late``: its weight in the fused
prediction), so the heads and the gate learn to work when a modality is missing.

Clip length per stream: with ``sil_frames`` set, the silhouette stream sees only that many
frames of each clip, so the data layer can give both streams the longer clip the skeleton
stream needs (a gait cycle) while the silhouette stream, ~20x dearer per frame, keeps its
cost. Which frames (``sil_window``): ``"spaced"``, evenly spaced over the clip (training and
testing alike), or ``"window"``, a run of consecutive frames — a random one in training, the
first ones at test — which is what ScoNet's silhouette-only model sees when trained on
``sil_frames``-frame clips (consecutive frames, then temporal pooling). On the synthetic
cohort the fused model's silhouette half with spaced frames scored below the silhouette-only
model of the same seed on 3 of 5 test seeds (experiments/results/variant_pilots.md).

Augmentation (training only, ``augment``): left-right mirroring of both modalities together
and the skeleton stream's random scale / shift (``gaitpose.data.transforms``).

Missing modality at inference: ``model(sils=x, pose=None)`` (or the reverse) runs only the
present stream and returns the present stream's parts only (``embeddings`` [N, 256, 16] or
[N, 256, P], ``logits`` likewise), so the usual prediction ``logits.mean(-1)`` averages over
the present stream's parts: an absent stream contributes no constant, uninformative logits.
Which parts are which: the first 16 are the silhouette strips, the last P the skeleton tokens
(``model.sil_parts``, ``model.pose_parts``). In ``late`` mode a stream alone returns its own
part logits (its own BN-neck), equal to its ``streams`` entry in the two-stream output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from gaitpose.data.transforms import BatchAugment
from gaitpose.models.heads import SeparateBNNecks, SeparateFCs, init_like_opengait
from gaitpose.models.sconet import SilhouetteEncoder
from gaitpose.models.skeleton import SkeletonEncoder, SkeletonOptions

FUSIONS: tuple[str, ...] = ("late", "concat", "gated")

#: ``late``: the stream weights are ``softmax(WEIGHT_SCALE * fusion_logits)``. Adam moves a
#: parameter by about lr per step whatever its gradient, so unscaled logits moved only to
#: w = 0.58 / 0.42 in the 300-step pilot although the silhouette half was the better stream
#: (train-set CE fit of w: 1.00 / 0.00; on validation w_sil 0.8-1.0 beat 0.58 by 0.05-0.08
#: macro-F1, experiments/results/variant_pilots.md); scaled, they can reach the weights the
#: evidence asks for within a short run.
WEIGHT_SCALE = 10.0


SIL_WINDOWS: tuple[str, ...] = ("spaced", "window")


def valid_lengths(x: Tensor, seq_lens: Tensor | None) -> Tensor:
    """Each sequence's valid length: ``seq_lens``, or the full T of ``x`` [N, T, ...] without it."""
    n, t = x.shape[:2]
    return torch.full((n,), t, device=x.device) if seq_lens is None else torch.as_tensor(seq_lens, device=x.device)


def contiguous_frames(x: Tensor, seq_lens: Tensor | None, k: int, random: bool) -> Tensor:
    """``k`` consecutive frames of each sequence's valid part: a random start when ``random``,
    else the first ``k``; a sequence shorter than ``k`` repeats its last frame.

    Shapes:
        x: [N, T, ...], seq_lens [N] or None -> [N, k, ...] (all k frames valid).
    """
    n = x.shape[0]
    lens = valid_lengths(x, seq_lens).long().clamp(min=1)
    room = (lens - k).clamp(min=0)
    start = (torch.rand(n, device=x.device) * (room + 1)).floor().long() if random else torch.zeros_like(room)
    idx = start[:, None] + torch.arange(k, device=x.device)[None]
    idx = torch.minimum(idx, lens[:, None] - 1)
    return x[torch.arange(n, device=x.device)[:, None], idx]


def spaced_frames(x: Tensor, seq_lens: Tensor | None, k: int) -> Tensor:
    """``k`` evenly spaced frames of each sequence's valid part (frame i*L/k + L/(2k)).

    Shapes:
        x: [N, T, ...], seq_lens [N] or None -> [N, k, ...] (all k frames valid).
    """
    n, t = x.shape[:2]
    lens = valid_lengths(x, seq_lens)
    pos = (torch.arange(k, device=x.device, dtype=torch.float64)[None] + 0.5) * lens[:, None] / k
    idx = pos.floor().long().clamp(max=t - 1)
    idx = torch.minimum(idx, (lens[:, None] - 1).long())
    return x[torch.arange(n, device=x.device)[:, None], idx]


class FusionScoNet(nn.Module):
    """Silhouette + skeleton-graph ScoNet-MT.

    Args:
        num_classes: 3.
        channels: ResNet-9 widths of the silhouette stream (64, 128, 256, 512).
        parts: silhouette strips (16).
        layout: skeleton layout, ``"mediapipe33"`` or ``"coco17"``.
        skeleton: the skeleton stream's options (``SkeletonOptions`` or a mapping; the same
            keys as ``SkeletonGCN``'s ``skeleton``).
        embed_dim: part embedding width (256).
        fusion: ``"late"``, ``"concat"`` or ``"gated"``.
        modality_dropout: per-sample probability of zeroing one stream while training.
        gate_hidden: hidden width of the gate (``gated``).
        sil_frames: frames the silhouette stream sees per clip, None: all.
        sil_window: which ``sil_frames`` frames: ``"spaced"`` or ``"window"`` (consecutive).
        sil_weight: ``late`` only: a fixed silhouette share of the fused prediction (the
            skeleton's is ``1 - sil_weight``), chosen on validation, instead of the weights
            learned on the training walks (which favour the stream that fits them best).
        augment: training augmentation (mirror, scale, shift; ``BatchAugment``), or None.

    Shapes:
        sils: [N, T, 64, 44] or None; pose: [N, T', V, 3] or None; seq_lens: [N] or None
        (shared by both streams, which the data layer pairs frame by frame)
        -> ``embeddings`` [N, embed_dim, 16 + P], ``logits`` [N, num_classes, 16 + P]
        (``late``: [N, num_classes, 1]; present parts only when a modality is None).
    """

    modalities: tuple[str, ...] = ("sils", "pose")

    def __init__(
        self,
        num_classes: int = 3,
        channels: Sequence[int] = (64, 128, 256, 512),
        parts: int = 16,
        layout: str = "coco17",
        skeleton: SkeletonOptions | Mapping | None = None,
        embed_dim: int = 256,
        fusion: str = "concat",
        modality_dropout: float = 0.0,
        gate_hidden: int = 64,
        sil_frames: int | None = None,
        augment: Mapping | None = None,
        sil_window: str = "spaced",
        sil_weight: float | None = None,
    ):
        super().__init__()
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {fusion!r}")
        if not 0.0 <= modality_dropout <= 1.0:
            raise ValueError("modality_dropout must be in [0, 1]")
        if sil_frames is not None and int(sil_frames) < 1:
            raise ValueError("sil_frames must be >= 1 (or None: all frames)")
        if sil_window not in SIL_WINDOWS:
            raise ValueError(f"sil_window must be one of {SIL_WINDOWS}, got {sil_window!r}")
        if sil_weight is not None and not (fusion == "late" and 0.0 <= sil_weight <= 1.0):
            raise ValueError("sil_weight needs fusion: late and a value in [0, 1]")
        self.sil_weight = None if sil_weight is None else float(sil_weight)
        self.fusion, self.modality_dropout, self.sil_window = fusion, modality_dropout, sil_window
        self.sil_frames = None if sil_frames is None else int(sil_frames)
        self.sil = SilhouetteEncoder(channels, parts)
        self.pose = SkeletonEncoder(layout, skeleton, num_classes)
        if self.pose.measure_readout is not None and fusion != "late":
            raise ValueError("skeleton.measure_readout needs fusion: late")
        self.augment = BatchAugment(self.pose.layout.flip_index, **(augment or {}))
        self.sil_parts, self.pose_parts = parts, self.pose.num_parts
        self.sil_fcs = SeparateFCs(parts, self.sil.out_channels, embed_dim)
        self.pose_fcs = SeparateFCs(self.pose_parts, self.pose.out_channels, embed_dim)
        self.gate = None
        if fusion == "late":  # one BN-neck per stream, a learned weight per stream
            self.sil_bnnecks = SeparateBNNecks(parts, embed_dim, num_classes)
            self.pose_bnnecks = SeparateBNNecks(self.pose_parts, embed_dim, num_classes)
            if sil_weight is None:
                self.fusion_logits = nn.Parameter(torch.zeros(2))
        else:
            self.bnnecks = SeparateBNNecks(parts + self.pose_parts, embed_dim, num_classes)
        if fusion == "gated":
            self.gate = nn.Sequential(
                nn.Linear(self.sil.out_channels + self.pose.out_channels, gate_hidden),
                nn.ReLU(inplace=True),
                nn.Linear(gate_hidden, 2),
            )
        init_like_opengait(self)
        if self.gate is not None:  # start from an even split
            nn.init.zeros_(self.gate[-1].weight)
            nn.init.zeros_(self.gate[-1].bias)

    def stream_weights(self) -> Tensor:
        """``late``: the fused prediction's weights (w_sil, w_pose), summing to 1."""
        if self.sil_weight is not None:
            return torch.tensor([self.sil_weight, 1.0 - self.sil_weight], device=self.sil_bnnecks.fc_bin.device)
        return torch.softmax(WEIGHT_SCALE * self.fusion_logits.float(), 0)

    def _bnneck_slice(self, emb: Tensor, which: str) -> Tensor:
        """Logits of one stream's parts through its slice of the shared BN-neck."""
        full = self.bnnecks
        p0, p1 = (0, self.sil_parts) if which == "sils" else (self.sil_parts, full.fc_bin.shape[0])
        n, c, p = emb.shape
        bn = full.bn1d
        # bn1d is over the flattened [C, P_total] features: pick this stream's columns
        cols = (torch.arange(c, device=emb.device)[:, None] * full.fc_bin.shape[0]
                + torch.arange(p0, p1, device=emb.device)[None]).reshape(-1)  # fmt: skip
        with torch.autocast(device_type=emb.device.type, enabled=False):
            x = emb.float().reshape(n, c * p)
            if self.training and n > 1:
                x = torch.nn.functional.batch_norm(
                    x, None, None, bn.weight[cols], bn.bias[cols], True, 0.0, bn.eps
                )
            else:
                x = torch.nn.functional.batch_norm(
                    x, bn.running_mean[cols], bn.running_var[cols], bn.weight[cols], bn.bias[cols],
                    False, 0.0, bn.eps,
                )  # fmt: skip
            feat = torch.nn.functional.normalize(x.reshape(n, c, p), dim=1)
            w = torch.nn.functional.normalize(full.fc_bin[p0:p1].float(), dim=1)
            return torch.einsum("ncp,pck->nkp", feat, w)

    def forward(
        self, sils: Tensor | None = None, pose: Tensor | None = None, seq_lens: Tensor | None = None
    ) -> dict[str, Tensor]:
        if sils is None and pose is None:
            raise ValueError("FusionScoNet needs at least one of sils, pose")
        if pose is not None:
            pose = self.pose.norm.to_layout(pose)
        sils, pose = self.augment(sils, pose)  # training only: mirrors both streams together
        tok_s = self._sil_tokens(sils, seq_lens) if sils is not None else None
        tok_p = None
        if pose is not None:
            affine = self.augment.draw_affine(pose.shape[0], pose.device)
            tok_p = self.pose(pose, seq_lens, affine)
        emb_s = self.sil_fcs(tok_s) if tok_s is not None else None
        emb_p = self.pose_fcs(tok_p) if tok_p is not None else None
        keep_s, keep_p = self._modality_keep(emb_s, emb_p)
        if self.fusion == "late":
            readout = None if pose is None or self.training else self.pose.readout_logits(pose, seq_lens)
            return self._late(emb_s, emb_p, keep_s, keep_p, readout)
        return self._shared_neck(tok_s, tok_p, emb_s, emb_p, keep_s, keep_p)

    def _sil_tokens(self, sils: Tensor, seq_lens: Tensor | None) -> Tensor:
        """Silhouette strips, from ``sil_frames`` frames (``sil_window``) when that is set."""
        if self.sil_frames is None:
            return self.sil(sils, seq_lens)
        if self.sil_window == "window":
            frames = contiguous_frames(sils, seq_lens, self.sil_frames, random=self.training)
        else:
            frames = spaced_frames(sils, seq_lens, self.sil_frames)
        return self.sil(frames, None)

    def _modality_keep(self, emb_s: Tensor | None, emb_p: Tensor | None) -> tuple[Tensor, Tensor]:
        """Per-sample 0/1 factors of the two streams (modality dropout in training, else 1)."""
        ref = emb_s if emb_s is not None else emb_p
        n = ref.shape[0]
        keep_s = torch.ones(n, device=ref.device, dtype=ref.dtype)
        keep_p = torch.ones_like(keep_s)
        if self.training and self.modality_dropout > 0 and emb_s is not None and emb_p is not None:
            drop = torch.rand(n, device=ref.device) < self.modality_dropout
            which = torch.rand(n, device=ref.device) < 0.5  # True: drop the silhouettes
            keep_s = keep_s * ~(drop & which)
            keep_p = keep_p * ~(drop & ~which)
        return keep_s, keep_p

    def _late(
        self, emb_s: Tensor | None, emb_p: Tensor | None, keep_s: Tensor, keep_p: Tensor,
        readout: Tensor | None = None,
    ) -> dict:
        """``late`` fusion: each stream's own logits, the fused prediction a learned mix
        (``readout``: the skeleton's fitted measure read-out, or None)."""
        streams = {}
        if emb_s is not None:
            streams["sils"] = {"embeddings": emb_s, "logits": self.sil_bnnecks(emb_s)[1]}
        if emb_p is not None:  # the skeleton's prediction weighs its measure token (measure_weight)
            logits_p = self.pose_bnnecks(emb_p)[1]
            prediction_p = self.pose.weigh_parts(logits_p, readout)
            streams["pose"] = {"embeddings": emb_p, "logits": logits_p if self.training else prediction_p}
        if len(streams) == 1:  # a stream alone: its own part logits are the prediction
            (only,) = streams.values()
            return {**only, "streams": streams}
        w = self.stream_weights()
        ws, wp = w[0] * keep_s.float(), w[1] * keep_p.float()
        ls = streams["sils"]["logits"].float().mean(-1).detach()
        lp = prediction_p.float().mean(-1).detach()
        fused = (ws[:, None] * ls + wp[:, None] * lp) / (ws + wp)[:, None]
        return {
            "embeddings": torch.cat([emb_s, emb_p], -1),
            "logits": fused[..., None],
            "streams": streams,
        }

    def _shared_neck(self, tok_s, tok_p, emb_s, emb_p, keep_s: Tensor, keep_p: Tensor) -> dict:
        """``concat`` / ``gated``: both streams' parts through one shared BN-neck."""
        ref = emb_s if emb_s is not None else emb_p
        n = ref.shape[0]
        if emb_s is not None and emb_p is not None:
            emb = torch.cat([emb_s * keep_s[:, None, None], emb_p * keep_p[:, None, None]], -1)
            _, logits = self.bnnecks(emb)
            if self.gate is not None:  # per-sample weighted vote of the streams' part logits
                # unit-length inputs: the raw pooled tokens are large (max-pooled ReLU features)
                # and saturated the softmax at once (w_sil = 0.000 on the synthetic cohort)
                ps = nn.functional.normalize(tok_s.mean(-1).float(), dim=1) * keep_s[:, None]
                pp = nn.functional.normalize(tok_p.mean(-1).float(), dim=1) * keep_p[:, None]
                w = 2 * torch.softmax(self.gate(torch.cat([ps, pp], 1)), dim=-1)
                part_w = torch.cat(
                    [w[:, :1].expand(n, self.sil_parts), w[:, 1:].expand(n, self.pose_parts)], 1
                ).to(logits.dtype)
                # value logits * w; gradient into the streams as without the gate (w only
                # scales what the gate learns from), so a down-weighted stream keeps learning
                logits = logits + logits.detach() * (part_w[:, None, :] - 1)
            return {"embeddings": torch.cat([emb_s, emb_p], -1), "logits": logits}
        # (a stream alone at inference needs no gate: its logits are the prediction)
        which = "sils" if emb_s is not None else "pose"
        emb = emb_s * keep_s[:, None, None] if emb_s is not None else emb_p * keep_p[:, None, None]
        logits = self._bnneck_slice(emb, which)
        return {"embeddings": ref, "logits": logits}
