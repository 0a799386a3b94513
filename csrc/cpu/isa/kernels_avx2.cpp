// AVX2 + FMA instances of the ISA kernels (tile_kernel.h, channel_kernels.h, transpose.h): 256-bit vectors, 16 ymm.
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>

#include "../isa.h"
#pragma GCC target("avx2,fma")
#define TC_ISA_NS avx2
#define TC_VBYTES 32
#define TC_MR_WIDE 6
#define TC_MR_NARROW 12
#include "tile_kernel.h"
#include "channel_kernels.h"
#include "transpose.h"
