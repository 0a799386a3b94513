#!/usr/bin/env bash
# Full check of the CUDA backend on a machine with a GPU:
#   1. build and install the extension with CUDA (TORCH_CUDA_ARCH_LIST: the local GPU's unless set)
#   2. the CUDA compile check with resource usage (tools/check_cuda_compile.sh)
#   3. the test suite (cpu and cuda devices), then tests/test_cuda.py
#   4. compute-sanitizer memcheck, racecheck and synccheck on tools/cuda_smoke.py, if available
#   5. the CUDA benchmarks: benchmarks/bench.py --device cuda --out OUTDIR/bench_cuda.json
# Every step's output is tee'd to OUTDIR/<step>.log and listed in OUTDIR/summary.log; the exit
# status is non-zero if any step failed.
#
#   tools/gpu_check.sh OUTDIR
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
PYTHON=${PYTHON:-$(command -v python || command -v python3)}
cd "$ROOT"
: > "$OUT/summary.log"
failed=0

# step NAME COMMAND...: runs COMMAND, logs to OUTDIR/NAME.log, records the result.
step() {
  local name=$1 start=$SECONDS rc
  shift
  echo "== $name: $*"
  "$@" 2>&1 | tee "$OUT/$name.log"
  rc=${PIPESTATUS[0]}
  if [ "$rc" -eq 0 ]; then
    echo "PASS $name ($((SECONDS - start)) s)" | tee -a "$OUT/summary.log"
  else
    echo "FAIL $name (exit $rc, $((SECONDS - start)) s)" | tee -a "$OUT/summary.log"
    failed=1
  fi
  return "$rc"
}

{
  nvidia-smi || true
  "$PYTHON" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda,
                  'cuDNN', torch.backends.cudnn.version(), torch.cuda.get_device_name())"
} 2>&1 | tee "$OUT/environment.log"

if [ -z "${TORCH_CUDA_ARCH_LIST:-}" ]; then
  TORCH_CUDA_ARCH_LIST=$("$PYTHON" -c "import torch; print('%d.%d' % torch.cuda.get_device_capability())") || {
    echo "no usable CUDA device" | tee -a "$OUT/summary.log"
    exit 1
  }
  export TORCH_CUDA_ARCH_LIST
fi
echo "TORCH_CUDA_ARCH_LIST=$TORCH_CUDA_ARCH_LIST" | tee -a "$OUT/environment.log"

if ! step build env FORCE_CUDA=1 "$PYTHON" -m pip install --no-build-isolation -v -e .; then
  echo "build failed: see $OUT/build.log" >&2
  exit 1
fi
step compile_check tools/check_cuda_compile.sh --resource-usage "$OUT/resource_usage.log"
step tests "$PYTHON" -m pytest -q tests --ignore=tests/test_cuda.py
step test_cuda "$PYTHON" -m pytest -v -rs tests/test_cuda.py

SANITIZER=$(command -v compute-sanitizer || true)
if [ -z "$SANITIZER" ]; then
  cuda_home=$("$PYTHON" -c "from torch.utils.cpp_extension import CUDA_HOME; print(CUDA_HOME or '')")
  [ -x "$cuda_home/bin/compute-sanitizer" ] && SANITIZER="$cuda_home/bin/compute-sanitizer"
fi
if [ -n "$SANITIZER" ]; then
  # Without the caching allocator every tensor is its own allocation, so overruns are caught. CUDA API
  # errors are left to PyTorch (whose start-up probes some); kernel launches are checked by torchconv.
  for tool in memcheck racecheck synccheck; do
    step "sanitizer_$tool" env PYTORCH_NO_CUDA_MEMORY_CACHING=1 \
      "$SANITIZER" --tool "$tool" --report-api-errors no --error-exitcode 1 "$PYTHON" tools/cuda_smoke.py
  done
else
  echo "SKIP sanitizer (compute-sanitizer not found)" | tee -a "$OUT/summary.log"
fi

step bench "$PYTHON" benchmarks/bench.py --device cuda --out "$OUT/bench_cuda.json"

echo "== summary ($OUT/summary.log)"
cat "$OUT/summary.log"
exit $failed
