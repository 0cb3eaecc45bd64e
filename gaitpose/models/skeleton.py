"""Skeleton stream: a spatio-temporal graph-convolution network on torch-geometric.

ST-GCN-style blocks (Yan et al., AAAI 2018): a spatial graph convolution over the layout's
bones (Kipf & Welling's GCN operator, ``D^-1/2 (A + I) D^-1/2 X W``, with a learnable
importance per bone), BN + ReLU, a temporal convolution (kernel 9), BN, a residual shortcut,
ReLU. Then a temporal max over the valid frames and pooling over body-part groups into part
tokens, plus left-minus-right difference tokens (arm, leg) — the skeleton analogue of
ScoNet's 16 strips — and the same separate-FC / BN-neck heads as ScoNet.

Two interchangeable spatial operators with identical parameters and outputs:
``graph_conv="dense"`` (``torch_geometric.nn.dense.DenseGCNConv`` on a [V, V] adjacency
built from ``edge_index``; the fast path for a fixed skeleton) and ``"sparse"``
(``torch_geometric.nn.GCNConv`` message passing on the batched graph of all N*T frames);
and an option ``"partition"``: ST-GCN's spatial configuration partition (three adjacency
subsets from ``graphs.spatial_partition``, one weight matrix each).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from einops import rearrange
from torch import Tensor, nn
from torch_geometric.nn import GCNConv
from torch_geometric.nn.dense import DenseGCNConv

import graphs
from gaitpose.data.transforms import BatchAugment, scale_shift
from gaitpose.models.heads import (
    SeparateBNNecks,
    SeparateFCs,
    init_like_opengait,
    temporal_max,
    time_mask,
    visible_keypoints,
)
from gaitpose.models.measure_tokens import MeasureReadout, MeasureToken, measure_inputs

#: Spatial operators of the ST-GCN blocks.
GRAPH_CONVS: tuple[str, ...] = ("dense", "sparse", "partition")

#: Part tokens of the skeleton stream, in order; then the difference tokens.
PART_GROUPS: tuple[str, ...] = (
    "head", "trunk", "pelvis", "left_arm", "right_arm", "left_leg", "right_leg",
)  # fmt: skip
DIFF_TOKENS: tuple[tuple[str, str], ...] = (("left_arm", "right_arm"), ("left_leg", "right_leg"))


@dataclass(frozen=True)
class SkeletonOptions:
    """The skeleton stream's options, written once for every model that has the stream.

    Configs give them as one mapping, ``model_cfg.skeleton`` (SkeletonGCN and FusionScoNet
    alike); ``SkeletonOptions.of`` checks the keys.

    Attributes:
        channels: stage widths (each ``blocks_per_stage`` ST-GCN blocks; temporal stride 2 at
            the first block of every stage but the first).
        blocks_per_stage: blocks per width.
        in_channels: 3 (x, y, score) or 2 (x, y).
        velocity: joint-motion channels (dx, dy between frames).
        bones: bone channels (joint minus its parent towards the centre joint).
        bone_motion: bone-motion channels (the bone vectors' change between frames).
        graph_conv: ``"dense"``, ``"sparse"`` or ``"partition"`` spatial operator (``STGCNBlock``).
        kernel: temporal kernel (9).
        dropout: dropout before each temporal convolution.
        measures: add the clip's asymmetry measures as one more part token
            (``gaitpose.models.measure_tokens.MeasureToken``).
        measure_weight: with ``measures``, the measure token's share of the stream's
            prediction (the part-averaged logits; the other parts share the rest equally);
            None: an equal share with every part (1/P). Applied to the prediction only (eval
            mode, and the late-fusion mix), not to the per-part training loss.
        measure_readout: with ``measures``, the C (inverse L2 strength) of a logistic
            regression on the measures fitted on the training walks after training
            (``MeasureReadout``, by the trainer's final step); it then predicts the measure
            part in place of the token's own logits. None: no read-out.
    """

    channels: tuple[int, ...] = (32, 64, 128)
    blocks_per_stage: int = 2
    in_channels: int = 3
    velocity: bool = False
    bones: bool = False
    bone_motion: bool = False
    graph_conv: str = "dense"
    kernel: int = 9
    dropout: float = 0.0
    measures: bool = False
    measure_weight: float | None = None
    measure_readout: float | None = None

    def __post_init__(self):
        if self.measure_weight is not None and not (self.measures and 0.0 <= self.measure_weight <= 1.0):
            raise ValueError("measure_weight needs measures: true and a value in [0, 1]")
        if self.measure_readout is not None and not (self.measures and self.measure_readout > 0):
            raise ValueError("measure_readout needs measures: true and a C > 0")

    @classmethod
    def of(cls, spec: SkeletonOptions | Mapping | None) -> SkeletonOptions:
        """Options from a mapping (a config's ``skeleton:``), with unknown keys named."""
        if spec is None:
            return cls()
        if isinstance(spec, SkeletonOptions):
            return spec
        names = [f.name for f in dataclasses.fields(cls)]
        for key in spec:
            if key not in names:
                close = difflib.get_close_matches(str(key), names, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError(f"unknown skeleton option {key!r}{hint}; options: {', '.join(names)}")
        kw = dict(spec)
        if "channels" in kw:
            kw["channels"] = tuple(int(c) for c in kw["channels"])
        return cls(**kw)


def weigh_measure_part(logits: Tensor, share: float | None, readout: Tensor | None = None) -> Tensor:
    """Part logits whose mean gives the last part (the measure part) ``share`` of the
    prediction and the other parts the rest equally (unchanged for ``share`` None), after
    ``readout`` (logits [N, K], or None) replaced the last part's logits.

    Shapes:
        logits: [N, K, P] -> [N, K, P].
    """
    if readout is not None:
        logits = torch.cat([logits[..., :-1], readout.to(logits.dtype)[..., None]], -1)
    if share is None:
        return logits
    p = logits.shape[-1]
    scale = torch.full((p,), (1.0 - share) * p / (p - 1), device=logits.device, dtype=logits.dtype)
    scale[-1] = share * p
    return logits * scale


def _parents(layout: graphs.Layout) -> list[int]:
    """Parent of every joint in a BFS tree of the bones from the centre joint (root: itself)."""
    v = layout.num_joints
    nbrs: list[list[int]] = [[] for _ in range(v)]
    for i, j in layout.edges:
        nbrs[i].append(j)
        nbrs[j].append(i)
    parent = list(range(v))
    seen = {layout.center}
    frontier = [layout.center]
    while frontier:
        nxt = []
        for i in frontier:
            for j in nbrs[i]:
                if j not in seen:
                    seen.add(j)
                    parent[j] = i
                    nxt.append(j)
        frontier = nxt
    return parent  # joints in other components (MediaPipe's face) are their own root


class PoseNormalizer(nn.Module):
    """Input transform: centre on the mid-hip, scale by the torso length, derive channels.

    Per frame, the centre is the mid-hip (both hips valid), else the mean of the valid
    joints. The scale is the per-sequence median, over valid frames, of the torso length
    (mid-shoulder to mid-hip; frames with both shoulders and hips valid); sequences without
    such a frame use the median bounding-box diagonal instead. Translation and scale of the
    person therefore leave the output unchanged. Missing joints (score <= 0 or non-finite)
    and padded frames (``t >= seq_lens``) are zero in every channel.

    Channels out: x, y, score (``in_channels`` = 3, or 2 to drop the score), then optionally
    velocity (dx, dy between consecutive frames, zero where either frame misses the joint)
    and bone vectors (joint minus its BFS parent towards the centre joint).

    A COCO-17 normaliser also accepts MediaPipe-33 input and converts it
    (``graphs.mediapipe_to_coco``), so a model trained on Scoliosis1K-Pose runs on
    MediaPipe extractions.

    Shapes:
        pose: [N, T, V, C>=3] (x, y in pixels, score) -> [N, C_out, T, V].
    """

    def __init__(
        self,
        layout: graphs.Layout,
        in_channels: int = 3,
        velocity: bool = False,
        bones: bool = False,
        bone_motion: bool = False,
    ):
        super().__init__()
        if in_channels not in (2, 3):
            raise ValueError("in_channels must be 2 (x, y) or 3 (x, y, score)")
        self.layout, self.in_channels = layout, in_channels
        self.velocity, self.bones, self.bone_motion = velocity, bones, bone_motion
        idx = layout.index
        self.hips = (idx("left_hip"), idx("right_hip"))
        self.shoulders = (idx("left_shoulder"), idx("right_shoulder"))
        self.register_buffer("parent", torch.tensor(_parents(layout)), persistent=False)
        self.out_channels = in_channels + 2 * (int(velocity) + int(bones) + int(bone_motion))

    def to_layout(self, pose: Tensor) -> Tensor:
        """MediaPipe-33 input on a COCO-17 model is converted; anything else is returned as is."""
        if self.layout.name == "coco17" and pose.dim() == 4 and pose.shape[2] == 33:
            pose = graphs.mediapipe_to_coco(pose)  # MediaPipe extractions on a COCO-17 model
        return pose

    def forward(
        self,
        pose: Tensor,
        seq_lens: Tensor | None = None,
        affine: tuple[Tensor, Tensor] | None = None,
    ) -> Tensor:
        """``affine``: optional per-sample (scale [N], shift [N, 2]) applied to the normalised
        positions before the other channels are derived (training augmentation)."""
        pose = self.to_layout(pose)
        if pose.dim() != 4 or pose.shape[-1] < 3 or pose.shape[2] != self.layout.num_joints:
            raise ValueError(
                f"pose must be [N, T, {self.layout.num_joints}, 3] for layout {self.layout.name}, "
                f"got {tuple(pose.shape)}"
            )
        xy, score, valid = visible_keypoints(pose, seq_lens)
        vf = valid.float()

        # centre: mid-hip, else mean of valid joints
        lh, rh = self.hips
        ls, rs = self.shoulders
        hips_ok = valid[..., lh] & valid[..., rh]
        mid_hip = 0.5 * (xy[..., lh, :] + xy[..., rh, :])
        mean_valid = xy.sum(2) / vf.sum(2, keepdim=True).clamp(min=1)
        centre = torch.where(hips_ok[..., None], mid_hip, mean_valid)  # [n, t, 2]

        # scale: per-sequence median torso length, else median bbox diagonal
        torso_ok = hips_ok & valid[..., ls] & valid[..., rs]
        mid_sh = 0.5 * (xy[..., ls, :] + xy[..., rs, :])
        torso = (mid_sh - mid_hip).norm(dim=-1)
        torso_ok = torso_ok & (torso > 0)
        big = torch.finfo(xy.dtype).max
        lo = torch.where(valid[..., None], xy, torch.full_like(xy, big)).amin(2)
        hi = torch.where(valid[..., None], xy, torch.full_like(xy, -big)).amax(2)
        diag = (hi - lo).norm(dim=-1)
        diag_ok = valid.sum(2) >= 2
        nan = torch.full_like(torso, float("nan"))
        s_torso = torch.nanmedian(torch.where(torso_ok, torso, nan), dim=1).values
        s_diag = torch.nanmedian(torch.where(diag_ok & (diag > 0), diag, nan), dim=1).values
        scale = torch.where(torch.isfinite(s_torso), s_torso, s_diag)
        scale = torch.where(torch.isfinite(scale) & (scale > 0), scale, torch.ones_like(scale))

        pos = (xy - centre[:, :, None]) / scale[:, None, None, None]
        pos = pos * vf[..., None]
        if affine is not None:
            pos = scale_shift(pos, vf, *affine)
        chans = [pos]
        if self.in_channels == 3:
            chans.append((score.clamp(0, 1) * vf)[..., None])
        if self.velocity:
            chans.append(_motion(pos, vf))
        if self.bones or self.bone_motion:
            bvalid = vf * vf[:, :, self.parent]
            bone = (pos - pos[:, :, self.parent]) * bvalid[..., None]
            if self.bones:
                chans.append(bone)
            if self.bone_motion:
                chans.append(_motion(bone, bvalid))
        return rearrange(torch.cat(chans, -1), "n t v c -> n c t v")


def _motion(x: Tensor, valid: Tensor) -> Tensor:
    """Frame-to-frame change of x, zero where either frame lacks the value (first frame 0).

    Shapes:
        x: [N, T, V, C], valid: [N, T, V] float -> [N, T, V, C].
    """
    both = valid[:, 1:] * valid[:, :-1]
    diff = (x[:, 1:] - x[:, :-1]) * both[..., None]
    return torch.cat([torch.zeros_like(x[:, :1]), diff], dim=1)


class STGCNBlock(nn.Module):
    """Spatial GCN (torch-geometric) -> BN -> ReLU -> temporal conv (k) -> BN, + residual, ReLU.

    Args:
        in_channels, out_channels: widths.
        edge_index: long [2, 2E] bones of the layout (both directions).
        num_joints: V.
        stride: temporal stride of the temporal convolution.
        kernel: temporal kernel size (odd).
        graph_conv: ``"dense"`` (DenseGCNConv on a [V, V] adjacency) or ``"sparse"``
            (GCNConv message passing on the batched graph) — same parameters, same output —
            or ``"partition"``: ST-GCN's spatial configuration partition (root, centripetal,
            centrifugal subsets from ``graphs.spatial_partition``, one weight matrix per subset,
            a learnable importance per adjacency entry of each subset, ``sum_k (A_k * M_k) X W_k``).
        residual: add the shortcut.
        partition: float [3, V, V] subsets (needed for ``graph_conv="partition"``).

    Shapes:
        x: [N, C_in, T, V], mask [N, T] bool or None -> [N, C_out, ceil(T / stride), V].
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        edge_index: Tensor,
        num_joints: int,
        stride: int = 1,
        kernel: int = 9,
        graph_conv: str = "dense",
        residual: bool = True,
        dropout: float = 0.0,
        partition: Tensor | None = None,
    ):
        super().__init__()
        if graph_conv not in GRAPH_CONVS:
            raise ValueError(f"graph_conv must be one of {GRAPH_CONVS}, got {graph_conv!r}")
        self.graph_conv, self.stride, self.num_joints = graph_conv, stride, num_joints
        self.register_buffer("edge_index", edge_index.clone(), persistent=False)
        if graph_conv == "partition":
            if partition is None:
                raise ValueError("graph_conv='partition' needs the [3, V, V] partition")
            self.register_buffer("partition", partition.clone().float(), persistent=False)
            self.edge_importance = nn.Parameter(torch.ones_like(self.partition))
            self.gcn = nn.Conv2d(in_channels, out_channels * partition.shape[0], 1)
        else:
            # one importance per bone, shared by both directions (keeps the operator symmetric)
            self.edge_importance = nn.Parameter(torch.ones(edge_index.shape[1] // 2))
        if graph_conv == "dense":
            self.gcn = DenseGCNConv(in_channels, out_channels)
        elif graph_conv == "sparse":
            self.gcn = GCNConv(in_channels, out_channels, add_self_loops=True, normalize=True)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.tcn = nn.Conv2d(
            out_channels, out_channels, (kernel, 1), (stride, 1), ((kernel - 1) // 2, 0)
        )
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        if not residual:
            self.residual = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, (stride, 1)), nn.BatchNorm2d(out_channels)
            )

    def edge_weight(self) -> Tensor:
        """Weights of the 2E directed bone edges (importance, both directions)."""
        return torch.cat([self.edge_importance, self.edge_importance])

    def spatial(self, x: Tensor) -> Tensor:
        """Graph convolution of every frame. Shapes: [N, C_in, T, V] -> [N, C_out, T, V]."""
        n, _, t, v = x.shape
        if self.graph_conv == "partition":
            k = self.partition.shape[0]
            h = rearrange(self.gcn(x), "n (k c) t v -> n k c t v", k=k)
            a = (self.partition * self.edge_importance).to(h.dtype)  # [k, v(from), w(to)]
            return torch.einsum("nkctv,kvw->nctw", h, a).contiguous()
        h = rearrange(x, "n c t v -> (n t) v c")
        w = self.edge_weight().float()  # degrees and normalisation in float32 (autocast-safe)
        if self.graph_conv == "dense":
            row, col = self.edge_index
            adj = torch.zeros(v, v, dtype=w.dtype, device=h.device).index_put((col, row), w)
            h = self.gcn(h, adj)
        else:
            b = h.shape[0]
            offs = torch.arange(b, device=h.device).repeat_interleave(self.edge_index.shape[1]) * v
            ei = self.edge_index.repeat(1, b) + offs
            h = self.gcn(h.reshape(b * v, -1), ei, w.repeat(b)).reshape(b, v, -1)
        return rearrange(h, "(n t) v c -> n c t v", n=n, t=t).contiguous()

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        res = 0 if self.residual is None else self.residual(x)
        h = self.relu(self.bn1(self.spatial(x)))
        if mask is not None:  # padded frames must stay zero for the temporal conv
            h = h * mask[:, None, :, None].to(h.dtype)
        h = self.bn2(self.tcn(self.drop(h)))
        return self.relu(h + res)


def _strided_mask(mask: Tensor | None, stride: int) -> Tensor | None:
    if mask is None or stride == 1:
        return mask
    return mask[:, ::stride]


class SkeletonEncoder(nn.Module):
    """Skeleton stream up to the part tokens (no heads).

    Args:
        layout: ``"mediapipe33"`` or ``"coco17"``.
        options: ``SkeletonOptions`` or a mapping of them (None: the defaults).

    Shapes:
        pose: [N, T, V, 3], seq_lens [N] -> part tokens [N, channels[-1], P] with
        P = 7 groups + 2 left-minus-right tokens = 9 (+ 1 measure token with ``measures``).
    """

    def __init__(
        self, layout: str = "coco17", options: SkeletonOptions | Mapping | None = None, num_classes: int = 3
    ):
        super().__init__()
        opt = self.options = SkeletonOptions.of(options)
        self.layout = graphs.get_layout(layout)
        self.norm = PoseNormalizer(
            self.layout, opt.in_channels, opt.velocity, opt.bones, opt.bone_motion
        )
        channels, blocks_per_stage, graph_conv = opt.channels, opt.blocks_per_stage, opt.graph_conv
        kernel, dropout = opt.kernel, opt.dropout
        ei = self.layout.edge_index
        v = self.layout.num_joints
        part = graphs.spatial_partition(self.layout) if graph_conv == "partition" else None
        blocks, width = [], self.norm.out_channels
        for s, c in enumerate(channels):
            for b in range(blocks_per_stage):
                stride = 2 if (s > 0 and b == 0) else 1
                residual = not (s == 0 and b == 0)  # ST-GCN: no shortcut on the input block
                blocks.append(
                    STGCNBlock(width, c, ei, v, stride, kernel, graph_conv, residual, dropout, part)
                )
                width = c
        self.blocks = nn.ModuleList(blocks)
        self.out_channels = width
        groups = [self.layout.parts[g] for g in PART_GROUPS]
        member = torch.zeros(len(groups), v, dtype=torch.bool)
        for p, joints in enumerate(groups):
            member[p, list(joints)] = True
        self.register_buffer("part_members", member, persistent=False)
        self.diff_pairs = [(PART_GROUPS.index(a), PART_GROUPS.index(b)) for a, b in DIFF_TOKENS]
        self.measure_token = MeasureToken(self.layout, width) if opt.measures else None
        self.measure_readout = None
        if opt.measure_readout is not None:
            self.measure_readout = MeasureReadout(num_classes, opt.measure_readout)
        self.num_parts = len(groups) + len(self.diff_pairs) + int(opt.measures)

    def forward(
        self,
        pose: Tensor,
        seq_lens: Tensor | None = None,
        affine: tuple[Tensor, Tensor] | None = None,
    ) -> Tensor:
        n, t = pose.shape[:2]
        pose = self.norm.to_layout(pose)
        x = self.norm(pose, seq_lens, affine)
        mask = time_mask(seq_lens, t, n, pose.device)
        lens = None if seq_lens is None else torch.as_tensor(seq_lens, device=pose.device)
        for blk in self.blocks:
            x = blk(x, mask)
            mask = _strided_mask(mask, blk.stride)
            if lens is not None and blk.stride > 1:
                lens = torch.div(lens + blk.stride - 1, blk.stride, rounding_mode="floor")
            if mask is not None:
                x = x * mask[:, None, :, None].to(x.dtype)
        x = temporal_max(x, lens, dim=2)  # [n, c, v]
        tokens = self.part_tokens(x)
        if self.measure_token is None:
            return tokens
        return torch.cat([tokens, self.measure_token(pose, seq_lens).to(tokens.dtype)], -1)

    def readout_logits(self, pose: Tensor, seq_lens: Tensor | None = None) -> Tensor | None:
        """The fitted measure read-out's logits for poses in the layout, or None (no read-out,
        or not fitted yet). [N, T, V, 3] -> [N, K]."""
        if self.measure_readout is None or not bool(self.measure_readout.fitted):
            return None
        return self.measure_readout(measure_inputs(self.measure_token.measures(pose, seq_lens)))

    @torch.no_grad()
    def fit_measure_readout(self, clips) -> int:
        """Fit the measure read-out on training clips: an iterable of (pose [T, V, 3] in any
        layout the stream reads, label). Returns the number of clips (0: nothing fitted)."""
        if self.measure_readout is None:
            return 0
        device = self.measure_readout.weight.device
        inputs, labels = [], []
        for pose, label in clips:
            pose = self.norm.to_layout(torch.as_tensor(pose, dtype=torch.float32, device=device)[None])
            inputs.append(measure_inputs(self.measure_token.measures(pose))[0])
            labels.append(int(label))
        if inputs:
            self.measure_readout.fit(torch.stack(inputs), torch.tensor(labels))
        return len(inputs)

    def weigh_parts(self, logits: Tensor, readout: Tensor | None = None) -> Tensor:
        """Part logits rescaled so that their mean is the stream's prediction with the measure
        token's share ``measure_weight`` (the other parts share the rest equally); unchanged
        without a measure weight. ``readout`` (the fitted read-out's logits [N, K], or None)
        replaces the measure part's logits first.

        Shapes:
            logits: [N, K, P] -> [N, K, P].
        """
        share = self.options.measure_weight if self.measure_token is not None else None
        return weigh_measure_part(logits, share, readout)

    def part_tokens(self, x: Tensor) -> Tensor:
        """Mean + max over each body-part group, then left-minus-right tokens.

        Shapes:
            x: [N, C, V] -> [N, C, P].
        """
        m = self.part_members.to(x.dtype)  # [g, v]
        mean = torch.einsum("ncv,gv->ncg", x, m / m.sum(1, keepdim=True))
        low = torch.finfo(x.dtype).min
        mx = x[:, :, None, :].masked_fill(~self.part_members[None, None], low).amax(-1)
        tok = mean + mx
        diffs = [tok[:, :, a] - tok[:, :, b] for a, b in self.diff_pairs]
        return torch.cat([tok, torch.stack(diffs, -1)], dim=-1)


class SkeletonGCN(nn.Module):
    """Skeleton-only ScoNet-MT: the graph stream with ScoNet's separate FCs and BN-necks.

    Args:
        num_classes: 3.
        layout: ``"mediapipe33"`` or ``"coco17"``.
        skeleton: the stream's options (``SkeletonOptions`` or a mapping: channels,
            blocks_per_stage, in_channels, velocity, bones, bone_motion, graph_conv, kernel,
            dropout); default widths (32, 64, 128) are light enough for 2 CPU cores.
        embed_dim: part embedding width (256).
        augment: training augmentation (``gaitpose.data.transforms.BatchAugment``: mirror,
            scale, shift), or None.

    Shapes:
        pose: [N, T, V, 3] (x, y pixels, score; missing joints score 0), seq_lens [N] or None
        -> ``embeddings`` [N, embed_dim, P], ``logits`` [N, num_classes, P] (P = 9, or 10
        with the ``measures`` token).
    """

    modalities: tuple[str, ...] = ("pose",)

    def __init__(
        self,
        num_classes: int = 3,
        layout: str = "coco17",
        skeleton: SkeletonOptions | Mapping | None = None,
        embed_dim: int = 256,
        augment: Mapping | None = None,
    ):
        super().__init__()
        self.encoder = SkeletonEncoder(layout, skeleton, num_classes)
        self.augment = BatchAugment(self.encoder.layout.flip_index, **(augment or {}))
        self.num_parts = self.encoder.num_parts
        self.fcs = SeparateFCs(self.num_parts, self.encoder.out_channels, embed_dim)
        self.bnnecks = SeparateBNNecks(self.num_parts, embed_dim, num_classes)
        init_like_opengait(self)

    def forward(self, pose: Tensor, seq_lens: Tensor | None = None) -> dict[str, Tensor]:
        _, pose = self.augment(None, self.encoder.norm.to_layout(pose))
        affine = self.augment.draw_affine(pose.shape[0], pose.device)
        embeddings = self.fcs(self.encoder(pose, seq_lens, affine))
        _, logits = self.bnnecks(embeddings)
        if not self.training:  # the prediction: the measure part's share (measure_weight)
            logits = self.encoder.weigh_parts(logits, self.encoder.readout_logits(pose, seq_lens))
        return {"embeddings": embeddings, "logits": logits}
