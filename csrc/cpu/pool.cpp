// CPU pooling: max (with indices), average and their adaptive forms, forward and backward.
//
// Algorithm. One forward kernel per reduction (max, average) and per layout, parameterised by the
// window rule: a sliding window (csrc/shape.h: sliding_window, avg_pool_divisor) or an adaptive one
// (adaptive_window). Max keeps PyTorch's semantics exactly: the running maximum starts at -inf with
// the index of the window's first element, and an element replaces it when it is greater or NaN (so
// the last NaN wins). Indices are flat offsets h*W + w into each input plane.
//
// Layout. channels_last inputs are pooled pixel by pixel with the channel loop innermost (the ISA
// kernels of csrc/cpu/isa/channel_kernels.h). NCHW inputs are pooled separably, in ranges of whole
// planes: a column pass reduces the window's rows for every column (vectorised over the contiguous
// columns), then a row pass reduces each window's columns; merge_max keeps PyTorch's argmax order.
// Anything else is first made contiguous in the layout it is closest to; the output has its layout.
//
// Backward, in the accumulation type. Max pooling scatters each output gradient to its argmax; work
// is split so that no two threads write one input element (whole planes for NCHW, whole images or
// channel blocks for channels_last); out-of-range indices raise an error. Average pooling spreads
// each output row's gradients along columns, then over the window's rows, for NCHW; for
// channels_last each input pixel gathers the gradients of the windows that contain it.
#include <ATen/ATen.h>
#include <ATen/OpMathType.h>
#include <torch/library.h>

#include <atomic>
#include <limits>
#include <vector>

#include "../checks.h"
#include "../shape.h"
#include "isa.h"
#include "parallel.h"
#include "workspace.h"

namespace torchconv {
namespace cpu {
namespace {

constexpr int64_t kChannelBlock = 64;  // channels per work item in channels_last backward passes

// Planes per work item in NCHW passes: enough for a few thousand elements each.
int64_t plane_grain(const PoolGeometry& g) { return std::max<int64_t>(1, 4096 / (g.H * g.W)); }

bool is_channels_last(const at::Tensor& t) {
  return t.dim() == 4 && t.suggest_memory_format() == at::MemoryFormat::ChannelsLast;
}

at::MemoryFormat layout_of(const at::Tensor& t) {
  return is_channels_last(t) ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
}

// Window rules. Each gives the clipped window of output pixel (oh, ow), its row/column steps
// (dilation) and the averaging divisor.
struct SlidingRule {
  const PoolGeometry& g;
  bool count_include_pad;
  int64_t divisor_override;  // 0: none (0 is not a valid override)
  Window window(int64_t oh, int64_t ow) const {
    return sliding_window(oh, ow, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw);
  }
  int64_t divisor(int64_t oh, int64_t ow) const {
    return avg_pool_divisor(oh, ow, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, count_include_pad,
                            divisor_override);
  }
  int64_t dh() const { return g.dh; }
  int64_t dw() const { return g.dw; }
  // Outputs whose (undilated) windows contain input row h (column w), for the average backward.
  Range outputs_h(int64_t h) const { return sliding_outputs_containing(h, g.kh, g.sh, g.ph, g.OH); }
  Range outputs_w(int64_t w) const { return sliding_outputs_containing(w, g.kw, g.sw, g.pw, g.OW); }
};

struct AdaptiveRule {
  const PoolGeometry& g;
  Window window(int64_t oh, int64_t ow) const { return adaptive_window(oh, ow, g.H, g.W, g.OH, g.OW); }
  int64_t divisor(int64_t oh, int64_t ow) const {
    Window w = window(oh, ow);
    return (w.h1 - w.h0) * (w.w1 - w.w0);
  }
  int64_t dh() const { return 1; }
  int64_t dw() const { return 1; }
  Range outputs_h(int64_t h) const { return adaptive_outputs_containing(h, g.H, g.OH); }
  Range outputs_w(int64_t w) const { return adaptive_outputs_containing(w, g.W, g.OW); }
};

// ---------------------------------------------------------------------------------------------
// Forward

// Merges candidate (v, i) into the running maximum (best, best_i) so that the result is the element
// a row-major scan with PyTorch's rule (replace when greater or NaN) would return, whatever order
// the candidates come in: NaN beats any number and the NaN with the larger flat index wins; among
// numbers the larger wins and equal values go to the smaller flat index.
template <typename T>
inline void merge_max(T v, int64_t i, T& best, int64_t& best_i) {
  const bool v_nan = v != v, best_nan = best != best;
  const bool take = v_nan ? (!best_nan || i > best_i) : (!best_nan && (v > best || (v == best && i < best_i)));
  if (take) {
    best = v;
    best_i = i;
  }
}

// Storage type of scalar_t inside the ISA kernels (bfloat16 as its raw bits).
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

// A dilated window can lie entirely in the padding: its maximum is -inf and its index kEmptyWindow
// (csrc/shape.h), which the backward skips. (PyTorch returns h0*W + w0 there, outside the window.)
inline bool empty(const Window& rows, const Window& cols) { return rows.h0 >= rows.h1 || cols.w0 >= cols.w1; }

template <typename scalar_t, typename Rule>
void max_forward(const PoolGeometry& g, const Rule& rule, const at::Tensor& x, at::Tensor& y, at::Tensor& ind) {
  using T = at::opmath_type<scalar_t>;
  const auto& kern = chan<scalar_t>();
  const auto* X = raw(x.const_data_ptr<scalar_t>());
  scalar_t* Y = y.data_ptr<scalar_t>();
  int64_t* I = ind.data_ptr<int64_t>();
  const int64_t H = g.H, W = g.W, C = g.C, OH = g.OH, OW = g.OW, dh = rule.dh(), dw = rule.dw();
  if (is_channels_last(x)) {
    parallel_for(g.N * OH, [&](int64_t item) {
      const int64_t n = item / OH, oh = item % OH;
      for (int64_t ow = 0; ow < OW; ++ow) {
        const Window w = rule.window(oh, ow);
        const int64_t o = ((n * OH + oh) * OW + ow) * C;
        kern.max_pixel(X + n * H * W * C, W, C, w.h0, w.h1, dh, w.w0, w.w1, dw, raw(Y) + o, I + o);
        if (empty(w, w)) std::fill(I + o, I + o + C, kEmptyWindow);
      }
    });
  } else {
    // Separable: a vertical pass over the window's rows keeps, per input column, the winner in row
    // order (vectorised over columns); a horizontal pass merges the column winners of each window in
    // the order the row-major scan would pick them (merge_max).
    parallel_for_ranges(g.N * C, plane_grain(g), [&](int64_t plane0, int64_t plane1) {
      std::vector<T> colv(W);
      std::vector<int64_t> colh(W);
      for (int64_t plane = plane0; plane < plane1; ++plane) {
        for (int64_t oh = 0; oh < OH; ++oh) {
          const Window rows = rule.window(oh, 0);
          if (rows.h0 < rows.h1) kern.max_columns(X + plane * H * W, W, rows.h0, rows.h1, dh, colv.data(), colh.data());
          for (int64_t ow = 0; ow < OW; ++ow) {
            const Window cols = rule.window(oh, ow);
            T best = -std::numeric_limits<T>::infinity();
            int64_t best_i = empty(rows, cols) ? kEmptyWindow : rows.h0 * W + cols.w0;
            if (!empty(rows, cols)) {
              for (int64_t iw = cols.w0; iw < cols.w1; iw += dw) merge_max(colv[iw], colh[iw] * W + iw, best, best_i);
            }
            Y[(plane * OH + oh) * OW + ow] = static_cast<scalar_t>(best);
            I[(plane * OH + oh) * OW + ow] = best_i;
          }
        }
      }
    });
  }
}

template <typename scalar_t, typename Rule>
void avg_forward(const PoolGeometry& g, const Rule& rule, const at::Tensor& x, at::Tensor& y) {
  using T = at::opmath_type<scalar_t>;
  const auto& kern = chan<scalar_t>();
  const scalar_t* X = x.const_data_ptr<scalar_t>();
  scalar_t* Y = y.data_ptr<scalar_t>();
  const int64_t H = g.H, W = g.W, C = g.C, OH = g.OH, OW = g.OW;
  if (is_channels_last(x)) {
    parallel_for(g.N * OH, [&](int64_t item) {
      const int64_t n = item / OH, oh = item % OH;
      for (int64_t ow = 0; ow < OW; ++ow) {
        const Window w = rule.window(oh, ow);
        kern.avg_pixel(raw(X) + n * H * W * C, W, C, w.h0, w.h1, w.w0, w.w1, static_cast<T>(rule.divisor(oh, ow)),
                       raw(Y) + ((n * OH + oh) * OW + ow) * C);
      }
    });
  } else {
    if (OH == 1 && OW == 1 && rule.window(0, 0).h0 == 0 && rule.window(0, 0).h1 == H &&
        rule.window(0, 0).w0 == 0 && rule.window(0, 0).w1 == W) {
      // Global pooling: one contiguous sum per plane.
      const T divisor = static_cast<T>(rule.divisor(0, 0));
      parallel_for_ranges(g.N * C, plane_grain(g), [&](int64_t plane0, int64_t plane1) {
        std::vector<T> sums(plane1 - plane0);
        kern.plane_sums(raw(X) + plane0 * H * W, plane1 - plane0, H * W, sums.data());
        for (int64_t p = plane0; p < plane1; ++p) Y[p] = static_cast<scalar_t>(sums[p - plane0] / divisor);
      });
      return;
    }
    // Separable: column sums over the window's rows (vectorised over columns), then sums of those.
    parallel_for_ranges(g.N * C, plane_grain(g), [&](int64_t plane0, int64_t plane1) {
      std::vector<T> colsum(W);
      for (int64_t plane = plane0; plane < plane1; ++plane) {
        for (int64_t oh = 0; oh < OH; ++oh) {
          const Window rows = rule.window(oh, 0);
          kern.sum_columns(raw(X) + plane * H * W, W, rows.h0, rows.h1, colsum.data());
          for (int64_t ow = 0; ow < OW; ++ow) {
            const Window cols = rule.window(oh, ow);
            T sum = 0;
            for (int64_t iw = cols.w0; iw < cols.w1; ++iw) sum += colsum[iw];
            Y[(plane * OH + oh) * OW + ow] = static_cast<scalar_t>(sum / static_cast<T>(rule.divisor(oh, ow)));
          }
        }
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Backward (scatter). `dx` is a zeroed buffer of the accumulation type in the layout of `dy`.

template <typename scalar_t, typename Rule>
void avg_backward(const PoolGeometry& g, const Rule& rule, const at::Tensor& dy, at::Tensor& dx) {
  using T = at::opmath_type<scalar_t>;
  const scalar_t* DY = dy.const_data_ptr<scalar_t>();
  T* DX = dx.data_ptr<T>();
  const int64_t H = g.H, W = g.W, C = g.C, OH = g.OH, OW = g.OW;
  if (is_channels_last(dy)) {
    // Gather: each input pixel sums the gradients of the windows that contain it (vectorised over
    // channels), so every element is written once and no thread shares one.
    const auto& kern = chan<scalar_t>();
    parallel_for(g.N * H, [&](int64_t item) {
      const int64_t n = item / H, h = item % H;
      const Range rows = rule.outputs_h(h);
      for (int64_t w = 0; w < W; ++w) {
        T* d = DX + ((n * H + h) * W + w) * C;
        std::fill(d, d + C, T(0));
        const Range cols = rule.outputs_w(w);
        for (int64_t oh = rows.lo; oh < rows.hi; ++oh)
          for (int64_t ow = cols.lo; ow < cols.hi; ++ow)
            kern.avg_scatter(d, 1, C, 0, C, 0, 1, 0, 1, raw(DY) + ((n * OH + oh) * OW + ow) * C,
                             static_cast<T>(rule.divisor(oh, ow)));
      }
    });
  } else {
    if (OH == 1 && OW == 1 && rule.window(0, 0).h0 == 0 && rule.window(0, 0).h1 == H &&
        rule.window(0, 0).w0 == 0 && rule.window(0, 0).w1 == W) {
      // Global pooling: every element of a plane receives the same share.
      const T divisor = static_cast<T>(rule.divisor(0, 0));
      parallel_for_ranges(g.N * C, plane_grain(g), [&](int64_t plane0, int64_t plane1) {
        for (int64_t p = plane0; p < plane1; ++p) std::fill(DX + p * H * W, DX + (p + 1) * H * W, static_cast<T>(DY[p]) / divisor);
      });
      return;
    }
    // Separable: the output row's gradients are spread along the columns of each window, then the
    // resulting row is added to every input row of the windows (vectorised over columns).
    parallel_for_ranges(g.N * C, plane_grain(g), [&](int64_t plane0, int64_t plane1) {
      std::vector<T> spread(W);
      for (int64_t plane = plane0; plane < plane1; ++plane) {
        T* xp = DX + plane * H * W;
        for (int64_t oh = 0; oh < OH; ++oh) {
          std::fill(spread.begin(), spread.end(), T(0));
          for (int64_t ow = 0; ow < OW; ++ow) {
            const Window cols = rule.window(oh, ow);
            const T gv = static_cast<T>(DY[(plane * OH + oh) * OW + ow]) / static_cast<T>(rule.divisor(oh, ow));
            for (int64_t iw = cols.w0; iw < cols.w1; ++iw) spread[iw] += gv;
          }
          const Window rows = rule.window(oh, 0);
          for (int64_t ih = rows.h0; ih < rows.h1; ++ih) {
            T* row = xp + ih * W;
            for (int64_t w = 0; w < W; ++w) row[w] += spread[w];
          }
        }
      }
    });
  }
}

// Returns false if an index lies outside its H*W plane (nothing is written for it).
template <typename scalar_t>
bool max_backward(const PoolGeometry& g, const at::Tensor& dy, const at::Tensor& ind, at::Tensor& dx) {
  using T = at::opmath_type<scalar_t>;
  const scalar_t* DY = dy.const_data_ptr<scalar_t>();
  const int64_t* I = ind.const_data_ptr<int64_t>();
  T* DX = dx.data_ptr<T>();
  const int64_t HW = g.H * g.W, C = g.C, OHW = g.OH * g.OW;
  std::atomic<bool> ok{true};
  if (is_channels_last(dy)) {
    // Whole images per work item when there are enough of them (each gradient row then scatters into
    // a few contiguous pixels), else blocks of channels.
    const int64_t block = g.N >= 2 * at::get_num_threads() ? C : kChannelBlock, CB = ceil_div(C, block);
    parallel_for(g.N * CB, [&](int64_t item) {
      const int64_t n = item / CB, c0 = (item % CB) * block, c1 = std::min(C, c0 + block);
      for (int64_t o = 0; o < OHW; ++o) {
        const scalar_t* gv = DY + (n * OHW + o) * C;
        const int64_t* iv = I + (n * OHW + o) * C;
        for (int64_t c = c0; c < c1; ++c) {
          const int64_t i = iv[c];
          if (i == kEmptyWindow) continue;
          if (i < 0 || i >= HW) {
            ok = false;
            continue;
          }
          DX[(n * HW + i) * C + c] += static_cast<T>(gv[c]);
        }
      }
    });
  } else {
    parallel_for_ranges(g.N * C, plane_grain(g), [&](int64_t plane0, int64_t plane1) {
      for (int64_t plane = plane0; plane < plane1; ++plane) {
        T* xp = DX + plane * HW;
        for (int64_t o = 0; o < OHW; ++o) {
          const int64_t i = I[plane * OHW + o];
          if (i == kEmptyWindow) continue;
          if (i < 0 || i >= HW) {
            ok = false;
            continue;
          }
          xp[i] += static_cast<T>(DY[plane * OHW + o]);
        }
      }
    });
  }
  return ok;
}

// A zeroed accumulation buffer shaped like the (batched) input, in the layout of `like`.
// The gradient buffer, in the accumulation type and the layout of `like`; zeroed for scatters.
at::Tensor grad_buffer(const PoolGeometry& g, const at::Tensor& like, bool zeroed = true) {
  auto acc = like.scalar_type() == at::kBFloat16 ? at::kFloat : like.scalar_type();
  at::Tensor buf = empty_output({g.N, g.C, g.H, g.W}, like.options().dtype(acc).memory_format(layout_of(like)));
  return zeroed ? buf.zero_() : buf;
}

at::Tensor finish_grad(const at::Tensor& buf, const at::Tensor& like, bool batched) {
  at::Tensor out = buf.scalar_type() == like.scalar_type() ? buf : buf.to(like.scalar_type());
  return unbatch_if(out, batched);
}

// Elements touched by a pooling pass: the input plus every window of the output.
int64_t pool_work(const PoolGeometry& g) {
  return g.N * g.C * (g.H * g.W + g.OH * g.OW * std::max<int64_t>(1, g.kh * g.kw));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Ops

std::tuple<at::Tensor, at::Tensor> max_pool2d(const at::Tensor& input, at::IntArrayRef kernel_size,
                                              at::IntArrayRef stride, at::IntArrayRef padding,
                                              at::IntArrayRef dilation, bool ceil_mode) {
  PoolGeometry g = check_max_pool2d("torchconv.max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode);
  SerialIfSmall serial(pool_work(g));
  at::Tensor x = as_batched(input);
  x = x.contiguous(layout_of(x));
  auto opts = x.options().memory_format(layout_of(x));
  at::Tensor y = empty_output({g.N, g.C, g.OH, g.OW}, opts), ind = empty_output({g.N, g.C, g.OH, g.OW}, opts.dtype(at::kLong));
  AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, x.scalar_type(), "torchconv.max_pool2d",
                                 [&] { max_forward<scalar_t>(g, SlidingRule{g, false, 0}, x, y, ind); });
  return {unbatch_if(y, g.batched), unbatch_if(ind, g.batched)};
}

std::tuple<at::Tensor, at::Tensor> adaptive_max_pool2d(const at::Tensor& input, at::IntArrayRef output_size) {
  PoolGeometry g = check_adaptive_pool2d("torchconv.adaptive_max_pool2d", input, output_size);
  SerialIfSmall serial(pool_work(g));
  at::Tensor x = as_batched(input);
  x = x.contiguous(layout_of(x));
  auto opts = x.options().memory_format(layout_of(x));
  at::Tensor y = empty_output({g.N, g.C, g.OH, g.OW}, opts), ind = empty_output({g.N, g.C, g.OH, g.OW}, opts.dtype(at::kLong));
  if (y.numel() > 0) {
    AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, x.scalar_type(), "torchconv.adaptive_max_pool2d",
                                   [&] { max_forward<scalar_t>(g, AdaptiveRule{g}, x, y, ind); });
  }
  return {unbatch_if(y, g.batched), unbatch_if(ind, g.batched)};
}

at::Tensor max_pool2d_backward(const at::Tensor& grad_output, const at::Tensor& indices, at::IntArrayRef input_size) {
  const char* op = "torchconv.max_pool2d_backward";
  PoolGeometry g = check_max_pool2d_backward(op, grad_output, indices, input_size);
  SerialIfSmall serial(pool_work(g));
  at::Tensor dy = as_batched(grad_output);
  dy = dy.contiguous(layout_of(dy));
  at::Tensor ind = as_batched(indices).contiguous(layout_of(dy));
  at::Tensor buf = grad_buffer(g, dy);
  bool ok = true;
  AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, dy.scalar_type(), "torchconv.max_pool2d_backward",
                                 [&] { ok = max_backward<scalar_t>(g, dy, ind, buf); });
  TORCH_CHECK(ok, op, ": found an index outside the input plane of size ", g.H, "x", g.W);
  return finish_grad(buf, dy, g.batched);
}

at::Tensor avg_pool2d(const at::Tensor& input, at::IntArrayRef kernel_size, at::IntArrayRef stride,
                      at::IntArrayRef padding, bool ceil_mode, bool count_include_pad,
                      c10::optional<int64_t> divisor_override) {
  PoolGeometry g = check_avg_pool2d("torchconv.avg_pool2d", input, kernel_size, stride, padding, ceil_mode,
                                    divisor_override);
  SerialIfSmall serial(pool_work(g));
  at::Tensor x = as_batched(input);
  x = x.contiguous(layout_of(x));
  at::Tensor y = empty_output({g.N, g.C, g.OH, g.OW}, x.options().memory_format(layout_of(x)));
  SlidingRule rule{g, count_include_pad, divisor_override.value_or(0)};
  AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, x.scalar_type(), "torchconv.avg_pool2d",
                                 [&] { avg_forward<scalar_t>(g, rule, x, y); });
  return unbatch_if(y, g.batched);
}

at::Tensor avg_pool2d_backward(const at::Tensor& grad_output, at::IntArrayRef input_size,
                               at::IntArrayRef kernel_size, at::IntArrayRef stride, at::IntArrayRef padding,
                               bool ceil_mode, bool count_include_pad, c10::optional<int64_t> divisor_override) {
  const char* op = "torchconv.avg_pool2d_backward";
  PoolGeometry g = check_avg_pool2d_backward(op, grad_output, input_size, kernel_size, stride, padding, ceil_mode,
                                             divisor_override);
  SerialIfSmall serial(pool_work(g));
  at::Tensor dy = as_batched(grad_output);
  dy = dy.contiguous(layout_of(dy));
  at::Tensor buf = grad_buffer(g, dy, /*zeroed=*/!is_channels_last(dy));
  SlidingRule rule{g, count_include_pad, divisor_override.value_or(0)};
  AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, dy.scalar_type(), "torchconv.avg_pool2d_backward",
                                 [&] { avg_backward<scalar_t>(g, rule, dy, buf); });
  return finish_grad(buf, dy, g.batched);
}

at::Tensor adaptive_avg_pool2d(const at::Tensor& input, at::IntArrayRef output_size) {
  PoolGeometry g = check_adaptive_pool2d("torchconv.adaptive_avg_pool2d", input, output_size);
  SerialIfSmall serial(pool_work(g));
  at::Tensor x = as_batched(input);
  x = x.contiguous(layout_of(x));
  at::Tensor y = empty_output({g.N, g.C, g.OH, g.OW}, x.options().memory_format(layout_of(x)));
  if (y.numel() > 0) {
    AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, x.scalar_type(), "torchconv.adaptive_avg_pool2d",
                                   [&] { avg_forward<scalar_t>(g, AdaptiveRule{g}, x, y); });
  }
  return unbatch_if(y, g.batched);
}

at::Tensor adaptive_avg_pool2d_backward(const at::Tensor& grad_output, at::IntArrayRef input_size) {
  const char* op = "torchconv.adaptive_avg_pool2d_backward";
  PoolGeometry g = check_adaptive_avg_pool2d_backward(op, grad_output, input_size);
  SerialIfSmall serial(pool_work(g));
  at::Tensor dy = as_batched(grad_output);
  dy = dy.contiguous(layout_of(dy));
  at::Tensor buf = grad_buffer(g, dy, /*zeroed=*/!is_channels_last(dy));
  AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, dy.scalar_type(), "torchconv.adaptive_avg_pool2d_backward",
                                 [&] { avg_backward<scalar_t>(g, AdaptiveRule{g}, dy, buf); });
  return finish_grad(buf, dy, g.batched);
}

TORCH_LIBRARY_IMPL(torchconv, CPU, m) {
  m.impl("max_pool2d", &max_pool2d);
  m.impl("max_pool2d_backward", &max_pool2d_backward);
  m.impl("avg_pool2d", &avg_pool2d);
  m.impl("avg_pool2d_backward", &avg_pool2d_backward);
  m.impl("adaptive_avg_pool2d", &adaptive_avg_pool2d);
  m.impl("adaptive_avg_pool2d_backward", &adaptive_avg_pool2d_backward);
  m.impl("adaptive_max_pool2d", &adaptive_max_pool2d);
}

}  // namespace cpu
}  // namespace torchconv
