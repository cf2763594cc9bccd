#!/bin/bash
# The TensorRT shim's preprocessing on the GPU (actrec_window.cu: window.cu
# built by nvcc, as on the Nano) against actrec's CPU reference, on the lent
# GPU, which has nvcc and CMake but neither TensorRT nor a Rust toolchain
# (docs/GPU.md). Two halves:
#
#   tools/bench/shim-window.sh build
#       here: builds the fixture writer (actrec-preprocess's example
#       window_fixture) into .devbin/shim/;
#   tools/bench/shim-window.sh run
#       on the GPU machine, from the repository root with .devbin carried:
#       builds the shim's window code and its check with nvcc alone
#       (-DACTREC_WINDOW_CHECK_ONLY=ON), writes NV12 and RGBA fixtures and
#       checks both; logs into $OUT.
set -euo pipefail
case ${1:?usage: shim-window.sh build|run} in
  build)
    mkdir -p .devbin/shim
    cargo build --release -q -p actrec-preprocess --example window_fixture
    cp "${CARGO_TARGET_DIR:-target}/release/examples/window_fixture" .devbin/shim/
    ls -la .devbin/shim ;;
  run)
    OUT=${OUT:-/tmp/out}
    build=/tmp/actrec-shim-window
    arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)
    cmake -S app/infer/trt-shim -B "$build" -DACTREC_WINDOW_CHECK_ONLY=ON -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_CUDA_ARCHITECTURES="$arch" 2>&1 | tee "$OUT/shim-window-build.log"
    cmake --build "$build" 2>&1 | tee -a "$OUT/shim-window-build.log"
    nvcc --version | tail -2 | tee -a "$OUT/shim-window-build.log"
    status=0
    for format in nv12 rgba; do
      .devbin/shim/window_fixture "/tmp/fixture-$format" "$format"
      "$build/window_check" "/tmp/fixture-$format" | tee -a "$OUT/shim-window.jsonl" || status=1
    done
    exit $status ;;
  *) echo "usage: shim-window.sh build|run" >&2; exit 2 ;;
esac
