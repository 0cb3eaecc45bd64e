"""``gaitpose screen``: the quality gate, the model's answer, the report and the command."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import torch

from gaitpose.io import load_sequence, save_sequence
from gaitpose.io.sequence import Sequence

DEMO = Path(__file__).resolve().parents[2] / "experiments" / "demo.yaml"
DOMAIN = {"view": "front", "fps": 30.0, "frames": 150, "min_frames": 16, "max_frames_read": 150}


@pytest.fixture(scope="module")
def walks(tmp_path_factory) -> list[Path]:
    """Three synthetic frontal walks (5 s at 30 fps) as Sequence files."""
    from gaitpose.synth import make_cohort

    root = tmp_path_factory.mktemp("walks")
    make_cohort(root / "c", sequences=3, frames=150, seed=11, write_npz=True, progress=False)
    return sorted((root / "c" / "npz").glob("*.npz"))


def _checkpoint(path: Path, calibration: dict | None) -> Path:
    """A demo-config model with its initial weights, saved as a gaitpose checkpoint."""
    from gaitpose.engine import builders
    from gaitpose.engine.checkpoint import save_checkpoint
    from gaitpose.engine.config import base_config, load_config

    cfg = base_config(load_config(DEMO, [f"data_cfg.dataset_root={path.parent / 'none'}"]))
    torch.manual_seed(0)
    model = builders.build_model(cfg, "mediapipe33")
    model.eval()
    state = {"model": model.state_dict(), "config": cfg, "labels": ["negative", "neutral", "positive"],
             "iteration": 0}
    if calibration is not None:
        state["calibration"] = calibration
    return save_checkpoint(path, state)


def _calibration(threshold: float = 0.5) -> dict:
    return {"temperature": 2.0, "score": "positive", "threshold": threshold, "target_specificity": 0.9,
            "date": "2026-12-03T00:00:00+00:00", "domain": DOMAIN,
            "training_data": {"dataset_root": "cohort", "synthetic": True, "view": "front", "fps": 30.0,
                              "frames": 150}}


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory) -> Path:
    return _checkpoint(tmp_path_factory.mktemp("ckpt") / "model.pt", _calibration())


def _short(seq: Sequence, frames: int) -> Sequence:
    return Sequence(keypoints=seq.keypoints[:frames], fps=seq.fps, image_size=seq.image_size, layout=seq.layout,
                    detected=seq.detected[:frames], frame_index=seq.frame_index[:frames],
                    world=None if seq.world is None else seq.world[:frames],
                    silhouettes=None if seq.silhouettes is None else seq.silhouettes[:frames], meta=seq.meta)


def test_gate_passes_a_synthetic_frontal_walk(walks):
    from gaitpose.screen.gate import quality_gate

    g = quality_gate(load_sequence(walks[0]), DOMAIN, needs_silhouettes=True)
    assert g.passed, g.reasons
    assert g.qc["qc_facing"] == "front"


def test_gate_gives_every_reason(walks):
    from gaitpose.screen.gate import quality_gate

    seq = _short(load_sequence(walks[0]), 30)  # 1 s: too few strides, too short
    seq.meta = {**seq.meta, "tracking": {"people": 2, "switches": 1}}
    g = quality_gate(seq, {**DOMAIN, "view": "side", "fps": 60.0}, needs_silhouettes=True)
    text = " | ".join(g.reasons)
    assert not g.passed
    for needle in ("strides", "side-view", "frame rate", "lasts", "track switches"):
        assert needle in text, (needle, text)


def test_a_walk_failing_qc_never_carries_probabilities(walks, calibrated, tmp_path):
    from gaitpose.screen.predict import Screener
    from gaitpose.screen.run import screen_walk, summary_row
    from gaitpose.screen.walks import WalkInput

    screener = Screener(calibrated)
    bad = _short(load_sequence(walks[0]), 40)
    res = screen_walk(WalkInput(walks[0], "w", "npz"), bad, screener)
    assert res["verdict"] == "insufficient video" and res["reasons"]
    assert res["probabilities"] is None and res["score"] is None and res["contributions"] == []
    row = summary_row(res)
    assert row["p_positive"] == row["score"] == ""


def test_prediction_probabilities_and_contributions(walks, calibrated):
    from gaitpose.screen.predict import Screener

    screener = Screener(calibrated)
    pred = screener.predict(load_sequence(walks[0]))
    p = np.array(list(pred.probabilities.values()))
    assert p.sum() == pytest.approx(1.0)
    assert pred.score == pytest.approx(pred.probabilities["positive"])
    assert pred.verdict == ("refer" if pred.score >= 0.5 else "no referral")
    # the parts' terms add up to the calibrated logit margin z_pos - mean(z_neg, z_neu);
    # softmax logits are log-probabilities up to a constant, which the margin cancels
    logp = np.log(p)
    margin = logp[2] - (logp[0] + logp[1]) / 2
    terms = [c["contribution"] for c in pred.contributions]
    assert len(terms) == 16 + 9
    assert sum(terms) == pytest.approx(margin, rel=1e-4, abs=1e-6)
    assert pred.contributions[0]["part"].startswith("silhouette strip 1/16")


class _Refs(HTMLParser):
    """Every URL-carrying attribute and every <link>/<script> of a page."""

    def __init__(self):
        super().__init__()
        self.urls, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        if tag in ("link", "script", "iframe", "object", "embed"):
            self.tags.append(tag)
        for k, v in attrs:
            if k in ("src", "href", "srcset", "poster", "data", "action"):
                self.urls.append(v or "")


def test_report_references_nothing_outside_itself(walks, calibrated, tmp_path):
    from gaitpose.cli import main

    assert main(["screen", str(walks[0]), "-o", str(tmp_path / "out"), "--checkpoint", str(calibrated), "-q"]) == 0
    page = next((tmp_path / "out").glob("*/report.html")).read_text()
    refs = _Refs()
    refs.feed(page)
    assert refs.tags == []
    assert refs.urls and all(u.startswith("data:image/") for u in refs.urls)
    low = page.lower()
    assert "url(" not in low and "@import" not in low and "http://" not in low and "https://" not in low
    assert "synthetic cohort" in low  # the banner: the demo model was trained on synthetic walks


def test_screen_command_outputs_and_unreadable_inputs(walks, calibrated, tmp_path, capsys):
    from gaitpose.cli import main

    junk = tmp_path / "random.mp4"
    junk.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    out = tmp_path / "out"
    code = main(["screen", str(junk), str(walks[1]), str(empty), str(walks[2]), "-o", str(out),
                 "--checkpoint", str(calibrated), "-q"])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 1
    assert len(err) == 2 and all(line.startswith("gaitpose screen: ") for line in err)
    assert str(junk) in err[0] and str(empty) in err[1]
    rows = (out / "summary.csv").read_text().splitlines()
    assert len(rows) == 3  # header + the two readable walks
    for w in walks[1:]:
        res = json.loads((out / w.stem / "result.json").read_text())
        for key in ("verdict", "reasons", "probabilities", "score", "threshold", "calibrated", "qc", "features",
                    "model"):
            assert key in res
        assert res["calibrated"] is True and res["verdict"] in ("refer", "no referral")
        assert res["model"]["sha256"] and (out / w.stem / "report.html").is_file()


def test_uncalibrated_checkpoint_says_so(walks, tmp_path):
    from gaitpose.screen.predict import Screener
    from gaitpose.screen.run import screen_walk
    from gaitpose.screen.walks import WalkInput

    screener = Screener(_checkpoint(tmp_path / "raw.pt", None))
    res = screen_walk(WalkInput(walks[0], "w", "npz"), load_sequence(walks[0]), screener)
    assert res["verdict"] == "uncalibrated" and res["threshold"] is None and res["calibrated"] is False
    assert "uncalibrated" in res["reasons"][0]


def test_side_view_walk_is_insufficient_for_a_frontal_model(walks, calibrated, tmp_path):
    """A frontal walk turned into a side view (x squeezed onto the walking line) is refused."""
    from gaitpose.screen.gate import quality_gate

    seq = load_sequence(walks[0])
    kp = seq.keypoints.copy()
    mid = np.nanmean(kp[..., 0], axis=1, keepdims=True)  # frames without a person stay NaN
    kp[..., 0] = mid + 0.05 * (kp[..., 0] - mid)  # shoulders and hips collapse: seen from the side
    side = Sequence(keypoints=kp, fps=seq.fps, image_size=seq.image_size, detected=seq.detected,
                    silhouettes=seq.silhouettes)
    save_sequence(tmp_path / "side.npz", side)
    g = quality_gate(load_sequence(tmp_path / "side.npz"), DOMAIN, needs_silhouettes=True)
    assert not g.passed and any("front-view walks only" in r for r in g.reasons)


def test_screen_probabilities_agree_with_evaluate(walks, calibrated):
    """The screening path (Sequence → model inputs) gives the probabilities the evaluator's data
    layer gives for the same walks."""
    import csv
    import tempfile

    from gaitpose.engine.evaluator import evaluate
    from gaitpose.screen.predict import Screener

    screener = Screener(calibrated)
    folder = walks[0].parent
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "m.json"
        evaluate(DEMO, calibrated, out=out, progress=False,
                 overrides=[f"data_cfg.dataset_root={folder}", "evaluator_cfg.bootstrap=0"])
        rows = list(csv.DictReader(open(Path(tmp) / "m.predictions.csv")))
    assert rows
    for r in rows:
        pred = screener.predict(load_sequence(folder / f"{r['id']}.npz"))
        for k in ("negative", "neutral", "positive"):
            assert pred.probabilities[k] == pytest.approx(float(r[f"p_{k}"]), abs=2e-5)
