// Launch and indexing helpers shared by the CUDA kernels (csrc/cuda/*.cu).
//
// Every kernel is a grid-stride loop over its work items, launched by `launch` on the current
// stream of the current device (the ops set it with a CUDAGuard) and checked right after launch.
// Tensors are addressed through their strides, so one kernel serves contiguous, channels_last and
// arbitrarily strided tensors; outputs are allocated contiguous in the input's layout and walked
// in memory order (`coord_of`) so that consecutive threads write consecutive addresses.
#pragma once
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "../checks.h"
#include "../shape.h"

namespace torchconv {
namespace cuda {

constexpr int kThreads = 256;  // threads per block of every elementwise / reduction kernel

TC_HOST_DEVICE int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Grid-stride loop bounds: for (int64_t i = first_item(); i < n; i += grid_stride()).
__device__ __forceinline__ int64_t first_item() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t grid_stride() { return static_cast<int64_t>(blockDim.x) * gridDim.x; }

// Launches `kernel` on the current stream with `blocks` blocks (capped at 2^30; the kernels'
// grid-stride loops cover the rest) of `threads` threads, and checks the launch. Nothing is
// launched for no work.
template <typename... Params, typename... Args>
void launch_blocks(void (*kernel)(Params...), int64_t blocks, int threads, Args&&... args) {
  if (blocks <= 0) return;
  blocks = std::min<int64_t>(blocks, int64_t(1) << 30);
  kernel<<<static_cast<unsigned>(blocks), threads, 0, c10::cuda::getCurrentCUDAStream()>>>(
      std::forward<Args>(args)...);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

// Launches a grid-stride kernel over `items` work items, kThreads threads per block.
template <typename... Params, typename... Args>
void launch(void (*kernel)(Params...), int64_t items, Args&&... args) {
  launch_blocks(kernel, ceil_div(items, kThreads), kThreads, std::forward<Args>(args)...);
}

// Strides of a 4-D tensor in the kernel's index type.
template <typename index_t>
struct Strides4 {
  index_t n, c, h, w;
  Strides4() = default;
  explicit Strides4(const at::Tensor& t)
      : n(static_cast<index_t>(t.stride(0))), c(static_cast<index_t>(t.stride(1))),
        h(static_cast<index_t>(t.stride(2))), w(static_cast<index_t>(t.stride(3))) {}
  TC_HOST_DEVICE index_t offset(index_t n_, index_t c_, index_t h_, index_t w_) const {
    return n_ * n + c_ * c + h_ * h + w_ * w;
  }
};

// Coordinates (n, c, h, w) of the i-th element, in memory order, of a (., C, H, W) tensor that is
// contiguous in NCHW or in channels_last.
template <typename index_t>
struct Coord {
  index_t n, c, h, w;
};
template <typename index_t>
TC_HOST_DEVICE Coord<index_t> coord_of(index_t i, index_t C, index_t H, index_t W, bool channels_last) {
  Coord<index_t> k;
  if (channels_last) {
    k.c = i % C; i /= C;
    k.w = i % W; i /= W;
    k.h = i % H; k.n = i / H;
  } else {
    k.w = i % W; i /= W;
    k.h = i % H; i /= H;
    k.c = i % C; k.n = i / C;
  }
  return k;
}

inline bool is_channels_last(const at::Tensor& t) {
  return t.dim() == 4 && t.suggest_memory_format() == at::MemoryFormat::ChannelsLast;
}
inline at::MemoryFormat layout_of(const at::Tensor& t) {
  return is_channels_last(t) ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
}

// 32-bit index arithmetic is used when every element count and offset stays below 2^30: the margin
// covers tile overhang and the signed padding offsets formed before bounds checks.
constexpr int64_t kInt32Limit = int64_t(1) << 30;
inline bool fits_int32(const at::Tensor& t) {
  int64_t last = 0;  // largest element offset
  for (int64_t d = 0; d < t.dim(); ++d) last += (t.size(d) > 0 ? t.size(d) - 1 : 0) * t.stride(d);
  return t.numel() < kInt32Limit && last < kInt32Limit;
}

// Calls f(int32_t{}) or f(int64_t{}): the kernel's index type as a tag.
template <typename F>
void with_index_type(bool use_int32, const F& f) {
  if (use_int32) {
    f(int32_t{});
  } else {
    f(int64_t{});
  }
}

// Number of multiprocessors of the current device (sizes split-K reductions).
inline int64_t sm_count() {
  int device = 0, count = 0;
  C10_CUDA_CHECK(cudaGetDevice(&device));
  C10_CUDA_CHECK(cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device));
  return count;
}

}  // namespace cuda
}  // namespace torchconv
