#!/bin/bash
# One call on the lent GPU machine (see docs/PERFORMANCE.md, docs/ACCURACY.md):
# (1) SlowFast R50 with random weights, exported and timed on the CPU
# runtimes pinned to 2 cores; (2) the demo model trained on the GPU.
# Expects .devbin/actrec-synth and .devbin/infer-bench built on the build
# machine (tools/bench/README.md says how).
set -uo pipefail
OUT=${OUT:-/tmp/out}
PY=$(command -v python3)
ORT_LIB=$($PY -c 'import onnxruntime, pathlib; print(next(pathlib.Path(onnxruntime.__file__).parent.glob("capi/libonnxruntime.so.1*")))')
export PYTHONUNBUFFERED=1
{
  echo "== SlowFast R50, random weights"
  timeout 150 $PY tools/bench/export_slowfast_r50.py --out /tmp/r50 &&
    ACTREC_BENCH_MODEL=/tmp/r50 ORT_DYLIB_PATH=$ORT_LIB timeout 120 taskset -c 0,1 .devbin/infer-bench --bench
  echo "== the demo model, same runtimes, same 2 cores"
  ACTREC_BENCH_MODEL=config/models/demo ORT_DYLIB_PATH=$ORT_LIB timeout 60 taskset -c 0,1 .devbin/infer-bench --bench
} 2>&1 | tee $OUT/r50.log
$PY tools/train/train.py --synth .devbin/actrec-synth --out $OUT/model --minutes ${MINUTES:-5.5} 2>&1 | tee $OUT/train.log
