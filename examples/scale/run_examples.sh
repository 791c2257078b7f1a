#!/usr/bin/env bash
# Runs the examples of this folder on one machine with their schedulers'
# variables set by hand, and checks that each merged store equals the
# one-process store (cmp). Used by tests/scale/scale_test.sh.
#   run_examples.sh PRIME LIST LABELS ONE_PROCESS_STORE WORKDIR
set -euo pipefail
prime=$1 list=$2 labels=$3 one=$4 work=$5
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
# Slurm: the array 0-7 of slurm_tag.sh (its #SBATCH --array line)
n=$(sed -n 's/^#SBATCH --array=0-\([0-9]*\)$/\1/p' "$here/slurm_tag.sh")
n=$((n + 1))
for ((i = 0; i < n; i++)); do
  SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_COUNT=$n SLURM_ARRAY_TASK_MIN=0 SLURM_CPUS_PER_TASK=1 \
    PRIME=$prime LIST=$list LABELS=$labels OUT=$work/slurm bash "$here/slurm_tag.sh"
done
"$prime" merge --output "$work/slurm.prime" "$work/slurm.prmd"
cmp "$work/slurm.prime" "$one"
echo "slurm_tag.sh: $n array tasks merged equal one process"
# Kubernetes: the Indexed Job's command, /data mapped to a folder holding the inputs
mkdir -p "$work/data"
cp "$list" "$work/data/list.txt"; cp "$labels" "$work/data/labels.csv"
ln -sfn "$(cd "$(dirname "$list")" && pwd)/img" "$work/data/img"
n=$(sed -n 's/^  completions: \([0-9]*\)$/\1/p' "$here/k8s_indexed_job.yaml")
mapfile -t cmd < <(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    if line.strip().startswith("command:"):
        for a in json.loads(line.split("command:", 1)[1]):
            print(a.replace("/data", sys.argv[2]))
' "$here/k8s_indexed_job.yaml" "$work/data")
[ "${cmd[0]}" = prime ] || { echo "k8s_indexed_job.yaml: no prime command found"; exit 1; }
for ((i = 0; i < n; i++)); do
  JOB_COMPLETION_INDEX=$i PRIME_SHARD_COUNT=$n "$prime" "${cmd[@]:1}"
done
"$prime" merge --output "$work/k8s.prime" "$work/data/tags.prmd"
cmp "$work/k8s.prime" "$one"
echo "k8s_indexed_job.yaml: $n indexes merged equal one process"
# Python, concurrent.futures
python3 "$here/tag_parallel.py" "$list" "$labels" "$work/py" 5 "$prime"
cmp "$work/py.prime" "$one"
echo "tag_parallel.py: 5 shards merged equal one process"
