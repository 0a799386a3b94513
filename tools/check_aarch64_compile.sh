#!/usr/bin/env bash
# Compile check of the C++ sources for aarch64 (where only the portable kernels exist): every csrc/*.cpp,
# csrc/autograd, csrc/autocast, csrc/cpu/*.cpp and csrc/cpu/isa/*.cpp with a cross compiler against the
# installed PyTorch and Python headers (both LP64), with setup.py's flags at -O0 (a compile check,
# not a build: objects are discarded). Then checks that nothing references the x86 ISA units' tables: the dispatch takes the
# portable path.
#
#   tools/check_aarch64_compile.sh
#
# Environment: CXX_AARCH64 (default aarch64-linux-gnu-g++, Debian's g++-aarch64-linux-gnu), PYTHON.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CXX=${CXX_AARCH64:-aarch64-linux-gnu-g++}
PYTHON=${PYTHON:-$(command -v python || command -v python3)}
command -v "$CXX" >/dev/null || { echo "$CXX not found (Debian: apt-get install g++-aarch64-linux-gnu)" >&2; exit 1; }
NM=${CXX%g++}nm
command -v "$NM" >/dev/null || NM=nm

mapfile -t TORCH_INFO < <("$PYTHON" - <<'EOF'
import torch
from torch.utils import cpp_extension as ce
print(" ".join("-I" + p for p in ce.include_paths()))
print(int(torch._C._GLIBCXX_USE_CXX11_ABI))
import sysconfig
print(sysconfig.get_paths()["include"])
EOF
) || { echo "cannot import torch with $PYTHON" >&2; exit 1; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
status=0
shopt -s nullglob
for src in "$ROOT"/csrc/*.cpp "$ROOT"/csrc/autograd/*.cpp "$ROOT"/csrc/autocast/*.cpp "$ROOT"/csrc/cpu/*.cpp "$ROOT"/csrc/cpu/isa/*.cpp; do
  name=${src#"$ROOT"/}
  obj="$TMP/$(echo "$name" | tr / _).o"
  # shellcheck disable=SC2086
  if "$CXX" -O0 -std=c++17 -fopenmp -fvisibility=hidden -fPIC -D_GLIBCXX_USE_CXX11_ABI=${TORCH_INFO[1]} \
       -DTORCH_EXTENSION_NAME=_C ${TORCH_INFO[0]} -I"${TORCH_INFO[2]}" -I"$ROOT/csrc" -c "$src" -o "$obj" 2> "$TMP/err"; then
    echo "OK   $name"
  else
    echo "FAIL $name"; grep -E "error" "$TMP/err" | head -20; status=1
  fi
done
if [ $status -eq 0 ]; then
  refs=$("$NM" -C "$TMP"/*.o | grep -E "torchconv::cpu::(avx2|avx512)::" || true)
  if [ -n "$refs" ]; then
    echo "FAIL the aarch64 objects define or reference x86 ISA kernels:"; echo "$refs" | head; status=1
  else
    echo "OK   no x86 ISA kernel is defined or referenced: the portable path is the one compiled"
  fi
fi
exit $status
