#!/usr/bin/env bash
# The full experiment grids, prepared for a machine with a CUDA GPU (not run on the 2-core
# CPU machines this project was built on). Run from the repository root:
#
#   bash experiments/gpu_full_grid.sh                         # synthetic full grid
#   S1K_ROOT=/data/Scoliosis1K-sil-pkl S1K_POSE_ROOT=/data/Scoliosis1K-pose-pkl \
#   S1K_PARTITION=/data/OpenGait/datasets/Scoliosis1K/Scoliosis1K_1116.json \
#       bash experiments/gpu_full_grid.sh                     # + the Scoliosis1K grid
#
# Every grid is resumable: re-running skips finished cells and resumes interrupted ones.
# Results tables are copied to experiments/results/ for committing.
set -euo pipefail
cd "$(dirname "$0")/.."
GAITPOSE=${GAITPOSE:-gaitpose}
OUT=${OUT:-runs/gpu}
python - <<'PY'
import torch
if not torch.cuda.is_available():
    raise SystemExit("gpu_full_grid.sh: no CUDA device visible (torch.cuda.is_available() is False)")
print("GPU:", torch.cuda.get_device_name(0))
PY

# 1. synthetic cohort, full grid: silhouette / skeleton / fused (concat, gated) x 5 seeds,
#    fused models also evaluated with each stream removed. The cohort is made on first use.
time $GAITPOSE experiment experiments/synthetic_cross_modal.yaml -o "$OUT/synthetic_cross_modal" \
    --set data.num_workers=8
cp "$OUT/synthetic_cross_modal/results.md" experiments/results/synthetic_cross_modal.md
cp "$OUT/synthetic_cross_modal/results.csv" experiments/results/synthetic_cross_modal.csv
cp "$OUT/synthetic_cross_modal/results_macro_f1.png" experiments/results/synthetic_cross_modal_macro_f1.png

# 2. Scoliosis1K (needs the data; see experiments/README.md for the layout and partitions)
if [[ -n "${S1K_ROOT:-}" ]]; then
    : "${S1K_PARTITION:?set S1K_PARTITION to an OpenGait Scoliosis1K partition JSON}"
    SETS=(--set "data.dataset_root=$S1K_ROOT" --set "data.dataset_partition=$S1K_PARTITION"
          --set data.num_workers=8)
    if [[ -n "${S1K_POSE_ROOT:-}" ]]; then SETS+=(--set "data.pose_root=$S1K_POSE_ROOT"); fi
    NPROC=${NPROC:-1}
    if [[ "$NPROC" -gt 1 ]]; then
        # the reference ScoNet-MT recipe alone, on several GPUs (DDP, SyncBatchNorm)
        torchrun --standalone --nproc_per_node="$NPROC" -m gaitpose train \
            experiments/scoliosis1k_sconet_mt.yaml -o "$OUT/s1k_sconet_mt" "${SETS[@]}"
    else
        $GAITPOSE train experiments/scoliosis1k_sconet_mt.yaml -o "$OUT/s1k_sconet_mt" "${SETS[@]}"
    fi
    $GAITPOSE evaluate experiments/scoliosis1k_sconet_mt.yaml "${SETS[@]}" \
        --checkpoint "$OUT/s1k_sconet_mt/checkpoints/latest.pt" -o "$OUT/s1k_sconet_mt/metrics.json"
    time $GAITPOSE experiment experiments/scoliosis1k_cross_modal.yaml -o "$OUT/s1k_cross_modal" "${SETS[@]}"
    cp "$OUT/s1k_cross_modal/results.md" experiments/results/scoliosis1k_cross_modal.md
    cp "$OUT/s1k_cross_modal/results.csv" experiments/results/scoliosis1k_cross_modal.csv
fi
echo "done: results in $OUT and experiments/results/"
