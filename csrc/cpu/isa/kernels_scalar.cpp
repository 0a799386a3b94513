// Portable instances of the ISA kernels (tile_kernel.h, channel_kernels.h, transpose.h): 16-byte generic vectors,
// which the compiler lowers to the baseline instruction set of any target (SSE2 on x86-64, NEON on
// aarch64). Held to the same rules as the ISA units (kernels_avx2.cpp): constexpr tables, nothing
// defined outside its namespace.
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>

#include "../isa.h"
#define TC_ISA_NS scalar
#define TC_VBYTES 16
#define TC_MR_WIDE 6
#define TC_MR_NARROW 12
#include "tile_kernel.h"
#include "channel_kernels.h"
#include "transpose.h"
