// AVX-512 instances of the ISA kernels (tile_kernel.h, channel_kernels.h, transpose.h): 512-bit vectors, 32 zmm.
// Held to the rules of kernels_avx2.cpp: nothing here runs before the dispatch picks this ISA.
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "../isa.h"
#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")
#define TC_ISA_NS avx512
#define TC_VBYTES 64
#define TC_MR_WIDE 14
#define TC_MR_NARROW 28
#include "tile_kernel.h"
#include "channel_kernels.h"
#include "transpose.h"
#pragma GCC pop_options
#endif
