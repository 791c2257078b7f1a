#!/usr/bin/env bash
# Tag a data set with a Slurm job array: each array task tags its shard of
# the image list into the sharded-store folder, then one dependent job
# merges the shards into the store one process would have written.
#
#   sbatch --export=ALL,LIST=/data/list.txt,LABELS=/data/labels.csv,OUT=/data/tags slurm_tag.sh
#   # when it is done (or: sbatch --dependency=afterok:JOBID --wrap "prime merge ...")
#   prime merge --output /data/tags.prime /data/tags.prmd
#
# prime reads SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT and
# SLURM_ARRAY_TASK_MIN itself (an --array range with step 1); a rerun of a
# failed task replaces its own shard. examples/scale/run_examples.sh runs this
# script with those variables set by hand.
#SBATCH --job-name=prime-tag
#SBATCH --array=0-7
#SBATCH --cpus-per-task=4
#SBATCH --time=04:00:00
set -euo pipefail
PRIME=${PRIME:-prime}
: "${LIST:?set LIST to the image list}" "${LABELS:?set LABELS to the labels CSV}" "${OUT:?set OUT}"
# --backend torch --model ram.pt --vocab ram_tags.txt for RAM; properties needs no model
"$PRIME" tag --images "$LIST" --labels "$LABELS" --backend "${BACKEND:-properties}" \
  --threads "${SLURM_CPUS_PER_TASK:-4}" --output "$OUT.prmd"
