// The ATen side of the channel-vectorised ISA kernels (csrc/cpu/isa.h): the storage type each
// scalar_t has inside them (bfloat16 as its raw bits), pointer casts to it, and the kernel table for
// a scalar_t, which accumulates in its opmath type.
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

}  // namespace cpu
}  // namespace torchconv
