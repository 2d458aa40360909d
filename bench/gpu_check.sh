#!/usr/bin/env bash
# Checks and times this runtime on a machine with a discrete GPU, beside PyTorch CUDA, in one go:
#   bash bench/gpu_check.sh OUTDIR
# 1. the adapter, and the kernel-level correctness tests (float64 oracle, PyTorch fixtures) on it;
# 2. `deno task bench` train (64×64, 32×32), mapping (64×64, 32×32) and kernels, each against
#    TensorFlow.js WebGPU on the same adapter and PyTorch CPU and CUDA (ANOGAN_PYTHON names the Python
#    with CUDA's PyTorch, if not /usr/bin/python3);
# 3. one training step's profile, and the "cpu" conv variant's training step on the same adapter.
# Each part has its own time limit, so one that hangs costs only its share. Everything goes to
# OUTDIR/log; the benchmarks' JSON to OUTDIR/results.tar.gz. The last lines are a summary.
set -uo pipefail
export NO_COLOR=1
. "$(dirname "$0")/gpu_parts.sh" "${1:?usage: bash bench/gpu_check.sh OUTDIR}"

bench=(deno task bench)
part adapter 60 deno task adapter
part tests 150 deno test --allow-read --allow-write --allow-env --allow-run \
  tests/conv_test.ts tests/batchnorm_test.ts tests/ops_test.ts tests/runtime_test.ts \
  tests/dcgan_torch_test.ts tests/mapping_torch_test.ts tests/fold_test.ts tests/mlp_test.ts
part train64 120 "${bench[@]}" train --size 64 --iters 10 --tfjs-iters 3 --no-wasm
part mapping64 120 "${bench[@]}" mapping --size 64 --batches 64,256 --steps 20 --tfjs-batches 64 \
  --tfjs-steps 5 --no-wasm
part train32 90 "${bench[@]}" train --size 32 --iters 10 --tfjs-iters 3 --no-wasm
part mapping32 90 "${bench[@]}" mapping --size 32 --batches 64,256 --steps 20 --tfjs-batches 64 \
  --tfjs-steps 5 --no-wasm
part kernels 120 "${bench[@]}" kernels --iters 5 --no-wasm
part profile64 90 "${bench[@]}" train --size 64 --iters 5 --no-tfjs --no-torch --profile
part cpuvariant64 90 env ANOGAN_CONV_VARIANT=cpu "${bench[@]}" train --size 64 --iters 5 --no-tfjs --no-torch

# The tables each benchmark printed, then the summary: what the caller sees first.
grep -E '^\| |^=== |GFLOP|img|error|Error|FAILED|passed|failed' "$log" | tail -n 120
printf '%s\n' "${summary[@]}"
