// Run-time choice of the ISA-specific kernels: CPUID, overridable with TORCHCONV_CPU_ISA. Nothing of an
// ISA unit runs before this choice (see kernels_avx2.cpp); off x86-64 only the portable unit exists.
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "../isa.h"

namespace torchconv {
namespace cpu {

bool isa_supported(Isa isa) {
#if defined(__x86_64__)
  switch (isa) {
    case Isa::avx512:  // every feature kernels_avx512.cpp is compiled for
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
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

// Off x86-64 the ISA units are empty and active_isa() is always scalar.
#if defined(__x86_64__)
#define TC_PICK(table) pick(scalar::table, avx2::table, avx512::table)
#else
#define TC_PICK(table) pick(scalar::table, scalar::table, scalar::table)
#endif

const IsaKernels<float>& tile_kernels_f32() { return TC_PICK(kF32); }
const IsaKernels<double>& tile_kernels_f64() { return TC_PICK(kF64); }
const TransposeKernels& transpose_kernels() { return TC_PICK(kTranspose); }

template <>
const ChannelKernels<float, float>& channel_kernels() {
  return TC_PICK(kChanF32);
}
template <>
const ChannelKernels<double, double>& channel_kernels() {
  return TC_PICK(kChanF64);
}
template <>
const ChannelKernels<bf16_bits, float>& channel_kernels() {
  return TC_PICK(kChanBF16);
}

}  // namespace cpu
}  // namespace torchconv
