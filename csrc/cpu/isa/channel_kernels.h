// Channel-vectorised kernels (see ChannelKernels in csrc/cpu/isa.h), written once with GCC vector
// extensions and compiled per ISA by the kernels_<isa>.cpp files.
//
// Layout: pooling and channels_last depthwise / narrow-group convolution vectorise over the C
// contiguous channels of a pixel (NCHW pooling calls them on blocks of planes interleaved into that
// form); NCHW depthwise convolution vectorises over the contiguous output columns of a row; global
// pooling sums planes. Loads widen the storage type (float, double, bfloat16 bits) to the
// accumulation type, stores narrow it (bfloat16 rounds to nearest even). Remainders shorter than a
// vector run the same logic per lane, or, where recomputing is harmless, one last vector overlapping
// the previous one.
//
// Blocking: several pixels (convolution) or vectors (max pooling) per pass over the taps, so that
// each weight or window element loaded serves several accumulators held in registers.
//
// Max pooling keeps PyTorch's scan exactly: the running maximum starts at -inf at the window's first
// element, an element replaces it when greater or NaN; the winner's flat index h*W + w is tracked in
// integer lanes of the value's width, widened to int64 when stored.
#include "vec.h"

namespace torchconv {
namespace cpu {
namespace TC_ISA_NS {

static inline float widen(float v) { return v; }
static inline double widen(double v) { return v; }
static inline float widen(bf16_bits v) {
  uint32_t u = uint32_t(v) << 16;
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}
static inline void narrow(float* p, float v) { *p = v; }
static inline void narrow(double* p, double v) { *p = v; }
static inline void narrow(bf16_bits* p, float v) {
  uint32_t u;
  __builtin_memcpy(&u, &v, 4);
  *p = v != v ? bf16_bits(0x7FC0) : bf16_bits((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
}

template <typename T, typename S>
static inline typename VecOf<T>::type vload(const S* p) {
  typedef typename VecOf<T>::type V;
  if constexpr (std::is_same<S, T>::value) {
    return *reinterpret_cast<const V*>(p);
  } else {
    V v;
    for (int l = 0; l < int(sizeof(V) / sizeof(T)); ++l) v[l] = widen(p[l]);
    return v;
  }
}

template <typename T, typename S>
static inline void vstore(S* p, typename VecOf<T>::type v) {
  typedef typename VecOf<T>::type V;
  if constexpr (std::is_same<S, T>::value) {
    *reinterpret_cast<V*>(p) = v;
  } else {
    for (int l = 0; l < int(sizeof(V) / sizeof(T)); ++l) narrow(p + l, v[l]);
  }
}

// Stores the VL integer lanes of m as VL consecutive int64 values.
template <typename M>
static inline void store_widened(int64_t* p, M m) {
  constexpr int VL = sizeof(M) / sizeof(m[0]);
  typedef int64_t W __attribute__((vector_size(VL * 8), aligned(8)));
  *reinterpret_cast<W*>(p) = __builtin_convertvector(m, W);
}

template <typename S, typename T>
static void fma(T* acc, const S* a, const T* b, int64_t n) {
  constexpr int64_t VL = sizeof(typename VecOf<T>::type) / sizeof(T);
  int64_t c = 0;
  for (; c + VL <= n; c += VL) vstore<T>(acc + c, vload<T>(acc + c) + vload<T>(a + c) * vload<T>(b + c));
  for (; c < n; ++c) acc[c] += widen(a[c]) * b[c];
}

// Max over one window for NV vectors of channels [c, c + NV*VL): the window's pixels are visited in
// scan order, each read as one contiguous run of NV vectors (a prefetch-friendly stream per row).
// kIndices: also track and store the winners' indices (else ind is unused).
template <bool kIndices, int NV, typename S, typename T>
static inline void max_pixel_vectors(const S* img, int64_t W, int64_t C, int64_t h0, int64_t h1, int64_t dh,
                                     int64_t w0, int64_t w1, int64_t dw, S* y, int64_t* ind, int64_t base,
                                     int64_t c) {
  typedef typename VecOf<T>::type V;
  typedef typename VecOf<T>::mask M;
  typedef typename VecOf<T>::lane L;
  constexpr int64_t VL = sizeof(V) / sizeof(T);
  V best[NV];
  M idx[NV];
  for (int v = 0; v < NV; ++v) {
    best[v] = V{} - kInfinity<T>;
    if (kIndices) idx[v] = M{} + L(base + h0 * W + w0);
  }
  for (int64_t ih = h0; ih < h1; ih += dh)
    for (int64_t iw = w0; iw < w1; iw += dw) {
      const S* px = img + (ih * W + iw) * C + c;
      const M here = M{} + L(base + ih * W + iw);
      for (int v = 0; v < NV; ++v) {
        const V x = vload<T>(px + v * VL);
        const M take = (x > best[v]) | (x != x);
        best[v] = take ? x : best[v];
        if (kIndices) idx[v] = take ? here : idx[v];
      }
    }
  for (int v = 0; v < NV; ++v) {
    vstore<T>(y + c + v * VL, best[v]);
    if (kIndices) store_widened(ind + c + v * VL, idx[v]);
  }
}

template <bool kIndices, typename S, typename T>
static inline void max_pixel(const S* img, int64_t W, int64_t C, int64_t h0, int64_t h1, int64_t dh, int64_t w0,
                             int64_t w1, int64_t dw, S* y, int64_t* ind, int64_t base) {
  typedef typename VecOf<T>::type V;
  typedef typename VecOf<T>::lane L;
  constexpr int64_t VL = sizeof(V) / sizeof(T);
  const T neg_inf = -kInfinity<T>;
  int64_t c = 0;
  // Vector lanes track flat indices in integers of the value's width, when those can hold them.
  if (!kIndices || base + (h1 - 1) * W + (w1 - 1) <= kLaneMax<L>) {
    for (; c + 4 * VL <= C; c += 4 * VL) max_pixel_vectors<kIndices, 4, S, T>(img, W, C, h0, h1, dh, w0, w1, dw, y, ind, base, c);
    for (; c + VL <= C; c += VL) max_pixel_vectors<kIndices, 1, S, T>(img, W, C, h0, h1, dh, w0, w1, dw, y, ind, base, c);
  }
  for (; c < C; ++c) {
    T best = neg_inf;
    int64_t idx = base + h0 * W + w0;
    for (int64_t ih = h0; ih < h1; ih += dh)
      for (int64_t iw = w0; iw < w1; iw += dw) {
        const T v = widen(img[(ih * W + iw) * C + c]);
        if (v > best || v != v) {
          best = v;
          idx = base + ih * W + iw;
        }
      }
    narrow(y + c, best);
    if (kIndices) ind[c] = idx;
  }
}

template <typename S, typename T>
static inline void avg_pixel(const S* img, int64_t W, int64_t C, int64_t h0, int64_t h1, int64_t w0, int64_t w1,
                             T divisor, S* y) {
  typedef typename VecOf<T>::type V;
  constexpr int64_t VL = sizeof(V) / sizeof(T);
  int64_t c = 0;
  for (; c + VL <= C; c += VL) {
    V sum = V{};
    for (int64_t ih = h0; ih < h1; ++ih)
      for (int64_t iw = w0; iw < w1; ++iw) sum += vload<T>(img + (ih * W + iw) * C + c);
    vstore<T>(y + c, sum / divisor);
  }
  for (; c < C; ++c) {
    T sum = 0;
    for (int64_t ih = h0; ih < h1; ++ih)
      for (int64_t iw = w0; iw < w1; ++iw) sum += widen(img[(ih * W + iw) * C + c]);
    narrow(y + c, sum / divisor);
  }
}

// One output row: pixel o has columns [w0[o], w1[o]) (and divisor div[o]); one call per row keeps the
// per-pixel cost to the window loops.
template <typename S, typename T>
static void max_row(const S* img, int64_t W, int64_t C, int64_t h0, int64_t h1, int64_t dh, const int64_t* w0,
                    const int64_t* w1, int64_t dw, int64_t count, S* y, int64_t* ind, int64_t index_base) {
  if (ind) {
    for (int64_t o = 0; o < count; ++o)
      max_pixel<true, S, T>(img, W, C, h0, h1, dh, w0[o], w1[o], dw, y + o * C, ind + o * C, index_base);
  } else {
    for (int64_t o = 0; o < count; ++o)
      max_pixel<false, S, T>(img, W, C, h0, h1, dh, w0[o], w1[o], dw, y + o * C, nullptr, 0);
  }
}

template <typename S, typename T>
static void avg_row(const S* img, int64_t W, int64_t C, int64_t h0, int64_t h1, const int64_t* w0,
                    const int64_t* w1, const T* div, int64_t count, S* y) {
  for (int64_t o = 0; o < count; ++o) avg_pixel<S, T>(img, W, C, h0, h1, w0[o], w1[o], div[o], y + o * C);
}

template <typename S, typename T>
static void avg_gather_row(T* d, int64_t W, int64_t C, const S* g, int64_t g_oh0, int64_t OW, int64_t oh0,
                           int64_t oh1, const int64_t* ow_lo, const int64_t* ow_hi, const T* div) {
  typedef typename VecOf<T>::type V;
  constexpr int64_t VL = sizeof(V) / sizeof(T);
  for (int64_t w = 0; w < W; ++w) {
    T* dw = d + w * C;
    int64_t c = 0;
    for (; c + VL <= C; c += VL) {
      V acc = V{};
      for (int64_t oh = oh0; oh < oh1; ++oh)
        for (int64_t ow = ow_lo[w]; ow < ow_hi[w]; ++ow)
          acc += vload<T>(g + ((oh - g_oh0) * OW + ow) * C + c) / div[oh * OW + ow];
      vstore<T>(dw + c, acc);
    }
    for (; c < C; ++c) {
      T acc = 0;
      for (int64_t oh = oh0; oh < oh1; ++oh)
        for (int64_t ow = ow_lo[w]; ow < ow_hi[w]; ++ow) acc += widen(g[((oh - g_oh0) * OW + ow) * C + c]) / div[oh * OW + ow];
      dw[c] = acc;
    }
  }
}

// Grouped convolutions with cg input and cg output channels per group (cg = 1: depthwise), over
// vectors of channels: output lane k of a vector needs input channels (k & ~(cg-1)) + c' of its own
// group, c' < cg, i.e. the input vector with lanes broadcast within each block of cg lanes, one
// shuffle per c'. Needs cg to divide the vector length; otherwise (and for remainders) per element.
template <int CG, typename T>
static inline void group_selectors(typename VecOf<T>::mask* sel) {
  typedef typename VecOf<T>::lane L;
  constexpr int VL = sizeof(typename VecOf<T>::type) / sizeof(T);
  for (int cp = 0; cp < CG; ++cp)
    for (int l = 0; l < VL; ++l) sel[cp][l] = L((l & ~(CG - 1)) + cp);
}

// Pixels j0 .. j0 + NP - 1 x one vector of channels [c, c + VL): each weight vector is loaded once
// for NP pixels.
template <int CG, int NP, typename S, typename T, typename M>
static inline void grouped_pixels_vector(const S* const* px, const T* const* wv, int64_t taps, int64_t C,
                                         const T* bias, int64_t j0, int64_t x_step, int64_t y_step, S* y,
                                         int64_t c, const M* sel) {
  typedef typename VecOf<T>::type V;
  V acc[NP];
  for (int j = 0; j < NP; ++j) acc[j] = vload<T>(bias + c);
  for (int64_t t = 0; t < taps; ++t) {
    V xv[NP];
    for (int j = 0; j < NP; ++j) xv[j] = vload<T>(px[t] + (j0 + j) * x_step + c);
    for (int cp = 0; cp < CG; ++cp) {
      const V wvec = vload<T>(wv[t] + cp * C + c);
      for (int j = 0; j < NP; ++j) acc[j] += (CG == 1 ? xv[j] : __builtin_shuffle(xv[j], sel[cp])) * wvec;
    }
  }
  for (int j = 0; j < NP; ++j) vstore<T>(y + (j0 + j) * y_step + c, acc[j]);
}

template <typename S, typename T>
static void grouped_pixels_scalar(const S* const* px, const T* const* wv, int64_t taps, int64_t C, int64_t cg,
                                  const T* bias, int64_t j, int64_t x_step, int64_t y_step, S* y, int64_t c) {
  T acc = bias[c];
  for (int64_t t = 0; t < taps; ++t)
    for (int64_t cp = 0; cp < cg; ++cp) acc += widen(px[t][j * x_step + c / cg * cg + cp]) * wv[t][cp * C + c];
  narrow(y + j * y_step + c, acc);
}

template <int CG, int NP, typename S, typename T, typename M>
static inline void grouped_pixels_block(const S* const* px, const T* const* wv, int64_t taps, int64_t C,
                                        const T* bias, int64_t j0, int64_t x_step, int64_t y_step, S* y,
                                        const M* sel) {
  constexpr int64_t VL = sizeof(typename VecOf<T>::type) / sizeof(T);
  int64_t c = 0;
  if (VL % CG == 0) {
    for (; c + VL <= C; c += VL) grouped_pixels_vector<CG, NP>(px, wv, taps, C, bias, j0, x_step, y_step, y, c, sel);
    if (c < C && C >= VL) {  // the last vector, overlapping the previous one (both start on a group)
      grouped_pixels_vector<CG, NP>(px, wv, taps, C, bias, j0, x_step, y_step, y, C - VL, sel);
      c = C;
    }
  }
  for (; c < C; ++c)
    for (int64_t j = j0; j < j0 + NP; ++j) grouped_pixels_scalar(px, wv, taps, C, CG, bias, j, x_step, y_step, y, c);
}

template <int CG, typename S, typename T>
static void grouped_pixels_cg(const S* const* px, const T* const* wv, int64_t taps, int64_t C, const T* bias,
                              int64_t count, int64_t x_step, int64_t y_step, S* y) {
  typename VecOf<T>::mask sel[CG];
  group_selectors<CG, T>(sel);
  int64_t j = 0;
  for (; j + 4 <= count; j += 4) grouped_pixels_block<CG, 4>(px, wv, taps, C, bias, j, x_step, y_step, y, sel);
  for (; j < count; ++j) grouped_pixels_block<CG, 1>(px, wv, taps, C, bias, j, x_step, y_step, y, sel);
}

template <typename S, typename T>
static void grouped_pixels(const S* const* px, const T* const* wv, int64_t taps, int64_t C, int64_t cg,
                           const T* bias, int64_t count, int64_t x_step, int64_t y_step, S* y) {
  switch (cg) {
    case 1: return grouped_pixels_cg<1>(px, wv, taps, C, bias, count, x_step, y_step, y);
    case 2: return grouped_pixels_cg<2>(px, wv, taps, C, bias, count, x_step, y_step, y);
    case 4: return grouped_pixels_cg<4>(px, wv, taps, C, bias, count, x_step, y_step, y);
    case 8: return grouped_pixels_cg<8>(px, wv, taps, C, bias, count, x_step, y_step, y);
  }
  for (int64_t j = 0; j < count; ++j)
    for (int64_t c = 0; c < C; ++c) grouped_pixels_scalar(px, wv, taps, C, cg, bias, j, x_step, y_step, y, c);
}

template <typename S, typename T>
static void depthwise_row(const T* const* rows, const T* w, int64_t taps, T bias, int64_t Q, S* y) {
  typedef typename VecOf<T>::type V;
  constexpr int64_t VL = sizeof(V) / sizeof(T);
  int64_t q = 0;
  for (; q + 2 * VL <= Q; q += 2 * VL) {
    V a0 = V{} + bias, a1 = a0;
    for (int64_t t = 0; t < taps; ++t) {
      a0 += vload<T>(rows[t] + q) * w[t];
      a1 += vload<T>(rows[t] + q + VL) * w[t];
    }
    vstore<T>(y + q, a0);
    vstore<T>(y + q + VL, a1);
  }
  auto one_vector = [&](int64_t q0) {
    V a = V{} + bias;
    for (int64_t t = 0; t < taps; ++t) a += vload<T>(rows[t] + q0) * w[t];
    vstore<T>(y + q0, a);
  };
  for (; q + VL <= Q; q += VL) one_vector(q);
  if (q < Q && Q >= VL) {  // the last vector, overlapping the previous one, recomputes a few columns
    one_vector(Q - VL);
    q = Q;
  }
  for (; q < Q; ++q) {
    T a = bias;
    for (int64_t t = 0; t < taps; ++t) a += rows[t][q] * w[t];
    narrow(y + q, a);
  }
}

// NT taps x one vector of channels: the gradient vector is loaded once for NT taps, the input
// vector once for its CG shuffles (see grouped_pixels).
template <int CG, int NT, typename S, typename T, typename M>
static inline void grouped_grad_vector(const S* const* px, T* const* acc, int64_t C, const S* g, int64_t count,
                                       int64_t x_step, int64_t g_step, int64_t c, const M* sel) {
  typedef typename VecOf<T>::type V;
  V a[NT][CG];
  for (int t = 0; t < NT; ++t)
    for (int cp = 0; cp < CG; ++cp) a[t][cp] = V{};
  for (int64_t j = 0; j < count; ++j) {
    const V gv = vload<T>(g + j * g_step + c);
    for (int t = 0; t < NT; ++t) {
      const V xv = vload<T>(px[t] + j * x_step + c);
      for (int cp = 0; cp < CG; ++cp) a[t][cp] += (CG == 1 ? xv : __builtin_shuffle(xv, sel[cp])) * gv;
    }
  }
  for (int t = 0; t < NT; ++t)
    for (int cp = 0; cp < CG; ++cp) vstore<T>(acc[t] + cp * C + c, vload<T>(acc[t] + cp * C + c) + a[t][cp]);
}

// One channel c of grouped_grad_pixels, element by element (remainders and unsupported cg).
template <typename S, typename T>
static void grouped_grad_scalar(const S* const* px, T* const* acc, int64_t taps, int64_t C, int64_t cg, const S* g,
                                int64_t count, int64_t x_step, int64_t g_step, int64_t c) {
  for (int64_t t = 0; t < taps; ++t)
    for (int64_t cp = 0; cp < cg; ++cp) {
      T a = 0;
      for (int64_t j = 0; j < count; ++j) a += widen(px[t][j * x_step + c / cg * cg + cp]) * widen(g[j * g_step + c]);
      acc[t][cp * C + c] += a;
    }
}

template <int CG, typename S, typename T>
static void grouped_grad_pixels_cg(const S* const* px, T* const* acc, int64_t taps, int64_t C, const S* g,
                                   int64_t count, int64_t x_step, int64_t g_step) {
  constexpr int64_t VL = sizeof(typename VecOf<T>::type) / sizeof(T);
  constexpr int NT = CG == 1 ? 4 : 1;
  typename VecOf<T>::mask sel[CG];
  group_selectors<CG, T>(sel);
  int64_t c = 0;
  if (VL % CG == 0) {
    for (; c + VL <= C; c += VL) {
      int64_t t = 0;
      for (; t + NT <= taps; t += NT) grouped_grad_vector<CG, NT>(px + t, acc + t, C, g, count, x_step, g_step, c, sel);
      for (; t < taps; ++t) grouped_grad_vector<CG, 1>(px + t, acc + t, C, g, count, x_step, g_step, c, sel);
    }
  }
  for (; c < C; ++c) grouped_grad_scalar(px, acc, taps, C, CG, g, count, x_step, g_step, c);
}

template <typename S, typename T>
static void grouped_grad_pixels(const S* const* px, T* const* acc, int64_t taps, int64_t C, int64_t cg,
                                const S* g, int64_t count, int64_t x_step, int64_t g_step) {
  switch (cg) {
    case 1: return grouped_grad_pixels_cg<1>(px, acc, taps, C, g, count, x_step, g_step);
    case 2: return grouped_grad_pixels_cg<2>(px, acc, taps, C, g, count, x_step, g_step);
    case 4: return grouped_grad_pixels_cg<4>(px, acc, taps, C, g, count, x_step, g_step);
    case 8: return grouped_grad_pixels_cg<8>(px, acc, taps, C, g, count, x_step, g_step);
  }
  for (int64_t c = 0; c < C; ++c) grouped_grad_scalar(px, acc, taps, C, cg, g, count, x_step, g_step, c);
}

// Per tap, vector partial sums run over the whole plane and are added up once at the end; a row's
// last partial vector is read ending at Q with the lanes before the row's remainder masked off.
template <typename S, typename T>
static void depthwise_grad_rows(const T* const* rows, T* acc, int64_t taps, int64_t row_step, const S* g,
                                int64_t g_step, int64_t P, int64_t Q) {
  typedef typename VecOf<T>::type V;
  typedef typename VecOf<T>::mask M;
  typedef typename VecOf<T>::lane L;
  constexpr int64_t VL = sizeof(V) / sizeof(T);
  const int64_t full = Q / VL * VL, rem = Q - full;
  M tail;
  for (int64_t l = 0; l < VL; ++l) tail[l] = l >= VL - rem ? L(-1) : L(0);
  for (int64_t t = 0; t < taps; ++t) {
    V a0 = V{}, a1 = V{};
    T scalar = 0;
    for (int64_t p = 0; p < P; ++p) {
      const T* x = rows[t] + p * row_step;
      const S* gp = g + p * g_step;
      int64_t q = 0;
      for (; q + 2 * VL <= full; q += 2 * VL) {
        a0 += vload<T>(x + q) * vload<T>(gp + q);
        a1 += vload<T>(x + q + VL) * vload<T>(gp + q + VL);
      }
      for (; q < full; q += VL) a0 += vload<T>(x + q) * vload<T>(gp + q);
      if (rem > 0 && Q >= VL) {
        const V prod = vload<T>(x + Q - VL) * vload<T>(gp + Q - VL);
        a1 += tail ? prod : V{};
      } else {
        for (q = full; q < Q; ++q) scalar += x[q] * widen(gp[q]);
      }
    }
    a0 += a1;
    T sum = scalar;
    for (int64_t l = 0; l < VL; ++l) sum += a0[l];
    acc[t] += sum;
  }
}

// Two phases (stride-2 convolutions) are split a pair of vectors at a time by two shuffles.
template <typename S, typename T>
static void split_phases(const T* row, int64_t n, int64_t phases, T* out, int64_t ld) {
  typedef typename VecOf<T>::type V;
  typedef typename VecOf<T>::mask M;
  typedef typename VecOf<T>::lane L;
  constexpr int64_t VL = sizeof(V) / sizeof(T);
  int64_t i = 0;
  if (phases == 2) {
    M even, odd;
    for (int64_t l = 0; l < VL; ++l) {
      even[l] = L(2 * l);
      odd[l] = L(2 * l + 1);
    }
    for (; i + VL <= n; i += VL) {
      const V a = vload<T>(row + 2 * i), b = vload<T>(row + 2 * i + VL);
      vstore<T>(out + i, __builtin_shuffle(a, b, even));
      vstore<T>(out + ld + i, __builtin_shuffle(a, b, odd));
    }
  }
  for (int64_t p = 0; p < phases; ++p)
    for (int64_t j = i; j < n; ++j) out[p * ld + j] = row[j * phases + p];
}

template <typename S, typename T>
static void plane_sums(const S* x, int64_t count, int64_t n, T* sums) {
  typedef typename VecOf<T>::type V;
  constexpr int64_t VL = sizeof(V) / sizeof(T);
  for (int64_t i = 0; i < count; ++i) {
    const S* p = x + i * n;
    V acc = V{};
    int64_t k = 0;
    for (; k + VL <= n; k += VL) acc += vload<T>(p + k);
    T sum = 0;
    for (int64_t l = 0; l < VL; ++l) sum += acc[l];
    for (; k < n; ++k) sum += widen(p[k]);
    sums[i] = sum;
  }
}

// p[0 .. n) = v, in whole vectors where it can.
template <typename T>
static inline void fill_run(T* p, int64_t n, T v) {
  typedef typename VecOf<T>::type V;
  constexpr int64_t VL = sizeof(V) / sizeof(T);
  const V vv = V{} + v;
  int64_t k = 0;
  for (; k + VL <= n; k += VL) *reinterpret_cast<V*>(p + k) = vv;
  for (; k < n; ++k) p[k] = v;
}

template <typename S, typename T>
static void plane_fill(const S* values, int64_t count, int64_t n, T divisor, T* out) {
  for (int64_t i = 0; i < count; ++i) fill_run(out + i * n, n, widen(values[i]) / divisor);
}

template <typename S, typename T>
static void avg_expand_row(const S* g, const T* div, int64_t k, int64_t OW, int64_t W, T* out) {
  const int64_t covered = min64(W, OW * k);
  if (k == 2) {  // one division per pair, the pair stored interleaved (vectorised by the compiler)
    const int64_t pairs = covered / 2;
    for (int64_t o = 0; o < pairs; ++o) {
      const T v = widen(g[o]) / div[o];
      out[2 * o] = v;
      out[2 * o + 1] = v;
    }
    if (covered % 2) out[covered - 1] = widen(g[pairs]) / div[pairs];
  } else {
    for (int64_t o = 0; o * k < covered; ++o) fill_run(out + o * k, min64(k, covered - o * k), widen(g[o]) / div[o]);
  }
  fill_run(out + covered, W - covered, T(0));
}

template <typename S, typename T>
static constexpr ChannelKernels<S, T> make_channel_kernels() {
  return ChannelKernels<S, T>{&fma<S, T>,
                              &max_row<S, T>,
                              &avg_row<S, T>,
                              &avg_gather_row<S, T>,
                              &grouped_pixels<S, T>,
                              &depthwise_row<S, T>,
                              &grouped_grad_pixels<S, T>,
                              &depthwise_grad_rows<S, T>,
                              &split_phases<S, T>,
                              &plane_sums<S, T>,
                              &plane_fill<S, T>,
                              &avg_expand_row<S, T>};
}

constexpr ChannelKernels<float, float> kChanF32 = make_channel_kernels<float, float>();
constexpr ChannelKernels<double, double> kChanF64 = make_channel_kernels<double, double>();
constexpr ChannelKernels<bf16_bits, float> kChanBF16 = make_channel_kernels<bf16_bits, float>();

}  // namespace TC_ISA_NS
}  // namespace cpu
}  // namespace torchconv
