// AVX2 + FMA instances of the ISA kernels (tile_kernel.h, channel_kernels.h, transpose.h): 256-bit vectors, 16 ymm.
//
// Code compiled here runs only once csrc/cpu/isa/dispatch.cpp has picked this ISA, so this unit has no
// dynamic initialisers (its tables are constexpr) and defines nothing outside its namespace: every
// header is included before the target pragma, and the kernel headers call no inline function of
// another namespace, whose one copy the linker keeps might otherwise be this one
// (tests/test_isa_units.py checks both). x86-64 only: elsewhere the portable unit is the only one.
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
#pragma GCC target("avx2,fma")
#define TC_ISA_NS avx2
#define TC_VBYTES 32
#define TC_MR_WIDE 6
#define TC_MR_NARROW 12
#include "tile_kernel.h"
#include "channel_kernels.h"
#include "transpose.h"
#pragma GCC pop_options
#endif
