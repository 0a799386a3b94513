// Scratch memory reused across op calls. Packed copies of activations are as large as the tensors
// themselves; allocating them afresh on every call costs a page fault per 4 KiB page, often more than
// the copy. Each calling thread therefore keeps one grow-only, 64-byte-aligned buffer per slot, so
// steady-state calls touch no new memory. The memory held is the largest request seen per slot.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>

namespace torchconv {
namespace cpu {

enum class Slot { input = 0, grad = 1, partials = 2, count = 3 };

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
    b.data.reset(static_cast<char*>(p));
    b.bytes = bytes;
  }
  return reinterpret_cast<T*>(b.data.get());
}

}  // namespace cpu
}  // namespace torchconv
