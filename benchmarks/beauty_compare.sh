#!/usr/bin/env bash
# The Beauty comparison, all runs side by side on one machine (made for one GPU):
# plain SASRec on three seeds and in float32, SRA-CL with title neighbours exactly
# as specified, and the two fast variants that change the math.
#
#   benchmarks/beauty_compare.sh OUT_DIR INTERACTIONS NEIGHBOURS [DEADLINE_S] [EPOCHS]
#
# NEIGHBOURS is written by benchmarks/title_neighbours.py. Each run stops at early
# stopping, the epoch cap or the first epoch ending past DEADLINE_S, then tests its
# best checkpoint; OUT_DIR/<run>.json holds its per-epoch record (rewritten every
# epoch) and OUT_DIR/all.log every run's output, each line prefixed by the run name.
set -uo pipefail
out=${1:?OUT_DIR}; data=${2:?INTERACTIONS}; neighbours=${3:?NEIGHBOURS}
deadline=${4:-380}; epochs=${5:-60}
python=${PYTHON:-python3}
checkpoints=${CHECKPOINTS:-/tmp/sracl_beauty_compare}
mkdir -p "$out"
pids=(); names=()

launch() {
  local name=$1; shift
  PYTHONUNBUFFERED=1 "$python" benchmarks/beauty_baseline.py --data "$data" \
    --epochs "$epochs" --threads 2 --deadline-s "$deadline" --test-each-epoch \
    --json "$out/$name.json" --out "$checkpoints/$name" "$@" 2>&1 \
    | sed -u "s/^/$name: /" >> "$out/all.log" &
  pids+=($!); names+=("$name")
}

launch sasrec-s2024 --seed 2024
launch sasrec-s2025 --seed 2025
launch sasrec-s2026 --seed 2026
launch sasrec-fp32-s2024 --seed 2024 --no-amp
launch sracl-s2024 --seed 2024 --method sracl --neighbours "$neighbours"
launch sracl-nograd-s2024 --seed 2024 --method sracl --neighbours "$neighbours" \
  --objective '{"neighbour_gradients": false}'
launch sracl-dedup-shared-s2024 --seed 2024 --method sracl --neighbours "$neighbours" \
  --objective '{"dedup_neighbours": true, "share_anchor_encoding": true}'

failed=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    echo "run ${names[$i]} failed; see $out/all.log" >&2
    failed=1
  fi
done
exit $failed
