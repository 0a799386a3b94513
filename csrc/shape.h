// Shape arithmetic shared by every torchconv op, on the CPU and on the GPU. Header-only and free of
// ATen so that CUDA device code can use it too.
//
// A sliding window of size k, dilation d (effective size d*(k-1)+1), stride s over an input of
// length `in` padded by p on each side produces
//
//     out = floor((in + 2p - d*(k-1) - 1) / s) + 1
//
// windows. With ceil_mode (pooling only) the division rounds up instead, except that the last window
// may not start inside the right-hand padding: if (out-1)*s >= in + p, one window is dropped.
//
// Adaptive pooling maps output index o of `out` onto the input range
//     [floor(o*in/out), ceil((o+1)*in/out))
// so every input element is covered and windows overlap by at most one element.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define TC_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define TC_HOST_DEVICE inline
#endif

namespace torchconv {

// Floor division for a possibly negative numerator and a positive denominator.
TC_HOST_DEVICE int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

TC_HOST_DEVICE int64_t window_out_size(int64_t in, int64_t k, int64_t pad, int64_t stride,
                                       int64_t dilation, bool ceil_mode) {
  int64_t span = in + 2 * pad - dilation * (k - 1) - 1;
  int64_t out = floor_div(span + (ceil_mode ? stride - 1 : 0), stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

TC_HOST_DEVICE int64_t adaptive_start(int64_t o, int64_t in, int64_t out) { return (o * in) / out; }
TC_HOST_DEVICE int64_t adaptive_end(int64_t o, int64_t in, int64_t out) {
  return ((o + 1) * in + out - 1) / out;
}

// A 2-D pooling window clipped to the input: rows h0, h0+dh, ... < h1 (likewise for columns).
struct Window {
  int64_t h0, h1, w0, w1;
};

// Window of output pixel (oh, ow) for a strided, padded, dilated pooling. The start is moved forward
// by whole dilation steps until it lies inside the input (PyTorch's rule, so indices agree).
TC_HOST_DEVICE Window sliding_window(int64_t oh, int64_t ow, int64_t H, int64_t W, int64_t kh,
                                     int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                                     int64_t dh, int64_t dw) {
  Window win;
  win.h0 = oh * sh - ph;
  win.w0 = ow * sw - pw;
  win.h1 = win.h0 + (kh - 1) * dh + 1;
  win.w1 = win.w0 + (kw - 1) * dw + 1;
  if (win.h1 > H) win.h1 = H;
  if (win.w1 > W) win.w1 = W;
  if (win.h0 < 0) win.h0 += ((-win.h0 + dh - 1) / dh) * dh;
  if (win.w0 < 0) win.w0 += ((-win.w0 + dw - 1) / dw) * dw;
  return win;
}

// Divisor of average pooling at output pixel (oh, ow): the window counted up to the padded border
// (count_include_pad) or only its elements inside the input; a non-zero divisor_override replaces both.
TC_HOST_DEVICE int64_t avg_pool_divisor(int64_t oh, int64_t ow, int64_t H, int64_t W, int64_t kh,
                                        int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                                        bool count_include_pad, int64_t divisor_override) {
  if (divisor_override != 0) return divisor_override;
  int64_t h0 = oh * sh - ph, w0 = ow * sw - pw;
  int64_t h1 = h0 + kh, w1 = w0 + kw;
  if (h1 > H + ph) h1 = H + ph;
  if (w1 > W + pw) w1 = W + pw;
  if (count_include_pad) return (h1 - h0) * (w1 - w0);
  if (h0 < 0) h0 = 0;
  if (w0 < 0) w0 = 0;
  if (h1 > H) h1 = H;
  if (w1 > W) w1 = W;
  return (h1 - h0) * (w1 - w0);
}

// Index a max pool reports for a window with no input element (a dilated window lying entirely in the
// padding); it passes no gradient.
constexpr int64_t kEmptyWindow = -1;

// Half-open range [lo, hi) of output rows (or columns).
struct Range {
  int64_t lo, hi;
};

// The outputs whose undilated sliding window contains input index i: o*s - p <= i < o*s - p + k.
TC_HOST_DEVICE Range sliding_outputs_containing(int64_t i, int64_t k, int64_t s, int64_t p, int64_t out) {
  const int64_t lo = floor_div(i + p - k, s) + 1, hi = (i + p) / s + 1;
  return {lo > 0 ? lo : 0, hi < out ? hi : out};
}

// The outputs whose adaptive window [floor(o*in/out), ceil((o+1)*in/out)) contains input index i.
TC_HOST_DEVICE Range adaptive_outputs_containing(int64_t i, int64_t in, int64_t out) {
  return {adaptive_start(i, out, in), adaptive_end(i, out, in)};
}

TC_HOST_DEVICE Window adaptive_window(int64_t oh, int64_t ow, int64_t H, int64_t W, int64_t OH,
                                      int64_t OW) {
  return Window{adaptive_start(oh, H, OH), adaptive_end(oh, H, OH), adaptive_start(ow, W, OW),
                adaptive_end(ow, W, OW)};
}

}  // namespace torchconv
