// Matrix transposition (see TransposeKernels in csrc/cpu/isa.h), written once with GCC vector
// extensions and compiled per ISA by the kernels_<isa>.cpp files. NCHW pooling uses it to interleave
// blocks of planes into channels_last form and back.
//
// Algorithm. Elements are moved as raw bits of their width (2, 4 or 8 bytes). Full VL x VL blocks
// (VL = elements per vector) are loaded as VL row vectors and transposed in registers by log2(VL)
// rounds of a perfect shuffle: rows i and i + VL/2 are interleaved lane by lane into rows 2i and
// 2i + 1; after log2(VL) rounds row j holds column j. Each round is VL two-source shuffles, so a
// 16 x 16 float block costs 64 shuffles instead of 256 scalar loads and stores. Edges narrower than
// a block are moved element by element.
#include <cstdint>

namespace torchconv {
namespace cpu {
namespace TC_ISA_NS {

template <typename U>
static void transpose(const void* src, int64_t lda, int64_t rows, int64_t cols, void* dst, int64_t ldb) {
  typedef U V __attribute__((vector_size(TC_VBYTES), aligned(sizeof(U))));
  constexpr int VL = TC_VBYTES / sizeof(U);
  const U* a = static_cast<const U*>(src);
  U* b = static_cast<U*>(dst);
  V lo, hi;  // shuffle masks: lane k of the pair's first row (index k) or second row (index VL + k)
  for (int k = 0; k < VL / 2; ++k) {
    lo[2 * k] = U(k);
    lo[2 * k + 1] = U(VL + k);
    hi[2 * k] = U(VL / 2 + k);
    hi[2 * k + 1] = U(VL + VL / 2 + k);
  }
  const int64_t full_rows = rows / VL * VL, full_cols = cols / VL * VL;
  for (int64_t i0 = 0; i0 < full_rows; i0 += VL)
    for (int64_t j0 = 0; j0 < full_cols; j0 += VL) {
      V r[VL], t[VL];
      for (int i = 0; i < VL; ++i) {
        r[i] = *reinterpret_cast<const V*>(a + (i0 + i) * lda + j0);
        __builtin_prefetch(a + (i0 + i) * lda + j0 + 4 * VL);  // rows are far apart: one stream each
      }
      for (int round = 1; round < VL; round *= 2) {
        for (int i = 0; i < VL / 2; ++i) {
          t[2 * i] = __builtin_shuffle(r[i], r[i + VL / 2], lo);
          t[2 * i + 1] = __builtin_shuffle(r[i], r[i + VL / 2], hi);
        }
        for (int i = 0; i < VL; ++i) r[i] = t[i];
      }
      for (int j = 0; j < VL; ++j) *reinterpret_cast<V*>(b + (j0 + j) * ldb + i0) = r[j];
    }
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = i < full_rows ? full_cols : 0; j < cols; ++j) b[j * ldb + i] = a[i * lda + j];
}

const TransposeKernels kTranspose = {&transpose<uint16_t>, &transpose<uint32_t>, &transpose<uint64_t>};

}  // namespace TC_ISA_NS
}  // namespace cpu
}  // namespace torchconv
