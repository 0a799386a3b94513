// Work distribution for the CPU kernels: OpenMP with the thread count of torch.set_num_threads.
// Work items are independent and each writes its own outputs, so results do not depend on
// scheduling; reductions split across items are summed afterwards in a fixed order.
#pragma once
#include <ATen/Parallel.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace torchconv {
namespace cpu {

// Ops whose whole work (multiply-adds or elements touched) is below this run on the calling thread:
// waking the other threads costs microseconds, and far more when they are busy elsewhere.
constexpr int64_t kMinParallelWork = int64_t(1) << 17;

inline bool& serial_region() {
  thread_local bool serial = false;
  return serial;
}

// Scope of one op call: its parallel_for loops run serially if `work` is small.
class SerialIfSmall {
 public:
  explicit SerialIfSmall(int64_t work) : previous_(serial_region()) {
    if (work < kMinParallelWork) serial_region() = true;
  }
  ~SerialIfSmall() { serial_region() = previous_; }
  SerialIfSmall(const SerialIfSmall&) = delete;
  SerialIfSmall& operator=(const SerialIfSmall&) = delete;

 private:
  bool previous_;
};

template <typename F>
void parallel_for(int64_t n, const F& f) {
  int64_t threads = std::min<int64_t>(at::get_num_threads(), n);
  if (threads <= 1 || serial_region() || omp_in_parallel()) {
    for (int64_t i = 0; i < n; ++i) f(i);
    return;
  }
  // Dynamic chunks of about 1/16 of a thread's share: balance without per-item scheduling cost.
  const int64_t chunk = std::max<int64_t>(1, n / (16 * threads));
#pragma omp parallel for num_threads(threads) schedule(dynamic, chunk)
  for (int64_t i = 0; i < n; ++i) f(i);
}

// Runs f(begin, end) over consecutive ranges of [0, n) of at least `grain` items (a few per thread), so
// that per-range setup such as scratch buffers is paid once per range.
template <typename F>
void parallel_for_ranges(int64_t n, int64_t grain, const F& f) {
  const int64_t chunks =
      std::max<int64_t>(1, std::min<int64_t>(n / std::max<int64_t>(grain, 1), 4 * int64_t(at::get_num_threads())));
  parallel_for(chunks, [&](int64_t c) { f(c * n / chunks, (c + 1) * n / chunks); });
}

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace cpu
}  // namespace torchconv
