// The CPU's instruction-set-specific code: one register-blocked micro-kernel (the "tile"), the
// channel-vectorised loops and a blocked transposition, compiled once per ISA (csrc/cpu/isa/kernels_*.cpp) and picked at run time
// from CPUID, or forced with the environment variable TORCHCONV_CPU_ISA=avx512|avx2|scalar. Everything else in csrc/cpu is
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
  bool stream = false;  // full rows stored with non-temporal stores (C and ldc vector-aligned)
};

template <typename T>
using TileFn = void (*)(int64_t mr, const TileArgs<T>& args);

// Orders the calling thread's non-temporal stores (TileArgs::stream) before its later stores, so
// that what they wrote is seen by the other threads once the parallel loop around them ends.
inline void stream_fence() {
#if defined(__x86_64__)
  __builtin_ia32_sfence();
#endif
}

template <typename T>
struct TileKernel {
  int nb;      // columns per tile: one or two vector lengths
  int mr_max;  // rows per tile (mr in 1..mr_max)
  TileFn<T> fn;
};

// Storage type of bfloat16 tensors inside the ISA kernels: the raw 16 bits (the top half of a float).
typedef uint16_t bf16_bits;

// Channel-vectorised kernels: depthwise convolution and pooling run over C contiguous channels of one
// pixel (NCHW pooling over blocks of planes interleaved into that form).
// S is the storage type (float, double or bfloat16 bits), T the accumulation type (float or double).
// A window lists its rows h0, h0+dh, ... < h1 and columns w0, w0+dw, ... < w1 (csrc/shape.h).
template <typename S, typename T>
struct ChannelKernels {
  // acc[c] += a[c] * b[c]
  void (*fma)(T* acc, const S* a, const T* b, int64_t n);
  // channels_last max pooling of one output row of `count` pixels over an (H, W, C) image: pixel o's
  // window has rows h0, h0+dh, ... < h1 and columns w0[o], w0[o]+dw, ... < w1[o]; y[o*C + c] gets the
  // maximum and ind[o*C + c] the flat index index_base + h*W + w of the element PyTorch's scan picks
  // (replace when greater or NaN, starting from -inf at the window's first element); index_base
  // places a band of rows within its plane. ind may be null: values only.
  void (*max_row)(const S* img, int64_t W, int64_t C, int64_t h0, int64_t h1, int64_t dh, const int64_t* w0,
                  const int64_t* w1, int64_t dw, int64_t count, S* y, int64_t* ind, int64_t index_base);
  // channels_last average pooling of one output row: y[o*C + c] = sum over the window / div[o].
  void (*avg_row)(const S* img, int64_t W, int64_t C, int64_t h0, int64_t h1, const int64_t* w0,
                  const int64_t* w1, const T* div, int64_t count, S* y);
  // Average-pooling backward of one input row of W pixels, as a gather: for w < W and c < C,
  //   d[w*C + c] = sum over oh0 <= oh < oh1, ow_lo[w] <= ow < ow_hi[w] (in that order) of
  //                g[((oh - g_oh0)*OW + ow)*C + c] / div[oh*OW + ow],
  // where g holds output-gradient rows g_oh0, g_oh0 + 1, ... (channels_last, C channels).
  void (*avg_gather_row)(T* d, int64_t W, int64_t C, const S* g, int64_t g_oh0, int64_t OW, int64_t oh0,
                         int64_t oh1, const int64_t* ow_lo, const int64_t* ow_hi, const T* div);
  // Grouped convolution with cg input and cg output channels per group (cg = 1: depthwise), `count`
  // channels_last output pixels with the same taps: for j < count, k < C,
  //   y[j*y_step + k] = bias[k] + sum over t < taps, c' < cg of
  //                     px[t][j*x_step + (k/cg)*cg + c'] * wv[t][c'*C + k]
  // (px[t]: the first pixel's input pixel of tap t; wv[t]: that tap's weights, cg rows of C).
  void (*grouped_pixels)(const S* const* px, const T* const* wv, int64_t taps, int64_t C, int64_t cg,
                         const T* bias, int64_t count, int64_t x_step, int64_t y_step, S* y);
  // Depthwise convolution, one NCHW output row: y[q] = bias + sum over t < taps of w[t] * rows[t][q],
  // for q < Q (rows[t]: the input row of tap t, shifted so that its element q is the one output q reads).
  void (*depthwise_row)(const T* const* rows, const T* w, int64_t taps, T bias, int64_t Q, S* y);
  // Its weight gradient over `count` channels_last pixels with the same taps: for t < taps, c' < cg,
  // k < C, acc[t][c'*C + k] += sum over j < count of px[t][j*x_step + (k/cg)*cg + c'] * g[j*g_step + k].
  void (*grouped_grad_pixels)(const S* const* px, T* const* acc, int64_t taps, int64_t C, int64_t cg, const S* g,
                              int64_t count, int64_t x_step, int64_t g_step);
  // Depthwise weight gradient of one NCHW plane: for t < taps,
  // acc[t] += sum over p < P, q < Q of rows[t][p*row_step + q] * g[p*g_step + q].
  void (*depthwise_grad_rows)(const T* const* rows, T* acc, int64_t taps, int64_t row_step, const S* g,
                              int64_t g_step, int64_t P, int64_t Q);
  // Splits a row into its column phases: out[p*ld + i] = row[i*phases + p] for p < phases, i < n.
  void (*split_phases)(const T* row, int64_t n, int64_t phases, T* out, int64_t ld);
  // Global pooling of NCHW planes: sums[i] = sum of the n contiguous elements of plane i < count.
  void (*plane_sums)(const S* x, int64_t count, int64_t n, T* sums);
  // Its backward: out[i*n + e] = values[i] / divisor for i < count, e < n.
  void (*plane_fill)(const S* values, int64_t count, int64_t n, T divisor, T* out);
  // Average-pooling backward of one NCHW row for windows k columns wide that tile the row from column
  // 0 without overlap: out[w] = g[w / k] / div[w / k] for w < min(W, OW*k), 0 for the other w < W.
  void (*avg_expand_row)(const S* g, const T* div, int64_t k, int64_t OW, int64_t W, T* out);
};

// b[j*ldb + i] = a[i*lda + j] for i < rows, j < cols, on elements of 2, 4 or 8 bytes (any type of
// that size: the bits are moved). NCHW pooling interleaves planes with it (csrc/cpu/pool.cpp).
typedef void (*TransposeFn)(const void* a, int64_t lda, int64_t rows, int64_t cols, void* b, int64_t ldb);
struct TransposeKernels {
  TransposeFn bytes2, bytes4, bytes8;
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
const TransposeKernels& transpose_kernels();
template <typename S, typename T>
const ChannelKernels<S, T>& channel_kernels();

// Per-ISA tables, defined in csrc/cpu/isa/kernels_<isa>.cpp.
#define TORCHCONV_ISA_TABLES                                  \
  extern const IsaKernels<float> kF32;                        \
  extern const IsaKernels<double> kF64;                       \
  extern const ChannelKernels<float, float> kChanF32;         \
  extern const ChannelKernels<double, double> kChanF64;       \
  extern const ChannelKernels<bf16_bits, float> kChanBF16;    \
  extern const TransposeKernels kTranspose;
namespace scalar { TORCHCONV_ISA_TABLES }
namespace avx2 { TORCHCONV_ISA_TABLES }
namespace avx512 { TORCHCONV_ISA_TABLES }
#undef TORCHCONV_ISA_TABLES

}  // namespace cpu
}  // namespace torchconv
