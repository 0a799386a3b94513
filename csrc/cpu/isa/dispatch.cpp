// Run-time choice of the ISA-specific kernels: CPUID, overridable with TORCHCONV_CPU_ISA.
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "../isa.h"

namespace torchconv {
namespace cpu {

bool isa_supported(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  switch (isa) {
    case Isa::avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");
    case Isa::avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::scalar:
      return true;
  }
  return false;
#else
  return isa == Isa::scalar;
#endif
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx512: return "avx512";
    case Isa::avx2: return "avx2";
    case Isa::scalar: return "scalar";
  }
  return "?";
}

static Isa choose_isa() {
  const char* env = std::getenv("TORCHCONV_CPU_ISA");
  if (env != nullptr && *env != '\0') {
    for (Isa isa : {Isa::avx512, Isa::avx2, Isa::scalar}) {
      if (std::strcmp(env, isa_name(isa)) == 0) {
        if (!isa_supported(isa)) {
          throw std::runtime_error(std::string("torchconv: TORCHCONV_CPU_ISA=") + env +
                                   " but this CPU does not support it");
        }
        return isa;
      }
    }
    throw std::runtime_error(std::string("torchconv: TORCHCONV_CPU_ISA must be avx512, avx2 or scalar, got '") +
                             env + "'");
  }
  if (isa_supported(Isa::avx512)) return Isa::avx512;
  if (isa_supported(Isa::avx2)) return Isa::avx2;
  return Isa::scalar;
}

Isa active_isa() {
  static const Isa isa = choose_isa();
  return isa;
}

template <typename K>
static const K& pick(const K& s, const K& a2, const K& a5) {
  switch (active_isa()) {
    case Isa::avx512: return a5;
    case Isa::avx2: return a2;
    default: return s;
  }
}

const IsaKernels<float>& tile_kernels_f32() { return pick(scalar::kF32, avx2::kF32, avx512::kF32); }
const IsaKernels<double>& tile_kernels_f64() { return pick(scalar::kF64, avx2::kF64, avx512::kF64); }
const TransposeKernels& transpose_kernels() { return pick(scalar::kTranspose, avx2::kTranspose, avx512::kTranspose); }

template <>
const ChannelKernels<float, float>& channel_kernels() {
  return pick(scalar::kChanF32, avx2::kChanF32, avx512::kChanF32);
}
template <>
const ChannelKernels<double, double>& channel_kernels() {
  return pick(scalar::kChanF64, avx2::kChanF64, avx512::kChanF64);
}
template <>
const ChannelKernels<bf16_bits, float>& channel_kernels() {
  return pick(scalar::kChanBF16, avx2::kChanBF16, avx512::kChanBF16);
}

}  // namespace cpu
}  // namespace torchconv
