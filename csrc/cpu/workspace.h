// Scratch memory of the CPU kernels, reused across op calls (outputs: output_cache.h). Packed copies
// of activations are as large as the tensors themselves; allocating them afresh on every call costs
// a page fault per 4 KiB page, often more than the copy. Each calling thread therefore keeps one
// grow-only, 64-byte-aligned buffer per slot, so steady-state calls touch no new memory. The memory
// held is the largest request seen per slot.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace torchconv {
namespace cpu {

enum class Slot { input = 0, grad = 1, partials = 2, weights = 3, count = 4 };

// Asks the kernel to back a fresh, not yet touched buffer with transparent huge pages, where the
// system grants them on request: a large output then costs one page fault per 2 MiB instead of one
// per 4 KiB. A no-op for small buffers, elsewhere than Linux, and where huge pages are unavailable.
inline void advise_huge_pages(void* data, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHuge = uintptr_t(2) << 20;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + bytes) & ~(kHuge - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)data;
  (void)bytes;
#endif
}

namespace detail {
struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
struct Buffer {
  std::unique_ptr<char, FreeDeleter> data;
  size_t bytes = 0;
};
inline Buffer& buffer(Slot slot) {
  thread_local Buffer buffers[static_cast<int>(Slot::count)];
  return buffers[static_cast<int>(slot)];
}
}  // namespace detail

// Room for `count` elements of T in `slot`, valid until the next request for that slot on this thread.
template <typename T>
T* workspace(Slot slot, int64_t count) {
  detail::Buffer& b = detail::buffer(slot);
  const size_t bytes = (static_cast<size_t>(count) * sizeof(T) + 63) / 64 * 64;
  if (bytes > b.bytes) {
    b.data.reset();
    void* p = std::aligned_alloc(64, bytes);
    if (p == nullptr) throw std::bad_alloc();
    advise_huge_pages(p, bytes);
    b.data.reset(static_cast<char*>(p));
    b.bytes = bytes;
  }
  return reinterpret_cast<T*>(b.data.get());
}

}  // namespace cpu
}  // namespace torchconv
