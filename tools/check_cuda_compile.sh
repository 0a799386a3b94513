#!/usr/bin/env bash
# Compile check of the CUDA backend without a GPU and without building the extension: every
# csrc/cuda/*.cu with nvcc (sm_80 and sm_90), and any csrc/cuda/*.cpp with the host C++ compiler,
# against the installed PyTorch headers, with the flags setup.py uses. Objects are discarded.
#
#   tools/check_cuda_compile.sh [--resource-usage [LOG]] [FILE...]
#
# FILEs default to every csrc/cuda/*.cu and csrc/cuda/*.cpp. Prints one OK line per file, and the
# compiler's warnings about torchconv's own sources (those from PyTorch's headers are left out).
# --resource-usage adds `-Xptxas -v` and writes each kernel's registers, spills and shared memory
# to LOG (a path ending in .log; default build/cuda_resource_usage.log). A CPU-only PyTorch lacks
# c10/cuda/impl/cuda_cmake_macros.h; a one-line stand-in is then generated in a temporary directory.
# Environment: NVCC (default: nvcc on the PATH, else $CUDA_HOME/bin/nvcc), CXX (default g++), PYTHON
# (default: python, else python3).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
NVCC=${NVCC:-$(command -v nvcc || echo "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc")}
CXX=${CXX:-g++}
PYTHON=${PYTHON:-$(command -v python || command -v python3)}
LOG=""
FILES=()
while [ $# -gt 0 ]; do
  case "$1" in
    --resource-usage)
      LOG="$ROOT/build/cuda_resource_usage.log"
      case "${2-}" in *.log) LOG=$2; shift ;; esac
      ;;
    -*) echo "usage: $0 [--resource-usage [LOG]] [FILE...]" >&2; exit 2 ;;
    *) FILES+=("$(cd "$(dirname "$1")" && pwd)/$(basename "$1")") ;;
  esac
  shift
done
shopt -s nullglob
[ ${#FILES[@]} -gt 0 ] || FILES=("$ROOT"/csrc/cuda/*.cu "$ROOT"/csrc/cuda/*.cpp)

command -v "$NVCC" >/dev/null || { echo "nvcc not found (set NVCC)" >&2; exit 1; }

# PyTorch include directories, the C++ ABI flag and PyTorch's own nvcc flags for extensions.
mapfile -t TORCH_INFO < <("$PYTHON" - <<'EOF'
import torch
from torch.utils import cpp_extension as ce
print(" ".join("-I" + p for p in ce.include_paths()))
print(int(torch._C._GLIBCXX_USE_CXX11_ABI))
print(" ".join(ce.COMMON_NVCC_FLAGS))
EOF
) || { echo "cannot import torch with $PYTHON" >&2; exit 1; }
TORCH_INCLUDES=${TORCH_INFO[0]}
ABI="-D_GLIBCXX_USE_CXX11_ABI=${TORCH_INFO[1]}"
TORCH_NVCC_FLAGS=${TORCH_INFO[2]}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
INCLUDES="$TORCH_INCLUDES -I$ROOT/csrc"
torch_include=${TORCH_INCLUDES%% *}
torch_include=${torch_include#-I}
if [ ! -f "$torch_include/c10/cuda/impl/cuda_cmake_macros.h" ]; then
  mkdir -p "$TMP/include/c10/cuda/impl"
  echo "#define C10_CUDA_BUILD_SHARED_LIBS" > "$TMP/include/c10/cuda/impl/cuda_cmake_macros.h"
  INCLUDES="$INCLUDES -I$TMP/include"
fi

DEFINES="-DTORCHCONV_WITH_CUDA=1 -DTORCH_EXTENSION_NAME=_C $ABI"
# shellcheck disable=SC2206
NVCC_FLAGS=(-O3 -std=c++17 --expt-relaxed-constexpr $TORCH_NVCC_FLAGS
            -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90
            -Xcompiler -fPIC -Xcompiler -fvisibility=hidden)
CXX_FLAGS=(-O3 -std=c++17 -fPIC -fopenmp -fvisibility=hidden -Wall)
if [ -n "$LOG" ]; then
  mkdir -p "$(dirname "$LOG")"
  : > "$LOG"
  NVCC_FLAGS+=(-Xptxas -v)
fi

status=0
for src in "${FILES[@]}"; do
  name=${src#"$ROOT"/}
  out="$TMP/$(basename "$src").log"
  start=$SECONDS
  if [ "${src##*.}" = cu ]; then
    # shellcheck disable=SC2086
    "$NVCC" "${NVCC_FLAGS[@]}" $DEFINES $INCLUDES -c "$src" -o "$TMP/obj.o" >"$out" 2>&1
  else
    # shellcheck disable=SC2086
    "$CXX" "${CXX_FLAGS[@]}" $DEFINES $INCLUDES -c "$src" -o "$TMP/obj.o" >"$out" 2>&1
  fi
  rc=$?
  if [ $rc -ne 0 ]; then
    cat "$out"
    echo "FAIL $name"
    status=1
    continue
  fi
  if [ -n "$LOG" ] && [ "${src##*.}" = cu ]; then
    # Kernel names demangled where c++filt is available.
    { echo "== $name"; grep -E "ptxas info|bytes stack frame" "$out" | { command -v c++filt >/dev/null && c++filt || cat; }; } >> "$LOG"
  fi
  # Diagnostics that point into torchconv's sources.
  grep -A3 -E "^$ROOT/csrc/[^ ]*(\([0-9]+\)|:[0-9]+:[0-9]+:) *(warning|error)" "$out" || true
  echo "OK   $name ($((SECONDS - start)) s)"
done

if [ -n "$LOG" ]; then
  spills=$(grep -cE "[1-9][0-9]* bytes spill (stores|loads)" "$LOG" || true)
  echo "resource usage: $LOG (kernels with spills: $spills)"
fi
exit $status
