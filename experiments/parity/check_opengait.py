"""Parity of gaitpose's ScoNet with OpenGait's own ScoNet code.

Usage (OpenGait's code is read from a checkout; it is never part of this repository)::

    PYTHONPATH=. python experiments/parity/check_opengait.py /path/to/OpenGait \
        [--channels 8,16,32,64] [--batch 2] [--frames 5] [--save-fixture FILE]

What it does: installs a stand-in for ``torchvision.models.resnet`` (torchvision does not
exist for this torch build; see ``torchvision_standin.py``), imports OpenGait's
``modeling.models.sconet.ScoNet`` from the checkout, builds it from
``configs/sconet/sconet_scoliosis1k.yaml`` with the chosen width and OpenGait's own
``init_parameters``, and runs OpenGait's ``forward`` (``.cuda()`` made a no-op). Our ScoNet
loads their state dict with ``load_opengait`` and gets the same input. Printed: max
|Δembeddings| and |Δlogits| (eval mode, train mode, packed variable-length sequences against
our padded batch with ``seq_lens``), parameter counts (also at the reference width 64, 128,
256, 512), the state-dict round trip, and our losses against OpenGait's TripletLoss and
CrossEntropyLoss. Exit status 1 if any check fails (tolerance 1e-4).

``--save-fixture`` writes a small reference (tensors only) from OpenGait's code that
``tests/models/test_opengait_parity.py`` checks without OpenGait.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import importlib
import os
import sys
import tempfile
import types
from pathlib import Path

import torch
import yaml
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import torchvision_standin  # noqa: E402

from gaitpose.models import ScoNet  # noqa: E402
from gaitpose.models.losses import ScoNetMTLoss  # noqa: E402

TOL = 1e-4


def import_opengait(root: Path):
    """Import OpenGait's ScoNet, BaseModel and losses from a checkout."""
    src = root / "opengait"
    if not (src / "modeling" / "models" / "sconet.py").is_file():
        raise SystemExit(
            f"{root}: not an OpenGait checkout (no opengait/modeling/models/sconet.py)"
        )
    torchvision_standin.install()
    sys.path.insert(0, str(src))
    # import only sconet.py, not every model in modeling/models (they need kornia etc.)
    pkg = types.ModuleType("modeling.models")
    pkg.__path__ = [str(src / "modeling" / "models")]
    sys.modules["modeling.models"] = pkg
    sconet = importlib.import_module("modeling.models.sconet")
    losses = importlib.import_module("modeling.losses")
    return sconet.ScoNet, losses


@contextlib.contextmanager
def cuda_is_noop():
    """OpenGait's forward calls ``.cuda()`` on the labels; make it a no-op on CPU."""
    saved = torch.Tensor.cuda
    torch.Tensor.cuda = lambda self, *a, **k: self
    try:
        yield
    finally:
        torch.Tensor.cuda = saved


def build_theirs(cls, root: Path, channels, embed_dim: int):
    cfg = yaml.safe_load((root / "configs/sconet/sconet_scoliosis1k.yaml").read_text())
    mcfg = cfg["model_cfg"]
    mcfg["backbone_cfg"]["channels"] = list(channels)
    mcfg["SeparateFCs"].update(in_channels=channels[-1], out_channels=embed_dim)
    mcfg["SeparateBNNecks"]["in_channels"] = embed_dim
    model = cls.__new__(cls)  # BaseModel.__init__ would build loaders and move to CUDA
    nn.Module.__init__(model)
    model.build_network(mcfg)
    model.init_parameters()
    return model, mcfg


def run_theirs(model, sils: torch.Tensor, seq_lens=None):
    """OpenGait forward. Packed input when seq_lens is given: [1, sum(T_i), H, W]."""
    n = sils.shape[0] if seq_lens is None else len(seq_lens)
    seql = None if seq_lens is None else torch.tensor([list(seq_lens)])  # [1, n] as collated
    inputs = ([sils], list(range(n)), ["negative"] * n, None, seql)
    with cuda_is_noop():
        out = model.forward(inputs)
    feat = out["training_feat"]
    return feat["triplet"]["embeddings"].detach(), feat["softmax"]["logits"].detach()


def count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def make_sils(n: int, t: int, seed: int) -> torch.Tensor:
    """Blob-like binary silhouettes as uint8 {0, 255} [n, t, 64, 44]."""
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n * t, 1, 8, 6, generator=g)
    up = nn.functional.interpolate(low, size=(64, 44), mode="bilinear", align_corners=False)
    return ((up > 0.55).to(torch.uint8) * 255).reshape(n, t, 64, 44)


def compare(name: str, ours: tuple, theirs: tuple, failures: list) -> dict:
    de = (ours[0] - theirs[0]).abs().max().item()
    dl = (ours[1] - theirs[1]).abs().max().item()
    ok = de < TOL and dl < TOL
    print(
        f"  {name:34s} max|Δembeddings| {de:.2e}   max|Δlogits| {dl:.2e}   {'ok' if ok else 'FAIL'}"
    )
    if not ok:
        failures.append(name)
    return {"embeddings": de, "logits": dl}


def check_width(cls, root, channels, embed_dim, sils_u8, lens, failures, seed=0):
    torch.manual_seed(seed)
    theirs, _ = build_theirs(cls, root, channels, embed_dim)
    ours = ScoNet(channels=channels, embed_dim=embed_dim)
    n_t, n_o = count(theirs), count(ours)
    print(f"width {tuple(channels)} embed {embed_dim}: parameters OpenGait {n_t:,}  ours {n_o:,}"
          f"  {'equal' if n_t == n_o else 'DIFFERENT'}")  # fmt: skip
    if n_t != n_o:
        failures.append(f"param count {channels}")
    ours.load_opengait(theirs.state_dict())
    sils = sils_u8.float() / 255.0

    # state-dict round trip
    back = ours.opengait_state_dict()
    ref = theirs.state_dict()
    exact = set(back) == set(ref) and all(torch.equal(back[k], ref[k]) for k in ref)
    theirs2, _ = build_theirs(cls, root, channels, embed_dim)
    theirs2.load_state_dict(back, strict=True)
    exact = exact and all(torch.equal(v, ref[k]) for k, v in theirs2.state_dict().items())
    print(f"  state-dict round trip (ours -> OpenGait names -> their model): "
          f"{'exact' if exact else 'NOT EXACT'} ({len(ref)} tensors)")  # fmt: skip
    if not exact:
        failures.append(f"round trip {channels}")

    results = {}
    theirs.eval(), ours.eval()
    with torch.no_grad():
        t_eval = run_theirs(theirs, sils)
        o = ours(sils)
    results["eval"] = compare(
        "eval, fixed length", (o["embeddings"], o["logits"]), t_eval, failures
    )

    # packed variable-length sequences (OpenGait test mode) vs our padded batch + seq_lens
    packed = torch.cat([sils[i, :k] for i, k in enumerate(lens)], 0)[None]
    padded = torch.zeros_like(sils)
    for i, k in enumerate(lens):
        padded[i, :k] = sils[i, :k]
    with torch.no_grad():
        t_pack = run_theirs(theirs, packed, lens)
        o = ours(padded, seq_lens=torch.tensor(lens))
    results["packed"] = compare(
        f"eval, packed lengths {lens}", (o["embeddings"], o["logits"]), t_pack, failures
    )

    # train mode (batch statistics), on copies since running stats change
    tt, oo = copy.deepcopy(theirs).train(), copy.deepcopy(ours).train()
    t_train = run_theirs(tt, sils)
    o = oo(sils)
    results["train"] = compare(
        "train mode (batch-stat BN)",
        (o["embeddings"].detach(), o["logits"].detach()),
        t_train,
        failures,
    )
    rm = max((a - b).abs().max().item() for a, b in zip(oo.opengait_state_dict().values(), tt.state_dict().values()) if a.is_floating_point())  # fmt: skip
    print(f"  running statistics after one train step: max|Δ| {rm:.2e}")
    if rm > TOL:
        failures.append("running stats")
    return theirs, {"eval": t_eval, "packed": t_pack, "train": t_train}


def check_losses(losses, failures, seed=0):
    """Our ScoNetMTLoss against OpenGait's TripletLoss + CrossEntropyLoss (loss_term_weight 1)."""
    g = torch.Generator().manual_seed(seed)
    emb = torch.randn(8, 16, 4, generator=g) * 0.2
    logits = torch.rand(8, 3, 4, generator=g) * 2 - 1
    pids = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 0, 0])
    with tempfile.TemporaryDirectory() as tmp:
        if not torch.distributed.is_initialized():  # their triplet wrapper asks for the world size
            torch.distributed.init_process_group(
                "gloo", init_method=f"file://{tmp}/pg", rank=0, world_size=1
            )
        trip, _ = losses.TripletLoss(margin=0.2)(embeddings=emb, labels=pids)
        ce, info = losses.CrossEntropyLoss(scale=16, eps=0.1, log_accuracy=True)(logits, labels)
        torch.distributed.destroy_process_group()
    theirs = {"triplet": trip.mean(), "ce": ce}
    _, parts = ScoNetMTLoss()({"embeddings": emb, "logits": logits}, labels, pids)
    for k in ("triplet", "ce"):
        d = abs(parts[k].item() - theirs[k].item())
        ok = d < 1e-6
        print(f"  loss {k:8s} OpenGait {theirs[k].item():.6f}  ours {parts[k].item():.6f}  |Δ| {d:.1e}  {'ok' if ok else 'FAIL'}")  # fmt: skip
        if not ok:
            failures.append(f"loss {k}")
    return {"embeddings": emb, "logits": logits, "pids": pids, "labels": labels,
            "triplet": theirs["triplet"].detach(), "ce": theirs["ce"].detach()}  # fmt: skip


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "opengait_dir", type=Path, help="OpenGait checkout (contains opengait/, configs/)"
    )
    ap.add_argument(
        "--channels", default="8,16,32,64", help="narrow width to compare (default %(default)s)"
    )
    ap.add_argument("--embed-dim", type=int, default=256)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--frames", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-reference", action="store_true", help="skip the full-width forward")
    ap.add_argument(
        "--save-fixture", type=Path, help="write a reference fixture (.pt) from their code"
    )
    ap.add_argument("--fixture-channels", default="8,16,16,32")
    ap.add_argument("--fixture-embed-dim", type=int, default=32)
    args = ap.parse_args(argv)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    cls, losses = import_opengait(args.opengait_dir.resolve())
    failures: list[str] = []
    sils = make_sils(args.batch, args.frames, args.seed)
    lens = [max(1, args.frames - 2 * i) for i in range(args.batch)][::-1]

    check_width(cls, args.opengait_dir, [int(c) for c in args.channels.split(",")], args.embed_dim,
                sils, lens, failures, args.seed)  # fmt: skip
    if not args.skip_reference:
        check_width(
            cls, args.opengait_dir, [64, 128, 256, 512], 256, sils, lens, failures, args.seed
        )
    print("losses (OpenGait TripletLoss margin 0.2, CrossEntropyLoss scale 16, eps 0.1):")
    loss_ref = check_losses(losses, failures, args.seed)

    if args.save_fixture:
        ch = [int(c) for c in args.fixture_channels.split(",")]
        fsils = make_sils(2, 5, args.seed + 1)
        flens = [3, 5]
        theirs, outs = check_width(cls, args.opengait_dir, ch, args.fixture_embed_dim, fsils, flens,
                                   failures, args.seed + 1)  # fmt: skip
        fixture = {
            "channels": ch,
            "embed_dim": args.fixture_embed_dim,
            "state_dict": {k: v.clone() for k, v in theirs.state_dict().items()},
            "sils_u8": fsils,
            "seq_lens": torch.tensor(flens),
            "eval": {"embeddings": outs["eval"][0], "logits": outs["eval"][1]},
            "packed": {"embeddings": outs["packed"][0], "logits": outs["packed"][1]},
            "train": {"embeddings": outs["train"][0], "logits": outs["train"][1]},
            "loss": loss_ref,
        }
        args.save_fixture.parent.mkdir(parents=True, exist_ok=True)
        torch.save(fixture, args.save_fixture)
        print(
            f"fixture written: {args.save_fixture} ({args.save_fixture.stat().st_size / 1024:.0f} KB)"
        )

    print("PARITY OK" if not failures else f"PARITY FAILED: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
