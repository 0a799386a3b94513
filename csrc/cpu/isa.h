// The CPU's instruction-set-specific code: one register-blocked micro-kernel (the "tile"), compiled
// once per ISA (csrc/cpu/isa/tile_*.cpp) and picked at run time from CPUID, or forced with the
// environment variable TORCHCONV_CPU_ISA=avx512|avx2|scalar. Everything else in csrc/cpu is
// ISA-independent. This header is free of ATen so the ISA translation units stay small and cannot
// leak ISA-specific instances of shared inline functions into the rest of the library.
#pragma once
#include <cstdint>

namespace torchconv {
namespace cpu {

// One tile computes, for rows i < mr and columns v < cols (cols <= nb),
//
//   C[i*ldc + v] = (accumulate ? C[i*ldc + v] : 0) + row_bias[i] + col_bias[v]
//                  + sum_{t < nt} sum_{j < J}  A[a_off[t] + i*sa + j*sj] * b[t][j*ldb + v]
//
// i.e. an (mr x J) * (J x nb) matrix product summed over nt "taps", each tap with its own A offset
// and its own B panel. A is read with arbitrary strides and broadcast one element at a time; each B
// panel has J rows of nb contiguous elements (readable up to nb even when cols < nb). The mr x nb
// accumulators stay in vector registers for the whole reduction; the biases may be null. This one
// shape serves every convolution:
//   forward (NHWC)   rows = output pixels, columns = output channels, taps = filter taps (r, s),
//                    J = input channels
//   forward (NCHW)   rows = output channels, columns = output pixels of one row, taps = (r, s)
//   input gradient   rows = input pixels, columns = input channels, taps = the filter taps that
//                    reach them, J = output channels
//   weight gradient  rows = input channels, columns = output channels, taps = output rows (n, p),
//                    J = output columns
template <typename T>
struct TileArgs {
  const T* A;
  int64_t sa, sj;
  const int64_t* a_off;
  const T* const* b;
  int64_t ldb;
  int64_t nt, J;
  T* C;
  int64_t ldc, cols;
  const T* row_bias;
  const T* col_bias;
  bool accumulate;
};

template <typename T>
using TileFn = void (*)(int64_t mr, const TileArgs<T>& args);

template <typename T>
struct TileKernel {
  int nb;      // columns per tile: one or two vector lengths
  int mr_max;  // rows per tile (mr in 1..mr_max)
  TileFn<T> fn;
};

template <typename T>
struct IsaKernels {
  TileKernel<T> wide;    // two vectors of columns
  TileKernel<T> narrow;  // one vector of columns, for narrow groups
};

enum class Isa { scalar = 0, avx2 = 1, avx512 = 2 };

// The ISA in use: TORCHCONV_CPU_ISA if set (an error if the CPU lacks it), else the best the CPU has.
Isa active_isa();
const char* isa_name(Isa isa);
bool isa_supported(Isa isa);

const IsaKernels<float>& tile_kernels_f32();
const IsaKernels<double>& tile_kernels_f64();

// Per-ISA tables, defined in csrc/cpu/isa/tile_<isa>.cpp.
namespace scalar { extern const IsaKernels<float> kF32; extern const IsaKernels<double> kF64; }
namespace avx2 { extern const IsaKernels<float> kF32; extern const IsaKernels<double> kF64; }
namespace avx512 { extern const IsaKernels<float> kF32; extern const IsaKernels<double> kF64; }

}  // namespace cpu
}  // namespace torchconv
