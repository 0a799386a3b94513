// Matrix transposition (see TransposeKernels in csrc/cpu/isa.h), written once with GCC vector
// extensions and compiled per ISA by the kernels_<isa>.cpp files. NCHW pooling uses it to interleave
// blocks of planes into channels_last form and back.
//
// Algorithm. Elements are moved as raw bits of their width (2, 4 or 8 bytes). Full VL x VL blocks
// (VL = elements per vector) are loaded as VL row vectors and transposed in registers by log2(VL)
// rounds of a perfect shuffle: rows i and i + VL/2 are interleaved lane by lane into rows 2i and
// 2i + 1; after log2(VL) rounds row j holds column j. Each round is VL two-source shuffles, so a
// 16 x 16 float block costs 64 shuffles instead of 256 scalar loads and stores. Edges narrower than
// a block are transposed the same way from masked loads into masked stores (AVX-512), or moved
// element by element (AVX2, the portable path: see load_lanes).
#include "vec.h"

namespace torchconv {
namespace cpu {
namespace TC_ISA_NS {

// Transposes the block of nr x nc elements (at most VL x VL) at a into b. Full blocks move by whole
// vectors; ragged ones load their nc columns per row and store their nr rows per column by masked
// vectors (load_lanes, store_lanes), missing rows read as 0.
template <typename U, bool kFull>
static inline void transpose_block(const U* a, int64_t lda, int nr, int nc, U* b, int64_t ldb) {
  typedef U V __attribute__((vector_size(TC_VBYTES), aligned(sizeof(U))));
  constexpr int VL = TC_VBYTES / sizeof(U);
  V lo, hi;  // shuffle masks: lane k of the pair's first row (index k) or second row (index VL + k)
  for (int k = 0; k < VL / 2; ++k) {
    lo[2 * k] = U(k);
    lo[2 * k + 1] = U(VL + k);
    hi[2 * k] = U(VL / 2 + k);
    hi[2 * k + 1] = U(VL + VL / 2 + k);
  }
  V r[VL], t[VL];
  for (int i = 0; i < VL; ++i) {
    if (kFull) {
      r[i] = *reinterpret_cast<const V*>(a + i * lda);
      __builtin_prefetch(a + i * lda + 4 * VL);  // rows are far apart: one stream each
    } else {
      r[i] = i < nr ? load_lanes<V>(a + i * lda, nc) : V{};
    }
  }
  for (int round = 1; round < VL; round *= 2) {
    for (int i = 0; i < VL / 2; ++i) {
      t[2 * i] = __builtin_shuffle(r[i], r[i + VL / 2], lo);
      t[2 * i + 1] = __builtin_shuffle(r[i], r[i + VL / 2], hi);
    }
    for (int i = 0; i < VL; ++i) r[i] = t[i];
  }
  for (int j = 0; j < VL; ++j) {
    if (kFull)
      *reinterpret_cast<V*>(b + j * ldb) = r[j];
    else if (j < nc)
      store_lanes(b + j * ldb, r[j], nr);
  }
}

template <typename U>
static void transpose(const void* src, int64_t lda, int64_t rows, int64_t cols, void* dst, int64_t ldb) {
  constexpr int VL = TC_VBYTES / sizeof(U);
  // Ragged edges by masked vectors with AVX-512, element by element elsewhere.
  constexpr bool kVectorEdges = TC_VBYTES == 64;
  const U* a = static_cast<const U*>(src);
  U* b = static_cast<U*>(dst);
  const int64_t full_rows = rows / VL * VL, full_cols = cols / VL * VL;
  for (int64_t i0 = 0; i0 < rows; i0 += VL) {
    const int nr = int(min64(VL, rows - i0));
    for (int64_t j0 = 0; j0 < cols; j0 += VL) {
      const int nc = int(min64(VL, cols - j0));
      if (nr == VL && nc == VL)
        transpose_block<U, true>(a + i0 * lda + j0, lda, VL, VL, b + j0 * ldb + i0, ldb);
      else if (kVectorEdges)
        transpose_block<U, false>(a + i0 * lda + j0, lda, nr, nc, b + j0 * ldb + i0, ldb);
    }
  }
  if (!kVectorEdges)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = i < full_rows ? full_cols : 0; j < cols; ++j) b[j * ldb + i] = a[i * lda + j];
}

constexpr TransposeKernels kTranspose = {&transpose<uint16_t>, &transpose<uint32_t>, &transpose<uint64_t>};

}  // namespace TC_ISA_NS
}  // namespace cpu
}  // namespace torchconv
