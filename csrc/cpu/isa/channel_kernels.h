// Channel-vectorised kernels (see ChannelKernels in csrc/cpu/isa.h), written once with GCC vector
// extensions and compiled per ISA by the kernels_<isa>.cpp files.
//
// Layout: pooling and depthwise convolution vectorise over the C contiguous channels of a pixel (NCHW
// pooling calls them on blocks of planes interleaved into that form); global pooling sums planes. Loads
// widen the storage type (float, double, bfloat16 bits) to the accumulation type, stores narrow it
// (bfloat16 rounds to nearest even). Remainders shorter than a vector run the same logic per lane.
//
// Max pooling keeps PyTorch's scan exactly: the running maximum starts at -inf at the window's first
// element, an element replaces it when greater or NaN; the winner's flat index h*W + w is tracked in integer lanes of the value's width, widened to int64 when stored.
#include <limits>
#include <type_traits>

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
template <int NV, typename S, typename T>
static inline void max_pixel_vectors(const S* img, int64_t W, int64_t C, int64_t h0, int64_t h1, int64_t dh,
                                     int64_t w0, int64_t w1, int64_t dw, S* y, int64_t* ind, int64_t c) {
  typedef typename VecOf<T>::type V;
  typedef typename VecOf<T>::mask M;
  typedef typename VecOf<T>::lane L;
  constexpr int64_t VL = sizeof(V) / sizeof(T);
  V best[NV];
  M idx[NV];
  for (int v = 0; v < NV; ++v) {
    best[v] = V{} - std::numeric_limits<T>::infinity();
    idx[v] = M{} + L(h0 * W + w0);
  }
  for (int64_t ih = h0; ih < h1; ih += dh)
    for (int64_t iw = w0; iw < w1; iw += dw) {
      const S* px = img + (ih * W + iw) * C + c;
      const M here = M{} + L(ih * W + iw);
      for (int v = 0; v < NV; ++v) {
        const V x = vload<T>(px + v * VL);
        const M take = (x > best[v]) | (x != x);
        best[v] = take ? x : best[v];
        idx[v] = take ? here : idx[v];
      }
    }
  for (int v = 0; v < NV; ++v) {
    vstore<T>(y + c + v * VL, best[v]);
    store_widened(ind + c + v * VL, idx[v]);
  }
}

template <typename S, typename T>
static void max_pixel(const S* img, int64_t W, int64_t C, int64_t h0, int64_t h1, int64_t dh, int64_t w0,
                      int64_t w1, int64_t dw, S* y, int64_t* ind) {
  typedef typename VecOf<T>::type V;
  typedef typename VecOf<T>::lane L;
  constexpr int64_t VL = sizeof(V) / sizeof(T);
  const T neg_inf = -std::numeric_limits<T>::infinity();
  int64_t c = 0;
  // Vector lanes track flat indices in integers of the value's width, when those can hold them.
  if ((h1 - 1) * W + (w1 - 1) <= int64_t(std::numeric_limits<L>::max())) {
    for (; c + 4 * VL <= C; c += 4 * VL) max_pixel_vectors<4, S, T>(img, W, C, h0, h1, dh, w0, w1, dw, y, ind, c);
    for (; c + VL <= C; c += VL) max_pixel_vectors<1, S, T>(img, W, C, h0, h1, dh, w0, w1, dw, y, ind, c);
  }
  for (; c < C; ++c) {
    T best = neg_inf;
    int64_t idx = h0 * W + w0;
    for (int64_t ih = h0; ih < h1; ih += dh)
      for (int64_t iw = w0; iw < w1; iw += dw) {
        const T v = widen(img[(ih * W + iw) * C + c]);
        if (v > best || v != v) {
          best = v;
          idx = ih * W + iw;
        }
      }
    narrow(y + c, best);
    ind[c] = idx;
  }
}

template <typename S, typename T>
static void avg_pixel(const S* img, int64_t W, int64_t C, int64_t h0, int64_t h1, int64_t w0, int64_t w1,
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

template <typename S, typename T>
static ChannelKernels<S, T> make_channel_kernels() {
  return ChannelKernels<S, T>{&fma<S, T>, &max_pixel<S, T>, &avg_pixel<S, T>, &avg_gather_row<S, T>,
                              &plane_sums<S, T>};
}

const ChannelKernels<float, float> kChanF32 = make_channel_kernels<float, float>();
const ChannelKernels<double, double> kChanF64 = make_channel_kernels<double, double>();
const ChannelKernels<bf16_bits, float> kChanBF16 = make_channel_kernels<bf16_bits, float>();

}  // namespace TC_ISA_NS
}  // namespace cpu
}  // namespace torchconv
