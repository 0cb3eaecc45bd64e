"""experiments/scoliosis1k_sconet_mt.yaml is OpenGait's ScoNet recipe, nothing added.

OPENGAIT holds the values of OpenGait's ``configs/sconet/sconet_scoliosis1k.yaml`` (ShiqiYu/OpenGait
at commit 476c9f3ec60a113818433e469be3d0abf2e8ba15), written down key by key; the model built from
our config loads the parity fixture's OpenGait state dict (tests/models/data/opengait_sconet_ref.pt,
made by OpenGait's own ScoNet code) at the fixture's width.
"""

from __future__ import annotations

from pathlib import Path

import torch

from gaitpose.engine import builders
from gaitpose.engine.config import load_config

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "experiments" / "scoliosis1k_sconet_mt.yaml"
FIXTURE = ROOT / "tests" / "models" / "data" / "opengait_sconet_ref.pt"

OPENGAIT = {  # configs/sconet/sconet_scoliosis1k.yaml, as recorded above
    "optimizer": {"solver": "SGD", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.0005},
    "scheduler": {"scheduler": "MultiStepLR", "milestones": [10000, 14000, 18000], "gamma": 0.1},
    "total_iter": 20000,
    "enable_float16": True,
    "sampler": {"type": "TripletSampler", "batch_size": [8, 8], "frames_num_fixed": 30,
                "sample_type": "fixed_unordered"},
    "test_sampler": {"sample_type": "all_ordered", "frames_all_limit": 720},
    "triplet": {"loss_term_weight": 1.0, "margin": 0.2},
    "ce": {"loss_term_weight": 1.0, "scale": 16},  # OpenGait's CrossEntropyLoss: label_smooth eps 0.1
    "backbone_channels": [64, 128, 256, 512],
    "parts": 16,
    "embed_dim": 256,
    "class_num": 3,
}


def test_recipe_matches_opengait_key_by_key():
    cfg = load_config(CONFIG)
    assert {k: cfg["optimizer_cfg"][k] for k in OPENGAIT["optimizer"]} == OPENGAIT["optimizer"]
    assert {k: cfg["scheduler_cfg"][k] for k in OPENGAIT["scheduler"]} == OPENGAIT["scheduler"]
    assert cfg["scheduler_cfg"]["warmup_iter"] == 0
    tr = cfg["trainer_cfg"]
    assert tr["total_iter"] == OPENGAIT["total_iter"] and tr["enable_float16"] is OPENGAIT["enable_float16"]
    assert {k: tr["sampler"][k] for k in OPENGAIT["sampler"]} == OPENGAIT["sampler"]
    ev = cfg["evaluator_cfg"]["sampler"]
    assert {k: ev[k] for k in OPENGAIT["test_sampler"]} == OPENGAIT["test_sampler"]
    assert ev["clip_frames"] is None  # one pass over the whole sequence
    lc = cfg["loss_cfg"]
    assert lc["triplet_weight"] == OPENGAIT["triplet"]["loss_term_weight"] and lc["margin"] == 0.2
    assert lc["ce_weight"] == OPENGAIT["ce"]["loss_term_weight"] and lc["scale"] == OPENGAIT["ce"]["scale"]
    assert lc["label_smoothing"] == 0.1
    # nothing added: no precise BN, OpenGait's identities, OpenGait's partition untouched
    assert tr["precise_bn_batches"] == 0 and tr["clip_grad_norm"] is None
    assert lc["identity"] == "tree_id"
    assert cfg["data_cfg"]["val_carve"] is None and cfg["experiment"] is None
    m = cfg["model_cfg"]
    assert m["model"] == "ScoNet" and list(m["channels"]) == OPENGAIT["backbone_channels"]
    assert m["parts"] == OPENGAIT["parts"] and m["num_classes"] == OPENGAIT["class_num"]
    model = builders.build_model(cfg)
    assert model.fcs.fc_bin.shape[-1] == OPENGAIT["embed_dim"]
    assert builders.model_kwargs(cfg).get("embed_dim", 256) == OPENGAIT["embed_dim"]


def test_model_of_the_recipe_loads_opengait_weights():
    """At the fixture's width, the recipe's model takes OpenGait's own state dict."""
    ref = torch.load(FIXTURE, map_location="cpu", weights_only=True)
    cfg = load_config(CONFIG, [f"model.channels={list(ref['channels'])}", f"model.embed_dim={ref['embed_dim']}"])
    model = builders.build_model(cfg)
    model.load_opengait(ref["state_dict"])
    with torch.no_grad():
        out = model.eval()(ref["sils_u8"].float() / 255.0)
    assert (out["logits"] - ref["eval"]["logits"]).abs().max() < 1e-4
