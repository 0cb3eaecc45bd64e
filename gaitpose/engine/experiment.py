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

Every cell is evaluated on the validation split and on the test split
(``metrics_<split>_<evaluation>.json`` and ``.predictions.csv``). The runner writes
``DIR/runs/<name>-s<seed>/`` (checkpoints, logs, metrics JSON, confusion PNGs),
``DIR/results.csv`` (one row per evaluation), ``DIR/results.md`` (:mod:`gaitpose.engine.results`:
a validation table, the choices made on it, a test table with computed baselines, paired
differences on test with subject-level intervals), ``DIR/results_macro_f1.png`` and
``DIR/confusion/*.png``. A cell whose metrics exist is skipped, and a cell with a checkpoint
resumes, so an interrupted experiment is re-run to finish.
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
from gaitpose.engine.metrics import flat_metrics
from gaitpose.engine.results import (
    SPLITS,
    baselines,
    plot_macro_f1,
    predictions_key,
    results_markdown,
)
from gaitpose.io.atomic import atomic_write_text

_SETTING_KEYS = {"name", "modality", "fusion", "set", "ablate", "seeds"}

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


def _machine(cfg: Mapping) -> str:
    """The machine line of results.md: device, Python, torch and the training precision."""
    import torch

    from gaitpose.engine.distributed import resolve_device
    from gaitpose.engine.trainer import autocast_dtype

    cpu = platform.processor() or platform.machine()
    dev = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"CPU ({os.cpu_count()} cores, {cpu})"
    dtype = autocast_dtype(cfg["trainer_cfg"], resolve_device(cfg["trainer_cfg"]["device"]))
    precision = {None: "float32", torch.float16: "float16 autocast", torch.bfloat16: "bfloat16 autocast"}[dtype]
    return f"{dev}; Python {platform.python_version()}; torch {torch.__version__}; training in {precision}"


def _evaluations(setting: Mapping) -> list[tuple[str, str, tuple[str, ...]]]:
    """(split, tag, dropped streams) of every evaluation of a cell: each on val and on test."""
    tags = [("all", ())] + [(f"without_{m}", (m,)) for m in setting.get("ablate") or []]
    return [(split, tag, drop) for split in SPLITS for tag, drop in tags]


def metrics_path(run_dir: Path, split: str, tag: str) -> Path:
    return Path(run_dir) / f"metrics_{split}_{tag}.json"


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
    metric_files = {(split, tag): metrics_path(run_dir, split, tag) for split, tag, _ in evals}
    timing_path = run_dir / "timing.json"
    timing = json.loads(timing_path.read_text()) if timing_path.is_file() else {}
    if all(p.is_file() for p in metric_files.values()):
        return timing
    t0 = time.perf_counter()
    ckpt = train(ccfg, run_dir)
    if "train_seconds" not in timing:
        timing["train_seconds"] = time.perf_counter() - t0
    for split, tag, drop in evals:
        if metric_files[(split, tag)].is_file():
            continue
        t1 = time.perf_counter()
        evaluate(ccfg, ckpt, out=metric_files[(split, tag)], drop_modalities=drop, progress=False,
                 split=split)
        timing[f"eval_seconds_{split}_{tag}"] = time.perf_counter() - t1
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
        pandas DataFrame, one row per (setting, seed, split, evaluation): ``setting``,
        ``modality``, ``fusion``, ``seed``, ``split`` (val / test), ``evaluated_with``, metrics
        (see :func:`flat_metrics`), ``train_seconds``, ``run_dir``; plus, when the grid has a
        silhouette-only and a skeleton-only setting, a diagnostic ``late-average(...)`` row per
        seed and split (their class probabilities averaged; see :func:`late_average_rows`).

    Raises:
        CellsFailed: after writing the tables of the other cells, when some cells raised (each
            is also reported on stderr as it fails; the grid goes on).
    """
    import pandas as pd

    cfg = load_config(config, overrides)
    settings, seeds = _settings(cfg)
    settings = _only(settings, only)
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
    plan = _plan(cfg, settings, seeds, out, jobs)
    failed: dict[int, str] = {}
    if not report_only:
        timings, failed = _run_plan(plan, jobs, progress)
    else:
        timings = {i: json.loads((p[3] / "timing.json").read_text()) if (p[3] / "timing.json").is_file() else {}
                   for i, p in enumerate(plan)}
    rows, preds, missing = _collect(plan, timings, out)
    late_rows, late_preds = late_average_rows(plan, cfg, preds)
    rows += late_rows
    preds.update(late_preds)
    if not rows:
        raise ConfigError(f"{out}: no finished cell to report")
    df = pd.DataFrame(rows)
    atomic_write_text(out / "results.csv", df.to_csv(index=False))
    wall = None if report_only else time.perf_counter() - t_start
    atomic_write_text(out / "results.md", results_markdown(
        df, cfg, preds, _machine(cfg), wall_seconds=wall, jobs=jobs, missing=missing, failed=failed))
    base = baselines(df, preds, "test")
    plot_macro_f1(df, out / "results_macro_f1.png", base["majority"]["macro_f1"] if base else None)
    if failed:
        raise CellsFailed(failed)
    return df


def _only(settings: list[dict], only: Iterable[str] | None) -> list[dict]:
    """The settings named in ``only`` (all when None)."""
    if not only:
        return settings
    wanted = [str(x) for x in only]
    names = [str(st["name"]) for st in settings]
    unknown = [w for w in wanted if w not in names]
    if unknown:
        raise ConfigError(f"no setting named {unknown[0]!r} (settings: {', '.join(names)})")
    return [st for st in settings if st["name"] in wanted]


def _plan(cfg: Mapping, settings: list[dict], seeds: list[int], out: Path, jobs: int) -> list[tuple]:
    """(setting, seed, cell config, run folder) of every cell, checked against earlier runs."""
    plan = []
    for setting in settings:
        for seed in setting.get("seeds") or seeds:
            ccfg = cell_config(cfg, setting, seed)
            if jobs > 1:
                ccfg["trainer_cfg"]["progress"] = False
            run_dir = out / "runs" / f"{setting['name']}-s{seed}"
            _check_same_config(ccfg, run_dir)  # before anything runs: a user error, not a cell failure
            plan.append((setting, seed, ccfg, run_dir))
    return plan


def _collect(plan: list, timings: Mapping[int, dict], out: Path) -> tuple[list[dict], dict, list[str]]:
    """Rows, per-sequence predictions (by :func:`predictions_key`) and unfinished evaluations."""
    rows: list[dict[str, Any]] = []
    preds: dict = {}
    missing: list[str] = []
    for i, (setting, seed, _, run_dir) in enumerate(plan):
        name = str(setting["name"])
        for split, tag, _ in _evaluations(setting):
            mfile = metrics_path(run_dir, split, tag)
            if not mfile.is_file():
                missing.append(f"{name}-s{seed} ({split}, {tag})")
                continue
            report = json.loads(mfile.read_text())
            png = Path(f"{mfile.with_suffix('')}.confusion.png")
            if png.is_file():
                shutil.copyfile(png, out / "confusion" / f"{name}-s{seed}-{split}-{tag}.png")
            table = _read_predictions(Path(f"{mfile.with_suffix('')}.predictions.csv"))
            if table is not None:
                preds[predictions_key(name, seed, split, tag)] = table
            rows.append({"setting": name, "modality": setting.get("modality", ""),
                         "fusion": setting.get("fusion", ""), "seed": seed, "split": split,
                         "evaluated_with": tag, **flat_metrics(report),
                         "train_seconds": timings.get(i, {}).get("train_seconds"), "run_dir": str(run_dir)})
    return rows, preds, missing


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


def late_average_rows(plan: list, cfg: Mapping, preds: Mapping) -> tuple[list[dict[str, Any]], dict]:
    """A diagnostic row per seed and split: the separately trained silhouette-only and
    skeleton-only models' class probabilities averaged (no training). If this beats the better
    single model, the two modalities carry complementary information that a fused model could
    use; if it does not, a fused model has little to gain on this data.

    Returns:
        the rows and their predictions tables (keyed as ``preds``).
    """
    import pandas as pd

    from gaitpose.engine.metrics import classification_report

    names: dict[str, str] = {}
    for setting, _, _, _ in plan:
        names.setdefault(str(setting.get("modality", "")), str(setting["name"]))
    if "silhouette" not in names or "skeleton" not in names:
        return [], {}
    label = f"late-average({names['silhouette']}, {names['skeleton']})"
    cols = [f"p_{c}" for c in LABELS]
    rows, tables = [], {}
    for seed in sorted({int(p[1]) for p in plan}):
        for split in SPLITS:
            a = preds.get(predictions_key(names["silhouette"], seed, split, "all"))
            b = preds.get(predictions_key(names["skeleton"], seed, split, "all"))
            if a is None or b is None or list(a["id"]) != list(b["id"]) or list(a["true"]) != list(b["true"]):
                continue  # not the same sequences in the same order: nothing to average
            probs = (a[cols].to_numpy(float) + b[cols].to_numpy(float)) / 2
            y = np.array([LABELS.index(t) for t in a["true"]])
            subjects = list(a["subject"].astype(str)) if "subject" in a else None
            report = classification_report(y, np.log(np.clip(probs, 1e-12, None)), bootstrap=int(
                cfg["evaluator_cfg"].get("bootstrap") or 0), subjects=subjects, logit_scale=1.0)
            table = pd.DataFrame({"id": a["id"], "subject": a.get("subject", a["id"]), "true": a["true"],
                                  "pred": [LABELS[k] for k in probs.argmax(1)], **dict(zip(cols, probs.T))})
            tables[predictions_key(label, seed, split, "all")] = table
            rows.append({"setting": label, "modality": "ensemble", "fusion": "probability average",
                         "seed": seed, "split": split, "evaluated_with": "all", **flat_metrics(report),
                         "train_seconds": None, "run_dir": ""})
    return rows, tables
