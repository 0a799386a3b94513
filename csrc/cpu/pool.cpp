// CPU pooling: max (with indices), average and their adaptive forms, forward and backward.
//
// Algorithm. One forward kernel per reduction (max, average) and per layout, parameterised by the
// window rule: a sliding window (csrc/shape.h: sliding_window, avg_pool_divisor) or an adaptive one
// (adaptive_window). Max keeps PyTorch's semantics exactly: the running maximum starts at -inf with
// the index of the window's first element, and an element replaces it when it is greater or NaN (so
// the last NaN wins). Indices are flat offsets h*W + w into each input plane.
//
// Layout. channels_last inputs are pooled pixel by pixel with the channel loop innermost (the ISA
// kernels of csrc/cpu/isa/channel_kernels.h). NCHW inputs go through the same kernels: blocks of
// kPlaneBlock planes are interleaved, one band of rows at a time, into a small scratch image whose
// "channels" are the planes (it stays in L1/L2), the channels_last kernel pools it, and each output
// row is de-interleaved back into the planes. Every result is thus computed by one kernel per
// reduction whatever the layout. Global average pooling of NCHW planes is a contiguous sum per plane.
// Anything else is first made contiguous in the layout it is closest to; the output has its layout.
//
// Backward, in the accumulation type. Max pooling scatters each output gradient to its argmax; work
// is split so that no two threads write one input element (whole planes for NCHW, each zeroed just
// before its scatter while it is in cache; for channels_last, whole images, each zeroed in chunks
// just ahead of the indices that reach them, or channel blocks of a tensor zeroed beforehand);
// out-of-range indices raise an error. Average pooling is a gather: each input pixel sums the
// gradients of the windows that contain it, so every element is written once (NCHW through the same
// plane interleaving as the forward, with output-gradient rows as the source band).
#include <ATen/ATen.h>
#include <ATen/OpMathType.h>
#include <torch/library.h>

#include <atomic>
#include <limits>
#include <type_traits>
#include <vector>

#include "../checks.h"
#include "../shape.h"
#include "isa.h"
#include "output_cache.h"
#include "parallel.h"
#include "storage.h"
#include "workspace.h"

namespace torchconv {
namespace cpu {
namespace {

constexpr int64_t kChannelBlock = 64;  // channels per work item in channels_last backward passes
constexpr int64_t kPlaneBlock = 64;    // NCHW planes interleaved together: four AVX-512 float vectors
constexpr int64_t kBandRows = 4;       // destination rows per NCHW work item

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

// NCHW through the channels_last kernels. For every block of up to kPlaneBlock planes [p0, p0 + nb)
// of the NCHW tensor `src` (N*C planes of SH x SW) and every band of up to kBandRows destination
// rows [r0, r1) (of DH), the source rows the band reads, [h0, h1) = the union of src_rows(r), are
// interleaved as band[((h - h0) * SW + w) * nb + p], a channels_last image of nb channels (rows h0..h1
// of a plane are contiguous, so this is one transposition), and body(p0, nb, band, h0, r0, r1) runs;
// in parallel over (block, band). The body's results, interleaved the same way, go back to the planes
// with deinterleave().
template <typename S, typename SrcRows, typename Body>
void for_interleaved_bands(const PoolGeometry& g, const S* src, int64_t SH, int64_t SW, int64_t DH,
                           const SrcRows& src_rows, const Body& body) {
  const int64_t P = g.N * g.C, blocks = ceil_div(P, kPlaneBlock), bands = ceil_div(DH, kBandRows);
  parallel_for(blocks * bands, [&](int64_t item) {
    const int64_t p0 = item / bands * kPlaneBlock, nb = std::min(kPlaneBlock, P - p0);
    const int64_t r0 = item % bands * kBandRows, r1 = std::min(DH, r0 + kBandRows);
    int64_t h0 = SH, h1 = 0;
    for (int64_t r = r0; r < r1; ++r) {
      const Range rows = src_rows(r);
      if (rows.lo < rows.hi) {
        h0 = std::min(h0, rows.lo);
        h1 = std::max(h1, rows.hi);
      }
    }
    if (h1 < h0) h0 = h1 = 0;  // no source rows at all (windows wholly in the padding)
    S* band = workspace<S>(Slot::input, (h1 - h0) * SW * nb);
    transpose(src + p0 * SH * SW + h0 * SW, SH * SW, nb, (h1 - h0) * SW, band, nb);
    body(p0, nb, band, h0, r0, r1);
  });
}

// Rows [r0, r1) of planes [p0, p0 + nb) of an NCHW tensor `dst` with rows of DW elements, from their
// interleaved form rows[((r - r0) * DW + w) * nb + p].
template <typename E>
void deinterleave(const E* rows, int64_t p0, int64_t nb, int64_t r0, int64_t r1, int64_t DH, int64_t DW, E* dst) {
  transpose(rows, nb, (r1 - r0) * DW, nb, dst + p0 * DH * DW + r0 * DW, DH * DW);
}

// The input rows [lo, hi) of output row oh's windows.
template <typename Rule>
Range window_rows(const Rule& rule, int64_t oh) {
  const Window w = rule.window(oh, 0);
  return Range{w.h0, w.h1};
}

// One output pixel whose window is the whole input.
template <typename Rule>
bool is_global(const PoolGeometry& g, const Rule& rule) {
  const Window w = rule.window(0, 0);
  return g.OH == 1 && g.OW == 1 && w.h0 == 0 && w.h1 == g.H && w.w0 == 0 && w.w1 == g.W;
}

// Whether the windows tile the input from its top-left corner without overlap: sliding windows with
// stride = kernel size and no padding (any rows and columns past the last window belong to none).
template <typename Rule>
bool tiles_without_overlap(const PoolGeometry& g, const Rule&) {
  return std::is_same<Rule, SlidingRule>::value && g.kh == g.sh && g.kw == g.sw && g.ph == 0 && g.pw == 0 &&
         g.dh == 1 && g.dw == 1;
}

// The output columns' windows, the same for every output row: columns [w0[ow], w1[ow]).
struct ColumnWindows {
  std::vector<int64_t> w0, w1;
  template <typename Rule>
  ColumnWindows(const Rule& rule, int64_t OW) : w0(OW), w1(OW) {
    for (int64_t ow = 0; ow < OW; ++ow) {
      const Window w = rule.window(0, ow);
      w0[ow] = w.w0;
      w1[ow] = w.w1;
    }
  }
};

// divisor(oh, ow) of every output pixel, at [oh * OW + ow].
template <typename T, typename Rule>
std::vector<T> divisor_table(const Rule& rule, int64_t OH, int64_t OW) {
  std::vector<T> div(OH * OW);
  for (int64_t oh = 0; oh < OH; ++oh)
    for (int64_t ow = 0; ow < OW; ++ow) div[oh * OW + ow] = static_cast<T>(rule.divisor(oh, ow));
  return div;
}

// A dilated window can lie entirely in the padding: its maximum is -inf and its index kEmptyWindow
// (csrc/shape.h), which the backward skips. (PyTorch returns h0*W + w0 there, outside the window.)
// Sets the indices of one output row's empty windows, ind[ow * C + c], to kEmptyWindow.
inline void mark_empty_windows(const Window& rows, const ColumnWindows& cols, int64_t C, int64_t* ind) {
  for (int64_t ow = 0; ow < int64_t(cols.w0.size()); ++ow)
    if (rows.h0 >= rows.h1 || cols.w0[ow] >= cols.w1[ow]) std::fill(ind + ow * C, ind + (ow + 1) * C, kEmptyWindow);
}

// `ind` undefined: values only.
template <typename scalar_t, typename Rule>
void max_forward(const PoolGeometry& g, const Rule& rule, const at::Tensor& x, at::Tensor& y, at::Tensor& ind) {
  const auto& kern = chan<scalar_t>();
  const auto* X = raw(x.const_data_ptr<scalar_t>());
  scalar_t* Y = y.data_ptr<scalar_t>();
  int64_t* I = ind.defined() ? ind.data_ptr<int64_t>() : nullptr;
  const int64_t H = g.H, W = g.W, C = g.C, OH = g.OH, OW = g.OW, dh = rule.dh(), dw = rule.dw();
  const ColumnWindows cols(rule, OW);
  if (is_channels_last(x)) {
    parallel_for(g.N * OH, [&](int64_t item) {
      const int64_t n = item / OH, oh = item % OH;
      const Window w = rule.window(oh, 0);
      const int64_t o = (n * OH + oh) * OW * C;
      kern.max_row(X + n * H * W * C, W, C, w.h0, w.h1, dh, cols.w0.data(), cols.w1.data(), dw, OW, raw(Y) + o,
                   I ? I + o : nullptr, 0);
      if (I) mark_empty_windows(w, cols, C, I + o);
    });
  } else {
    using S = typename Storage<scalar_t>::type;
    auto rows = [&](int64_t oh) { return window_rows(rule, oh); };
    for_interleaved_bands(g, X, H, W, OH, rows, [&](int64_t p0, int64_t nb, const S* band, int64_t h0, int64_t r0, int64_t r1) {
      S* ys = workspace<S>(Slot::grad, (r1 - r0) * OW * nb);
      int64_t* is = I ? workspace<int64_t>(Slot::partials, (r1 - r0) * OW * nb) : nullptr;
      for (int64_t oh = r0; oh < r1; ++oh) {
        const Window w = rule.window(oh, 0);
        const int64_t o = (oh - r0) * OW * nb;
        kern.max_row(band, W, nb, w.h0 - h0, w.h1 - h0, dh, cols.w0.data(), cols.w1.data(), dw, OW, ys + o,
                     is ? is + o : nullptr, h0 * W);  // indices within the plane
        if (is) mark_empty_windows(w, cols, nb, is + o);
      }
      deinterleave(ys, p0, nb, r0, r1, OH, OW, raw(Y));
      if (is) deinterleave(is, p0, nb, r0, r1, OH, OW, I);
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
  const ColumnWindows cols(rule, OW);
  const std::vector<T> div = divisor_table<T>(rule, OH, OW);
  if (is_channels_last(x)) {
    parallel_for(g.N * OH, [&](int64_t item) {
      const int64_t n = item / OH, oh = item % OH;
      const Window w = rule.window(oh, 0);
      kern.avg_row(raw(X) + n * H * W * C, W, C, w.h0, w.h1, cols.w0.data(), cols.w1.data(), div.data() + oh * OW, OW,
                   raw(Y) + (n * OH + oh) * OW * C);
    });
  } else {
    if (is_global(g, rule)) {
      // Global pooling: one contiguous sum per plane.
      const T divisor = static_cast<T>(rule.divisor(0, 0));
      parallel_for_ranges(g.N * C, plane_grain(g), [&](int64_t plane0, int64_t plane1) {
        std::vector<T> sums(plane1 - plane0);
        kern.plane_sums(raw(X) + plane0 * H * W, plane1 - plane0, H * W, sums.data());
        for (int64_t p = plane0; p < plane1; ++p) Y[p] = static_cast<scalar_t>(sums[p - plane0] / divisor);
      });
      return;
    }
    using S = typename Storage<scalar_t>::type;
    auto rows = [&](int64_t oh) { return window_rows(rule, oh); };
    for_interleaved_bands(g, raw(X), H, W, OH, rows, [&](int64_t p0, int64_t nb, const S* band, int64_t h0, int64_t r0, int64_t r1) {
      S* ys = workspace<S>(Slot::grad, (r1 - r0) * OW * nb);
      for (int64_t oh = r0; oh < r1; ++oh) {
        const Window w = rule.window(oh, 0);
        kern.avg_row(band, W, nb, w.h0 - h0, w.h1 - h0, cols.w0.data(), cols.w1.data(), div.data() + oh * OW, OW,
                     ys + (oh - r0) * OW * nb);
      }
      deinterleave(ys, p0, nb, r0, r1, OH, OW, raw(Y));
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Backward. `dx` is an uninitialised buffer of the accumulation type in the layout of `dy`; every
// path writes each element, the max scatters zeroing their region first.

template <typename scalar_t, typename Rule>
void avg_backward(const PoolGeometry& g, const Rule& rule, const at::Tensor& dy, at::Tensor& dx) {
  using T = at::opmath_type<scalar_t>;
  using S = typename Storage<scalar_t>::type;
  const auto& kern = chan<scalar_t>();
  const scalar_t* DY = dy.const_data_ptr<scalar_t>();
  T* DX = dx.data_ptr<T>();
  const int64_t H = g.H, W = g.W, C = g.C, OH = g.OH, OW = g.OW;
  if (!is_channels_last(dy) && is_global(g, rule)) {
    // Global pooling: every element of a plane receives the same share.
    const T divisor = static_cast<T>(rule.divisor(0, 0));
    parallel_for_ranges(g.N * C, plane_grain(g), [&](int64_t plane0, int64_t plane1) {
      kern.plane_fill(raw(DY) + plane0, plane1 - plane0, H * W, divisor, DX + plane0 * H * W);
    });
    return;
  }
  // Gather: each input pixel sums the gradients of the windows that contain it (vectorised over
  // channels), so every element is written once and no thread shares one. The windows' divisors
  // and each input column's output columns are tabulated once.
  const std::vector<T> div = divisor_table<T>(rule, OH, OW);
  if (!is_channels_last(dy) && tiles_without_overlap(g, rule)) {
    // Windows tiling the planes (DenseNet's 2x2 stride 2): each input row is its output row's
    // gradients, each repeated kw times (and divided), or zeros below the last window.
    parallel_for_ranges(g.N * C * H, std::max<int64_t>(1, 4096 / W), [&](int64_t row0, int64_t row1) {
      for (int64_t row = row0; row < row1; ++row) {
        const int64_t plane = row / H, oh = (row % H) / g.kh;
        T* out = DX + row * W;
        if (oh >= OH) {
          std::fill(out, out + W, T(0));
          continue;
        }
        kern.avg_expand_row(raw(DY) + (plane * OH + oh) * OW, div.data() + oh * OW, g.kw, OW, W, out);
      }
    });
    return;
  }
  std::vector<int64_t> ow_lo(W), ow_hi(W);
  for (int64_t w = 0; w < W; ++w) {
    const Range cols = rule.outputs_w(w);
    ow_lo[w] = cols.lo;
    ow_hi[w] = std::max(cols.lo, cols.hi);
  }
  if (is_channels_last(dy)) {
    parallel_for(g.N * H, [&](int64_t item) {
      const int64_t n = item / H, h = item % H;
      const Range rows = rule.outputs_h(h);
      kern.avg_gather_row(DX + (n * H + h) * W * C, W, C, raw(DY) + n * OH * OW * C, 0, OW, rows.lo, rows.hi,
                          ow_lo.data(), ow_hi.data(), div.data());
    });
  } else {
    // Through interleaved planes: the source band is output-gradient rows.
    auto rows = [&](int64_t h) { return rule.outputs_h(h); };
    for_interleaved_bands(g, raw(DY), OH, OW, H, rows, [&](int64_t p0, int64_t nb, const S* band, int64_t oh0, int64_t r0, int64_t r1) {
      T* ds = workspace<T>(Slot::grad, (r1 - r0) * W * nb);
      for (int64_t h = r0; h < r1; ++h) {
        const Range rows_h = rule.outputs_h(h);
        kern.avg_gather_row(ds + (h - r0) * W * nb, W, nb, band, oh0, OW, rows_h.lo, rows_h.hi, ow_lo.data(),
                            ow_hi.data(), div.data());
      }
      deinterleave(ds, p0, nb, r0, r1, H, W, DX);
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
    const bool whole_images = g.N >= 2 * at::get_num_threads();
    const int64_t block = whole_images ? C : kChannelBlock, CB = ceil_div(C, block);
    if (!whole_images) dx.zero_();
    const int64_t chunk = std::max<int64_t>(1, (int64_t(64) << 10) / (C * int64_t(sizeof(T))));
    parallel_for(g.N * CB, [&](int64_t item) {
      const int64_t n = item / CB, c0 = (item % CB) * block, c1 = std::min(C, c0 + block);
      T* const img = DX + n * HW * C;
      // A whole image is zeroed on demand: at the first index past its zeroed pixels [0, zeroed), up
      // to 64 KiB beyond it, so that the lines scattered into are still in cache (measured, 8x512x28x28
      // from 2x2 windows: 0.82-0.93 -> 0.67-0.74 ms against zeroing the image first).
      int64_t zeroed = whole_images ? 0 : HW;
      auto zero_to = [&](int64_t end) {
        std::fill(img + zeroed * C, img + end * C, T(0));
        zeroed = end;
      };
      for (int64_t o = 0; o < OHW; ++o) {
        const scalar_t* gv = DY + (n * OHW + o) * C;
        const int64_t* iv = I + (n * OHW + o) * C;
        for (int64_t c = c0; c < c1; ++c) {
          const int64_t i = iv[c];
          if (static_cast<uint64_t>(i) >= static_cast<uint64_t>(zeroed)) {  // also negative i
            if (i == kEmptyWindow) continue;
            if (i < 0 || i >= HW) {
              ok = false;
              continue;
            }
            zero_to(std::min(HW, i + chunk));
          }
          img[i * C + c] += static_cast<T>(gv[c]);
        }
      }
      if (zeroed < HW) zero_to(HW);
    });
  } else {
    parallel_for_ranges(g.N * C, plane_grain(g), [&](int64_t plane0, int64_t plane1) {
      for (int64_t plane = plane0; plane < plane1; ++plane) {
        T* xp = DX + plane * HW;
        std::fill(xp, xp + HW, T(0));
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

// The gradient buffer, shaped like the (batched) input, in the accumulation type and the layout of
// `like`; uninitialised (each kernel writes or zeroes every element itself).
at::Tensor grad_buffer(const PoolGeometry& g, const at::Tensor& like) {
  auto acc = like.scalar_type() == at::kBFloat16 ? at::kFloat : like.scalar_type();
  return empty_output({g.N, g.C, g.H, g.W}, like.options().dtype(acc).memory_format(layout_of(like)));
}

at::Tensor finish_grad(const at::Tensor& buf, const at::Tensor& like, bool batched) {
  at::Tensor out = buf.scalar_type() == like.scalar_type() ? buf : buf.to(like.scalar_type());
  return unbatch_if(out, batched);
}

// Elements touched by a pooling pass: the input plus every window of the output.
int64_t pool_work(const PoolGeometry& g) {
  return g.N * g.C * (g.H * g.W + g.OH * g.OW * std::max<int64_t>(1, g.kh * g.kw));
}

// max_pool2d, with the indices when `indices` is set (else an undefined second tensor).
std::tuple<at::Tensor, at::Tensor> max_pool2d_impl(const char* op, const at::Tensor& input, at::IntArrayRef kernel_size,
                                                   at::IntArrayRef stride, at::IntArrayRef padding,
                                                   at::IntArrayRef dilation, bool ceil_mode, bool indices) {
  PoolGeometry g = check_max_pool2d(op, input, kernel_size, stride, padding, dilation, ceil_mode);
  SerialIfSmall serial(pool_work(g));
  at::Tensor x = as_batched(input);
  x = x.contiguous(layout_of(x));
  auto opts = x.options().memory_format(layout_of(x));
  at::Tensor y = empty_output({g.N, g.C, g.OH, g.OW}, opts);
  at::Tensor ind = indices ? empty_output({g.N, g.C, g.OH, g.OW}, opts.dtype(at::kLong)) : at::Tensor();
  AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, x.scalar_type(), "torchconv.max_pool2d",
                                 [&] { max_forward<scalar_t>(g, SlidingRule{g, false, 0}, x, y, ind); });
  return {unbatch_if(y, g.batched), indices ? unbatch_if(ind, g.batched) : ind};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Ops

std::tuple<at::Tensor, at::Tensor> max_pool2d(const at::Tensor& input, at::IntArrayRef kernel_size,
                                              at::IntArrayRef stride, at::IntArrayRef padding,
                                              at::IntArrayRef dilation, bool ceil_mode) {
  return max_pool2d_impl("torchconv.max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode, true);
}

at::Tensor max_pool2d_values(const at::Tensor& input, at::IntArrayRef kernel_size, at::IntArrayRef stride,
                             at::IntArrayRef padding, at::IntArrayRef dilation, bool ceil_mode) {
  return std::get<0>(
      max_pool2d_impl("torchconv.max_pool2d_values", input, kernel_size, stride, padding, dilation, ceil_mode, false));
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
  at::Tensor buf = grad_buffer(g, dy);
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
  at::Tensor buf = grad_buffer(g, dy);
  AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, dy.scalar_type(), "torchconv.adaptive_avg_pool2d_backward",
                                 [&] { avg_backward<scalar_t>(g, AdaptiveRule{g}, dy, buf); });
  return finish_grad(buf, dy, g.batched);
}

TORCH_LIBRARY_IMPL(torchconv, CPU, m) {
  m.impl("max_pool2d", &max_pool2d);
  m.impl("max_pool2d_values", &max_pool2d_values);
  m.impl("max_pool2d_backward", &max_pool2d_backward);
  m.impl("avg_pool2d", &avg_pool2d);
  m.impl("avg_pool2d_backward", &avg_pool2d_backward);
  m.impl("adaptive_avg_pool2d", &adaptive_avg_pool2d);
  m.impl("adaptive_avg_pool2d_backward", &adaptive_avg_pool2d_backward);
  m.impl("adaptive_max_pool2d", &adaptive_max_pool2d);
}

}  // namespace cpu
}  // namespace torchconv
