#!/bin/bash
# CUDA preprocessing on the lent GPU (docs/GPU.md, docs/PERFORMANCE.md).
# The GPU machine has no Rust toolchain, so this runs in two halves:
#
#   tools/bench/cuda-preprocess.sh build
#       here: builds actrec-preprocess's GPU test and benchmark (cudarc,
#       CUDA 13 API, libraries opened at run time) into .devbin/cuda/;
#   tools/bench/cuda-preprocess.sh run
#       on the GPU machine, from the repository root with .devbin carried
#       (the device tool's `carry`): runs both, logs into $OUT.
set -euo pipefail
FEATURE=${FEATURE:-cuda-13000}
case ${1:?usage: cuda-preprocess.sh build|run} in
  build)
    mkdir -p .devbin/cuda
    for kind in "test --release" bench; do
      # shellcheck disable=SC2086
      cargo $kind --no-run -p actrec-preprocess --features "$FEATURE" --message-format=json-render-diagnostics |
        python3 -c '
import json, shutil, sys
for line in sys.stdin:
    m = json.loads(line)
    name = m.get("target", {}).get("name")
    if m.get("reason") == "compiler-artifact" and m.get("executable") and name in ("gpu_matches_cpu", "gpu_window"):
        shutil.copy(m["executable"], ".devbin/cuda/" + name)
        print("built", name)'
    done
    ls -la .devbin/cuda ;;
  run)
    OUT=${OUT:-/tmp/out}
    # NVRTC and the driver: cudarc opens them by name.
    libs=$(find /usr/local/cuda*/lib64 /usr/lib/x86_64-linux-gnu / -xdev \( -name 'libnvrtc.so*' -o -name 'libcuda.so*' \) \
             -printf '%h\n' 2>/dev/null | sort -u | paste -sd: || true)
    export LD_LIBRARY_PATH=${libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv | tee "$OUT/gpu.txt"
    .devbin/cuda/gpu_matches_cpu --nocapture --test-threads 1 2>&1 | tee "$OUT/gpu_matches_cpu.log"
    .devbin/cuda/gpu_window 2>&1 | tee "$OUT/gpu_window.jsonl" ;;
  *) echo "usage: cuda-preprocess.sh build|run" >&2; exit 2 ;;
esac
