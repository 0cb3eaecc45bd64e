"""The screening report: one self-contained HTML file per walk.

Everything is inline (CSS in a ``<style>`` element, images as ``data:`` URIs, no script, no
link to anything outside the file), so the report opens offline, can be mailed as one file,
and reads on a phone (a single column that fits a narrow screen). Order: the verdict and its
reasons, the probabilities, what drove the decision, the walk's images, its features against
the reference, the quality checks, and the model's identity.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;background:#f4f5f7;color:#1d2330;
 line-height:1.4}
main{max-width:760px;margin:0 auto;padding:12px}
section{background:#fff;border-radius:10px;padding:12px 14px;margin:10px 0;box-shadow:0 1px 2px #0002}
h1{font-size:1.15rem;margin:4px 0 8px} h2{font-size:1rem;margin:0 0 8px}
.banner{background:#fff3cd;border:1px solid #e0b84c;border-radius:10px;padding:10px 14px;margin:10px 0;font-size:.92rem}
.verdict{border-left:10px solid #888}
.verdict .v{font-size:1.6rem;font-weight:700;margin:2px 0}
.refer{border-color:#c0392b}.refer .v{color:#c0392b}
.noref{border-color:#1e8449}.noref .v{color:#1e8449}
.insufficient{border-color:#7f8c8d}.insufficient .v{color:#566573}
.uncal{border-color:#2e86c1}.uncal .v{color:#2e86c1}
ul{margin:4px 0;padding-left:20px}
table{border-collapse:collapse;width:100%;font-size:.88rem}
td,th{padding:4px 6px;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:middle}
th{font-weight:600;color:#4b5563}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.bar{background:#e5e7eb;border-radius:4px;height:12px;position:relative;min-width:80px}
.bar span{position:absolute;top:0;bottom:0;border-radius:4px;background:#5b7fb9}
.bar .mark{background:#111;width:2px;border-radius:0}
.pos span{background:#c0392b}.neg span{background:#1e8449}
.frames{display:flex;flex-wrap:wrap;gap:6px}
.frames figure{margin:0;text-align:center;font-size:.78rem;color:#555}
.frames img{height:200px;max-width:100%;object-fit:contain;border-radius:6px;display:block}
img.strip{max-width:100%;image-rendering:pixelated;border-radius:4px}
.muted{color:#6b7280;font-size:.85rem}
.ok{color:#1e8449;font-weight:600}.fail{color:#c0392b;font-weight:600}
code{font-size:.8rem;word-break:break-all}
details summary{cursor:pointer;color:#374151;margin:6px 0}
"""

_CLASS = {"refer": "refer", "no referral": "noref", "insufficient video": "insufficient", "uncalibrated": "uncal"}


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        return f"{x:.{digits}g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.2e}"
    return _e(x)


def _bar(frac: float, cls: str = "", mark: float | None = None) -> str:
    frac = min(1.0, max(0.0, frac))
    inner = f'<span style="left:0;width:{100 * frac:.1f}%"></span>'
    if mark is not None:
        inner += f'<span class="mark" style="left:{100 * min(1.0, max(0.0, mark)):.1f}%"></span>'
    return f'<div class="bar {cls}">{inner}</div>'


def _signed_bar(v: float, vmax: float) -> str:
    """A bar from the middle: right (red) pushes towards referral, left (green) away from it."""
    half = 50 * min(1.0, abs(v) / vmax) if vmax > 0 else 0
    left = 50 if v >= 0 else 50 - half
    cls = "pos" if v >= 0 else "neg"
    return (f'<div class="bar {cls}"><span style="left:{left:.1f}%;width:{half:.1f}%"></span>'
            f'<span class="mark" style="left:50%"></span></div>')


def _verdict(r: Mapping[str, Any]) -> str:
    v = r["verdict"]
    lines = [f'<section class="verdict {_CLASS.get(v, "")}"><h1>{_e(r["name"])}</h1><div class="v">{_e(v)}</div>']
    if v == "refer":
        lines.append(f"<p>Screening score {_fmt(r['score'])} is at or above the operating threshold "
                     f"{_fmt(r['threshold'])}: refer for a clinical examination.</p>")
    elif v == "no referral":
        lines.append(f"<p>Screening score {_fmt(r['score'])} is below the operating threshold "
                     f"{_fmt(r['threshold'])}.</p>")
    elif v == "uncalibrated":
        lines.append("<p>The model is <b>uncalibrated</b>: it has no operating point, so no referral decision "
                     "is made; its probabilities are shown as they are (run <code>gaitpose calibrate</code>).</p>")
    if r["reasons"]:
        lines.append("<p><b>Reasons</b></p><ul>" + "".join(f"<li>{_e(x)}</li>" for x in r["reasons"]) + "</ul>")
    if v == "insufficient video":
        lines.append("<p class='muted'>No probability is given for a walk that fails the quality checks.</p>")
    lines.append("</section>")
    return "".join(lines)


def _probabilities(r: Mapping[str, Any]) -> str:
    if not r.get("probabilities"):
        return ""
    state = "calibrated (temperature scaling)" if r["calibrated"] else "uncalibrated (the model's own softmax)"
    rows = "".join(f"<tr><td>{_e(k)}</td><td class='n'>{p:.3f}</td><td style='width:55%'>{_bar(p)}</td></tr>"
                   for k, p in r["probabilities"].items())
    thr = r.get("threshold")
    score_row = (f"<tr><td><b>screening score</b> P({_e(r['model'].get('score', 'positive'))})</td>"
                 f"<td class='n'><b>{r['score']:.3f}</b></td><td>{_bar(r['score'], 'pos', thr)}</td></tr>")
    note = (f"<p class='muted'>Black mark: the threshold {thr:.3f}, set on the validation split for specificity "
            f"{_fmt(r['model'].get('target_specificity'))}.</p>" if thr is not None else "")
    return (f"<section><h2>Probabilities</h2><p class='muted'>{state}</p><table>{rows}{score_row}</table>"
            f"{note}</section>")


def _contributions(items: Sequence[Mapping[str, Any]]) -> str:
    if not items:
        return ""
    vmax = max(abs(c["contribution"]) for c in items) or 1.0
    ranked = sorted(items, key=lambda c: -abs(c["contribution"]))

    def rows(cs):
        return "".join(f"<tr><td>{_e(c['part'])}</td><td class='n'>{c['contribution']:+.3f}</td>"
                       f"<td style='width:40%'>{_signed_bar(c['contribution'], vmax)}</td></tr>" for c in cs)

    return ("<section><h2>What drove the decision</h2><p class='muted'>Each body part's share of the score's "
            "logit margin (they add up to it). Red, right: towards referral; green, left: away from it.</p>"
            f"<table>{rows(ranked[:8])}</table><details><summary>all {len(items)} parts</summary>"
            f"<table>{rows(items)}</table></details></section>")


def _images(frames: Sequence[Mapping[str, str]], strip: str | None, from_video: bool) -> str:
    figs = "".join(f"<figure><img src='{f['uri']}' alt='key frame'><figcaption>{_e(f['caption'])}</figcaption>"
                   f"</figure>" for f in frames)
    src = "video frames" if from_video else "skeleton only (a Sequence file keeps no video frames)"
    out = f"<section><h2>Key frames</h2><p class='muted'>{src}, keypoints drawn</p><div class='frames'>{figs}</div>"
    if strip:
        out += f"<h2 style='margin-top:10px'>Silhouettes</h2><img class='strip' src='{strip}' alt='silhouettes'>"
    return out + "</section>"


def _features(items: Sequence[Mapping[str, Any]], ref: Mapping[str, Any] | None) -> str:
    if not items:
        return ""
    body = ""
    for f in items:
        unit = f" {_e(f['unit'])}" if f["value"] is not None else ""
        name, value = _e(f["feature"]).replace("_", "_<wbr>"), f"<b>{_fmt(f['value'])}{unit}</b>"
        if ref:
            med = f.get("class_medians") or {}
            name += ("<div class='muted'>medians neg / neu / pos: "
                     f"{' / '.join(_fmt(med.get(k)) for k in ('negative', 'neutral', 'positive'))}</div>")
            pc = f.get("percentile_negative")
            if pc is not None:
                value += f"<div class='muted'>percentile {pc:.0f} among negatives</div>{_bar(pc / 100)}"
        body += f"<tr><td>{name}</td><td style='width:42%;text-align:right'>{value}</td></tr>"
    if ref:
        counts = ", ".join(f"{n} {k}" for k, n in ref["counts"].items())
        note = f"Reference: {_e(ref['source'])} (usable walks: {_e(counts)})."
    else:
        note = ("No reference given (<code>--reference FEATURES.csv --labels CSV</code> places each value among "
                "the negative class).")
    return (f"<section><h2>Asymmetry features</h2><p class='muted'>{note} Keypoint surrogates, not radiographic "
            f"measures.</p><table>{body}</table></section>")


def _qc(qc: Mapping[str, Any], passed: bool) -> str:
    rows = "".join(f"<tr><td>{_e(k)}</td><td class='n'>{_fmt(v)}</td></tr>" for k, v in qc.items()
                   if not k.startswith("qc_valid_"))
    valid = "".join(f"<tr><td>{_e(k)}</td><td class='n'>{_fmt(v)}</td></tr>" for k, v in qc.items()
                    if k.startswith("qc_valid_"))
    state = "<span class='ok'>passed</span>" if passed else "<span class='fail'>failed</span>"
    return (f"<section><h2>Quality checks: {state}</h2><table>{rows}</table><details><summary>keypoints found, "
            f"per joint</summary><table>{valid}</table></details></section>")


def _model(m: Mapping[str, Any] | None) -> str:
    if not m:
        return "<section><h2>Model</h2><p>No checkpoint given: quality checks and features only.</p></section>"
    data = m.get("training_data") or {}
    rows = [("checkpoint", m.get("checkpoint")), ("sha256", m.get("sha256")), ("model", m.get("model")),
            ("iteration", m.get("iteration")), ("training data", data.get("dataset_root")),
            ("generator", data.get("generator") or ("synthetic" if data.get("synthetic") else "–")),
            ("training view / fps / frames", f"{data.get('view')} / {data.get('fps')} / {data.get('frames')}"),
            ("calibrated", m.get("calibrated")), ("calibration date", m.get("calibration_date")),
            ("temperature", m.get("temperature")), ("screening score", f"P({m.get('score')})"),
            ("threshold", m.get("threshold")), ("target specificity", m.get("target_specificity"))]
    body = "".join(f"<tr><td>{_e(k)}</td><td><code>{_fmt(v, 5)}</code></td></tr>" for k, v in rows)
    return f"<section><h2>Model</h2><table>{body}</table></section>"


def render_report(result: Mapping[str, Any], frames: Sequence[Mapping[str, str]], strip: str | None,
                  reference: Mapping[str, Any] | None = None, from_video: bool = False) -> str:
    """The report HTML of one walk (``result`` as written to ``result.json``)."""
    m = result.get("model")
    banner = ""
    if m and m.get("synthetic"):
        banner = ("<div class='banner'><b>Trained on a synthetic cohort.</b> This model checks that the pipeline "
                  "works end to end; it is not a clinical tool and its verdicts say nothing about a real "
                  "person's spine.</div>")
    parts = [banner, _verdict(result), _probabilities(result), _contributions(result.get("contributions") or []),
             _images(frames, strip, from_video), _features(result["features"], reference),
             _qc(result["qc"], bool(result["qc"].get("passed"))), _model(m),
             f"<p class='muted'>Input {_e(result['input'])} · gaitpose {_e(result['gaitpose_version'])} · "
             f"{_e(result['created'])}</p>"]
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<title>{_e(result['name'])}: {_e(result['verdict'])}</title><style>{CSS}</style></head>"
            f"<body><main>{''.join(parts)}</main></body></html>\n")
