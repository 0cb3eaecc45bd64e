#!/bin/bash
# gaitpose extraction as a SLURM array job, one shard of the sorted videos per array task:
#   jid=$(sbatch --parsable experiments/slurm_extract.sh VIDEOS_DIR OUT_DIR)
# then, once every task has finished:
#   sbatch --dependency=afterok:$jid --wrap "gaitpose extract --merge-manifests OUT_DIR/poses"
#   sbatch --dependency=afterok:$jid --array=0-15 --wrap \
#     'gaitpose features OUT_DIR/poses -o OUT_DIR/features/part-$SLURM_ARRAY_TASK_ID.csv --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT'
#   gaitpose features --join OUT_DIR/features/part-*.csv -o OUT_DIR/features.csv
# (features shards must start after extraction has finished: each shard lists the .npz files.)
#SBATCH --job-name=gaitpose-extract
#SBATCH --array=0-15
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=04:00:00
set -euo pipefail
videos=${1:?videos folder}
out=${2:?output folder}
# Exit code 1 means some videos failed (listed in the shard's manifest); the shard still counts.
gaitpose extract "$videos" -o "$out/poses" -q --shard "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT" || [ $? -eq 1 ]
