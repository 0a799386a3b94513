// Output tensors of the CPU ops. An activation-sized output allocated afresh costs a page fault per
// page touched, and the kernel's zeroing of each page, on every call: often more than the op's own
// work for memory-bound passes (measured: the NCHW global-average-pooling backward of 64x2048x7x7,
// 25.7 MB, took 71 faults of 2 MiB pages per call, about half its time). Outputs of 256 KiB and more
// therefore come from a cache of freed blocks kept by size, so that steady-state calls, which free
// and request the same sizes, touch no new memory; blocks not reused are freed, oldest first, once
// the cached free memory exceeds a budget (TORCHCONV_CPU_OUTPUT_CACHE_MB, default 1024; 0: no cache).
// New blocks are advised onto huge pages (workspace.h). Smaller outputs use PyTorch's allocator.
#pragma once
#include <ATen/ATen.h>

namespace torchconv {
namespace cpu {

// at::empty(sizes, options) on the output cache (options' dtype and memory format; CPU).
at::Tensor empty_output(at::IntArrayRef sizes, const at::TensorOptions& options);

}  // namespace cpu
}  // namespace torchconv
