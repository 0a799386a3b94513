// Vector types of one ISA instance (TC_VBYTES wide), shared by its kernels: GCC vector extensions,
// unaligned (element-aligned) so any address may be loaded.
#pragma once

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

}  // namespace TC_ISA_NS
}  // namespace cpu
}  // namespace torchconv
