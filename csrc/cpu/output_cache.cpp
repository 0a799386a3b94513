// Output memory of the CPU ops (see output_cache.h): freed blocks of at least kMinBytes are kept,
// by size, and handed out again for outputs of the same rounded size, the most recently freed first
// (the likeliest to be still in cache), the oldest dropped first once the free blocks exceed the budget.
#include "output_cache.h"

#include <ATen/EmptyTensor.h>
#include <c10/core/CPUAllocator.h>

#include <cstdlib>
#include <cstring>
#include <iterator>
#include <list>
#include <mutex>
#include <new>
#include <string>

#include "workspace.h"

namespace torchconv {
namespace cpu {
namespace {

constexpr size_t kMinBytes = size_t(256) << 10;  // smaller outputs come from PyTorch's allocator
constexpr size_t kPage = size_t(4) << 10;

// Free-block budget in bytes: TORCHCONV_CPU_OUTPUT_CACHE_MB (0 turns the cache off), default 1 GiB.
size_t budget_bytes() {
  const char* env = std::getenv("TORCHCONV_CPU_OUTPUT_CACHE_MB");
  if (env == nullptr || *env == '\0') return size_t(1) << 30;
  return size_t(std::stoull(env)) << 20;
}

class OutputCache final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t bytes) override {
    const size_t size = (bytes + kPage - 1) / kPage * kPage;
    if (size < kMinBytes || budget_ == 0) return c10::GetCPUAllocator()->allocate(bytes);
    void* data = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto it = free_.rbegin(); it != free_.rend(); ++it) {  // the most recently freed first
        if (it->size == size) {
          data = it->data;
          free_bytes_ -= size;
          free_.erase(std::next(it).base());
          break;
        }
      }
    }
    if (data == nullptr) {
      data = std::aligned_alloc(64, size);
      if (data == nullptr) throw std::bad_alloc();
      advise_huge_pages(data, size);
    }
    return {data, new Block{data, size}, &release, c10::Device(c10::DeviceType::CPU)};
  }

  void copy_data(void* dest, const void* src, std::size_t count) const override { std::memcpy(dest, src, count); }

 private:
  struct Block {
    void* data;
    size_t size;
  };

  static void release(void* ctx) {
    Block* block = static_cast<Block*>(ctx);
    instance().keep(*block);
    delete block;
  }

  // Keeps a freed block, then frees the oldest kept ones beyond the budget.
  void keep(const Block& block) {
    std::list<Block> dropped;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      free_.push_back(block);
      free_bytes_ += block.size;
      while (free_bytes_ > budget_) {
        free_bytes_ -= free_.front().size;
        dropped.splice(dropped.end(), free_, free_.begin());
      }
    }
    for (const Block& b : dropped) std::free(b.data);
  }

 public:
  // Never destroyed: tensors may be freed during static destruction.
  static OutputCache& instance() {
    static OutputCache* cache = new OutputCache();
    return *cache;
  }

 private:
  OutputCache() : budget_(budget_bytes()) {}
  const size_t budget_;
  std::mutex mutex_;
  std::list<Block> free_;  // oldest first
  size_t free_bytes_ = 0;
};

}  // namespace

at::Tensor empty_output(at::IntArrayRef sizes, const at::TensorOptions& options) {
  return at::detail::empty_generic(sizes, &OutputCache::instance(), c10::DispatchKeySet(c10::DispatchKey::CPU),
                                   c10::typeMetaToScalarType(options.dtype()),
                                   options.memory_format_opt());
}

}  // namespace cpu
}  // namespace torchconv
