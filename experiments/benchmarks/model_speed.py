"""Training-step speed of ScoNet, SkeletonGCN and FusionScoNet, and dense vs message passing.

Times one optimisation step (forward, ScoNet-MT loss, backward, SGD step) on a synthetic
P x K batch of clips (reference: 8 x 8 clips of 30 frames, silhouettes 64 x 44, COCO-17
poses), and prints the median time per step of each model, the ratio fused / silhouette-only
(the target: the skeleton stream adds at most 15 % on a GPU) and the skeleton-only ratio.
It also times the skeleton stream with the dense graph convolution (DenseGCNConv on a
[V, V] adjacency) against message passing (GCNConv on the batched graph of all N*T frames)
and the ST-GCN spatial-partition operator.

Examples::

    # CPU, shrunken (the reference batch takes minutes per step on 2 cores)
    PYTHONPATH=. python experiments/benchmarks/model_speed.py --p 2 --k 2 --frames 10 \
        --channels 16,32,64,128

    # CPU with AMX / AVX512-BF16: bf16 autocast against float32 (the quick grid's widths)
    PYTHONPATH=. python experiments/benchmarks/model_speed.py --p 8 --k 2 --frames 8 \
        --channels 8,16,32,64 --pose-channels 16,32,64 --layout mediapipe33 --streams \
        --threads 1 --steps 8 --warmup 2 --amp bf16 --amp-baseline --skip-graph-bench

    # GPU, the reference configuration with bf16 autocast
    PYTHONPATH=. python experiments/benchmarks/model_speed.py --device cuda --amp bf16 \
        --steps 20 --warmup 5 --json model_speed_gpu.json

    # the variant as the configs train it: four input streams, the measure token, late fusion,
    # 60-frame skeleton clips with 30 silhouette frames
    PYTHONPATH=. python experiments/benchmarks/model_speed.py --fusion late --streams --measures \
        --skeleton-frames 60 --threads 1 --p 2 --k 2
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import torch

from gaitpose.models import FusionScoNet, ScoNet, SkeletonGCN
from gaitpose.models.losses import ScoNetMTLoss


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(","))


def make_batch(p: int, k: int, frames: int, joints: int, device, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    n = p * k
    low = torch.rand(n * frames, 1, 8, 6, generator=g)
    sils = torch.nn.functional.interpolate(low, size=(64, 44), mode="bilinear") > 0.55
    pose = torch.rand(n, frames, joints, 3, generator=g)
    pose[..., :2] *= 400
    ids = torch.arange(p).repeat_interleave(k)
    return {
        "sils": sils.float().reshape(n, frames, 64, 44).to(device),
        "pose": pose.to(device),
        "labels": (ids % 3).to(device),
        "ids": ids.to(device),
        "seq_lens": torch.full((n,), frames, dtype=torch.long, device=device),
    }


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(
    model, batch, device, steps: int, warmup: int, amp: str | None
) -> tuple[list[float], list[float]]:
    """Wall and process-CPU seconds per training step (forward + loss + backward + SGD step).

    The CPU time (all threads of this process) is the steadier figure on a shared CPU."""
    model.to(device).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = ScoNetMTLoss()
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(amp or "", None)
    scaler = torch.amp.GradScaler(device.type, enabled=amp == "fp16")
    inputs = {m: batch[m] for m in model.modalities}
    times, cpu = [], []
    for i in range(warmup + steps):
        _sync(device)
        t0, c0 = time.perf_counter(), time.process_time()
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            out = model(**inputs, seq_lens=batch["seq_lens"])
            loss, _ = loss_fn(out, batch["labels"], batch["ids"])
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        _sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    return times, cpu


def time_against_float32(build, batch, device, args, amp_median: float) -> float:
    """The autocast step time over the same model's float32 step time (same initial weights)."""
    torch.manual_seed(0)
    times, _ = time_steps(build(), batch, device, args.steps, args.warmup, None)
    ratio = amp_median / statistics.median(times)
    print(f"  {'':13s} float32 {statistics.median(times) * 1000:9.1f} ms/step wall: "
          f"{args.amp} / float32 = {ratio:.3f}")
    return ratio


def _plot(results: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [(k, results[k]) for k in ("ScoNet", "SkeletonGCN", "FusionScoNet") if k in results]
    rows += [
        (f"GCN {k}", v) for k, v in results.get("graph_conv", {}).items() if isinstance(v, dict)
    ]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    names = [r[0] for r in rows]
    y = range(len(rows))
    ax.barh([i - 0.2 for i in y], [r[1]["median_s"] * 1000 for r in rows], 0.4, label="wall")
    ax.barh(
        [i + 0.2 for i in y], [r[1]["median_cpu_s"] * 1000 for r in rows], 0.4, label="process CPU"
    )
    ax.set_yticks(list(y), names)
    ax.invert_yaxis()
    ax.set_xlabel("ms per training step (median)")
    cfg = results["config"]
    ax.set_title(
        f"{results['device']}: P x K = {cfg['p']} x {cfg['k']}, {cfg['frames']} frames", fontsize=9
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--p", type=int, default=8, help="identities per batch (P)")
    ap.add_argument("--k", type=int, default=8, help="clips per identity (K)")
    ap.add_argument("--frames", type=int, default=30, help="clip length (the silhouettes' in the fused model)")
    ap.add_argument("--skeleton-frames", type=int,
                    help="the skeleton stream's clip length (default --frames); the fused model then "
                         "takes clips this long and its silhouette stream --frames consecutive frames "
                         "of them (sil_frames, sil_window: window), as the variant's configs do")
    ap.add_argument("--measures", action="store_true",
                    help="the skeleton stream's asymmetry-measure token (the variant's)")
    ap.add_argument("--channels", type=_ints, default=(64, 128, 256, 512), help="ResNet-9 widths")
    ap.add_argument("--pose-channels", type=_ints, default=(32, 64, 128))
    ap.add_argument("--blocks-per-stage", type=int, default=2)
    ap.add_argument("--layout", default="coco17", choices=["coco17", "mediapipe33"])
    ap.add_argument("--fusion", default="concat", choices=["late", "concat", "gated"])
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    ap.add_argument("--streams", action="store_true",
                    help="skeleton input: joint, bone, joint-motion and bone-motion channels")
    ap.add_argument("--amp", choices=["bf16", "fp16"],
                    help="autocast dtype (GPU; bf16 also on a CPU with AMX / AVX512-BF16)")
    ap.add_argument("--amp-baseline", action="store_true",
                    help="also time every model in float32 and print the autocast / float32 ratio")
    ap.add_argument("--threads", type=int, help="torch CPU threads")
    ap.add_argument("--models", default="ScoNet,SkeletonGCN,FusionScoNet",
                    help="comma list of models to time (ratios need ScoNet and the other)")  # fmt: skip
    ap.add_argument("--skip-graph-bench", action="store_true")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    ap.add_argument("--png", help="also draw the step times as a bar chart (PNG)")
    args = ap.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    dev = args.device
    if dev == "auto":
        dev = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(dev)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    joints = 17 if args.layout == "coco17" else 33
    batch = make_batch(args.p, args.k, args.frames, joints, device)
    skel_frames = args.skeleton_frames or args.frames
    long = batch if skel_frames == args.frames else make_batch(args.p, args.k, skel_frames, joints, device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    print(f"device {device} ({name or 'cpu'}), threads {torch.get_num_threads()}, amp {args.amp}")
    print(f"batch P x K = {args.p} x {args.k} clips of {args.frames} frames "
          f"(skeleton stream: {skel_frames}); "
          f"ResNet-9 {args.channels}; skeleton {args.pose_channels} x {args.blocks_per_stage} "
          f"blocks, {args.layout}")  # fmt: skip

    skel = dict(channels=args.pose_channels, blocks_per_stage=args.blocks_per_stage)
    if args.streams:  # joint, bone, joint-motion and bone-motion channels (the variant's)
        skel.update(velocity=True, bones=True, bone_motion=True)
    if args.measures:
        skel.update(measures=True)
    sil_clip = {} if skel_frames == args.frames else {"sil_frames": args.frames, "sil_window": "window"}
    builders = {
        "ScoNet": lambda: ScoNet(channels=args.channels),
        "SkeletonGCN": lambda: SkeletonGCN(layout=args.layout, skeleton=skel),
        "FusionScoNet": lambda: FusionScoNet(
            channels=args.channels, layout=args.layout, skeleton=skel, fusion=args.fusion, **sil_clip
        ),
    }
    batches = {"ScoNet": batch, "SkeletonGCN": long, "FusionScoNet": long}
    results: dict = {"config": {k: v for k, v in vars(args).items()}, "device": str(device)}
    med, cmed = {}, {}
    wanted = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = sorted(set(wanted) - set(builders))
    if unknown:
        ap.error(f"unknown models {unknown}; choose from {', '.join(builders)}")
    for label in wanted:
        build = builders[label]
        torch.manual_seed(0)
        model = build()
        n_params = sum(p.numel() for p in model.parameters())
        times, cpu = time_steps(model, batches[label], device, args.steps, args.warmup, args.amp)
        med[label], cmed[label] = statistics.median(times), statistics.median(cpu)
        results[label] = {"median_s": med[label], "median_cpu_s": cmed[label], "times_s": times,
                          "cpu_s": cpu, "params": n_params}  # fmt: skip
        print(f"  {label:13s} {n_params / 1e6:6.2f} M params   {med[label] * 1000:9.1f} ms/step wall"
              f"   {cmed[label] * 1000:9.1f} ms/step process CPU (median of {len(times)})")  # fmt: skip
        if args.amp and args.amp_baseline:
            results[label]["over_float32"] = time_against_float32(build, batches[label], device, args, med[label])
        del model
    if "ScoNet" in med and "FusionScoNet" in med:
        ratio = med["FusionScoNet"] / med["ScoNet"]
        cratio = cmed["FusionScoNet"] / cmed["ScoNet"]
        results["fused_over_silhouette"] = ratio
        results["fused_over_silhouette_cpu_time"] = cratio
        print(f"fused / silhouette-only step time: {ratio:.3f} wall, {cratio:.3f} CPU time "
              f"(skeleton stream adds {(ratio - 1) * 100:+.1f} % wall; target on GPU <= +15 %)")  # fmt: skip
    if "ScoNet" in med and "SkeletonGCN" in med:
        results["skeleton_over_silhouette"] = med["SkeletonGCN"] / med["ScoNet"]
        print(f"skeleton-only / silhouette-only: {results['skeleton_over_silhouette']:.3f} wall, "
              f"{cmed['SkeletonGCN'] / cmed['ScoNet']:.3f} CPU time")  # fmt: skip

    if not args.skip_graph_bench:
        print("skeleton stream, spatial operator (forward + backward per step):")
        gmed = {}
        for op in ("dense", "sparse", "partition"):
            torch.manual_seed(0)
            model = SkeletonGCN(layout=args.layout, skeleton={**skel, "graph_conv": op})
            times, cpu = time_steps(model, long, device, args.steps, args.warmup, args.amp)
            gmed[op], gcpu = statistics.median(times), statistics.median(cpu)
            results.setdefault("graph_conv", {})[op] = {"median_s": gmed[op], "median_cpu_s": gcpu}
            what = {"dense": "DenseGCNConv", "sparse": "GCNConv (batched graph)",
                    "partition": "ST-GCN spatial partition"}[op]  # fmt: skip
            print(f"  {op:9s} {what:24s} "
                  f"{gmed[op] * 1000:9.1f} ms/step wall   {gcpu * 1000:9.1f} ms/step CPU")  # fmt: skip
        results["graph_conv"]["sparse_over_dense"] = gmed["sparse"] / gmed["dense"]
        print(f"  message passing / dense: {gmed['sparse'] / gmed['dense']:.2f}x (wall)")
    if args.png:
        _plot(results, args.png)
        print(f"wrote {args.png}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2, default=str)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
