"""``gaitpose screen``: every input walk to a verdict, ``result.json`` and ``report.html``.

Per walk: read it (extract a video, or load a Sequence) → the quality gate → with a
checkpoint, the model's answer (only for walks that pass) → the features against the
reference → ``DIR/<name>/result.json`` and ``DIR/<name>/report.html`` (written atomically).
Then ``DIR/summary.csv``, one row per screened walk. An input that cannot be read gets one
line on stderr (``gaitpose screen: <path>: <reason>``) and the others go on.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gaitpose.io.atomic import atomic_write_text
from gaitpose.io.video import VIDEO_EXTENSIONS
from gaitpose.screen.gate import GateParams, quality_gate
from gaitpose.screen.walks import WalkError, WalkInput, collect_walks, read_walk

SUMMARY_COLUMNS = ("name", "input", "verdict", "score", "threshold", "calibrated", "p_negative", "p_neutral",
                   "p_positive", "reasons")


def _json_safe(x: Any) -> Any:
    """Plain JSON values (NaN → None, numpy scalars → Python)."""
    import math

    import numpy as np

    if isinstance(x, dict):
        return {str(k): _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def screen_walk(walk: WalkInput, seq, screener=None, reference=None, params: GateParams | None = None) -> dict:
    """The result of one walk (what ``result.json`` holds)."""
    from gaitpose import __version__
    from gaitpose.screen.reference import place_features

    gate = quality_gate(seq, screener.domain if screener else None,
                        needs_silhouettes=bool(screener and "sils" in screener.modalities), params=params)
    result: dict[str, Any] = {
        "name": walk.name, "input": str(walk.path), "verdict": "insufficient video", "reasons": list(gate.reasons),
        "probabilities": None, "score": None, "threshold": None, "calibrated": False,
        "qc": {"passed": gate.passed, **gate.qc}, "features": place_features(gate.features, reference),
        "contributions": [], "model": screener.identity if screener else None,
        "gaitpose_version": __version__,
        "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
    }
    if not gate.passed:
        return result  # no probability for a walk that fails the gate
    if screener is None:
        result["verdict"] = "no model"
        result["reasons"] = ["no checkpoint given: quality checks and features only"]
        return result
    pred = screener.predict(seq)
    result.update(verdict=pred.verdict, probabilities=pred.probabilities, score=pred.score,
                  threshold=pred.threshold, calibrated=pred.calibrated, contributions=pred.contributions)
    if not pred.calibrated:
        result["reasons"] = ["the checkpoint is uncalibrated: no operating point (run gaitpose calibrate)"]
    return result


def source_video(seq) -> Path | None:
    """The video a Sequence was extracted from, when it is still where the meta says."""
    src = seq.meta.get("source") if isinstance(seq.meta, dict) else None
    if not src:
        return None
    path = Path(str(src))
    return path if path.suffix.lower() in VIDEO_EXTENSIONS and path.is_file() else None


def write_walk(out: Path, walk: WalkInput, seq, result: dict, reference=None) -> Path:
    """``out/<name>/result.json`` and ``report.html``; returns the report's path."""
    from dataclasses import asdict

    from gaitpose.screen.figures import key_frames, silhouette_strip
    from gaitpose.screen.report import render_report

    folder = out / walk.name
    folder.mkdir(parents=True, exist_ok=True)
    result = _json_safe(result)
    atomic_write_text(folder / "result.json", json.dumps(result, indent=2) + "\n")
    video = walk.path if walk.kind == "video" else source_video(seq)
    ref = None
    if reference is not None:
        ref = {"source": reference.source, "counts": asdict(reference)["counts"]}
    page = render_report(result, key_frames(seq, video), silhouette_strip(seq), ref, from_video=video is not None)
    report = folder / "report.html"
    atomic_write_text(report, page)
    return report


def summary_row(result: dict) -> dict[str, str]:
    probs = result.get("probabilities") or {}

    def num(x):
        return "" if x is None else f"{x:.4f}"

    return {"name": result["name"], "input": result["input"], "verdict": result["verdict"],
            "score": num(result.get("score")), "threshold": num(result.get("threshold")),
            "calibrated": str(bool(result.get("calibrated"))).lower(),
            **{f"p_{k}": num(probs.get(k)) for k in ("negative", "neutral", "positive")},
            "reasons": "; ".join(result.get("reasons") or [])}


def write_summary(path: Path, rows: Iterable[dict[str, str]]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=SUMMARY_COLUMNS)
    w.writeheader()
    for r in rows:
        w.writerow(r)
    atomic_write_text(path, buf.getvalue())


def _fail(path, reason: str) -> None:
    print(f"gaitpose screen: {path}: {reason}", file=sys.stderr, flush=True)


def screen(inputs: list[str], out: str | Path, checkpoint: str | Path | None = None,
           reference: tuple[str, str] | None = None, progress: bool = True, params: GateParams | None = None) -> int:
    """Screen every input; returns the exit code (0 all screened, 1 some input unreadable).

    Raises:
        CheckpointError / ValueError / OSError for a checkpoint or reference that cannot be
        used (the caller reports them as bad usage: nothing could be screened as asked).
    """
    from gaitpose.screen.predict import Screener
    from gaitpose.screen.reference import load_reference

    out = Path(out)
    screener = Screener(checkpoint) if checkpoint else None
    ref = load_reference(*reference) if reference else None
    walks, missing = collect_walks(inputs, exclude=out)
    code = 0
    if not walks and not missing:
        _fail(", ".join(map(str, inputs)), "no videos or Sequence .npz files found")
        code = 1
    for p in missing:
        _fail(p, "no such file or directory")
        code = 1
    rows = []
    for i, walk in enumerate(walks, 1):
        if progress:
            print(f"[{i}/{len(walks)}] {walk.path}", file=sys.stderr, flush=True)
        try:
            seq = read_walk(walk, progress=progress)
        except WalkError as exc:
            _fail(walk.path, str(exc))
            code = 1
            continue
        result = screen_walk(walk, seq, screener, ref, params)
        report = write_walk(out, walk, seq, result, ref)
        rows.append(summary_row(result))
        print(f"{walk.name}: {result['verdict']}"
              + (f" (score {result['score']:.3f})" if result.get("score") is not None else "")
              + (f" — {'; '.join(result['reasons'])}" if result["verdict"] == "insufficient video" else "")
              + f"  → {report}", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    write_summary(out / "summary.csv", rows)
    return code
