#!/usr/bin/env bash
# Tunes the "gpu" conv variant on this machine's adapter, then checks and times the choice:
#   bash bench/gpu_tune.sh OUTDIR [TM,TN,WG/GROUPS …]
# 1. times the 64×64 training step (batch 64, width 64) under each register tile (ANOGAN_GPU_CONV_TILE)
#    and split-K target (ANOGAN_GPU_SPLIT_GROUPS) given, or under a built-in list;
# 2. with the fastest: the conv tests against the float64 oracle, one training step's profile, and
#    the train and mapping benchmarks (64×64 and 32×32) beside PyTorch CPU and CUDA (ANOGAN_PYTHON
#    names the Python with CUDA's PyTorch, if not /usr/bin/python3).
# Everything goes to OUTDIR/log, the benchmarks' JSON to OUTDIR/results.tar.gz; the last lines are
# the sweep's table and the summary.
set -uo pipefail
export NO_COLOR=1 ANOGAN_CONV_VARIANT=gpu
. "$(dirname "$0")/gpu_parts.sh" "${1:?usage: bash bench/gpu_tune.sh OUTDIR [TM,TN,WG/GROUPS …]}"
shift
configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(4,4,64/512 4,4,64/2048 4,4,64/4096 4,4,64/8192 8,4,64/2048 \
  4,8,64/2048 8,8,64/2048 8,8,128/2048 4,4,128/2048 4,4,32/2048)

# The sweep: ms per training step under each configuration, from the benchmark's "ours: N ms/step".
best="" best_ms=""
table=("| tile TM,TN,WG | split-K groups | ms/step | img/s |" "| --- | --- | --- | --- |")
for c in "${configs[@]}"; do
  tile=${c%/*} groups=${c#*/}
  export ANOGAN_GPU_CONV_TILE=$tile ANOGAN_GPU_SPLIT_GROUPS=$groups
  part "sweep $c" 60 deno task bench train --size 64 --iters 10 --no-tfjs --no-torch
  ms=$(grep -E '^ours: [0-9.]+ ms/step' "$log" | tail -n 1 | awk '{print $2}')
  if [ -z "$ms" ] || ! tail -n 1 "$log" | grep -q 'rc 0'; then
    table+=("| $tile | $groups | failed | — |")
    continue
  fi
  table+=("| $tile | $groups | $ms | $(awk -v m="$ms" 'BEGIN { printf "%.0f", 64000 / m }') |")
  if [ -z "$best_ms" ] || awk -v a="$ms" -v b="$best_ms" 'BEGIN { exit !(a < b) }'; then
    best=$c best_ms=$ms
  fi
done
printf '%s\n' "${table[@]}" | tee -a "$log"
[ -n "$best" ] || { echo "no configuration ran"; exit 1; }
echo "fastest: $best ($best_ms ms/step)" | tee -a "$log"

export ANOGAN_GPU_CONV_TILE=${best%/*} ANOGAN_GPU_SPLIT_GROUPS=${best#*/}
part tests 90 deno test --allow-read --allow-write --allow-env --allow-run tests/conv_test.ts \
  tests/mapping_torch_test.ts
part profile64 60 deno task bench train --size 64 --iters 10 --no-tfjs --no-torch --profile
part train64 90 deno task bench train --size 64 --iters 10 --no-tfjs --no-wasm
part mapping64 90 deno task bench mapping --size 64 --batches 64,256 --steps 20 --no-tfjs
part train32 60 deno task bench train --size 32 --iters 10 --no-tfjs --no-wasm
part mapping32 60 deno task bench mapping --size 32 --batches 64,256 --steps 20 --no-tfjs

grep -E '^\| |^=== |passed|failed|FAILED|rror' "$log" | grep -v '^| --- ' | tail -n 60
printf '%s\n' "${table[@]}"
echo "fastest: $best ($best_ms ms/step)"
printf '%s\n' "${summary[@]}"
