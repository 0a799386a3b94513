// The ATen side of the ISA kernels (csrc/cpu/isa.h): the storage type each scalar_t has inside the
// channel-vectorised kernels (bfloat16 as its raw bits), pointer casts to it, the kernel table for a
// scalar_t (which accumulates in its opmath type), and a typed front for the blocked transposition.
#pragma once
#include <ATen/ATen.h>
#include <ATen/OpMathType.h>

#include "isa.h"

namespace torchconv {
namespace cpu {

template <typename scalar_t>
struct Storage {
  using type = scalar_t;
};
template <>
struct Storage<at::BFloat16> {
  using type = bf16_bits;
};

template <typename scalar_t>
const auto& chan() {
  return channel_kernels<typename Storage<scalar_t>::type, at::opmath_type<scalar_t>>();
}

template <typename scalar_t>
auto* raw(scalar_t* p) {
  return reinterpret_cast<typename Storage<scalar_t>::type*>(p);
}
template <typename scalar_t>
const auto* raw(const scalar_t* p) {
  return reinterpret_cast<const typename Storage<scalar_t>::type*>(p);
}

// b[j*ldb + i] = a[i*lda + j] for i < rows, j < cols (the ISA's blocked transposition).
template <typename E>
void transpose(const E* a, int64_t lda, int64_t rows, int64_t cols, E* b, int64_t ldb) {
  static_assert(sizeof(E) == 2 || sizeof(E) == 4 || sizeof(E) == 8, "element of 2, 4 or 8 bytes");
  const TransposeKernels& k = transpose_kernels();
  (sizeof(E) == 2 ? k.bytes2 : sizeof(E) == 4 ? k.bytes4 : k.bytes8)(a, lda, rows, cols, b, ldb);
}

}  // namespace cpu
}  // namespace torchconv
