#!/usr/bin/env bash
# One short, prepared GPU session: the model benchmark and the full synthetic grid, within a
# wall-clock budget, everything worth keeping packed into one folder.
#
#   bash experiments/gpu_session.sh OUTDIR [BUDGET_SECONDS]      (default budget 500 s)
#
# Steps (each logged with its time to OUTDIR/session.log):
#   1. environment: GPU, driver, Python, torch, torch-geometric, numpy;
#   2. experiments/benchmarks/model_speed.py at the reference sizes (P x K 8 x 8, 30 silhouette
#      frames, ResNet-9 64..512, COCO-17, bf16) with the variant's skeleton stream (four input
#      streams, the measure token, 60-frame clips; late fusion) -> OUTDIR/model_speed_gpu.{json,png};
#   3. a probe: the same benchmark at the grid's sizes (fp16, as the trainer uses), from which
#      the grid's GPU time is predicted; when 5 seeds x the settings' steps (3 silhouette-bearing
#      + 1 skeleton, from the config) would not fit in what is left of the budget, total_iter
#      (and the milestone, at 80 %) is scaled down and the log says so;
#   4. gaitpose experiment experiments/synthetic_cross_modal.yaml (cohort made on first use),
#      stopped at the budget's end; the tables are then rebuilt from the finished cells
#      (--report-only), so a stopped grid still reports what finished;
#   5. OUTDIR/results.{md,csv}, OUTDIR/results_macro_f1.png and OUTDIR/grid_small_files.tar.gz
#      (per-cell logs, metrics, predictions, confusion PNGs; no checkpoints).
# Runs from a source checkout with the interpreter's own torch (PYTHONPATH=repo root).
# Environment: PYTHON (python3), RUN (runs/gpu_session), JOBS (6 cells at a time), GRID_SETS
# (extra space-separated KEY=VALUE overrides for the grid), ALLOW_CPU=1 + DEVICE=cpu to rehearse
# the script on a machine without a GPU (tiny GRID_SETS advised), REF_BENCH_ARGS / PROBE_ARGS
# (benchmark arguments; defaults "--steps 20 --warmup 5" / "--steps 30 --warmup 5"), SKIP_BENCH=1
# (no benchmark and no probe: the grid runs at the config's length, stopped at the budget's
# end), OVERLAP (how much faster JOBS cells at a time run than the probe's serial sum; 1.5),
# ONLY (comma-separated settings to run), GRID (grid folder name under RUN; "grid").
set -uo pipefail
cd "$(dirname "$0")/.."
OUTDIR=${1:?usage: gpu_session.sh OUTDIR [BUDGET_SECONDS]}
BUDGET=${2:-500}
PY=${PYTHON:-python3}
RUN=${RUN:-runs/gpu_session}
JOBS=${JOBS:-6}
mkdir -p "$OUTDIR" "$RUN"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
T0=$(date +%s)
log() { echo "[$(( $(date +%s) - T0 )) s] $*" | tee -a "$OUTDIR/session.log"; }
left() { echo $(( BUDGET - ($(date +%s) - T0) )); }

log "1. environment"
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
  "$PY" - <<'PY'
import platform, numpy, torch, torch_geometric
print("python", platform.python_version(), "| torch", torch.__version__, "| cuda", torch.version.cuda,
      "| torch_geometric", torch_geometric.__version__, "| numpy", numpy.__version__,
      "| cuda available", torch.cuda.is_available(), "| cpus", __import__("os").cpu_count())
PY
} 2>&1 | tee -a "$OUTDIR/session.log"
DEVICE=${DEVICE:-cuda}
if [[ "$DEVICE" == cuda ]] && ! "$PY" -c "import torch,sys; sys.exit(not torch.cuda.is_available())"; then
    log "no CUDA device visible; stopping (ALLOW_CPU=1 DEVICE=cpu rehearses on the CPU)"
    [[ "${ALLOW_CPU:-0}" == 1 ]] || exit 2
fi

GRID=${GRID:-grid}
CFG=experiments/synthetic_cross_modal.yaml
ONLY_ARGS=()
[[ -n "${ONLY:-}" ]] && ONLY_ARGS=(--only "$ONLY")
if [[ "${SKIP_BENCH:-0}" != 1 ]]; then
log "2. model benchmark, reference sizes"
timeout 120 "$PY" experiments/benchmarks/model_speed.py --device "$DEVICE" --amp bf16 --fusion late --streams --measures --skeleton-frames 60 ${REF_BENCH_ARGS:---steps 20 --warmup 5} \
    --json "$OUTDIR/model_speed_gpu.json" --png "$OUTDIR/model_speed_gpu.png" \
    2>&1 | tee -a "$OUTDIR/session.log"

log "3. probe at the grid's sizes"
timeout 90 "$PY" experiments/benchmarks/model_speed.py --device "$DEVICE" --amp fp16 --fusion late --streams --measures --skeleton-frames 60 \
    ${PROBE_ARGS:---steps 30 --warmup 5} --p 8 --k 4 --frames 30 --channels 32,64,128,256 --pose-channels 32,64,128 \
    --layout mediapipe33 --skip-graph-bench --json "$RUN/probe.json" 2>&1 | tee -a "$OUTDIR/session.log"
fi
SETS=(--set data.num_workers=2 --set data.synth.workers=16 --set trainer.num_threads=1)
for kv in ${GRID_SETS:-}; do SETS+=(--set "$kv"); done
PLAN=$("$PY" - "$CFG" "$RUN/probe.json" "$(left)" "$JOBS" "${GRID_SETS:-}" "${OVERLAP:-1.5}" 2>>"$OUTDIR/session.log" <<'PY'
import json, sys
import yaml
cfg = yaml.safe_load(open(sys.argv[1]))
iters = int(cfg["trainer_cfg"]["total_iter"])
for kv in (sys.argv[5] if len(sys.argv) > 5 else "").split():
    if kv.startswith("trainer.total_iter="):
        iters = int(kv.split("=", 1)[1])
left, jobs = float(sys.argv[3]), int(sys.argv[4])
try:
    r = json.load(open(sys.argv[2]))
    t_f, t_s = r["FusionScoNet"]["median_s"], r["SkeletonGCN"]["median_s"]
except Exception as exc:  # no probe: keep the config's length
    print(f"# probe unreadable ({exc}); keeping total_iter {iters}", file=sys.stderr)
    print(iters, iters); raise SystemExit
# GPU-bound estimate: seeds x the settings' training steps (a setting's own
# trainer.total_iter, else the base's) x the probe's step time at the grid's clips
# (silhouette-bearing settings -- silhouette, skeleton map, fused, 30 silhouette frames each --
# the fused step; skeleton settings the skeleton step), serialised on the one GPU, divided by
# OVERLAP (cells at a time share the GPU better than serially: the H200 session's 12 cells took
# 246 s where such a sum predicted 471 s, i.e. 1.9; 1.5 keeps a margin); 90 s for start-up,
# cohort, precise BN and evaluation (validation and test)
seeds = len(cfg["experiment"]["seeds"])
overlap = float(sys.argv[6]) if len(sys.argv) > 6 else 1.5

def seconds(setting, n):
    steps = int((setting.get("set") or {}).get("trainer.total_iter", n))
    return steps * (t_s if setting.get("modality") == "skeleton" else t_f)

need = lambda n: seeds * sum(seconds(s, n) for s in cfg["experiment"]["settings"]) / overlap + 90
fit = iters
while need(fit) > 0.9 * left and fit > 200:
    fit -= 100
print(f"# probe: fused {t_f*1e3:.1f} ms/step, skeleton {t_s*1e3:.1f} ms/step; "
      f"{iters} iterations need ~{need(iters):.0f} s, {left:.0f} s left -> total_iter {fit}",
      file=sys.stderr)
print(fit, iters)
PY
)
read -r ITERS CFG_ITERS <<< "$(echo "$PLAN" | tail -1)"
if [[ "$ITERS" != "$CFG_ITERS" ]]; then
    SETS+=(--set "trainer.total_iter=$ITERS" --set "scheduler.milestones=[$(( ITERS * 4 / 5 ))]"
           --set "trainer.save_iter=$ITERS")
    log "grid scaled to total_iter $ITERS (config: $CFG_ITERS) to fit the budget"
fi

log "4. synthetic full grid (${JOBS} cells at a time, $(left) s left)"
timeout --signal=INT --kill-after=20 "$(( $(left) - 25 ))" \
    "$PY" -m gaitpose experiment "$CFG" -o "$RUN/$GRID" -j "$JOBS" "${SETS[@]}" "${ONLY_ARGS[@]}" \
    2>&1 | tr "\r" "\n" | tee -a "$OUTDIR/session.log"
log "grid exit status ${PIPESTATUS[0]}"
"$PY" -m gaitpose experiment "$CFG" -o "$RUN/$GRID" "${SETS[@]}" "${ONLY_ARGS[@]}" --report-only \
    > "$RUN/report.txt" 2>&1 || log "report-only failed: $(tail -1 "$RUN/report.txt")"

log "5. packing"
for f in results.md results.csv results_macro_f1.png; do
    [[ -f "$RUN/$GRID/$f" ]] && cp "$RUN/$GRID/$f" "$OUTDIR/$f"
done
cp "$RUN/probe.json" "$OUTDIR/" 2>/dev/null
(cd "$RUN" && tar czf - --exclude=checkpoints --exclude='*.pt' "$GRID/runs" "$GRID/confusion" \
    "$GRID/experiment.yaml" 2>/dev/null) > "$OUTDIR/grid_small_files.tar.gz"
log "done"
