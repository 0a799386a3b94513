// CUDA pooling: max (with indices), average and their adaptive forms, forward and backward.
//
// Algorithm. Forward: one thread per output element reduces its window. The window rule is a
// template parameter: a sliding window (csrc/shape.h: sliding_window, avg_pool_divisor) or an
// adaptive one (adaptive_window). Max keeps PyTorch's semantics exactly: the running maximum
// starts at -inf with the index of the window's first element, and an element replaces it when it
// is greater or NaN (so the last NaN wins); indices are flat offsets h*W + w into each plane. A
// dilated window that lies entirely in the padding holds no element: -inf, index -1, no gradient.
//
// Backward passes are gathers: one thread per input element sums, in a fixed order, the output
// gradients that reach it, so every gradient element is written once and results are bitwise
// reproducible (no atomics on values).
//   average: the outputs whose window contains the element, each divided by its divisor
//            (sliding: oh in [floor((h + ph - kh)/sh) + 1, floor((h + ph)/sh)]; adaptive: the
//            adaptive mapping read backwards, oh in [floor(h*OH/H), ceil((h+1)*OH/H)) ).
//   max:     max_pool2d_backward receives only gradients and indices (it serves max_pool2d and
//            adaptive_max_pool2d), so the candidate outputs of input row h are found from the data:
//            a first kernel records, for every input row h, the lowest and highest output row oh
//            whose window of indices touches h (likewise for columns), using integer atomicMin /
//            atomicMax, which are order-independent. Each input element then compares the stored
//            index of every candidate output with its own position. For real pooling indices the
//            candidates are the ~(kh/sh) x (kw/sw) windows that overlap the element. The first
//            kernel also flags indices outside the plane (other than -1), reported as an error.
//
// Layout. Tensors are read through their strides (NCHW, channels_last or any view). Outputs are
// allocated contiguous in the input's layout (channels_last in, channels_last out) and walked in
// memory order, so consecutive threads write consecutive addresses. Accumulation is in float
// (float32/float16/bfloat16) or double (float64). Index arithmetic is 64-bit throughout.
#include <c10/cuda/CUDAGraphsC10Utils.h>

#include <limits>

#include "common.cuh"

namespace torchconv {
namespace cuda {
namespace {

// Window rules: the window of output (oh, ow), its row/column steps and the averaging divisor; for
// average pooling's backward, the outputs whose window contains input row h (column w).
struct SlidingRule {
  PoolGeometry g;
  bool count_include_pad;
  int64_t divisor_override;  // 0: none
  __device__ Window window(int64_t oh, int64_t ow) const {
    return sliding_window(oh, ow, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw);
  }
  __device__ int64_t divisor(int64_t oh, int64_t ow) const {
    return avg_pool_divisor(oh, ow, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, count_include_pad,
                            divisor_override);
  }
  __device__ int64_t step_h() const { return g.dh; }
  __device__ int64_t step_w() const { return g.dw; }
  // Undilated windows (average pooling): oh*sh - ph <= h < oh*sh - ph + kh.
  __device__ Range outputs_h(int64_t h) const { return sliding_outputs_containing(h, g.kh, g.sh, g.ph, g.OH); }
  __device__ Range outputs_w(int64_t w) const { return sliding_outputs_containing(w, g.kw, g.sw, g.pw, g.OW); }
};

struct AdaptiveRule {
  PoolGeometry g;
  __device__ Window window(int64_t oh, int64_t ow) const { return adaptive_window(oh, ow, g.H, g.W, g.OH, g.OW); }
  __device__ int64_t divisor(int64_t oh, int64_t ow) const {
    const Window w = window(oh, ow);
    return (w.h1 - w.h0) * (w.w1 - w.w0);
  }
  __device__ int64_t step_h() const { return 1; }
  __device__ int64_t step_w() const { return 1; }
  __device__ Range outputs_h(int64_t h) const { return adaptive_outputs_containing(h, g.H, g.OH); }
  __device__ Range outputs_w(int64_t w) const { return adaptive_outputs_containing(w, g.W, g.OW); }
};

// ---------------------------------------------------------------------------------------------
// Forward: y (and, for max, indices unless null) have the same strides; `channels_last` is their layout.

template <typename scalar_t, typename Rule, bool kMax>
__global__ void pool_forward(Rule rule, const scalar_t* x, Strides4<int64_t> xs, scalar_t* y, int64_t* indices,
                             Strides4<int64_t> ys, bool channels_last) {
  using acc_t = at::opmath_type<scalar_t>;
  const PoolGeometry& g = rule.g;
  const int64_t total = g.N * g.C * g.OH * g.OW;
  for (int64_t i = first_item(); i < total; i += grid_stride()) {
    const Coord<int64_t> o = coord_of<int64_t>(i, g.C, g.OH, g.OW, channels_last);
    const Window win = rule.window(o.h, o.w);
    const scalar_t* plane = x + o.n * xs.n + o.c * xs.c;
    const int64_t out = ys.offset(o.n, o.c, o.h, o.w);
    if constexpr (kMax) {
      acc_t best = -std::numeric_limits<acc_t>::infinity();
      int64_t best_i = (win.h0 < win.h1 && win.w0 < win.w1) ? win.h0 * g.W + win.w0 : kEmptyWindow;
      for (int64_t ih = win.h0; ih < win.h1; ih += rule.step_h())
        for (int64_t iw = win.w0; iw < win.w1; iw += rule.step_w()) {
          const acc_t v = static_cast<acc_t>(plane[ih * xs.h + iw * xs.w]);
          if (v > best || v != v) {
            best = v;
            best_i = ih * g.W + iw;
          }
        }
      y[out] = static_cast<scalar_t>(best);
      if (indices) indices[out] = best_i;
    } else {
      acc_t sum = 0;
      for (int64_t ih = win.h0; ih < win.h1; ++ih)
        for (int64_t iw = win.w0; iw < win.w1; ++iw) sum += static_cast<acc_t>(plane[ih * xs.h + iw * xs.w]);
      y[out] = static_cast<scalar_t>(sum / static_cast<acc_t>(rule.divisor(o.h, o.w)));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Backward (gathers). dx is contiguous in the layout given by `channels_last`.

template <typename scalar_t, typename Rule>
__global__ void avg_backward(Rule rule, const scalar_t* dy, Strides4<int64_t> ds, scalar_t* dx,
                             Strides4<int64_t> xs, bool channels_last) {
  using acc_t = at::opmath_type<scalar_t>;
  const PoolGeometry& g = rule.g;
  const int64_t total = g.N * g.C * g.H * g.W;
  for (int64_t i = first_item(); i < total; i += grid_stride()) {
    const Coord<int64_t> p = coord_of<int64_t>(i, g.C, g.H, g.W, channels_last);
    const Range rh = rule.outputs_h(p.h), rw = rule.outputs_w(p.w);
    const scalar_t* plane = dy + p.n * ds.n + p.c * ds.c;
    acc_t sum = 0;
    for (int64_t oh = rh.lo; oh < rh.hi; ++oh)
      for (int64_t ow = rw.lo; ow < rw.hi; ++ow)
        sum += static_cast<acc_t>(plane[oh * ds.h + ow * ds.w]) / static_cast<acc_t>(rule.divisor(oh, ow));
    dx[xs.offset(p.n, p.c, p.h, p.w)] = static_cast<scalar_t>(sum);
  }
}

// Candidate table of max_pool2d_backward, int64 entries:
//   [0, H) lowest oh, [H, 2H) highest oh whose indices touch input row h;
//   [2H, 2H+W) lowest ow, [2H+W, 2H+2W) highest ow touching input column w;
//   [2H+2W] nonzero if an index other than kEmptyWindow lies outside its H*W plane.
struct Candidates {
  long long* table;
  int64_t H, W;
  __device__ long long* row_lo() const { return table; }
  __device__ long long* row_hi() const { return table + H; }
  __device__ long long* col_lo() const { return table + 2 * H; }
  __device__ long long* col_hi() const { return table + 2 * H + W; }
  __device__ long long* bad() const { return table + 2 * H + 2 * W; }
};

// One thread per (output pixel, lane): reduces the index rows/columns of planes lane, lane + lanes,
// ... at that pixel, then widens the candidate ranges of every row/column in between. Lanes run
// fastest for channels_last (consecutive channels), pixels fastest otherwise.
__global__ void max_candidates(const int64_t* indices, Strides4<int64_t> is, PoolGeometry g, int64_t lanes,
                               bool channels_last, Candidates cand) {
  const int64_t pixels = g.OH * g.OW, planes = g.N * g.C, HW = g.H * g.W;
  for (int64_t i = first_item(); i < pixels * lanes; i += grid_stride()) {
    const int64_t pix = channels_last ? i / lanes : i % pixels, lane = channels_last ? i % lanes : i / pixels;
    const int64_t oh = pix / g.OW, ow = pix % g.OW;
    int64_t r0 = g.H, r1 = -1, c0 = g.W, c1 = -1;
    bool bad = false;
    for (int64_t plane = lane; plane < planes; plane += lanes) {
      const int64_t idx = indices[is.offset(plane / g.C, plane % g.C, oh, ow)];
      if (idx == kEmptyWindow) continue;
      if (idx < 0 || idx >= HW) {
        bad = true;
        continue;
      }
      const int64_t r = idx / g.W, c = idx % g.W;
      r0 = r < r0 ? r : r0;
      r1 = r > r1 ? r : r1;
      c0 = c < c0 ? c : c0;
      c1 = c > c1 ? c : c1;
    }
    for (int64_t r = r0; r <= r1; ++r) {
      atomicMin(cand.row_lo() + r, static_cast<long long>(oh));
      atomicMax(cand.row_hi() + r, static_cast<long long>(oh));
    }
    for (int64_t c = c0; c <= c1; ++c) {
      atomicMin(cand.col_lo() + c, static_cast<long long>(ow));
      atomicMax(cand.col_hi() + c, static_cast<long long>(ow));
    }
    if (bad) *cand.bad() = 1;
  }
}

// dx[n, c, h, w] = sum, over candidate outputs (oh, ow) in row-major order whose index is h*W + w,
// of dy[n, c, oh, ow].
template <typename scalar_t>
__global__ void max_backward(const scalar_t* dy, Strides4<int64_t> ds, const int64_t* indices, Strides4<int64_t> is,
                             Candidates cand, PoolGeometry g, scalar_t* dx, Strides4<int64_t> xs, bool channels_last) {
  using acc_t = at::opmath_type<scalar_t>;
  const int64_t total = g.N * g.C * g.H * g.W;
  for (int64_t i = first_item(); i < total; i += grid_stride()) {
    const Coord<int64_t> p = coord_of<int64_t>(i, g.C, g.H, g.W, channels_last);
    const int64_t here = p.h * g.W + p.w;
    const long long oh1 = cand.row_hi()[p.h], ow0 = cand.col_lo()[p.w], ow1 = cand.col_hi()[p.w];
    acc_t sum = 0;
    for (long long oh = cand.row_lo()[p.h]; oh <= oh1; ++oh)
      for (long long ow = ow0; ow <= ow1; ++ow) {
        if (indices[is.offset(p.n, p.c, oh, ow)] == here) sum += static_cast<acc_t>(dy[ds.offset(p.n, p.c, oh, ow)]);
      }
    dx[xs.offset(p.n, p.c, p.h, p.w)] = static_cast<scalar_t>(sum);
  }
}

// ---------------------------------------------------------------------------------------------
// Drivers

// kMax: max pooling, with the indices unless `values_only`; else average pooling.
template <bool kMax, typename Rule>
std::tuple<at::Tensor, at::Tensor> run_forward(const PoolGeometry& g, const Rule& rule,
                                           const at::Tensor& input, bool values_only = false) {
  c10::cuda::CUDAGuard guard(input.device());
  const at::Tensor x = as_batched(input);
  const auto opts = x.options().memory_format(layout_of(x));
  at::Tensor y = at::empty({g.N, g.C, g.OH, g.OW}, opts);
  const bool indices = kMax && !values_only;
  at::Tensor ind = indices ? at::empty({g.N, g.C, g.OH, g.OW}, opts.dtype(at::kLong)) : at::Tensor();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "torchconv.pool_forward", [&] {
    launch(pool_forward<scalar_t, Rule, kMax>, y.numel(), rule, x.const_data_ptr<scalar_t>(), Strides4<int64_t>(x),
           y.data_ptr<scalar_t>(), indices ? ind.data_ptr<int64_t>() : nullptr, Strides4<int64_t>(y),
           is_channels_last(y));
  });
  return {unbatch_if(y, g.batched), indices ? unbatch_if(ind, g.batched) : ind};
}

// Gradient buffer shaped like the (batched) input, contiguous in the layout of dy.
at::Tensor grad_input(const PoolGeometry& g, const at::Tensor& dy) {
  return at::empty({g.N, g.C, g.H, g.W}, dy.options().memory_format(layout_of(dy)));
}

template <typename Rule>
at::Tensor run_avg_backward(const PoolGeometry& g, const Rule& rule, const at::Tensor& grad_output) {
  c10::cuda::CUDAGuard guard(grad_output.device());
  const at::Tensor dy = as_batched(grad_output);
  at::Tensor dx = grad_input(g, dy);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, dy.scalar_type(), "torchconv.avg_pool_backward", [&] {
    launch(avg_backward<scalar_t, Rule>, dx.numel(), rule, dy.const_data_ptr<scalar_t>(), Strides4<int64_t>(dy),
           dx.data_ptr<scalar_t>(), Strides4<int64_t>(dx), is_channels_last(dx));
  });
  return unbatch_if(dx, g.batched);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Ops

std::tuple<at::Tensor, at::Tensor> max_pool2d(const at::Tensor& input, at::IntArrayRef kernel_size,
                                              at::IntArrayRef stride, at::IntArrayRef padding,
                                              at::IntArrayRef dilation, bool ceil_mode) {
  const PoolGeometry g =
      check_max_pool2d("torchconv.max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode);
  return run_forward<true>(g, SlidingRule{g, false, 0}, input);
}

at::Tensor max_pool2d_values(const at::Tensor& input, at::IntArrayRef kernel_size, at::IntArrayRef stride,
                             at::IntArrayRef padding, at::IntArrayRef dilation, bool ceil_mode) {
  const PoolGeometry g =
      check_max_pool2d("torchconv.max_pool2d_values", input, kernel_size, stride, padding, dilation, ceil_mode);
  return std::get<0>(run_forward<true>(g, SlidingRule{g, false, 0}, input, true));
}

std::tuple<at::Tensor, at::Tensor> adaptive_max_pool2d(const at::Tensor& input, at::IntArrayRef output_size) {
  const PoolGeometry g = check_adaptive_pool2d("torchconv.adaptive_max_pool2d", input, output_size);
  return run_forward<true>(g, AdaptiveRule{g}, input);
}

at::Tensor avg_pool2d(const at::Tensor& input, at::IntArrayRef kernel_size, at::IntArrayRef stride,
                      at::IntArrayRef padding, bool ceil_mode, bool count_include_pad,
                      c10::optional<int64_t> divisor_override) {
  const PoolGeometry g =
      check_avg_pool2d("torchconv.avg_pool2d", input, kernel_size, stride, padding, ceil_mode, divisor_override);
  const SlidingRule rule{g, count_include_pad, divisor_override.value_or(0)};
  return std::get<0>(run_forward<false>(g, rule, input));
}

at::Tensor adaptive_avg_pool2d(const at::Tensor& input, at::IntArrayRef output_size) {
  const PoolGeometry g = check_adaptive_pool2d("torchconv.adaptive_avg_pool2d", input, output_size);
  return std::get<0>(run_forward<false>(g, AdaptiveRule{g}, input));
}

at::Tensor avg_pool2d_backward(const at::Tensor& grad_output, at::IntArrayRef input_size,
                               at::IntArrayRef kernel_size, at::IntArrayRef stride, at::IntArrayRef padding,
                               bool ceil_mode, bool count_include_pad, c10::optional<int64_t> divisor_override) {
  const PoolGeometry g = check_avg_pool2d_backward("torchconv.avg_pool2d_backward", grad_output, input_size,
                                                   kernel_size, stride, padding, ceil_mode, divisor_override);
  return run_avg_backward(g, SlidingRule{g, count_include_pad, divisor_override.value_or(0)}, grad_output);
}

at::Tensor adaptive_avg_pool2d_backward(const at::Tensor& grad_output, at::IntArrayRef input_size) {
  const PoolGeometry g =
      check_adaptive_avg_pool2d_backward("torchconv.adaptive_avg_pool2d_backward", grad_output, input_size);
  return run_avg_backward(g, AdaptiveRule{g}, grad_output);
}

at::Tensor max_pool2d_backward(const at::Tensor& grad_output, const at::Tensor& indices, at::IntArrayRef input_size) {
  const char* op = "torchconv.max_pool2d_backward";
  const PoolGeometry g = check_max_pool2d_backward(op, grad_output, indices, input_size);
  c10::cuda::CUDAGuard guard(grad_output.device());
  const at::Tensor dy = as_batched(grad_output), ind = as_batched(indices);
  at::Tensor dx = grad_input(g, dy);
  if (dx.numel() == 0) return unbatch_if(dx, g.batched);

  // Candidate table, initially empty ranges (lo > hi) and no bad index.
  at::Tensor table = at::empty({2 * g.H + 2 * g.W + 1}, dy.options().dtype(at::kLong));
  table.narrow(0, 0, g.H).fill_(g.OH);
  table.narrow(0, g.H, g.H).fill_(-1);
  table.narrow(0, 2 * g.H, g.W).fill_(g.OW);
  table.narrow(0, 2 * g.H + g.W, g.W).fill_(-1);
  table.narrow(0, 2 * g.H + 2 * g.W, 1).zero_();
  const Candidates cand{reinterpret_cast<long long*>(table.data_ptr<int64_t>()), g.H, g.W};

  // Enough (pixel, lane) threads to fill the GPU, each reducing planes / lanes planes.
  const int64_t pixels = g.OH * g.OW, planes = g.N * g.C;
  const int64_t lanes = std::min(planes, ceil_div(int64_t(1) << 16, std::max<int64_t>(pixels, 1)));
  const bool dy_cl = is_channels_last(dy);
  launch(max_candidates, pixels * lanes, ind.const_data_ptr<int64_t>(), Strides4<int64_t>(ind), g, lanes, dy_cl, cand);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, dy.scalar_type(), "torchconv.max_pool2d_backward", [&] {
    launch(max_backward<scalar_t>, dx.numel(), dy.const_data_ptr<scalar_t>(), Strides4<int64_t>(dy),
           ind.const_data_ptr<int64_t>(), Strides4<int64_t>(ind), cand, g, dx.data_ptr<scalar_t>(),
           Strides4<int64_t>(dx), is_channels_last(dx));
  });
  // The bad-index flag costs a device-to-host copy; indices cannot be checked inside a CUDA graph
  // capture, where the copy is not allowed.
  if (c10::cuda::currentStreamCaptureStatusMayInitCtx() == c10::cuda::CaptureStatus::None) {
    TORCH_CHECK(table[2 * g.H + 2 * g.W].item<int64_t>() == 0, op,
                ": found an index outside the input plane of size ", g.H, "x", g.W);
  }
  return unbatch_if(dx, g.batched);
}

TORCH_LIBRARY_IMPL(torchconv, CUDA, m) {
  m.impl("max_pool2d", &max_pool2d);
  m.impl("max_pool2d_values", &max_pool2d_values);
  m.impl("max_pool2d_backward", &max_pool2d_backward);
  m.impl("avg_pool2d", &avg_pool2d);
  m.impl("avg_pool2d_backward", &avg_pool2d_backward);
  m.impl("adaptive_avg_pool2d", &adaptive_avg_pool2d);
  m.impl("adaptive_avg_pool2d_backward", &adaptive_avg_pool2d_backward);
  m.impl("adaptive_max_pool2d", &adaptive_max_pool2d);
}

}  // namespace cuda
}  // namespace torchconv
