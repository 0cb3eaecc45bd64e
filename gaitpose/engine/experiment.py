"""Experiment grids: settings × seeds, each trained and evaluated, summarised in tables and plots.

An experiment config is an ordinary training config (the *base*) plus an ``experiment``
section::

    experiment:
      seeds: [0, 1, 2]
      settings:
        - name: silhouette          # one row label of the results
          modality: silhouette      # free text columns of results.csv
          fusion: none
          set:                      # overrides of the base config for this setting
            model_cfg: {model: ScoNet, channels: [16, 32, 64, 128]}   # a section name replaces it
            trainer_cfg.total_iter: 300                               # a dotted key sets one value
        - name: fused-concat
          modality: fused
          fusion: concat
          set: {model_cfg.fusion: concat}
          ablate: [sils, pose]      # also evaluate with each of these streams removed

The runner writes ``DIR/runs/<name>-s<seed>/`` (checkpoints, logs, metrics JSON, confusion PNGs),
``DIR/results.csv`` (one row per evaluation), ``DIR/results.md`` (mean ± std over seeds per
setting), ``DIR/results_macro_f1.png`` and ``DIR/confusion/*.png``. A cell whose metrics exist is
skipped, and a cell with a checkpoint resumes, so an interrupted experiment is re-run to finish.
"""

from __future__ import annotations

import copy
import json
import os
import platform
import shutil
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from gaitpose import LABELS
from gaitpose.engine import builders
from gaitpose.engine.config import (
    DEFAULTS,
    ConfigError,
    ConfigFileError,
    base_config,
    canonical_key,
    deep_merge,
    dump_config,
    load_config,
    set_dotted,
)
from gaitpose.engine.metrics import flat_metrics, markdown_table
from gaitpose.io.atomic import atomic_write_text, save_figure

_SETTING_KEYS = {"name", "modality", "fusion", "set", "ablate", "seeds"}
SUMMARY_METRICS = (
    "accuracy",
    "macro_f1",
    "macro_precision",
    "macro_recall",
    "sensitivity_positive",
    "specificity_positive",
    "roc_auc_positive",
)


def _settings(cfg: Mapping) -> tuple[list[dict], list[int]]:
    exp = cfg.get("experiment")
    src = cfg.get("_source", "config")
    if not isinstance(exp, Mapping):
        raise ConfigError(f"{src}: no 'experiment' section (an experiment config needs settings)")
    unknown = set(exp) - {"seeds", "settings", "description", "jobs"}
    if unknown:
        raise ConfigError(f"{src}: unknown config key 'experiment.{sorted(unknown)[0]}'")
    seeds = exp.get("seeds") or [int(cfg["trainer_cfg"]["seed"])]
    settings = exp.get("settings")
    if not isinstance(settings, list) or not settings:
        raise ConfigError(f"{src}: 'experiment.settings' must be a non-empty list")
    names = set()
    for i, s in enumerate(settings):
        if not isinstance(s, Mapping) or "name" not in s:
            raise ConfigError(f"{src}: 'experiment.settings[{i}]' needs a 'name'")
        bad = set(s) - _SETTING_KEYS
        if bad:
            raise ConfigError(f"{src}: unknown config key 'experiment.settings[{i}].{sorted(bad)[0]}'")
        if s["name"] in names:
            raise ConfigError(f"{src}: duplicate setting name {s['name']!r}")
        names.add(s["name"])
    return [dict(s) for s in settings], [int(x) for x in seeds]


def cell_config(cfg: Mapping, setting: Mapping, seed: int) -> dict:
    """The resolved training config of one (setting, seed) cell."""
    out = base_config(cfg)
    out.pop("_source", None)
    for key, value in (setting.get("set") or {}).items():
        key = canonical_key(key)
        if "." not in key:
            if key not in DEFAULTS or key == "experiment":
                raise ConfigError(f"setting {setting['name']!r}: unknown section {key!r}")
            out[key] = deep_merge(DEFAULTS[key], value or {})
        else:
            set_dotted(out, key, copy.deepcopy(value))
    out["trainer_cfg"]["seed"] = int(seed)
    resolved = load_config(out)
    resolved["_source"] = f"{cfg.get('_source', 'config')}[{setting['name']}, seed {seed}]"
    return resolved


def _machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    dev = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"CPU ({os.cpu_count()} cores, {cpu})"
    return f"{dev}; Python {platform.python_version()}; torch {torch.__version__}"


def _evaluations(setting: Mapping) -> list[tuple[str, tuple[str, ...]]]:
    evals = [("all", ())]
    for m in setting.get("ablate") or []:
        evals.append((f"without_{m}", (m,)))
    return evals


def _comparable(cfg: Mapping) -> dict:
    import yaml

    d = yaml.safe_load(dump_config(cfg))
    d["trainer_cfg"].pop("progress", None)
    return d


def _same_config(old: Any, new: Any, defaults: Any) -> bool:
    """``old == new``, except that a key missing from ``old`` (a cell run before that config key
    existed) is fine when ``new`` holds its default value there."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        defaults = defaults if isinstance(defaults, Mapping) else {}
        for k in set(old) | set(new):
            if k not in new:
                return False
            if k not in old:
                if k not in defaults or new[k] != defaults[k]:
                    return False
            elif not _same_config(old[k], new[k], defaults.get(k)):
                return False
        return True
    return old == new


def _check_same_config(ccfg: Mapping, run_dir: Path) -> None:
    """Refuse to reuse a cell folder that was trained with a different config."""
    import yaml

    saved = run_dir / "config.yaml"
    if not saved.is_file():
        return
    old = yaml.safe_load(saved.read_text()) or {}
    old.get("trainer_cfg", {}).pop("progress", None)
    if not _same_config(old, _comparable(ccfg), DEFAULTS):
        raise ConfigError(
            f"{run_dir}: this cell was run with a different config; use another output folder "
            "or delete the cell's folder to re-run it"
        )


def _run_cell(ccfg: dict, setting: dict, run_dir: str) -> dict:
    """Train (or resume) one cell and evaluate it; return its timing. Skips finished work."""
    from gaitpose.engine.evaluator import evaluate
    from gaitpose.engine.trainer import train

    run_dir = Path(run_dir)
    _check_same_config(ccfg, run_dir)
    evals = _evaluations(setting)
    metric_files = {tag: run_dir / f"metrics_{tag}.json" for tag, _ in evals}
    timing_path = run_dir / "timing.json"
    timing = json.loads(timing_path.read_text()) if timing_path.is_file() else {}
    if all(p.is_file() for p in metric_files.values()):
        return timing
    t0 = time.perf_counter()
    ckpt = train(ccfg, run_dir)
    if "train_seconds" not in timing:
        timing["train_seconds"] = time.perf_counter() - t0
    for tag, drop in evals:
        if metric_files[tag].is_file():
            continue
        t1 = time.perf_counter()
        evaluate(ccfg, ckpt, out=metric_files[tag], drop_modalities=drop, progress=False)
        timing[f"eval_seconds_{tag}"] = time.perf_counter() - t1
    atomic_write_text(timing_path, json.dumps(timing, indent=2) + "\n")
    return timing


def run_experiment(
    config: str | os.PathLike | Mapping,
    out_dir: str | os.PathLike,
    overrides: Iterable[str] | Mapping[str, Any] = (),
    progress: bool = True,
    jobs: int | None = None,
    report_only: bool = False,
    only: Iterable[str] | None = None,
):
    """Train and evaluate every cell of an experiment grid; return the results DataFrame.

    Args:
        config: experiment YAML path or dict (base config + ``experiment`` section).
        out_dir: output folder (created; finished cells in it are skipped).
        overrides: ``key=value`` overrides applied to the base config of every cell.
        jobs: cells run at once in separate processes (default ``experiment.jobs``, else 1).
            On CPU, two single-threaded processes use 2 cores better than one 2-thread one.
        report_only: train nothing; tabulate the cells already finished in ``out_dir`` (the
            others are listed as missing in ``results.md``).
        only: names of the settings to run (default: all of them).

    Returns:
        pandas DataFrame, one row per (setting, seed, evaluation): ``setting``, ``modality``,
        ``fusion``, ``seed``, ``evaluated_with``, metrics (see :func:`flat_metrics`),
        ``train_seconds``, ``run_dir``; plus, when the grid has a silhouette-only and a
        skeleton-only setting, a diagnostic ``late-average(...)`` row per seed (their class
        probabilities averaged; see :func:`late_average_rows`).

    Raises:
        CellsFailed: after writing the tables of the other cells, when some cells raised (each
            is also reported on stderr as it fails; the grid goes on).
    """
    import pandas as pd

    cfg = load_config(config, overrides)
    settings, seeds = _settings(cfg)
    if only:
        wanted = [str(x) for x in only]
        names = [str(st["name"]) for st in settings]
        unknown = [w for w in wanted if w not in names]
        if unknown:
            raise ConfigError(f"no setting named {unknown[0]!r} (settings: {', '.join(names)})")
        settings = [st for st in settings if st["name"] in wanted]
    jobs = int(jobs or cfg["experiment"].get("jobs") or 1)
    out = Path(out_dir)
    if report_only and not out.is_dir():
        raise ConfigFileError(f"{out}: no such experiment folder")
    out.mkdir(parents=True, exist_ok=True)
    (out / "confusion").mkdir(exist_ok=True)
    if not report_only:
        from gaitpose.engine.distributed import resolve_device

        resolve_device(cfg["trainer_cfg"]["device"])  # a device this machine lacks: before any cell
        atomic_write_text(out / "experiment.yaml", dump_config(cfg))
        builders.ensure_dataset(cfg)  # one cohort for every cell (made once when synthetic)

    t_start = time.perf_counter()
    cells = [(s, seed) for s in settings for seed in (s.get("seeds") or seeds)]
    plan = []
    for setting, seed in cells:
        ccfg = cell_config(cfg, setting, seed)
        if jobs > 1:
            ccfg["trainer_cfg"]["progress"] = False
        run_dir = out / "runs" / f"{setting['name']}-s{seed}"
        _check_same_config(ccfg, run_dir)  # before anything runs: a user error, not a cell failure
        plan.append((setting, seed, ccfg, run_dir))
    failed: dict[int, str] = {}
    if not report_only:
        timings, failed = _run_plan(plan, jobs, progress)
    else:
        timings = {
            i: json.loads((p[3] / "timing.json").read_text()) if (p[3] / "timing.json").is_file() else {}
            for i, p in enumerate(plan)
        }

    rows: list[dict[str, Any]] = []
    missing: list[str] = []
    for i, (setting, seed, _, run_dir) in enumerate(plan):
        name = str(setting["name"])
        for tag, _ in _evaluations(setting):
            mfile = run_dir / f"metrics_{tag}.json"
            if not mfile.is_file():
                missing.append(f"{name}-s{seed} ({tag})")
                continue
            report = json.loads(mfile.read_text())
            png = Path(f"{mfile.with_suffix('')}.confusion.png")
            if png.is_file():
                shutil.copyfile(png, out / "confusion" / f"{name}-s{seed}-{tag}.png")
            rows.append(
                {
                    "setting": name,
                    "modality": setting.get("modality", ""),
                    "fusion": setting.get("fusion", ""),
                    "seed": seed,
                    "evaluated_with": tag,
                    **flat_metrics(report),
                    "train_seconds": timings.get(i, {}).get("train_seconds"),
                    "run_dir": str(run_dir),
                }
            )
    rows += late_average_rows(plan, cfg)
    if not rows:
        raise ConfigError(f"{out}: no finished cell to report")
    df = pd.DataFrame(rows)
    atomic_write_text(out / "results.csv", df.to_csv(index=False))
    wall = None if report_only else time.perf_counter() - t_start
    atomic_write_text(
        out / "results.md",
        results_markdown(df, cfg, wall_seconds=wall, jobs=jobs, missing=missing, failed=failed),
    )
    plot_macro_f1(df, out / "results_macro_f1.png")
    if failed:
        raise CellsFailed(failed)
    return df


class CellsFailed(RuntimeError):
    """Some cells of a grid raised; the others were trained, evaluated and reported."""

    def __init__(self, failed: Mapping[int, str]):
        self.failed = dict(failed)
        super().__init__(f"{len(failed)} cell(s) failed: " + "; ".join(failed.values()))


def _run_plan(plan: list, jobs: int, progress: bool) -> tuple[dict[int, dict], dict[int, str]]:
    """Run every cell (``jobs`` at once); a cell that raises is reported and the rest go on."""

    from gaitpose.progress import Progress

    bar = Progress(len(plan), "experiment", "run", enabled=progress)
    timings: dict[int, dict] = {}
    failed: dict[int, str] = {}

    def _done(i: int, fn) -> None:
        label = f"{plan[i][0]['name']} seed {plan[i][1]}"
        try:
            timings[i] = fn()
            bar.set_postfix(last=f"{label} done")
        except Exception as exc:  # noqa: BLE001 - one bad cell must not stop the grid
            failed[i] = f"{plan[i][3].name}: {type(exc).__name__}: {exc}"
            bar.write(f"gaitpose experiment: {failed[i]}")
        bar.update(1)

    if jobs > 1:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as pool:
            futures = {
                pool.submit(_run_cell, ccfg, dict(setting), str(run_dir)): i
                for i, (setting, seed, ccfg, run_dir) in enumerate(plan)
            }
            for fut in as_completed(futures):
                _done(futures[fut], fut.result)
    else:
        for i, (setting, seed, ccfg, run_dir) in enumerate(plan):
            bar.set_postfix(now=f"{setting['name']} seed {seed}")
            _done(i, lambda c=ccfg, s=setting, r=run_dir: _run_cell(c, dict(s), str(r)))
    bar.close()
    return timings, failed


def _read_predictions(path: Path):
    import pandas as pd

    return pd.read_csv(path, dtype={"id": str}) if path.is_file() else None


def late_average_rows(plan: list, cfg: Mapping) -> list[dict[str, Any]]:
    """A diagnostic row per seed: the separately trained silhouette-only and skeleton-only models'
    class probabilities averaged (no training). If this beats the better single model, the two
    modalities carry complementary information that a fused model could use; if it does not,
    a fused model has little to gain on this data."""
    from gaitpose.engine.metrics import classification_report

    by_modality: dict[str, dict[int, Path]] = {}
    names: dict[str, str] = {}
    for setting, seed, _, run_dir in plan:
        mod = str(setting.get("modality", ""))
        if mod in ("silhouette", "skeleton") and mod not in names:
            names[mod] = str(setting["name"])
        if mod in names and names[mod] == setting["name"]:
            by_modality.setdefault(mod, {})[seed] = run_dir / "metrics_all.predictions.csv"
    if len(names) < 2:
        return []
    labels = list(LABELS)  # the predictions files' column order
    rows = []
    for seed in sorted(set(by_modality["silhouette"]) & set(by_modality["skeleton"])):
        a = _read_predictions(by_modality["silhouette"][seed])
        b = _read_predictions(by_modality["skeleton"][seed])
        if a is None or b is None:
            continue
        if len(a) != len(b) or list(a["id"]) != list(b["id"]) or list(a["true"]) != list(b["true"]):
            continue  # not the same test sequences in the same order: nothing to average
        cols = [f"p_{c}" for c in labels]
        probs = (a[cols].to_numpy(float) + b[cols].to_numpy(float)) / 2
        y = np.array([labels.index(t) for t in a["true"]])
        report = classification_report(y, np.log(np.clip(probs, 1e-12, None)), labels=labels,
                                       bootstrap=int(cfg["evaluator_cfg"].get("bootstrap", 0) or 0))
        rows.append(
            {
                "setting": f"late-average({names['silhouette']}, {names['skeleton']})",
                "modality": "ensemble",
                "fusion": "probability average",
                "seed": seed,
                "evaluated_with": "all",
                **flat_metrics(report),
                "train_seconds": None,
                "run_dir": "",
            }
        )
    return rows


def summarise(df):
    """Mean ± std over seeds per (setting, evaluated_with), in grid order."""
    import pandas as pd

    keys = ["setting", "modality", "fusion", "evaluated_with"]
    order = list(dict.fromkeys(zip(*(df[k] for k in keys))))
    recs = []
    for key in order:
        sub = df[np.logical_and.reduce([df[k] == v for k, v in zip(keys, key)])]
        rec = dict(zip(keys, key))
        rec["seeds"] = len(sub)
        for m in SUMMARY_METRICS:
            vals = pd.to_numeric(sub[m], errors="coerce").dropna().to_numpy(dtype=float)
            rec[f"{m}_mean"] = float(vals.mean()) if len(vals) else float("nan")
            rec[f"{m}_std"] = float(vals.std(ddof=1)) if len(vals) > 1 else 0.0
        recs.append(rec)
    return pd.DataFrame(recs)


def fusion_comparison(df) -> dict[str, Any] | None:
    """Best fused setting vs the better single-modality setting, in macro-F1 (full inputs)."""
    full = df[df["evaluated_with"] == "all"]
    fused = full[full["modality"] == "fused"]
    single = full[full["modality"].isin(["silhouette", "skeleton"])]
    if fused.empty or single.empty:
        return None
    means = full.groupby("setting")["macro_f1"].mean()
    best_single = means[single["setting"].unique()].idxmax()
    best_fused = means[fused["setting"].unique()].idxmax()
    d = _paired_delta(full, best_fused, best_single)
    return {
        "best_fused": best_fused,
        "best_single": best_single,
        "fused_mean": d["a_mean"],
        "single_mean": d["b_mean"],
        "delta_mean": d["delta_mean"],
        "delta_std": d["delta_std"],
        "seeds_fused_better": d["seeds_a_better"],
        "seeds": d["seeds"],
    }


def _paired_delta(full, a_name: str, b_name: str) -> dict[str, Any]:
    a = full[full["setting"] == a_name].set_index("seed")["macro_f1"]
    b = full[full["setting"] == b_name].set_index("seed")["macro_f1"]
    common = a.index.intersection(b.index)
    diffs = (a[common] - b[common]).to_numpy(dtype=float)
    return {
        "a_mean": float(a.mean()),
        "b_mean": float(b.mean()),
        "delta_mean": float(diffs.mean()) if len(diffs) else float("nan"),
        "delta_std": float(diffs.std(ddof=1)) if len(diffs) > 1 else 0.0,
        "seeds_a_better": int((diffs > 0).sum()),
        "seeds": int(len(diffs)),
    }


def results_markdown(
    df,
    cfg: Mapping,
    wall_seconds: float | None = None,
    jobs: int = 1,
    missing: Iterable[str] = (),
    failed: Mapping[int, str] | None = None,
) -> str:
    """The ``results.md`` text: setup, mean ± std table, fusion comparison."""
    import pandas as pd

    summ = summarise(df)
    table = pd.DataFrame(
        {
            "setting": summ["setting"],
            "evaluated with": summ["evaluated_with"],
            "seeds": summ["seeds"],
            **{
                m: [
                    f"{mu:.3f} ± {sd:.3f}" if not np.isnan(mu) else "n/a"
                    for mu, sd in zip(summ[f"{m}_mean"], summ[f"{m}_std"])
                ]
                for m in SUMMARY_METRICS
            },
        }
    )
    n_test = int(df["n"].iloc[0]) if len(df) else 0
    lines = [
        f"# Results: {Path(str(cfg.get('_source', 'experiment'))).name}",
        "",
        f"- machine: {_machine()}; load average at the end (1/5/15 min): "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}",
        f"- wall time of this invocation: {wall_seconds / 60:.1f} min ({jobs} cell(s) at a time; "
        f"cells finished by an earlier invocation are not re-run)" if wall_seconds is not None else "",
        f"- dataset: `{cfg['data_cfg']['dataset_root']}`, partition "
        f"`{cfg['data_cfg']['dataset_partition'] or 'ROOT/partition.json'}`, test sequences: {n_test}",
        f"- label order: {', '.join(builders.label_order(cfg))}; chance level for 3 balanced "
        "classes: accuracy and macro-F1 ≈ 0.333",
        "- mean ± sample std over seeds; `without_X` = the fused model evaluated with stream X removed;"
        " `late-average(...)` = the separately trained single-modality models' class probabilities"
        " averaged (a diagnostic, no training)",
        "",
        markdown_table(table),
        "",
    ]
    missing = list(missing)
    if missing:
        lines += [f"**Not finished (not in the table): {', '.join(missing)}.**", ""]
    if failed:
        lines += ["**Failed cells:**", "", *[f"- {msg}" for msg in failed.values()], ""]
    cmp_ = fusion_comparison(df)
    if cmp_:
        verdict = "beats" if cmp_["delta_mean"] > 0 else "does not beat"
        lines += [
            "## Fusion vs the better single modality (macro-F1, full inputs)",
            "",
            f"`{cmp_['best_fused']}` ({cmp_['fused_mean']:.3f}) {verdict} `{cmp_['best_single']}` "
            f"({cmp_['single_mean']:.3f}): paired difference over seeds "
            f"{cmp_['delta_mean']:+.3f} ± {cmp_['delta_std']:.3f}; fused better on "
            f"{cmp_['seeds_fused_better']} of {cmp_['seeds']} seeds.",
            "",
        ]
        full = df[df["evaluated_with"] == "all"]
        late = full[full["modality"] == "ensemble"]["setting"].unique()
        if len(late):
            d = _paired_delta(full, late[0], cmp_["best_single"])
            verdict = "beats" if d["delta_mean"] > 0 else "does not beat"
            lines += [
                f"Averaging the separately trained single-modality models' probabilities "
                f"({d['a_mean']:.3f}) {verdict} `{cmp_['best_single']}`: "
                f"{d['delta_mean']:+.3f} ± {d['delta_std']:.3f}, better on {d['seeds_a_better']} "
                f"of {d['seeds']} seeds (whether the modalities are complementary on this data).",
                "",
            ]
    return "\n".join(line for line in lines if line is not None) + "\n"


def plot_macro_f1(df, path: str | os.PathLike) -> Path:
    """Bar plot of macro-F1 (mean ± std over seeds) per setting and evaluation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summ = summarise(df)
    labels = [
        (s if e == "all" else f"{s}\n({e.replace('_', ' ')})").replace("(", "\n(", 1 if e == "all" else 0)
        for s, e in zip(summ["setting"], summ["evaluated_with"])
    ]
    fig, ax = plt.subplots(figsize=(max(4.0, 1.1 * len(labels)), 3.6), dpi=120)
    colors = ["tab:blue" if e == "all" else "tab:gray" for e in summ["evaluated_with"]]
    ax.bar(range(len(labels)), summ["macro_f1_mean"], yerr=summ["macro_f1_std"], color=colors, capsize=3)
    ax.axhline(1 / 3, color="k", ls="--", lw=0.8, label="chance (3 classes)")
    ax.set_xticks(range(len(labels)), labels, fontsize=7)
    ax.set_ylabel("macro-F1 (mean ± std over seeds)")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return save_figure(fig, path)
