// The register-blocked tile micro-kernel (see csrc/cpu/isa.h for what it computes), written once
// with GCC vector extensions and compiled per ISA by the kernels_<isa>.cpp files, which set
//   TC_ISA_NS       namespace of this instance (scalar, avx2, avx512)
//   TC_VBYTES       vector width in bytes (16: portable, 32: AVX2, 64: AVX-512)
//   TC_MR_WIDE      rows of the two-vector-wide tile
//   TC_MR_NARROW    rows of the one-vector-wide tile
// under a `#pragma GCC target` for the ISA. Register budget: the wide tile holds 2*MR accumulators
// plus two B vectors and one broadcast (AVX-512: 14x2 of 32 zmm; AVX2 and SSE: 6x2 of 16).
// The inner loop loads nb contiguous B elements, broadcasts one A element per row and issues one FMA
// per accumulator vector: 2*MR FMAs per 2 vector loads and MR scalar broadcasts. Biases and the
// optional accumulation into C are applied once, when the tile is stored; full rows go out by
// non-temporal stores where the caller asks for them (TileArgs::stream).
#include "vec.h"

namespace torchconv {
namespace cpu {
namespace TC_ISA_NS {

template <typename T, int MR, int NV>
static void tile(const TileArgs<T>& p) {
  typedef typename VecOf<T>::type V;
  constexpr int VL = sizeof(V) / sizeof(T);
  constexpr int NB = VL * NV;
  // Row i is read at base[i / kRowsPerBase] + (i % kRowsPerBase) * sa: one pointer per four rows
  // plus three index registers (0, sa, 2*sa, 3*sa), where one pointer per row would spill the
  // general-purpose registers of a 12- or 24-row tile to the stack inside the inner loop.
  constexpr int kRowsPerBase = 4, kBases = (MR + kRowsPerBase - 1) / kRowsPerBase;
  V c[MR][NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) c[i][v] = V{};
  const int64_t sa = p.sa, sj = p.sj, ldb = p.ldb, J = p.J;
  for (int64_t t = 0; t < p.nt; ++t) {
    const T* base[kBases];
#pragma GCC unroll 8
    for (int k = 0; k < kBases; ++k) base[k] = p.A + p.a_off[t] + k * kRowsPerBase * sa;
    const T* bt = p.b[t];
    for (int64_t j = 0; j < J; ++j) {
      // Where rows run along j (the forward and the input gradient), each row's line two ahead is
      // requested every 16 elements: the 14 or 28 rows are separate streams, more than the hardware
      // prefetchers follow (measured: the 1x1 256-to-64-channel forward at 56x56 in channels_last,
      // 5.4-5.8 ms -> 5.0-5.3 ms; the 3x3 64-channel one 9.2 -> 8.9 ms). Elsewhere (the weight
      // gradient, the NCHW route) A and B advance by a fixed step per j, restarting at every tap: the
      // elements 8 steps ahead are requested every 4 (the 1x1 weight gradients at 56x56 3-5% faster,
      // the NCHW-route 1x1 forwards 5-10%).
      if (sj == 1 && (j & 15) == 0) {
#pragma GCC unroll 32
        for (int i = 0; i < MR; ++i) __builtin_prefetch(base[i / kRowsPerBase] + (i % kRowsPerBase) * sa + 32, 0, 3);
      } else if ((j & 3) == 0) {
        __builtin_prefetch(base[0] + 8 * sj, 0, 3);
        __builtin_prefetch(bt + 8 * ldb, 0, 3);
        if (NB * sizeof(T) > 64) __builtin_prefetch(bt + 8 * ldb + 64 / sizeof(T), 0, 3);
      }
      V bv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) bv[v] = *reinterpret_cast<const V*>(bt + v * VL);
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i) {
        const T x = base[i / kRowsPerBase][(i % kRowsPerBase) * sa];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) c[i][v] += x * bv[v];
      }
#pragma GCC unroll 8
      for (int k = 0; k < kBases; ++k) base[k] += sj;
      bt += ldb;
    }
  }
  V cb[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) cb[v] = p.col_bias ? *reinterpret_cast<const V*>(p.col_bias + v * VL) : V{};
  const bool full = p.cols == NB;
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
    const T rb = p.row_bias ? p.row_bias[i] : T(0);
    T* out = p.C + i * p.ldc;
    if (full) {
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        V r = c[i][v] + cb[v] + rb;
        if (p.accumulate) r += *reinterpret_cast<const V*>(out + v * VL);
        if (p.stream)
          stream_store(out + v * VL, r);
        else
          *reinterpret_cast<V*>(out + v * VL) = r;
      }
    } else {
      T tmp[NB];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) *reinterpret_cast<V*>(tmp + v * VL) = c[i][v] + cb[v] + rb;
      for (int64_t v = 0; v < p.cols; ++v) out[v] = p.accumulate ? out[v] + tmp[v] : tmp[v];
    }
  }
}

// Picks the instance for the row count mr (1..MR_MAX) of the last, partial tile.
template <typename T, int NV, int... M>
static void tile_rows(int64_t mr, const TileArgs<T>& p, std::integer_sequence<int, M...>) {
  static constexpr void (*table[])(const TileArgs<T>&) = {&tile<T, M + 1, NV>...};
  table[mr - 1](p);
}

template <typename T, int NV, int MR_MAX>
static void tile_any(int64_t mr, const TileArgs<T>& p) {
  tile_rows<T, NV>(mr, p, std::make_integer_sequence<int, MR_MAX>{});
}

template <typename T>
static constexpr IsaKernels<T> make_kernels() {
  constexpr int VL = TC_VBYTES / sizeof(T);
  return IsaKernels<T>{{2 * VL, TC_MR_WIDE, &tile_any<T, 2, TC_MR_WIDE>},
                       {VL, TC_MR_NARROW, &tile_any<T, 1, TC_MR_NARROW>}};
}

constexpr IsaKernels<float> kF32 = make_kernels<float>();
constexpr IsaKernels<double> kF64 = make_kernels<double>();

}  // namespace TC_ISA_NS
}  // namespace cpu
}  // namespace torchconv
