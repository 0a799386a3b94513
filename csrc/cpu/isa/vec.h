// Vector types of one ISA instance (TC_VBYTES wide), shared by its kernels: GCC vector extensions,
// unaligned (element-aligned) so any address may be loaded.
#pragma once
#include <cstdint>
#include <limits>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace torchconv {
namespace cpu {
namespace TC_ISA_NS {

typedef float vf __attribute__((vector_size(TC_VBYTES), aligned(4)));
typedef double vd __attribute__((vector_size(TC_VBYTES), aligned(8)));
typedef int32_t vi32 __attribute__((vector_size(TC_VBYTES), aligned(4)));
typedef int64_t vi64 __attribute__((vector_size(TC_VBYTES), aligned(8)));

// VecOf<T>::type: vector of T; ::mask: the integer vector a comparison of two such vectors gives.
template <typename T> struct VecOf;
template <> struct VecOf<float> { typedef vf type; typedef vi32 mask; typedef int32_t lane; };
template <> struct VecOf<double> { typedef vd type; typedef vi64 mask; typedef int64_t lane; };

// Constants and helpers of the kernel headers, here so that they call no inline function of another
// namespace (std::min, numeric_limits' members outside constant expressions): see kernels_avx2.cpp.
template <typename T> constexpr T kInfinity = std::numeric_limits<T>::infinity();
template <typename L> constexpr int64_t kLaneMax = int64_t(std::numeric_limits<L>::max());
static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// *p = v by a non-temporal store (p aligned to the vector): the line is written around the caches
// instead of being read into them first. An ordinary store where the target has no such store.
inline void stream_store(float* p, vf v) {
#if defined(__x86_64__) && TC_VBYTES == 64
  __builtin_ia32_movntps512(p, v);
#elif defined(__x86_64__) && TC_VBYTES == 32
  __builtin_ia32_movntps256(p, v);
#elif defined(__x86_64__) && TC_VBYTES == 16
  __builtin_ia32_movntps(p, v);
#else
  *reinterpret_cast<vf*>(p) = v;
#endif
}
inline void stream_store(double* p, vd v) {
#if defined(__x86_64__) && TC_VBYTES == 64
  __builtin_ia32_movntpd512(p, v);
#elif defined(__x86_64__) && TC_VBYTES == 32
  __builtin_ia32_movntpd256(p, v);
#elif defined(__x86_64__) && TC_VBYTES == 16
  __builtin_ia32_movntpd(p, v);
#else
  *reinterpret_cast<vd*>(p) = v;
#endif
}

// The first n lanes (0 <= n <= lanes) of a vector of U at p, the others 0, and their store: nothing
// past p + n is touched, so the ragged edges of a matrix still move as vectors. AVX-512 masked loads
// and stores (elements of 2, 4 and 8 bytes), whose masked-off lanes never fault; elsewhere lane by
// lane (AVX2's masked moves may fault on masked-off lanes past the end of a mapping on AMD's parts,
// per its manual).
template <typename V, typename U>
inline V load_lanes(const U* p, int n) {
  static_assert(sizeof(V) == TC_VBYTES, "one vector");
#if defined(__x86_64__) && TC_VBYTES == 64
  const unsigned long long m = n >= 64 ? ~0ull : (1ull << n) - 1;
  if constexpr (sizeof(U) == 2) return (V)_mm512_maskz_loadu_epi16((__mmask32)m, p);
  if constexpr (sizeof(U) == 4) return (V)_mm512_maskz_loadu_epi32((__mmask16)m, p);
  if constexpr (sizeof(U) == 8) return (V)_mm512_maskz_loadu_epi64((__mmask8)m, p);
#endif
  V v{};
  for (int i = 0; i < n; ++i) v[i] = p[i];
  return v;
}

template <typename V, typename U>
inline void store_lanes(U* p, V v, int n) {
  static_assert(sizeof(V) == TC_VBYTES, "one vector");
#if defined(__x86_64__) && TC_VBYTES == 64
  const unsigned long long m = n >= 64 ? ~0ull : (1ull << n) - 1;
  if constexpr (sizeof(U) == 2) return _mm512_mask_storeu_epi16(p, (__mmask32)m, (__m512i)v);
  if constexpr (sizeof(U) == 4) return _mm512_mask_storeu_epi32(p, (__mmask16)m, (__m512i)v);
  if constexpr (sizeof(U) == 8) return _mm512_mask_storeu_epi64(p, (__mmask8)m, (__m512i)v);
#endif
  for (int i = 0; i < n; ++i) p[i] = v[i];
}

}  // namespace TC_ISA_NS
}  // namespace cpu
}  // namespace torchconv
