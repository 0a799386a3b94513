// CPU convolution: forward, input gradient and weight gradient, as direct (implicit-GEMM)
// convolutions on an internal NHWC layout.
//
// Layout. Activations are read through an NHWC view: the tensor itself when it is channels_last,
// unpadded and already of the accumulation type (float for float32/bfloat16, double for float64), else
// a zero-padded NHWC copy in that type. That one pass converts NCHW, reads arbitrary strides, widens
// bfloat16 and materialises the padding, so the inner loops never branch on borders. The forward
// also reads padded channels_last inputs in place where that pays (reads_padding_in_place): border
// outputs then leave out the taps that would read padding, and the few edge columns of a row run
// as their own narrow tiles (ReadPadding), so the inner loops still never branch; from a padded copy
// it leaves out the taps that would multiply its zeros the same way (rows always, columns where the
// edge tiles are wide enough). Copies live in per-thread workspaces (workspace.h) reused across
// calls; NCHW rows are converted by the blocked transposition. The forward copies small images
// (kImageItemBytes) inside the work item that computes them, one image at a time, so the copy stays
// in that core's L1 instead of crossing between cores through a batch-sized buffer. Weights are
// packed once per call into panels of nb output columns (nb = one or two vector lengths) read
// contiguously by the micro-kernel. Stride-1 convolutions of NCHW inputs into NCHW outputs may take a transposed route
// (conv_forward_nchw) that needs no layout conversion at all: 1x1 ones whose grid wastes little, and
// those with few output channels per group (nchw_route_tile says when).
//
// Algorithm. Every pass is one register-blocked micro-kernel (csrc/cpu/isa.h, one tile = mr rows x
// nb columns of accumulators, reduced over taps x J):
//   forward:         rows = mr output pixels of one output row, columns = nb output channels,
//                    taps = all R*S filter taps, J = C/G input channels (or one tap per filter row,
//                    J = S*C, where a row's taps read one contiguous run of the NHWC source).
//   input gradient:  rows = mr input pixels of one row with the same column residue modulo the
//                    stride, so that the output pixels they receive from are consecutive; taps =
//                    only the (r, s) that reach them (the stride decomposition: no multiplications by
//                    inserted zeros); columns = nb input channels, J = K/G output channels.
//   weight gradient: rows = mr input channels, columns = nb output channels, taps = the output rows
//                    (n, p) of one block for one filter tap (r, s), J = Q output columns. Tiles are
//                    split among the threads where there are enough of them, else rows are split
//                    into one chunk per thread, with partial sums added in a fixed order.
// Depthwise convolutions (one input channel per group) have no reduction over channels, and narrow
// groups (2, 4 or 8 channels) would leave most tile columns empty; both are memory-bound and run as
// depthwise passes (depthwise_pass, depthwise_weight_grad): NCHW planes through padded, phase-split
// plane buffers and a row kernel vectorised over output columns; channels_last pixels with vectors
// of channels, narrow groups by shuffling each input vector within its groups.
//
// Blocking. Work items of the NHWC forward and input gradient are (image, output row, group, channel
// panel): the R input rows of an item stay in L1/L2 while the panel's packed weights (R*S*C/G*nb
// elements) are reused across the row; consecutive items share whichever of the two is larger. A row
// is cut into tiles of balanced sizes (TileSplit). The micro-kernel stores straight into
// channels_last outputs (large ones around the caches: streams_output) and through a small
// transposing copy into NCHW ones, by bands of output rows where the rows are short. NHWC copies
// whose pixel step would be a multiple of 2 KiB are spaced one cache line further (nhwc_source); read
// in place, such pixels go at most 7 (4 KiB apart) or 14 (2 KiB) to a tile (aliased_rows_cap). The
// NCHW route blocks its own way (conv_forward_nchw). The weight gradient sweeps every tile over
// blocks of output rows sized so that their input rows and gradient panels stay in L2.
#include <ATen/ATen.h>
#include <ATen/OpMathType.h>
#include <c10/util/SmallVector.h>
#include <torch/library.h>

#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "../checks.h"
#include "../shape.h"
#include "isa.h"
#include "output_cache.h"
#include "parallel.h"
#include "storage.h"
#include "workspace.h"

namespace torchconv {
namespace cpu {
namespace {

template <typename T>
const IsaKernels<T>& tiles();
template <>
const IsaKernels<float>& tiles<float>() { return tile_kernels_f32(); }
template <>
const IsaKernels<double>& tiles<double>() { return tile_kernels_f64(); }

// The narrow tile when the group's output columns fit in one vector, else the wide one.
template <typename T>
const TileKernel<T>& pick_tile(int64_t columns) {
  const auto& k = tiles<T>();
  return columns <= k.narrow.nb ? k.narrow : k.wide;
}

// Largest mr * nb of any tile (csrc/cpu/isa/tile_*.cpp): the accumulator buffer on the stack.
constexpr int64_t kMaxTile = 28 * 32;

// n rows split into the fewest tiles of at most mr_max rows, of sizes differing by at most one
// (33 rows by 14: 11, 11, 11 rather than 14, 14, 5; 20 rows: 10, 10 rather than 14, 6),
// so that no tile is left with too few rows to hide its loads.
struct TileSplit {
  int64_t count, base, extra;
  TileSplit(int64_t n, int64_t mr_max) : count(ceil_div(n, mr_max)), base(0), extra(0) {
    if (count > 0) {
      base = n / count;
      extra = n % count;
    }
  }
  int64_t start(int64_t t) const { return t * base + std::min(t, extra); }
  int64_t size(int64_t t) const { return base + (t < extra ? 1 : 0); }
};

// The (channel panel, output row) of a work item within its (image, group), for KB panels and P rows:
// panel-major order keeps one weight panel across consecutive items, row-major one output row.
struct PanelRow {
  int64_t kb, p;
  PanelRow(int64_t item, int64_t KB, int64_t P, bool panel_major)
      : kb(panel_major ? (item / P) % KB : item % KB), p(panel_major ? item % P : (item / KB) % P) {}
};

// Whether consecutive work items should share a weight panel (panel-major) rather than an output
// row's input rows, for KB panels of `panel` elements of `bytes` bytes each and `rows` elements of
// input rows per item: panel-major when the panel outweighs the rows, so that it stays in L2 across
// rows, unless all KB panels fit in half of L2 together, as they then stay there anyway (measured:
// the 3x3 stride-2 128-channel forward at 56x56, four panels of 147 KiB, 9.5-10.2 ms row-major
// against 12.9-13.2 ms panel-major).
bool panel_major_order(int64_t KB, int64_t panel, int64_t rows, int64_t bytes) {
  return KB * panel * bytes > (int64_t(512) << 10) && panel > rows;
}

// Strides of a 4-D tensor, named.
struct Strides4 {
  int64_t n, c, h, w;
  explicit Strides4(const at::Tensor& t) : n(t.stride(0)), c(t.stride(1)), h(t.stride(2)), w(t.stride(3)) {}
};

// out[w*ldp + c] = in[c*ldc + w] by the ISA's blocked transposition (S = T: no conversion).
template <typename S, typename T>
void transposed_copy(const S* in, int64_t ldc, int64_t C, int64_t W, T* out, int64_t ldp) {
  if constexpr (std::is_same<S, T>::value) transpose(in, ldc, C, W, out, ldp);
}

// Row h of image n of x (N, C, H, W, any strides) as one row of a zero-padded NHWC buffer of type T:
// Wp pixels ldp >= C elements apart, x's row at columns [left, left + W), zeros around it (all zeros
// where h is outside [0, H)), the channels past C left unset. NCHW rows read every 2nd to 4th column
// (subsampled views) use this thread's Slot::partials as scratch.
template <typename scalar_t, typename T>
void pack_nhwc_row(const at::Tensor& x, int64_t n, int64_t h, int64_t left, int64_t Wp, int64_t ldp, T* out) {
  const int64_t C = x.size(1), H = x.size(2), W = x.size(3);
  if (h < 0 || h >= H) {
    std::fill(out, out + Wp * ldp, T(0));
    return;
  }
  const Strides4 st(x);
  std::fill(out, out + left * ldp, T(0));
  std::fill(out + (left + W) * ldp, out + Wp * ldp, T(0));
  const scalar_t* in = x.const_data_ptr<scalar_t>() + n * st.n + h * st.h;
  T* o = out + left * ldp;
  if (st.c == 1 && std::is_same<scalar_t, T>::value) {  // channels_last rows: memcpy, whose stores are
    // whole vectors (the loop below, compiled without the ISA's flags, stores 16 bytes at a time:
    // measured 19% of the 1x1 1024-channel forward at 14x14, against 5% with memcpy)
    if (st.w == C && ldp == C) {
      std::memcpy(o, in, W * C * sizeof(T));
    } else {
      for (int64_t w = 0; w < W; ++w) std::memcpy(o + w * ldp, in + w * st.w, C * sizeof(T));
    }
  } else if (st.c == 1) {  // channels_last rows of another type: contiguous runs of C
    for (int64_t w = 0; w < W; ++w) {
      const scalar_t* px = in + w * st.w;
      T* ox = o + w * ldp;
      for (int64_t c = 0; c < C; ++c) ox[c] = static_cast<T>(px[c]);
    }
  } else if (st.c <= st.w) {  // channels inner
    for (int64_t w = 0; w < W; ++w)
      for (int64_t c = 0; c < C; ++c) o[w * ldp + c] = static_cast<T>(in[w * st.w + c * st.c]);
  } else if (std::is_same<scalar_t, T>::value && st.w == 1) {  // NCHW rows: a C x W transposition
    transposed_copy(in, st.c, C, W, o, ldp);
  } else if (std::is_same<scalar_t, T>::value && st.w > 1 && st.w <= 4) {
    // NCHW rows read every st.w-th column (a subsampled view): the whole span is transposed into
    // scratch, from which every st.w-th pixel is copied.
    const int64_t span = (W - 1) * st.w + 1;
    T* t = workspace<T>(Slot::partials, span * C);
    transposed_copy(in, st.c, C, span, t, C);
    for (int64_t w = 0; w < W; ++w) std::memcpy(o + w * ldp, t + w * st.w * C, C * sizeof(T));
  } else {
    for (int64_t c = 0; c < C; ++c)
      for (int64_t w = 0; w < W; ++w) o[w * ldp + c] = static_cast<T>(in[w * st.w + c * st.c]);
  }
}

// Copies x (N, C, H, W, any strides) into a zero-padded NHWC buffer (N, Hp, Wp, ldp) of type T in
// workspace `slot`, with the image at rows [top, top+H) and columns [left, left+W); pixels are ldp >= C
// elements apart (0: C), the channels past C left unset (pack_nhwc_row; slot must not be
// Slot::partials).
template <typename scalar_t, typename T>
const T* pack_nhwc(const at::Tensor& x, int64_t top, int64_t left, int64_t Hp, int64_t Wp, Slot slot, int64_t ldp = 0) {
  if (ldp == 0) ldp = x.size(1);
  T* dst = workspace<T>(slot, x.size(0) * Hp * Wp * ldp);
  parallel_for(x.size(0) * Hp, [&](int64_t row) {
    pack_nhwc_row<scalar_t, T>(x, row / Hp, row % Hp - top, left, Wp, ldp, dst + row * Wp * ldp);
  });
  return dst;
}

// An NHWC view of activations: element (n, h, w, c) at p[n*sn + h*sh + w*sw + c].
template <typename T>
struct NhwcView {
  const T* p;
  int64_t sn, sh, sw;
};

// The pixel pitch (in elements) of an NHWC copy with C channels whose micro-kernel rows are every
// `row_step`-th pixel (0: not read that way): C, or one cache line more where that step would be a
// multiple of 2 KiB, since 14 rows 2 or 4 KiB apart fall into 2 or 1 of the 64 sets of the 8-way L1
// (measured: the tile ran the 1x1 convolution of 1024 channels at 14x14 at 74% of peak).
template <typename T>
bool rows_alias(int64_t row_step_elements) {
  return row_step_elements > 0 && (row_step_elements * int64_t(sizeof(T))) % 2048 == 0;
}
template <typename T>
int64_t pixel_pitch(int64_t C, int64_t row_step) {
  return rows_alias<T>(row_step * C) ? C + 64 / int64_t(sizeof(T)) : C;
}

// The most micro-kernel rows `step` elements apart that a tile may read in place: rows a multiple of
// 4 KiB apart all fall into one set of the 8-way L1, so a tile takes at most 7 of them, leaving a way
// for its weights; 2 KiB apart, into two sets, 14 (measured on Zen 4, interleaved, channels_last: the
// 1x1 1024-to-256-channel layer at 14x14, rows 4 KiB apart, 5.3 ms in place with 14-row tiles, 4.3 ms
// from a copy spaced one line further (pixel_pitch), 4.1 ms in place with 7-row tiles; the 1x1
// stride-2 256-to-512-channel one at 56x56, rows 2 KiB apart, 8.5 ms in place with 14-row tiles,
// 8.7 ms with 7-row ones, 8.8 ms from the copy).
template <typename T>
int64_t aliased_rows_cap(int64_t step) {
  const int64_t bytes = step * int64_t(sizeof(T));
  return bytes % 4096 == 0 ? 7 : bytes % 2048 == 0 ? 14 : std::numeric_limits<int64_t>::max();
}

// Whether x can be read in place as an NHWC view (nhwc_view): channels_last (its pixels any distance
// apart) and already of the accumulation type.
template <typename scalar_t, typename T>
bool nhwc_readable(const at::Tensor& x) {
  return std::is_same<scalar_t, T>::value && x.stride(1) == 1;
}

// Whether x can be read in place by micro-kernel rows of any height every `row_step`-th pixel:
// readable (nhwc_readable), with rows whose step is no multiple of 2 KiB (see pixel_pitch).
template <typename scalar_t, typename T>
bool nhwc_in_place(const at::Tensor& x, int64_t row_step) {
  return nhwc_readable<scalar_t, T>(x) && !rows_alias<T>(row_step * x.stride(3));
}

// x itself as an NHWC view (see nhwc_in_place).
template <typename scalar_t, typename T>
NhwcView<T> nhwc_view(const at::Tensor& x) {
  return {reinterpret_cast<const T*>(x.const_data_ptr<scalar_t>()), x.stride(0), x.stride(2), x.stride(3)};
}

// x as an NHWC view padded by (ph, pw): x itself when it is unpadded and can be read in place
// (nhwc_in_place), else a zero-padded copy (pack_nhwc).
template <typename scalar_t, typename T>
NhwcView<T> nhwc_source(const at::Tensor& x, int64_t ph, int64_t pw, Slot slot = Slot::input, int64_t row_step = 0) {
  if (ph == 0 && pw == 0 && nhwc_in_place<scalar_t, T>(x, row_step)) return nhwc_view<scalar_t, T>(x);
  const int64_t C = x.size(1), ldp = pixel_pitch<T>(C, row_step);
  const int64_t Hp = x.size(2) + 2 * ph, Wp = x.size(3) + 2 * pw;
  return {pack_nhwc<scalar_t, T>(x, ph, pw, Hp, Wp, slot, ldp), Hp * Wp * ldp, Wp * ldp, ldp};
}

// Packs the weights w (K, C/G, R, S; any strides) into panels of nb columns for the micro-kernel,
// columns being output channels (`over_inputs` false: the forward) or input channels (true: the
// input gradient), the other channel dimension being the reduction index j:
//   dst[((g*B + b)*RS + rs)*J + j][v] = w[g*Kg + k, c, r, s]   (0 past the group's last column)
// with (k, c) = (b*nb + v, j) or (j, b*nb + v). An item packs a block of j for the nb columns of
// one panel, about 256*nb elements, so that what it reads and writes stays in L1, reading w in
// contiguous runs that the hardware prefetches, where hopping between filters (4 KiB apart for 1024
// channels) waits on memory for every cache line (measured: 0.5 ms of a 6 ms 1x1 convolution of 1024
// channels). Without conversion, the common layouts move whole vectors: where j is contiguous in w
// (channels_last weights, or 1x1 ones), each tap's block is the blocked transposition of a (v, j)
// matrix; where v is (channels_last weights of the input gradient), a panel row is one run of w;
// where each filter's (j, r, s) is one run (contiguous weights of the forward), the block is
// transposed as a (v, (j, rs)) matrix and its rows are then copied to their taps (measured: the
// 9.4 MB of a 3x3 512-channel layer, 2.0-2.5 ms element by element).
template <typename T, typename scalar_t>
const T* pack_panels(const scalar_t* w, const Strides4& ws, int64_t G, int64_t Kg, int64_t Cg, int64_t R, int64_t S,
                     int64_t nb, bool over_inputs) {
  const int64_t cols_g = over_inputs ? Cg : Kg, J = over_inputs ? Kg : Cg, B = ceil_div(cols_g, nb), RS = R * S;
  const int64_t stride_j = over_inputs ? ws.n : ws.c, stride_v = over_inputs ? ws.c : ws.n;
  constexpr bool same = std::is_same<scalar_t, T>::value;
  // Block of j: where each tap is transposed straight into the panel, 256 (runs of w that long: the
  // 3x3 512-channel layer's channels_last weights 1.1 -> 0.6 ms against 16), else about 256*nb
  // elements over all taps, in whole 16 x 16 blocks where transposed.
  const int64_t kBlock = same && stride_j == 1 ? 256 : std::max<int64_t>(16, 256 / RS / 16 * 16);
  const int64_t JB = ceil_div(J, kBlock);
  T* dst = workspace<T>(Slot::weights, G * B * RS * J * nb);
  parallel_for(G * B * JB, [&](int64_t item) {
    const int64_t gb = item / JB, g = gb / B, b = gb % B, j0 = (item % JB) * kBlock, j1 = std::min(J, j0 + kBlock);
    const int64_t len = (j1 - j0) * nb, cols = std::min(nb, cols_g - b * nb);
    T* panel = dst + gb * RS * J * nb;
    const scalar_t* first = w + g * Kg * ws.n + b * nb * stride_v;  // column b*nb, j = 0, tap (0, 0)
    auto tap = [&](int64_t rs) { return (rs / S) * ws.h + (rs % S) * ws.w; };
    if constexpr (same) {
      if (cols < nb)  // the columns past the group's last stay 0
        for (int64_t rs = 0; rs < RS; ++rs) std::fill(panel + (rs * J + j0) * nb, panel + (rs * J + j1) * nb, T(0));
      if (stride_j == 1) {
        for (int64_t rs = 0; rs < RS; ++rs)
          transpose(first + j0 + tap(rs), stride_v, cols, j1 - j0, panel + (rs * J + j0) * nb, nb);
        return;
      }
      if (stride_v == 1) {
        for (int64_t rs = 0; rs < RS; ++rs)
          for (int64_t j = j0; j < j1; ++j) {
            const scalar_t* run = first + j * stride_j + tap(rs);
            std::copy(run, run + cols, panel + (rs * J + j) * nb);
          }
        return;
      }
      if (!over_inputs && ws.w == 1 && ws.h == S && ws.c == RS) {
        T* block = workspace<T>(Slot::partials, len * RS);  // block[(j - j0)*RS + rs][v]
        transpose(first + j0 * RS, stride_v, cols, (j1 - j0) * RS, block, nb);
        for (int64_t j = j0; j < j1; ++j)
          for (int64_t rs = 0; rs < RS; ++rs) {
            const T* row = block + ((j - j0) * RS + rs) * nb;
            std::copy(row, row + cols, panel + (rs * J + j) * nb);
          }
        return;
      }
    }
    // Any other strides or a conversion: element by element, gathered as [rs][j - j0][v] in L1 first,
    // as the panel's taps lie J*nb elements apart, often a multiple of 4 KiB, so writing them
    // directly would send every tap to one L1 set.
    T* block = workspace<T>(Slot::partials, RS * len);
    auto copy = [&](int64_t j, int64_t v) {
      T* d = block + (j - j0) * nb + v;
      if (v >= cols) {
        for (int64_t rs = 0; rs < RS; ++rs) d[rs * len] = T(0);
        return;
      }
      const scalar_t* f = first + j * stride_j + v * stride_v;
      for (int64_t rs = 0; rs < RS; ++rs) d[rs * len] = static_cast<T>(f[tap(rs)]);
    };
    if (stride_j <= stride_v) {
      for (int64_t v = 0; v < nb; ++v)
        for (int64_t j = j0; j < j1; ++j) copy(j, v);
    } else {
      for (int64_t j = j0; j < j1; ++j)
        for (int64_t v = 0; v < nb; ++v) copy(j, v);
    }
    for (int64_t rs = 0; rs < RS; ++rs) std::copy(block + rs * len, block + (rs + 1) * len, panel + (rs * J + j0) * nb);
  });
  return dst;
}

// Writes an mr x nb accumulator tile to out[n, c0 + v, h, w0 + i*w_step] for v < cols, converting
// to the output type; used where the micro-kernel cannot store directly (NCHW or bfloat16 output).
template <typename scalar_t, typename T>
void store_tile(const T* acc, int64_t mr, int64_t nb, int64_t cols, scalar_t* out, const Strides4& st,
                int64_t n, int64_t c0, int64_t h, int64_t w0, int64_t w_step) {
  scalar_t* base = out + n * st.n + c0 * st.c + h * st.h + w0 * st.w;
  const int64_t sw = w_step * st.w;
  if (st.c == 1) {
    for (int64_t i = 0; i < mr; ++i)
      for (int64_t v = 0; v < cols; ++v)
        base[i * sw + v] = static_cast<scalar_t>(acc[i * nb + v]);
  } else {
    for (int64_t v = 0; v < cols; ++v)
      for (int64_t i = 0; i < mr; ++i)
        base[i * sw + v * st.c] = static_cast<scalar_t>(acc[i * nb + v]);
  }
}

// Per-tap lists of a work item, on the stack for filters of up to 64 taps (a heap allocation per item
// costs a few percent of a layer with small items, such as a 1x1 one over 64 channels).
template <typename V>
using TapList = c10::SmallVector<V, 64>;

// Taps of the input gradient that reach input row h and input columns of residue `res` modulo sw:
// output row oh = (h + ph - r*dh)/sh and output column offset ow0 = (res + pw - s*dw)/sw, both exact.
struct Tap {
  int64_t rs, oh, ow0;
};

TapList<Tap> input_grad_taps(const ConvGeometry& g, int64_t h, int64_t res) {
  TapList<Tap> taps;
  for (int64_t r = 0; r < g.R; ++r) {
    int64_t num_h = h + g.ph - r * g.dh;
    if (num_h < 0 || num_h % g.sh != 0 || num_h / g.sh >= g.P) continue;
    for (int64_t s = 0; s < g.S; ++s) {
      int64_t num_w = res + g.pw - s * g.dw;
      if (((num_w % g.sw) + g.sw) % g.sw != 0) continue;
      taps.push_back({r * g.S + s, num_h / g.sh, floor_div(num_w, g.sw)});
    }
  }
  return taps;
}

// Column padding of the gradient buffer so that every output column an input pixel reads, in
// [floor((pw - (S-1)*dw)/sw), floor((W-1+pw)/sw)], lies inside it.
struct ColumnPad {
  int64_t left, width;
};
ColumnPad input_grad_column_pad(const ConvGeometry& g) {
  int64_t left = std::max<int64_t>(0, -floor_div(g.pw - (g.S - 1) * g.dw, g.sw));
  int64_t right = std::max<int64_t>(0, floor_div(g.W - 1 + g.pw, g.sw) - (g.Q - 1));
  return {left, left + g.Q + right};
}

// Depthwise filters as [r][s][k]: one vector of K output channels per tap.
template <typename T, typename scalar_t>
std::vector<T> depthwise_weights(const ConvGeometry& g, const scalar_t* w, const Strides4& ws) {
  const int64_t RS = g.R * g.S;
  std::vector<T> wk(RS * g.K);
  for (int64_t k = 0; k < g.K; ++k)
    for (int64_t rs = 0; rs < RS; ++rs) wk[rs * g.K + k] = static_cast<T>(w[k * ws.n + (rs / g.S) * ws.h + (rs % g.S) * ws.w]);
  return wk;
}

std::vector<double> bias_values(const c10::optional<at::Tensor>& bias) {
  if (!bias.has_value() || !bias->defined()) return {};
  at::Tensor b = bias->to(at::kDouble).contiguous();
  return std::vector<double>(b.data_ptr<double>(), b.data_ptr<double>() + b.numel());
}

// ---------------------------------------------------------------------------------------------
// Forward

// The tile for the NCHW route of g, or none where the NHWC route (transposing copies in and out)
// does better. Measured on Zen 4: the NCHW route is 1.5-2x faster for 1x1 layers of 64-256 channels
// and for filters over few output channels (LeNet's 5x5 of 6), which would leave NHWC tiles' columns
// empty, while the NHWC route is 5-40% faster for 3x3 layers of 64-256 channels. So the route takes
// layers whose NHWC tiles would fill less than 3/4 of their columns, and 1x1 layers unless its tiles
// compute a tenth more columns than there are outputs. Measured, interleaved, NHWC route against
// NCHW route, batch 8: 1x1 layers at 14x14 (14% more columns) 4.7 vs 5.4 ms from 1024 to 256
// channels, 4.9 vs 5.9 ms from 256 to 1024, 4.6 vs 5.4 ms for 512 channels, at 7x7 (31% more) 6.0
// vs 7.1 ms from 2048 to 512, 4.4 vs 6.1 from 512 to 2048; at 28x28 (2% more) 5.5 vs 4.6 ms from
// 512 to 128, 5.5 vs 4.9 ms from 128 to 512. It uses the wide tile unless the narrow one computes over
// a tenth fewer columns of the flat grid (P rows of Q outputs at the pitch of the padded input, see
// conv_forward_nchw): the wide tile broadcasts half as many weights per multiply-add (measured: the
// 1x1 1024-to-256-channel layer at 14x14 took 5.2 ms with it against 6.2 ms with the narrow one,
// which computes 7% fewer columns). None if the tile computes a third more than the P*Q outputs, or
// if its block of output channels has more packed weights (R*S*C/G*mr elements) than 256 KiB, a
// quarter of a Zen 4 L2.
template <typename T>
const TileKernel<T>* nchw_route_tile(const ConvGeometry& g) {
  const int64_t Kg = g.K / g.G, nhwc_nb = pick_tile<T>(Kg).nb;
  const bool nhwc_tiles_full = 4 * Kg >= 3 * ceil_div(Kg, nhwc_nb) * nhwc_nb;
  if (g.R * g.S > 1 && nhwc_tiles_full) return nullptr;
  const auto& k = tiles<T>();
  const int64_t L = (g.P - 1) * (g.W + 2 * g.pw) + g.Q;
  auto waste = [&](const TileKernel<T>& t) {
    return t.nb > g.Q ? 1e9 : double(ceil_div(L, t.nb) * t.nb) / double(g.P * g.Q);
  };
  const TileKernel<T>* tile = waste(k.wide) <= 1.1 * waste(k.narrow) ? &k.wide : &k.narrow;
  const int64_t panel_bytes = g.R * g.S * (g.C / g.G) * tile->mr_max * int64_t(sizeof(T));
  const double max_waste = nhwc_tiles_full ? 1.1 : 1.34;
  return waste(*tile) > max_waste || panel_bytes > (int64_t(256) << 10) ? nullptr : tile;
}

// Stride-1 forward straight into an NCHW output: rows = output channels, columns = nb consecutive
// outputs of the flat grid (below), so each B panel row is a contiguous run of an input plane and
// tiles within one output row are stored without transposition. Unpadded inputs whose rows follow
// each other are read in place; others are copied once into a zero-padded NCHW buffer. Weights are
// packed as [group][block of mr_max output channels][r][s][c][mr_max].
// Blocking: a work item is a run of column blocks of one (image, group); input channels are taken
// in chunks (their weights for all output channels within ~384 KiB, so they stay in L2 across the
// run, and a block's input window within ~40 KiB of L1), then blocks, then every block of output
// channels, which all reuse the block's input window. Chunks after the first accumulate.
template <typename T>
void conv_forward_nchw(const ConvGeometry& g, const at::Tensor& x, const at::Tensor& w, const T* bias, T* Y,
                       const Strides4& ys, const TileKernel<T>& tile) {
  const int64_t Cg = g.C / g.G, Kg = g.K / g.G, RS = g.R * g.S, C = g.C;
  const int64_t nb = tile.nb, MR = tile.mr_max, KB = ceil_div(Kg, MR);
  const Strides4 xs(x);
  const T* X = x.const_data_ptr<T>();
  int64_t sn = xs.n, sc = xs.c, sh = xs.h;  // strides of the (padded) source; its columns are contiguous
  if (g.ph > 0 || g.pw > 0 || xs.w != 1 || (g.H > 1 && xs.h != g.W)) {
    const int64_t Hp = g.H + 2 * g.ph, Wp = g.W + 2 * g.pw;
    T* XP = workspace<T>(Slot::input, g.N * C * Hp * Wp);
    parallel_for(g.N * C, [&](int64_t nc) {
      const int64_t n = nc / C, c = nc % C;
      T* dst = XP + nc * Hp * Wp;
      std::fill(dst, dst + g.ph * Wp, T(0));
      std::fill(dst + (g.ph + g.H) * Wp, dst + Hp * Wp, T(0));
      for (int64_t h = 0; h < g.H; ++h) {
        T* row = dst + (g.ph + h) * Wp;
        const T* src = X + n * xs.n + c * xs.c + h * xs.h;
        std::fill(row, row + g.pw, T(0));
        std::fill(row + g.pw + g.W, row + Wp, T(0));
        if (xs.w == 1) {
          std::memcpy(row + g.pw, src, g.W * sizeof(T));
        } else {
          for (int64_t wi = 0; wi < g.W; ++wi) row[g.pw + wi] = src[wi * xs.w];
        }
      }
    });
    X = XP;
    sn = C * Hp * Wp, sc = Hp * Wp, sh = Wp;
  }
  const T* Wt = w.const_data_ptr<T>();
  const Strides4 ws(w);
  const T* wp = pack_panels<T>(Wt, ws, g.G, Kg, Cg, g.R, g.S, MR, false);
  std::vector<int64_t> a_off(RS);
  for (int64_t t = 0; t < RS; ++t) a_off[t] = t * Cg * MR;
  // The flat grid: output (p, q) is column f = p*sh + q of one long row per plane, reading input
  // column f + r*dh*sh + s*dw; columns with q >= Q are computed and dropped. A block of nb columns
  // then crosses rows instead of being shifted back at the end of every row.
  const int64_t L = (g.P - 1) * sh + g.Q, QB = ceil_div(L, nb), window = g.R * (nb + (g.S - 1) * g.dw);
  int64_t cc = Cg;  // input channels per chunk
  while (cc > 16 && (RS * cc * Kg * int64_t(sizeof(T)) > (int64_t(384) << 10) || window * cc * int64_t(sizeof(T)) > (int64_t(40) << 10)))
    cc = ceil_div(cc, 2);
  // Planes are cut into runs of column blocks only as far as needed for a few items per thread.
  const int64_t planes = g.N * g.G;
  const int64_t runs = std::min(QB, ceil_div(8 * int64_t(at::get_num_threads()), planes)), run = ceil_div(QB, runs);
  // The last block, shifted left to end at L, overlaps the one before it: it is summed over all
  // chunks in a local tile and writes only the columns past that block, so no chunk is added twice.
  const int64_t last = QB - 1, last_f0 = L - nb;
  parallel_for(planes * runs, [&](int64_t item) {
    const int64_t b0 = (item % runs) * run, b1 = std::min(QB, b0 + run);
    const int64_t gi = (item / runs) % g.G, n = item / (runs * g.G);
    std::vector<const T*> bp(RS);
    alignas(64) T acc[kMaxTile];
    // One tile: output channels kb*MR.., flat columns f0.., input channels c0..c0+cc, into C (row stride ldc).
    auto block = [&](int64_t kb, int64_t f0, int64_t c0, T* C, int64_t ldc, bool accumulate) {
      for (int64_t r = 0; r < g.R; ++r)
        for (int64_t s = 0; s < g.S; ++s)
          bp[r * g.S + s] = X + n * sn + (gi * Cg + c0) * sc + r * g.dh * sh + f0 + s * g.dw;
      const int64_t k0 = gi * Kg + kb * MR;
      TileArgs<T> args{wp + (gi * KB + kb) * RS * Cg * MR + c0 * MR, 1, MR, a_off.data(), bp.data(), sc, RS,
                       std::min(cc, Cg - c0), C, ldc, nb, bias && c0 == 0 ? bias + k0 : nullptr, nullptr, accumulate};
      tile.fn(std::min(MR, Kg - kb * MR), args);
    };
    T* const y_plane = Y + n * ys.n + gi * Kg * ys.c;
    // Writes (or adds) acc's columns [from, nb) of a block at f0 to the output, dropping q >= Q.
    auto scatter = [&](int64_t kb, int64_t f0, int64_t from, bool add) {
      for (int64_t i = 0; i < std::min(MR, Kg - kb * MR); ++i) {
        T* y = y_plane + (kb * MR + i) * ys.c;
        for (int64_t f = f0 + from; f < f0 + nb;) {
          const int64_t p = f / sh, q = f % sh, end = std::min(f0 + nb, p * sh + g.Q);
          const T* a = acc + i * nb + (f - f0);
          T* o = y + p * ys.h + q;
          for (int64_t e = 0; e < end - f; ++e) o[e] = add ? o[e] + a[e] : a[e];
          f = (p + 1) * sh;
        }
      }
    };
    for (int64_t c0 = 0; c0 < Cg; c0 += cc)
      for (int64_t qb = b0; qb < std::min(b1, last); ++qb) {
        const int64_t f0 = qb * nb, p = f0 / sh, q = f0 % sh;
        for (int64_t kb = 0; kb < KB; ++kb) {
          if (q + nb <= g.Q) {  // within one output row: straight into the output
            block(kb, f0, c0, y_plane + kb * MR * ys.c + p * ys.h + q, ys.c, c0 > 0);
          } else {
            block(kb, f0, c0, acc, nb, false);
            scatter(kb, f0, 0, c0 > 0);
          }
        }
      }
    if (b1 == QB) {
      for (int64_t kb = 0; kb < KB; ++kb) {
        for (int64_t c0 = 0; c0 < Cg; c0 += cc) block(kb, last_f0, c0, acc, nb, c0 > 0);
        scatter(kb, last_f0, last * nb - last_f0, false);
      }
    }
  });
}

// Groups of 2, 4 or 8 input and as many output channels: the tile kernel would fill at most half its
// columns; the channels_last paths vectorise over channels instead (grouped_pixels).
bool narrow_groups(const ConvGeometry& g) {
  const int64_t Cg = g.C / g.G;
  return g.G > 1 && g.K == g.C && (Cg == 2 || Cg == 4 || Cg == 8);
}

// A depthwise convolution pass, on tensors indexed (n, c, h, w) with any strides:
//   out[n, k, oh, ow] = bias[k] + sum over taps (r, s) of wt(k, 0, r, s) * src[n, k / m, i, j],
//   (i * uh, j * uw) = (oh * sh - top + r * dh, ow * sw - left + s * dw),
// where taps whose coordinates fall outside the source, or between its rows or columns when the
// source is spread out by uh, uw > 1, contribute nothing. The forward is the pass over x with u = 1
// and top, left = the padding; the input gradient (m = 1) is the pass over dy with stride 1, u = the
// stride, top, left = d*(k-1) - p and the filters flipped: each input pixel gathers exactly the
// taps that reach it. With groups of cg > 1 channels (channels_last outputs only, m = 1), output k
// sums wt(k, c', r, s) * src[n, (k / cg) * cg + c', i, j] over c' < cg as well.
//
// NCHW outputs: per source plane, the rows the pass reads are copied once into a small buffer,
// zero-padded, spread out by u and split into sw column phases, buf[(row * sw + phase) * L + i] =
// buffer column i * sw + phase, so that for every tap an output row's inputs are one unit-stride
// run; each of the plane's m output planes is then, row by row, a weighted sum of shifted runs
// (depthwise_row), vectorised over output columns. channels_last outputs (m = 1): per output pixel,
// the taps that land on source pixels are summed with vectors of channels (grouped_pixels, four
// pixels per weight load where the taps of consecutive pixels are alike), reading the source in
// place (or its NHWC copy), so padding and spreading cost nothing.
struct DepthwisePass {
  int64_t N, SC, SH, SW;  // source images, channels, rows, columns
  int64_t K, OH, OW;      // output channels (a multiple of SC) and size
  int64_t R, S, sh, sw, top, left, dh, dw, uh, uw;
  int64_t cg = 1;         // channels per group (in and out; 1: depthwise)
};

// Source index of buffer coordinate v (= out * stride - pad + tap * dilation), or -1 if none.
inline int64_t depthwise_source(int64_t v, int64_t u, int64_t size) {
  if (v < 0 || v % u != 0 || v / u >= size) return -1;
  return v / u;
}

// The taps of a DepthwisePass that land on the source, for the channels_last paths: per output column
// ow, its ncols[ow] column taps s[ow*S + b] reading source columns j[ow*S + b]; per output row, its row
// taps. Output columns all of whose taps land on the source ("full"), when consecutive, read
// consecutive source pixels sw apart and go to the kernels as one run.
struct PassTaps {
  int64_t S;
  std::vector<int64_t> s, j, ncols;
  std::vector<char> full;
  PassTaps(const DepthwisePass& d, bool runs) : S(d.S), s(d.OW * d.S), j(d.OW * d.S), ncols(d.OW), full(d.OW) {
    for (int64_t ow = 0; ow < d.OW; ++ow) {
      for (int64_t tap = 0; tap < d.S; ++tap) {
        const int64_t col = depthwise_source(ow * d.sw - d.left + tap * d.dw, d.uw, d.SW);
        if (col < 0) continue;
        s[ow * d.S + ncols[ow]] = tap;
        j[ow * d.S + ncols[ow]++] = col;
      }
      full[ow] = runs && d.uw == 1 && ncols[ow] == d.S;
    }
  }
  // Output columns [ow, ow + run_length(ow)) share their taps' pattern.
  int64_t run_length(int64_t ow) const {
    int64_t count = 1;
    if (full[ow])
      while (ow + count < int64_t(full.size()) && full[ow + count]) ++count;
    return count;
  }
  // The taps landing on output column ow of a row whose row taps are (rs, is) (see rows): for each,
  // its source pixel px[k] = src + i*sh + j*sw and its filter tap's data at[k] = base + (r*S + s)*step.
  // Returns their count.
  template <typename T, typename B, typename W>
  int64_t gather(int64_t ow, const std::vector<int64_t>& rs, const std::vector<int64_t>& is, const T* src,
                 int64_t sh, int64_t sw, B* base, int64_t step, const T** px, W** at) const {
    int64_t taps = 0;
    for (size_t a = 0; a < rs.size(); ++a)
      for (int64_t b = 0; b < ncols[ow]; ++b) {
        px[taps] = src + is[a] * sh + j[ow * S + b] * sw;
        at[taps++] = base + (rs[a] * S + s[ow * S + b]) * step;
      }
    return taps;
  }
  // Row taps r of output row oh that land on source rows i, written to (rs, is).
  static void rows(const DepthwisePass& d, int64_t oh, std::vector<int64_t>& rs, std::vector<int64_t>& is) {
    rs.clear();
    is.clear();
    for (int64_t r = 0; r < d.R; ++r) {
      const int64_t i = depthwise_source(oh * d.sh - d.top + r * d.dh, d.uh, d.SH);
      if (i < 0) continue;
      rs.push_back(r);
      is.push_back(i);
    }
  }
};

// Size of the zero-padded, spread, phase-split copy of one source plane a DepthwisePass reads
// (see depthwise_pass): Hb rows of sw phases of L elements.
struct PlaneBuffer {
  int64_t Hb, sw, L;
  explicit PlaneBuffer(const DepthwisePass& d)
      : Hb((d.OH - 1) * d.sh + (d.R - 1) * d.dh + 1), sw(d.sw), L(d.OW + (d.S - 1) * d.dw / d.sw) {}
  int64_t size() const { return Hb * sw * L; }
  // Offset of the run that tap (r, s) of output row oh reads.
  int64_t run(const DepthwisePass& d, int64_t oh, int64_t r, int64_t s) const {
    return ((oh * d.sh + r * d.dh) * sw + (s * d.dw) % sw) * L + (s * d.dw) / sw;
  }
};

// Fills buf (PlaneBuffer(d).size() elements, then sw * L of scratch) from source plane (n, c).
template <typename scalar_t, typename T>
void fill_plane_buffer(const DepthwisePass& d, const PlaneBuffer& pb, const scalar_t* X, const Strides4& xs,
                       int64_t n, int64_t c, T* buf) {
  TORCH_INTERNAL_ASSERT(d.sw == 1 || d.uw == 1, "depthwise pass: column stride and spreading together");
  const int64_t sw = pb.sw, L = pb.L;
  T* padded = buf + pb.size();
  for (int64_t b = 0; b < pb.Hb; ++b) {
    T* dst = buf + b * sw * L;
    const int64_t i = depthwise_source(b - d.top, d.uh, d.SH);
    if (i < 0) {
      std::fill(dst, dst + sw * L, T(0));
      continue;
    }
    const scalar_t* srow = X + n * xs.n + c * xs.c + i * xs.h;
    if (d.uw > 1) {  // sw == 1: source column j at buffer column j * uw + left
      std::fill(dst, dst + L, T(0));
      const int64_t j0 = std::max<int64_t>(0, ceil_div(-d.left, d.uw)), j1 = std::min(d.SW, ceil_div(L - d.left, d.uw));
      for (int64_t j = j0; j < j1; ++j) dst[j * d.uw + d.left] = static_cast<T>(srow[j * xs.w]);
    } else if (xs.w == 1) {  // a zero-padded copy of the row (in place if sw == 1), split into phases
      T* row = sw == 1 ? dst : padded;
      const int64_t j0 = std::min(sw * L, std::max<int64_t>(0, d.left)), j1 = std::max(j0, std::min(sw * L, d.left + d.SW));
      std::fill(row, row + j0, T(0));
      for (int64_t j = j0; j < j1; ++j) row[j] = static_cast<T>(srow[j - d.left]);
      std::fill(row + j1, row + sw * L, T(0));
      if (sw > 1) channel_kernels<T, T>().split_phases(padded, L, sw, dst, L);
    } else {  // strided source columns: phase p, run index jb reads source column jb * sw + p - left
      for (int64_t p = 0; p < sw; ++p) {
        T* run = dst + p * L;
        const int64_t j0 = std::min(L, ceil_div(std::max<int64_t>(0, d.left - p), sw));
        const int64_t j1 = std::max(j0, std::min(L, ceil_div(d.SW + d.left - p, sw)));
        std::fill(run, run + j0, T(0));
        for (int64_t jb = j0; jb < j1; ++jb) run[jb] = static_cast<T>(srow[(jb * sw + p - d.left) * xs.w]);
        std::fill(run + j1, run + L, T(0));
      }
    }
  }
}

template <typename scalar_t, typename Weight>
void depthwise_pass(const DepthwisePass& d, const at::Tensor& src, const Weight& wt,
                    const at::opmath_type<scalar_t>* bias, at::Tensor& out) {
  using T = at::opmath_type<scalar_t>;
  const int64_t m = d.K / d.SC, RS = d.R * d.S, K = d.K;
  const Strides4 xs(src), ys(out);
  const scalar_t* X = src.const_data_ptr<scalar_t>();
  scalar_t* Y = out.data_ptr<scalar_t>();
  const auto& kern = channel_kernels<T, T>();

  if (ys.c == 1 && m == 1) {
    const int64_t cg = d.cg;
    std::vector<T> wk(RS * cg * K);  // [r][s][c'][k]
    for (int64_t k = 0; k < K; ++k)
      for (int64_t rs = 0; rs < RS; ++rs)
        for (int64_t cp = 0; cp < cg; ++cp) wk[(rs * cg + cp) * K + k] = wt(k, cp, rs / d.S, rs % d.S);
    const NhwcView<T> XV = nhwc_source<scalar_t, T>(src, 0, 0);
    const bool direct = std::is_same<scalar_t, T>::value;
    const PassTaps pt(d, /*runs=*/direct);  // a converted output is stored pixel by pixel
    parallel_for(d.N * d.OH, [&](int64_t row) {
      const int64_t n = row / d.OH, oh = row % d.OH;
      std::vector<const T*> px(RS), wv(RS);
      std::vector<T> acc(direct ? 0 : K);
      std::vector<int64_t> rows_r, rows_i;
      PassTaps::rows(d, oh, rows_r, rows_i);
      for (int64_t ow = 0; ow < d.OW;) {
        const int64_t count = pt.run_length(ow);
        const int64_t taps = pt.gather(ow, rows_r, rows_i, XV.p + n * XV.sn, XV.sh, XV.sw, wk.data(), cg * K,
                                       px.data(), wv.data());
        T* dst = direct ? reinterpret_cast<T*>(Y + n * ys.n + oh * ys.h + ow * ys.w) : acc.data();
        kern.grouped_pixels(px.data(), wv.data(), taps, K, cg, bias, count, d.sw * XV.sw, ys.w, dst);
        if (!direct) store_tile<scalar_t, T>(acc.data(), 1, K, K, Y, ys, n, 0, oh, ow, 1);
        ow += count;
      }
    });
    return;
  }

  TORCH_INTERNAL_ASSERT(d.cg == 1, "depthwise pass: NCHW planes of groups wider than one channel");
  const PlaneBuffer pb(d);
  const bool direct = std::is_same<scalar_t, T>::value && ys.w == 1;
  parallel_for(d.N * d.SC, [&](int64_t nc) {
    const int64_t n = nc / d.SC, c = nc % d.SC;
    T* buf = workspace<T>(Slot::input, pb.size() + pb.sw * pb.L + d.OW);
    T* row_out = buf + pb.size() + pb.sw * pb.L;  // one output row, when it cannot be written in place
    fill_plane_buffer(d, pb, X, xs, n, c, buf);
    std::vector<const T*> rows(RS);
    std::vector<T> wk(RS);
    for (int64_t k = c * m; k < (c + 1) * m; ++k) {
      for (int64_t rs = 0; rs < RS; ++rs) wk[rs] = wt(k, 0, rs / d.S, rs % d.S);
      for (int64_t oh = 0; oh < d.OH; ++oh) {
        for (int64_t r = 0; r < d.R; ++r)
          for (int64_t s = 0; s < d.S; ++s)
            rows[r * d.S + s] = buf + pb.run(d, oh, r, s);
        T* dst = direct ? reinterpret_cast<T*>(Y + n * ys.n + k * ys.c + oh * ys.h) : row_out;
        kern.depthwise_row(rows.data(), wk.data(), RS, bias[k], d.OW, dst);
        if (!direct)
          for (int64_t q = 0; q < d.OW; ++q) Y[n * ys.n + k * ys.c + oh * ys.h + q * ys.w] = static_cast<scalar_t>(row_out[q]);
      }
    }
  });
}

// Depthwise (or narrow-group, channels_last) weight gradient, dw[k, c', r, s] = sum over n, p, q of
// dy[n, k, p, q] * x[n, source channel, i, j] with (i, j) the forward's source pixel of tap (r, s)
// and the source channel k / m (depthwise) or (k / cg) * cg + c' (groups of cg channels). Partial
// sums are kept per chunk of output rows (channels_last) or per image (NCHW) and added in a fixed
// order.
//
// channels_last dy with m = 1: per output row, the taps that land inside x are accumulated with
// vectors of channels over runs of consecutive pixels (grouped_grad_pixels). Otherwise per x
// plane: the forward's plane buffer, then per output plane one dot product of dy with each tap's
// shifted runs over the whole plane (depthwise_grad_rows).
template <typename scalar_t>
void depthwise_weight_grad(const ConvGeometry& g, const at::Tensor& dy_in, const at::Tensor& x, at::Tensor& dw) {
  using T = at::opmath_type<scalar_t>;
  const DepthwisePass d{g.N, g.C, g.H, g.W, g.K, g.P, g.Q, g.R, g.S, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, 1, 1};
  const int64_t m = g.K / g.C, RS = g.R * g.S, K = g.K, cg = g.C / g.G;
  const auto& kern = channel_kernels<T, T>();
  std::vector<T> sums(RS * cg * K, T(0));  // [r][s][c'][k]

  if (dy_in.stride(1) == 1 && m == 1) {
    const NhwcView<T> XV = nhwc_source<scalar_t, T>(x, 0, 0, Slot::input);
    const NhwcView<T> DY = nhwc_source<scalar_t, T>(dy_in, 0, 0, Slot::grad);
    const PassTaps pt(d, /*runs=*/true);
    const int64_t rows = g.N * g.P, chunks = std::min<int64_t>(rows, 4 * at::get_num_threads());
    std::vector<T> part(chunks * RS * cg * K, T(0));
    parallel_for(chunks, [&](int64_t ch) {
      T* acc = part.data() + ch * RS * cg * K;
      std::vector<const T*> px(RS);
      std::vector<T*> accp(RS);
      std::vector<int64_t> rows_r, rows_i;
      for (int64_t row = ch * rows / chunks; row < (ch + 1) * rows / chunks; ++row) {
        const int64_t n = row / g.P, p = row % g.P;
        PassTaps::rows(d, p, rows_r, rows_i);
        for (int64_t q = 0; q < g.Q;) {
          const int64_t count = pt.run_length(q);
          const int64_t taps = pt.gather(q, rows_r, rows_i, XV.p + n * XV.sn, XV.sh, XV.sw, acc, cg * K,
                                         px.data(), accp.data());
          kern.grouped_grad_pixels(px.data(), accp.data(), taps, K, cg, DY.p + n * DY.sn + p * DY.sh + q * DY.sw,
                                   count, g.sw * XV.sw, DY.sw);
          q += count;
        }
      }
    });
    for (int64_t ch = 0; ch < chunks; ++ch)
      for (int64_t e = 0; e < RS * cg * K; ++e) sums[e] += part[ch * RS * cg * K + e];
  } else {
    TORCH_INTERNAL_ASSERT(cg == 1, "depthwise weight gradient: NCHW planes of groups wider than one channel");
    const at::Tensor dy = dy_in.stride(3) == 1 ? dy_in : dy_in.contiguous();
    const Strides4 xs(x), ds(dy);
    const scalar_t* X = x.const_data_ptr<scalar_t>();
    const scalar_t* DYp = dy.const_data_ptr<scalar_t>();
    const PlaneBuffer pb(d);
    std::vector<T> part(g.N * K * RS, T(0));  // [n][k][r][s]
    parallel_for(g.N * g.C, [&](int64_t nc) {
      const int64_t n = nc / g.C, c = nc % g.C;
      T* buf = workspace<T>(Slot::input, pb.size() + pb.sw * pb.L);
      fill_plane_buffer(d, pb, X, xs, n, c, buf);
      std::vector<const T*> runs(RS);
      for (int64_t rs = 0; rs < RS; ++rs) runs[rs] = buf + pb.run(d, 0, rs / g.S, rs % g.S);
      std::vector<T> widened(std::is_same<scalar_t, T>::value ? 0 : g.P * g.Q);
      for (int64_t k = c * m; k < (c + 1) * m; ++k) {
        const scalar_t* gk = DYp + n * ds.n + k * ds.c;
        const T* gt = reinterpret_cast<const T*>(gk);
        int64_t g_step = ds.h;
        if (!std::is_same<scalar_t, T>::value) {  // bfloat16: widen the gradient plane first
          for (int64_t p = 0; p < g.P; ++p)
            for (int64_t q = 0; q < g.Q; ++q) widened[p * g.Q + q] = static_cast<T>(gk[p * ds.h + q]);
          gt = widened.data();
          g_step = g.Q;
        }
        kern.depthwise_grad_rows(runs.data(), part.data() + (n * K + k) * RS, RS, g.sh * pb.sw * pb.L, gt, g_step,
                                 g.P, g.Q);
      }
    });
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t k = 0; k < K; ++k)
        for (int64_t rs = 0; rs < RS; ++rs) sums[rs * K + k] += part[(n * K + k) * RS + rs];
  }
  scalar_t* DW = dw.data_ptr<scalar_t>();
  const Strides4 wst(dw);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t rs = 0; rs < RS; ++rs)
      for (int64_t cp = 0; cp < cg; ++cp)
        DW[k * wst.n + cp * wst.c + (rs / g.S) * wst.h + (rs % g.S) * wst.w] = static_cast<scalar_t>(sums[(rs * cg + cp) * K + k]);
}

// A 1x1, stride-1, unpadded convolution between tensors whose rows follow each other (and whose
// columns are contiguous, where unit_columns) is the same convolution on planes of one row of H*W
// pixels: the NCHW route then runs on whole planes, however short the rows, and the weight gradient
// takes whole images as taps. Rewrites g, x and y to that form when it applies.
void flatten_pointwise(ConvGeometry& g, at::Tensor& x, at::Tensor& y, bool unit_columns = true) {
  const bool pointwise = g.R == 1 && g.S == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0;
  auto flat_planes = [&](const at::Tensor& t) {
    return (!unit_columns || t.stride(3) == 1) && (t.size(2) == 1 || t.stride(2) == t.size(3) * t.stride(3));
  };
  if (!pointwise || g.H == 1 || !flat_planes(x) || !flat_planes(y)) return;
  x = x.as_strided({g.N, g.C, 1, g.H * g.W}, {x.stride(0), x.stride(1), g.H * g.W * x.stride(3), x.stride(3)});
  y = y.as_strided({g.N, g.K, 1, g.P * g.Q}, {y.stride(0), y.stride(1), g.P * g.Q * y.stride(3), y.stride(3)});
  g.W = g.Q = g.H * g.W;
  g.H = g.P = 1;
}

// The taps of the forward that land on x, the others left out: output row p takes the filter rows
// [r0(p), r1(p)) that land on rows of x, output column q the filter columns [s0(q), s1(q)). Columns
// [q0, q1) take all S (the interior, cut into full tiles); the columns left and right of it (the
// edges) run in groups with equal column taps, one tile per group. A source without the padding
// (read in place) needs this; in a zero-padded copy it saves the multiplications by its zeros: rows
// always, since a row's taps are left out at no cost, columns only where each edge group has at
// least 4 columns (skip_columns), since a tile of fewer rows streams its weights from L2 for too few
// multiply-adds (measured on Zen 4, interleaved: the dilation-4 512-channel layer at 28x28, rows
// 18.7 -> 17.0 ms, columns (two groups of 4) 16.6 -> 15.3 ms; the 3x3 256-channel one at 14x14 rows
// 10.6 -> 10.2 ms, its columns (groups of 1) 8.8 -> 9.6 ms, the stem's (groups of 1) 5.5 -> 7.1 ms).
struct ReadPadding {
  int64_t top, left;  // padding not in the source
  int64_t x_top, H;   // the source rows that hold x: [x_top, x_top + H)
  int64_t x_left, W;  // the source columns taken as x: [x_left, x_left + W)
  int64_t sh, sw, dh, dw, R, S, Q;
  int64_t q0, q1;
  ReadPadding(const ConvGeometry& g, bool unpadded_source, bool skip_columns)
      : top(unpadded_source ? g.ph : 0), left(unpadded_source ? g.pw : 0),
        x_top(unpadded_source ? 0 : g.ph), H(g.H),
        x_left(unpadded_source || !skip_columns ? 0 : g.pw), W(unpadded_source || skip_columns ? g.W : g.W + 2 * g.pw),
        sh(g.sh), sw(g.sw), dh(g.dh), dw(g.dw), R(g.R), S(g.S), Q(g.Q) {
    q0 = std::min(Q, ceil_div(left + x_left, sw));
    const int64_t last = x_left + W - 1 - (S - 1) * dw + left;  // the interior ends where q*sw <= last
    q1 = last < 0 ? q0 : std::max(q0, std::min(Q, last / sw + 1));
  }
  // First tap index t in [0, n) with lo <= start + t*step, and one past the last with start + t*step < hi.
  static int64_t first_in(int64_t start, int64_t step, int64_t lo, int64_t n) {
    return start >= lo ? 0 : std::min(n, ceil_div(lo - start, step));
  }
  static int64_t end_in(int64_t start, int64_t step, int64_t hi, int64_t n) {
    return start >= hi ? 0 : std::min(n, (hi - 1 - start) / step + 1);
  }
  int64_t r0(int64_t p) const { return first_in(p * sh - top, dh, x_top, R); }
  int64_t r1(int64_t p) const { return std::max(r0(p), end_in(p * sh - top, dh, x_top + H, R)); }
  int64_t s0(int64_t q) const { return first_in(q * sw - left, dw, x_left, S); }
  int64_t s1(int64_t q) const { return std::max(s0(q), end_in(q * sw - left, dw, x_left + W, S)); }
  // Whether every run of edge columns with the same taps has at least n columns.
  bool edge_runs_at_least(int64_t n) const {
    for (int64_t q = 0; q < Q;) {
      if (q == q0 && q0 < q1) {
        q = q1;
        continue;
      }
      const int64_t end = edge_run_end(q);
      if (end - q < n) return false;
      q = end;
    }
    return true;
  }
  // One past the last edge column after q with the same column taps as q.
  int64_t edge_run_end(int64_t q) const {
    const int64_t limit = q < q0 ? q0 : Q;
    int64_t e = q + 1;
    while (e < limit && s0(e) == s0(q) && s1(e) == s1(q)) ++e;
    return e;
  }
};

// Whether the forward reads x in place, padding included (ReadPadding), rather than from a padded
// NHWC copy: where x can be read in place (nhwc_readable; rows a multiple of 2 KiB apart in tiles of
// at most aliased_rows_cap rows) and, where there is padding, with at least
// 16 input channels per group and edge columns making up at most an eighth of the row, since edge
// tiles are narrow (one to a few columns).
// Measured on Zen 4, interleaved A/B over 40 calls each, in place against the copy: the 3x3 stride-2
// 128-channel layer at 56x56 +7%, the 3x3 dilation-2 256-channel one at 33x33 (4 edge columns of
// 33) +10%, the 3x3 64-channel one at 56x56 +1%; the 3x3 256-channel one at 14x14 (2 of 14) -1.5%
// and the 7x7 stem over 3 channels -2%; the dilation-4 512-channel one at 28x28 (8 of 28) even.
template <typename scalar_t, typename T>
bool reads_padding_in_place(const ConvGeometry& g, const at::Tensor& x) {
  if (!nhwc_readable<scalar_t, T>(x)) return false;
  if (g.ph == 0 && g.pw == 0) return true;
  const ReadPadding pad(g, true, true);
  return g.C / g.G >= 16 && 8 * (g.Q - (pad.q1 - pad.q0)) <= g.Q;
}

// Whether the micro-kernel stores the tiles of a channels_last output y of the accumulation type,
// whose groups have Kg channels, with non-temporal stores (TileArgs::stream): for outputs of 4 MiB
// and more, which leave the L2s before they are read again, where every tile row is whole aligned
// vectors. An ordinary store first reads each line it writes into the cache; a streaming store
// writes it around the caches (measured on Zen 4, interleaved: the 1x1 64-to-256-channel layer at
// 56x56, 25.7 MB of output, 5.8 -> 4.7 ms; the stem 10.0 -> 9.2 ms; 6.4 MB outputs 3-4% faster;
// outputs of 1.6-3.2 MB unchanged either way; a channels_last ResNet-18 forward at batch 8 and 16,
// whose layers read these outputs next, 1-2% faster).
template <typename T>
bool streams_output(const at::Tensor& y, int64_t Kg) {
  constexpr int64_t kAlign = 64, kMinBytes = int64_t(4) << 20;
  const int64_t bytes = y.numel() * int64_t(sizeof(T));
  return bytes >= kMinBytes && reinterpret_cast<uintptr_t>(y.const_data_ptr()) % kAlign == 0 &&
         (y.stride(3) * int64_t(sizeof(T))) % kAlign == 0 && (Kg * int64_t(sizeof(T))) % kAlign == 0;
}

// Pixels of an NCHW output band (see conv_forward): four vectors of them.
template <typename T>
constexpr int64_t kBandPixels = 4 * 64 / int64_t(sizeof(T));
// Largest padded NHWC image that the forward's work items copy for themselves (image_items).
constexpr int64_t kImageItemBytes = int64_t(32) << 10;

template <typename scalar_t>
void conv_forward(const ConvGeometry& g, const at::Tensor& x, const at::Tensor& w,
                  const std::vector<double>& bias_d, at::Tensor& y) {
  using T = at::opmath_type<scalar_t>;
  if (g.R == 1 && g.S == 1 && g.ph == 0 && g.pw == 0 && (g.sh > 1 || g.sw > 1) && (x.stride(1) == 1 || x.stride(3) == 1)) {
    // A strided 1x1 convolution reads only every sh-th row and sw-th column of x: it is the stride-1
    // convolution of that subsampled view (no copy), whose NHWC copy then holds only the pixels read
    // (measured, the 1x1 stride-2 256-to-512-channel layer at 56x56, which copied all 25.7 MB of x:
    // channels_last 10.2 -> 9.2 ms; NCHW, whose rows pack_nhwc transposes whole and then subsamples,
    // 11.8 -> 10.9 ms).
    ConvGeometry gs = g;
    gs.H = g.P, gs.W = g.Q, gs.sh = gs.sw = 1;
    const at::Tensor xs = x.slice(2, 0, (g.P - 1) * g.sh + 1, g.sh).slice(3, 0, (g.Q - 1) * g.sw + 1, g.sw);
    conv_forward<scalar_t>(gs, xs, w, bias_d, y);
    return;
  }
  const int64_t Cg = g.C / g.G, Kg = g.K / g.G, RS = g.R * g.S, K = g.K;
  const bool has_bias = !bias_d.empty();
  std::vector<T> bias(K + kMaxTile, T(0));  // padded: the micro-kernel reads whole vectors of bias
  std::copy(bias_d.begin(), bias_d.end(), bias.begin());
  scalar_t* Y = y.data_ptr<scalar_t>();
  const Strides4 ys(y);
  const scalar_t* Wt = w.const_data_ptr<scalar_t>();
  const Strides4 ws(w);

  // The NCHW route (nchw_route_tile) for NCHW outputs of x with contiguous rows; rows with a column
  // step (subsampled views, transposed layouts) it would gather element by element, where the NHWC
  // copy transposes them (the strided 1x1 layer above: 12.5-12.7 ms against 10.9-11.8 ms).
  if (std::is_same<scalar_t, T>::value && g.sh == 1 && g.sw == 1 && ys.w == 1 && !(Cg == 1 && g.G > 1) &&
      x.stride(3) == 1) {
    ConvGeometry gf = g;
    at::Tensor xf = x, yf = y;
    flatten_pointwise(gf, xf, yf);
    if (const TileKernel<T>* tile = nchw_route_tile<T>(gf)) {
      conv_forward_nchw<T>(gf, xf, w, has_bias ? bias.data() : nullptr, reinterpret_cast<T*>(Y), Strides4(yf), *tile);
      return;
    }
  }
  if ((Cg == 1 && g.G > 1) || (narrow_groups(g) && ys.c == 1)) {
    DepthwisePass d{g.N, g.C, g.H, g.W, g.K, g.P, g.Q, g.R, g.S, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, 1, 1};
    d.cg = Cg;
    depthwise_pass<scalar_t>(d, x, [&](int64_t k, int64_t cp, int64_t r, int64_t s) {
      return static_cast<T>(Wt[k * ws.n + cp * ws.c + r * ws.h + s * ws.w]);
    }, bias.data(), y);
    return;
  }
  // The source: x itself where it is channels_last of the accumulation type (reads_padding_in_place),
  // its padding then left to the taps (ReadPadding), else a zero-padded NHWC copy: of the whole
  // batch, or, for small images of one group, one image at a time by the work item that computes it
  // (image_items).
  const bool in_place = reads_padding_in_place<scalar_t, T>(g, x);
  const int64_t Hp = g.H + 2 * g.ph, Wp = g.W + 2 * g.pw, ldp = pixel_pitch<T>(g.C, g.sw);
  // Measured on Zen 4, interleaved, NCHW batch 64: LeNet's 5x5 6-to-16-channel layer at 14x14
  // 0.29-0.32 -> 0.22-0.23 ms (the batch copy also made it swing between 0.21 and 0.33 ms from one
  // process to another), the 3x3 16-to-32-channel one at 16x16 1.08 -> 0.94 ms, 32-to-64 at 8x8
  // 0.95 -> 0.88 ms.
  const bool image_items = !in_place && g.G == 1 && Hp * Wp * ldp * int64_t(sizeof(T)) <= kImageItemBytes &&
                           g.N >= 4 * int64_t(at::get_num_threads());
  const T* copy = in_place || image_items ? nullptr : pack_nhwc<scalar_t, T>(x, g.ph, g.pw, Hp, Wp, Slot::input, ldp);
  const NhwcView<T> X = in_place ? nhwc_view<scalar_t, T>(x) : NhwcView<T>{copy, Hp * Wp * ldp, Wp * ldp, ldp};
  // Read in place, every tap that would land in the padding is left out; from a copy, edge columns
  // are left out only where their tiles are wide enough (ReadPadding).
  const ReadPadding pad(g, in_place, in_place || ReadPadding(g, false, true).edge_runs_at_least(4));

  const TileKernel<T>& tile = pick_tile<T>(Kg);
  const int64_t nb = tile.nb, KB = ceil_div(Kg, nb);
  const int64_t MR = in_place ? std::min<int64_t>(tile.mr_max, aliased_rows_cap<T>(g.sw * X.sw)) : tile.mr_max;
  const T* wp = pack_panels<T>(Wt, ws, g.G, Kg, Cg, g.R, g.S, nb, false);
  const bool direct = std::is_same<scalar_t, T>::value && ys.c == 1;
  const bool nchw_row = std::is_same<scalar_t, T>::value && !direct && ys.w == 1;

  const bool panel_major =
      panel_major_order(KB, RS * Cg * nb, g.R * (g.Q * g.sw + (g.S - 1) * g.dw) * Cg, int64_t(sizeof(T)));
  const TileSplit split(pad.q1 - pad.q0, MR);
  const bool stream = direct && streams_output<T>(y, Kg);
  // A filter row's taps read consecutive pixels (unit dilation) whose channels follow each other
  // without a gap (one group, pixel pitch C): as one run of S*C input elements against the S*C
  // consecutive panel rows of its weights, one tap per filter row instead of S.
  const bool merge = g.dw == 1 && X.sw == Cg && g.S > 1;
  // NCHW outputs whose rows follow each other take bands of `band` output rows per work item, their
  // rows' tiles gathered as (band*Q) x nb and transposed at once: for short rows a transposition of
  // Q x nb is all ragged edges (LeNet's 10 columns), while a band of about four vectors of pixels
  // moves mostly as full blocks.
  const int64_t band = nchw_row && ys.h == g.Q ? std::min(g.P, std::max<int64_t>(1, kBandPixels<T> / g.Q)) : 1;
  const int64_t PB = ceil_div(g.P, band);
  // Output rows [p0, p1) of image n, group gi, channel panel kb, from `image` (the group's first
  // channel of the image in X).
  auto band_panel = [&](int64_t n, int64_t gi, int64_t kb, int64_t p0, int64_t p1, const T* image) {
    alignas(64) T acc[kMaxTile];
    const T* panel = wp + (gi * KB + kb) * RS * Cg * nb;
    const int64_t cols = std::min(nb, Kg - kb * nb), c0 = gi * Kg + kb * nb;
    // Into an NCHW output of the accumulation type, the band's tiles are gathered as (rows x Q) x nb
    // and transposed once, so each of its nb output rows is written whole rather than a tile's
    // partial cache line at a time.
    T* const row_acc = nchw_row ? workspace<T>(Slot::partials, (p1 - p0) * g.Q * nb) : nullptr;
    TapList<int64_t> a_off;  // filled by taps() before use: no zeroing
    TapList<const T*> bp;
    a_off.resize_for_overwrite(RS);
    bp.resize_for_overwrite(RS);
    for (int64_t p = p0; p < p1; ++p) {
      // The taps (r, s) with s in [s0, s1) that land in the source, into (a_off, bp); returns their
      // count. Merged (merge), each filter row's are one tap of (s1 - s0) * Cg elements.
      const int64_t r0 = pad.r0(p), r1 = pad.r1(p);
      auto taps = [&](int64_t s0, int64_t s1) {
        int64_t nt = 0;
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t s = s0; s < s1; s += merge ? s1 - s0 : 1) {
            a_off[nt] = (p * g.sh - pad.top + r * g.dh) * X.sh + (s * g.dw - pad.left) * X.sw;
            bp[nt++] = panel + (r * g.S + s) * Cg * nb;
          }
        return nt;
      };
      // Output columns [q0, q0 + mr) over the first nt taps, of the column taps [s0, s1).
      auto run = [&](int64_t q0, int64_t mr, int64_t nt, int64_t s0, int64_t s1) {
        TileArgs<T> args{image + q0 * g.sw * X.sw, g.sw * X.sw, 1, a_off.data(), bp.data(), nb, nt,
                         merge ? (s1 - s0) * Cg : Cg, acc, nb, cols, nullptr, has_bias ? bias.data() + c0 : nullptr,
                         false};
        if (direct) {
          args.C = reinterpret_cast<T*>(Y) + n * ys.n + c0 + p * ys.h + q0 * ys.w;
          args.ldc = ys.w;
          args.stream = stream;
        } else if (nchw_row) {
          args.C = row_acc + ((p - p0) * g.Q + q0) * nb;
        }
        tile.fn(mr, args);
        if (!direct && !nchw_row) store_tile<scalar_t, T>(acc, mr, nb, cols, Y, ys, n, c0, p, q0, 1);
      };
      // Edge columns [from, to), in runs with the same column taps, of at most MR columns (padding
      // wider than the filter's reach makes long runs of columns with no taps at all).
      auto edges = [&](int64_t from, int64_t to) {
        for (int64_t q = from; q < to;) {
          const int64_t end = std::min(pad.edge_run_end(q), q + MR), s0 = pad.s0(q), s1 = pad.s1(q);
          run(q, end - q, taps(s0, s1), s0, s1);
          q = end;
        }
      };
      edges(0, pad.q0);
      const int64_t nt = taps(0, g.S);
      for (int64_t t = 0; t < split.count; ++t) run(pad.q0 + split.start(t), split.size(t), nt, 0, g.S);
      edges(std::max(pad.q0, pad.q1), g.Q);
    }
    if (nchw_row)
      transposed_copy(row_acc, nb, (p1 - p0) * g.Q, cols, reinterpret_cast<T*>(Y) + n * ys.n + c0 * ys.c + p0 * ys.h,
                      ys.c);
  };
  if (image_items) {
    parallel_for(g.N, [&](int64_t n) {
      T* image = workspace<T>(Slot::input, Hp * Wp * ldp);
      for (int64_t h = 0; h < Hp; ++h)
        pack_nhwc_row<scalar_t, T>(x, n, h - g.ph, g.pw, Wp, ldp, image + h * Wp * ldp);
      for (int64_t kb = 0; kb < KB; ++kb)
        for (int64_t p0 = 0; p0 < g.P; p0 += band) band_panel(n, 0, kb, p0, std::min(g.P, p0 + band), image);
      if (stream) stream_fence();
    });
    return;
  }
  parallel_for(g.N * g.G * PB * KB, [&](int64_t item) {
    const PanelRow pr(item, KB, PB, panel_major);
    const int64_t gi = (item / (KB * PB)) % g.G, n = item / (KB * PB * g.G), p0 = pr.p * band;
    band_panel(n, gi, pr.kb, p0, std::min(g.P, p0 + band), X.p + n * X.sn + gi * Cg);
    if (stream) stream_fence();
  });
}

// ---------------------------------------------------------------------------------------------
// Input gradient: dx[n, c, h, w] = sum over taps (r, s) reaching (h, w) and k of
//                 dy[n, k, (h+ph-r*dh)/sh, (w+pw-s*dw)/sw] * w[k, c, r, s]

// Whether the input gradient of g goes through col2im: few input channels (G = 1), so that the
// input gradient's tiles, whose columns are input channels, would be at most half full, and enough
// filter taps for the R*S*C columns of conv_input_grad_col2im to fill a tile.
template <typename T>
bool input_grad_by_col2im(const ConvGeometry& g) {
  const int64_t nb = tiles<T>().narrow.nb;
  return g.G == 1 && 2 * g.C <= nb && g.R * g.S * g.C >= nb;
}

// The input gradient as a product over all filter taps at once, then col2im: per output row (n, p),
//   D[q][(r*S + s)*C + c] = sum_k dy[n, k, p, q] * w[k, c, r, s]
// (tile rows = output pixels, columns = R*S*C, J = K, weights packed as panels of nb of those
// columns), and each D row is added into the input pixels its taps come from, in a float NHWC
// accumulator, converted into dx at the end. Work items are bands of output rows of one image; the
// even bands, then the odd ones, run in parallel, bands being tall enough that two even (or two odd)
// bands never reach the same input row. Sums are taken in a fixed order (band parity, rows, columns,
// taps), whatever the thread count.
template <typename scalar_t>
void conv_input_grad_col2im(const ConvGeometry& g, const at::Tensor& dy, const at::Tensor& w, at::Tensor& dx) {
  using T = at::opmath_type<scalar_t>;
  const int64_t C = g.C, K = g.K, RS = g.R * g.S, L = RS * C;
  const TileKernel<T>& tile = tiles<T>().wide;
  const int64_t nb = tile.nb, MR = tile.mr_max, LB = ceil_div(L, nb), Lp = LB * nb;
  const NhwcView<T> DY = nhwc_source<scalar_t, T>(dy, 0, 0, Slot::grad, 1);
  // Panels: wp[b][k][v] = w[k, c, r, s] for column b*nb + v = (r*S + s)*C + c, 0 past L.
  T* const wp = workspace<T>(Slot::weights, LB * K * nb);
  {
    const scalar_t* W = w.const_data_ptr<scalar_t>();
    const Strides4 ws(w);
    for (int64_t b = 0; b < LB; ++b)
      for (int64_t k = 0; k < K; ++k)
        for (int64_t v = 0; v < nb; ++v) {
          const int64_t col = b * nb + v, rs = col / C, c = col % C;
          wp[(b * K + k) * nb + v] =
              col < L ? static_cast<T>(W[k * ws.n + c * ws.c + (rs / g.S) * ws.h + (rs % g.S) * ws.w]) : T(0);
        }
  }
  const int64_t HWC = g.H * g.W * C;
  T* const acc = workspace<T>(Slot::input, g.N * HWC);
  parallel_for(g.N * g.H, [&](int64_t row) { std::fill(acc + row * g.W * C, acc + (row + 1) * g.W * C, T(0)); });
  // Band height: over (R-1)*dh/sh - 1 rows, so that bands two apart reach disjoint input rows.
  const int64_t bh = std::max<int64_t>(4, ((g.R - 1) * g.dh - g.sh) / g.sh + 1), bands = ceil_div(g.P, bh);
  const TileSplit split(g.Q, MR);
  const ReadPadding pad(g, true, true);  // the taps of each output row and column that land in x
  for (int64_t parity = 0; parity < 2; ++parity) {
    parallel_for(g.N * ceil_div(bands - parity, 2), [&](int64_t item) {
      const int64_t per_image = ceil_div(bands - parity, 2), n = item / per_image;
      const int64_t band = 2 * (item % per_image) + parity;
      T* const D = workspace<T>(Slot::partials, g.Q * Lp);
      const int64_t a_off = 0;
      for (int64_t p = band * bh; p < std::min(g.P, (band + 1) * bh); ++p) {
        for (int64_t b = 0; b < LB; ++b) {
          const T* bp = wp + b * K * nb;
          for (int64_t t = 0; t < split.count; ++t) {
            const int64_t q0 = split.start(t);
            tile.fn(split.size(t), TileArgs<T>{DY.p + n * DY.sn + p * DY.sh + q0 * DY.sw, DY.sw, 1, &a_off, &bp, nb,
                                               1, K, D + q0 * Lp + b * nb, Lp, nb, nullptr, nullptr, false});
          }
        }
        for (int64_t r = pad.r0(p); r < pad.r1(p); ++r) {
          T* const out_row = acc + n * HWC + (p * g.sh - g.ph + r * g.dh) * g.W * C;
          for (int64_t q = 0; q < g.Q; ++q) {
            // Taps s in [s0, s1) land in the row; with dw = 1 they are one contiguous run.
            const int64_t w0 = q * g.sw - g.pw, s0 = pad.s0(q), s1 = pad.s1(q);
            const T* d = D + q * Lp + r * g.S * C;
            if (g.dw == 1) {
              T* o = out_row + (w0 + s0) * C;
              for (int64_t e = s0 * C; e < s1 * C; ++e) o[e - s0 * C] += d[e];
            } else {
              for (int64_t s = s0; s < s1; ++s)
                for (int64_t c = 0; c < C; ++c) out_row[(w0 + s * g.dw) * C + c] += d[s * C + c];
            }
          }
        }
      }
    });
  }
  scalar_t* const DX = dx.data_ptr<scalar_t>();
  const Strides4 xs(dx);
  parallel_for(g.N * g.H, [&](int64_t row) {
    const int64_t n = row / g.H, h = row % g.H;
    const T* a = acc + row * g.W * C;
    if (std::is_same<scalar_t, T>::value && xs.c == 1 && xs.w == C) {
      std::memcpy(DX + n * xs.n + h * xs.h, a, g.W * C * sizeof(T));
    } else {
      store_tile<scalar_t, T>(a, g.W, C, C, DX, xs, n, 0, h, 0, 1);
    }
  });
}

template <typename scalar_t>
void conv_input_grad(const ConvGeometry& g, const at::Tensor& dy, const at::Tensor& w, at::Tensor& dx) {
  using T = at::opmath_type<scalar_t>;
  const int64_t Cg = g.C / g.G, Kg = g.K / g.G, RS = g.R * g.S, C = g.C, K = g.K;
  const Strides4 xs(dx);

  // Stride 1 into NCHW: dx is the convolution of dy, padded by d*(k-1) - p, with the filters
  // flipped and input/output channels swapped within each group; run the NCHW forward on it.
  const int64_t pad_h = g.dh * (g.R - 1) - g.ph, pad_w = g.dw * (g.S - 1) - g.pw;
  if (std::is_same<scalar_t, T>::value && g.sh == 1 && g.sw == 1 && xs.w == 1 && !(Cg == 1 && g.G > 1) &&
      pad_h >= 0 && pad_w >= 0) {
    ConvGeometry t = g;
    t.C = K; t.H = g.P; t.W = g.Q; t.K = C; t.P = g.H; t.Q = g.W;
    t.ph = pad_h; t.pw = pad_w;
    at::Tensor dyf = dy, dxf = dx;
    flatten_pointwise(t, dyf, dxf);
    if (const TileKernel<T>* tile = nchw_route_tile<T>(t)) {
      at::Tensor wt = w.view({g.G, Kg, Cg, g.R, g.S}).transpose(1, 2).flip({3, 4}).reshape({C, Kg, g.R, g.S});
      conv_forward_nchw<T>(t, dyf, wt, nullptr, reinterpret_cast<T*>(dx.data_ptr<scalar_t>()), Strides4(dxf), *tile);
      return;
    }
  }
  const scalar_t* Wt = w.const_data_ptr<scalar_t>();
  const Strides4 ws(w);
  if ((Cg == 1 && Kg == 1 && g.G > 1) || (narrow_groups(g) && xs.c == 1)) {
    // Depthwise without multiplier, or narrow groups into channels_last: the depthwise pass over dy
    // with the filters flipped and, within each group, transposed.
    DepthwisePass d{g.N, g.K, g.P, g.Q, g.C, g.H, g.W, g.R, g.S, 1, 1, pad_h, pad_w, g.dh, g.dw, g.sh, g.sw};
    d.cg = Cg;
    const std::vector<T> zero(C + kMaxTile, T(0));
    depthwise_pass<scalar_t>(d, dy, [&](int64_t c, int64_t kp, int64_t r, int64_t s) {
      return static_cast<T>(Wt[(c / Cg * Cg + kp) * ws.n + (c % Cg) * ws.c + (g.R - 1 - r) * ws.h + (g.S - 1 - s) * ws.w]);
    }, zero.data(), dx);
    return;
  }
  if (input_grad_by_col2im<T>(g)) {
    conv_input_grad_col2im<scalar_t>(g, dy, w, dx);
    return;
  }
  // dy as a dense NHWC buffer with cp.left zero columns on the left and cp.width columns in all: dy
  // itself when it is exactly that already (no column padding, contiguous channels_last, accumulation
  // type), else a copy.
  // Its pixels are ldk elements apart (pixel_pitch: the tiles below read consecutive pixels as rows;
  // the depthwise pass reads them one at a time).
  const ColumnPad cp = input_grad_column_pad(g);
  const int64_t ldk = pixel_pitch<T>(K, Cg == 1 && g.G > 1 ? 0 : 1);
  const bool dy_in_place = std::is_same<scalar_t, T>::value && cp.left == 0 && cp.width == g.Q && ldk == K &&
                           dy.is_contiguous(at::MemoryFormat::ChannelsLast);
  const T* DY = dy_in_place ? reinterpret_cast<const T*>(dy.const_data_ptr<scalar_t>())
                            : pack_nhwc<scalar_t, T>(dy, 0, cp.left, g.P, cp.width, Slot::grad, ldk);
  scalar_t* DX = dx.data_ptr<scalar_t>();
  const int64_t row_stride = cp.width * ldk;  // one output row of the padded gradient buffer

  if (Cg == 1 && g.G > 1) {
    // Depthwise with multiplier m: input channel c collects output channels c*m .. c*m+m-1.
    const int64_t m = Kg;
    const auto& chan = channel_kernels<T, T>();
    const std::vector<T> wk = depthwise_weights<T>(g, Wt, ws);
    parallel_for(g.N * g.H, [&](int64_t item) {
      const int64_t n = item / g.H, h = item % g.H;
      std::vector<T> acc(C);
      for (int64_t res = 0; res < std::min(g.sw, g.W); ++res) {
        const TapList<Tap> taps = input_grad_taps(g, h, res);
        for (int64_t i = 0, wpix = res; wpix < g.W; ++i, wpix += g.sw) {
          std::fill(acc.begin(), acc.end(), T(0));
          for (const Tap& t : taps) {
            const T* dv = DY + n * g.P * row_stride + t.oh * row_stride + (cp.left + t.ow0 + i) * ldk;
            const T* wv = wk.data() + t.rs * K;
            if (m == 1) {
              chan.fma(acc.data(), dv, wv, C);
            } else {
              for (int64_t c = 0; c < C; ++c)
                for (int64_t j = 0; j < m; ++j) acc[c] += dv[c * m + j] * wv[c * m + j];
            }
          }
          store_tile<scalar_t, T>(acc.data(), 1, C, C, DX, xs, n, 0, h, wpix, 1);
        }
      }
    });
    return;
  }

  const TileKernel<T>& tile = pick_tile<T>(Cg);
  const int64_t nb = tile.nb, MR = tile.mr_max, CB = ceil_div(Cg, nb);
  // Panels over input channels: wt[g][cb][rs][k][v] = w[g*Kg + k, cb*nb + v, r, s].
  const T* wt = pack_panels<T>(Wt, ws, g.G, Kg, Cg, g.R, g.S, nb, true);
  const bool direct = std::is_same<scalar_t, T>::value && xs.c == 1;
  const bool nchw_row = std::is_same<scalar_t, T>::value && !direct && xs.w == 1;
  const bool panel_major = panel_major_order(CB, RS * Kg * nb, g.R * cp.width * Kg, int64_t(sizeof(T)));
  parallel_for(g.N * g.G * g.H * CB, [&](int64_t item) {
    const PanelRow pr(item, CB, g.H, panel_major);
    const int64_t cb = pr.kb, h = pr.p, gi = (item / (CB * g.H)) % g.G, n = item / (CB * g.H * g.G);
    alignas(64) T acc[kMaxTile];
    const int64_t cols = std::min(nb, Cg - cb * nb), c0 = gi * Cg + cb * nb;
    // Into an NCHW dx of the accumulation type, the row's tiles (of every column residue) are
    // gathered as W x nb and transposed once, as in the forward.
    T* const row_acc = nchw_row ? workspace<T>(Slot::partials, g.W * nb) : nullptr;
    TapList<int64_t> a_off;
    TapList<const T*> bp;
    for (int64_t res = 0; res < std::min(g.sw, g.W); ++res) {
      const TapList<Tap> taps = input_grad_taps(g, h, res);
      a_off.clear();
      bp.clear();
      for (const Tap& t : taps) {
        a_off.push_back(t.oh * row_stride + (cp.left + t.ow0) * ldk + gi * Kg);
        bp.push_back(wt + ((gi * CB + cb) * RS + t.rs) * Kg * nb);
      }
      const int64_t count = ceil_div(g.W - res, g.sw);  // input columns res, res+sw, ...
      const TileSplit split(count, MR);
      for (int64_t t = 0; t < split.count; ++t) {
        const int64_t i0 = split.start(t), mr = split.size(t);
        const int64_t w0 = res + i0 * g.sw;
        TileArgs<T> args{DY + n * g.P * row_stride + i0 * ldk, ldk, 1, a_off.data(), bp.data(), nb,
                         (int64_t)taps.size(), Kg, acc, nb, cols, nullptr, nullptr, false};
        if (direct) {
          args.C = reinterpret_cast<T*>(DX) + n * xs.n + c0 + h * xs.h + w0 * xs.w;
          args.ldc = g.sw * xs.w;
        } else if (nchw_row) {
          args.C = row_acc + w0 * nb;
          args.ldc = g.sw * nb;
        }
        tile.fn(mr, args);
        if (!direct && !nchw_row) store_tile<scalar_t, T>(acc, mr, nb, cols, DX, xs, n, c0, h, w0, g.sw);
      }
    }
    if (nchw_row)
      transposed_copy(row_acc, nb, g.W, cols, reinterpret_cast<T*>(DX) + n * xs.n + c0 * xs.c + h * xs.h, xs.c);
  });
}

// ---------------------------------------------------------------------------------------------
// Weight gradient: dw[k, c, r, s] = sum over n, p, q of
//                  dy[n, k, p, q] * x[n, c, p*sh - ph + r*dh, q*sw - pw + s*dw]

template <typename scalar_t>
void conv_weight_grad(const ConvGeometry& g, const at::Tensor& dy, const at::Tensor& x, at::Tensor& dw) {
  using T = at::opmath_type<scalar_t>;
  // A 1x1 layer's taps are its output rows, each of J = Q columns: where rows are short, whole images
  // are single taps (flatten_pointwise), which saves the per-tap work of a tile (measured, interleaved,
  // batch 8, both layouts: 4-9% at 14x14 and 7x7 from 256 to 1024 channels and back, 2048 to 512;
  // at 28x28 and 56x56, where a block of rows no longer stays in L2, up to 55% slower).
  if (g.Q < 16) {
    ConvGeometry gf = g;
    at::Tensor xf = x, dyf = dy;
    flatten_pointwise(gf, xf, dyf, false);
    if (gf.H != g.H) {
      conv_weight_grad<scalar_t>(gf, dyf, xf, dw);
      return;
    }
  }
  const int64_t Cg = g.C / g.G, Kg = g.K / g.G, RS = g.R * g.S, rows = g.N * g.P;
  if ((Cg == 1 && g.G > 1) || (narrow_groups(g) && dy.stride(1) == 1)) {
    depthwise_weight_grad<scalar_t>(g, dy, x, dw);
    return;
  }
  // The tile steps through pixels g.sw apart along j, and the next tile reads the same pixels again:
  // spaced as in the forward, they do not all land in one L1 set between the two.
  const NhwcView<T> X = nhwc_source<scalar_t, T>(x, g.ph, g.pw, Slot::input, g.sw);
  scalar_t* DW = dw.data_ptr<scalar_t>();
  const Strides4 wst(dw);

  const TileKernel<T>& tile = pick_tile<T>(Kg);
  const int64_t nb = tile.nb, MR = tile.mr_max, KB = ceil_div(Kg, nb);
  const TileSplit csplit(Cg, MR);
  const int64_t CT = csplit.count;
  // dy panels, the tiles' B: row (n, p) of panel (g, kb) holds dy[n, g*Kg + kb*nb + v, p, q] at
  // [q*ldb + v]. dy itself where it is channels_last, of the accumulation type and every panel full
  // (ldb = its pixel step), else a copy dyp[g][kb][n*P + p][q][v] (ldb = nb), zero past Kg.
  const scalar_t* DY = dy.const_data_ptr<scalar_t>();
  const Strides4 ds(dy);
  const bool dy_in_place = std::is_same<scalar_t, T>::value && ds.c == 1 && Kg % nb == 0;
  T* const dyp = dy_in_place ? nullptr : workspace<T>(Slot::grad, g.G * KB * rows * g.Q * nb);
  const int64_t ldb = dy_in_place ? ds.w : nb;
  auto dy_row = [&](int64_t gi, int64_t kb, int64_t row) -> const T* {
    if (dy_in_place)
      return reinterpret_cast<const T*>(DY) + (row / g.P) * ds.n + (row % g.P) * ds.h + gi * Kg + kb * nb;
    return dyp + ((gi * KB + kb) * rows + row) * g.Q * nb;
  };
  if (!dy_in_place) {
    parallel_for(g.G * KB * rows, [&](int64_t item) {
      const int64_t row = item % rows, gk = item / rows, kb = gk % KB, gi = gk / KB;
      const int64_t n = row / g.P, p = row % g.P, k0 = gi * Kg + kb * nb, cols = std::min(nb, Kg - kb * nb);
      T* d = dyp + item * g.Q * nb;
      if (cols < nb) std::fill(d, d + g.Q * nb, T(0));
      if (ds.c == 1) {  // channels_last: runs of channels
        for (int64_t q = 0; q < g.Q; ++q) {
          const scalar_t* src = DY + n * ds.n + k0 + p * ds.h + q * ds.w;
          for (int64_t v = 0; v < cols; ++v) d[q * nb + v] = static_cast<T>(src[v]);
        }
      } else if (std::is_same<scalar_t, T>::value && ds.w == 1) {  // NCHW rows: a cols x Q transposition
        transposed_copy(DY + n * ds.n + k0 * ds.c + p * ds.h, ds.c, cols, g.Q, d, nb);
      } else {
        for (int64_t v = 0; v < cols; ++v) {
          const scalar_t* src = DY + n * ds.n + (k0 + v) * ds.c + p * ds.h;
          for (int64_t q = 0; q < g.Q; ++q) d[q * nb + v] = static_cast<T>(src[q * ds.w]);
        }
      }
    });
  }
  // Rows are taken in blocks whose input rows and gradient panels stay in L2 while tiles sweep over
  // them, of at least 8 rows, so that a tile's partial sums are loaded and stored once per 8 rows or
  // fewer (measured: the 3x3 dilation-4 512-channel weight gradient at 28x28, where one row fits,
  // went from 34 to 30 ms).
  const int64_t threads = at::get_num_threads(), panels = g.G * KB * CT;
  // Panel item `item`: (group gi, output-channel panel kb, channel tile ct), i.e. input channels
  // c0 .. c0+mr and output channels k0 .. k0+cols of group gi.
  struct PanelItem {
    int64_t ct, kb, gi, c0, mr, k0, cols;
  };
  auto panel_item = [&](int64_t item) {
    const int64_t ct = item % CT, kb = (item / CT) % KB, gi = item / (CT * KB);
    return PanelItem{ct, kb, gi, csplit.start(ct), csplit.size(ct), gi * Kg + kb * nb, std::min(nb, Kg - kb * nb)};
  };
  // Writes a panel item's dw entries: value(rs, i, v) for filter tap rs, channel c0 + i, output
  // channel k0 + v, a tile's taps together (they fill the same cache lines of dw).
  auto write_dw = [&](const PanelItem& pi, const auto& value) {
    for (int64_t v = 0; v < pi.cols; ++v)
      for (int64_t i = 0; i < pi.mr; ++i)
        for (int64_t rs = 0; rs < RS; ++rs)
          DW[(pi.k0 + v) * wst.n + (pi.c0 + i) * wst.c + (rs / g.S) * wst.h + (rs % g.S) * wst.w] =
              static_cast<scalar_t>(value(rs, i, v));
  };
  auto block_rows_for = [&](int64_t row_bytes) {
    return std::min(rows, std::max<int64_t>(8, (int64_t(256) << 10) / row_bytes));
  };
  if (panels >= 4 * threads && rows * g.Q * int64_t(sizeof(T)) * (nb + 16 * g.sw) <= (int64_t(1) << 20)) {
    // Enough (group, output-channel panel, channel tile) items for every thread, and few enough
    // output pixels that an item's slices of the input (a cache line per pixel) and of the gradient
    // (a panel row per pixel) over all of them fit in L2: an item runs its R*S tiles over all rows,
    // block by block, its sums kept in a small per-thread buffer, and writes its part of dw; no two
    // items share an output, and every sum is taken in row order. Measured on Zen 4 against the
    // row-chunk path below, interleaved: faster for the 3x3 dilation-4 512-channel layer at 28x28
    // (20.6 against 31.4 ms), the 3x3 256-channel one at 14x14 (9.9 / 12.9 ms) and the 1x1
    // 1024-channel one at 14x14 (5.0 / 5.4 ms); slower where a batch of 8 has 28x28 or 56x56 outputs
    // (the 1x1 256-to-64-channel layer at 56x56: 8.1 against 4.7 ms), whose slices come from L3 again
    // for every item.
    const int64_t block_rows =
        block_rows_for(sizeof(T) * ((g.W + 2 * g.pw) * std::min<int64_t>(32, X.sw) * g.sh + g.Q * nb));
    parallel_for(panels, [&](int64_t item) {
      const PanelItem pi = panel_item(item);
      T* const sums = workspace<T>(Slot::partials, RS * MR * nb);
      TapList<int64_t> row_off(block_rows), a_off(block_rows);
      TapList<const T*> bp(block_rows);
      for (int64_t rb = 0; rb < rows; rb += block_rows) {
        const int64_t nrows = std::min(block_rows, rows - rb);
        for (int64_t i = 0; i < nrows; ++i) {
          const int64_t row = rb + i, n = row / g.P, p = row % g.P;
          row_off[i] = n * X.sn + p * g.sh * X.sh + pi.gi * Cg + pi.c0;
          bp[i] = dy_row(pi.gi, pi.kb, row);
        }
        for (int64_t rs = 0; rs < RS; ++rs) {
          const int64_t tap = (rs / g.S) * g.dh * X.sh + (rs % g.S) * g.dw * X.sw;
          for (int64_t i = 0; i < nrows; ++i) a_off[i] = row_off[i] + tap;
          tile.fn(pi.mr, TileArgs<T>{X.p, 1, g.sw * X.sw, a_off.data(), bp.data(), ldb, nrows, g.Q,
                                     sums + rs * MR * nb, nb, nb, nullptr, nullptr, rb > 0});
        }
      }
      write_dw(pi, [&](int64_t rs, int64_t i, int64_t v) { return sums[(rs * MR + i) * nb + v]; });
    });
    return;
  }
  // Otherwise rows are split into one chunk per thread, each with its own partial dw (and, with
  // fewer rows than threads, tiles are split as well); the chunks' partial sums are added in a fixed
  // order. Within a chunk, every tile sweeps each block of rows; its sum is stored by the first block
  // and accumulated by the next.
  const int64_t tiles_count = panels * RS;
  const int64_t chunks = std::max<int64_t>(1, std::min(threads, rows));
  const int64_t tile_groups = std::min(tiles_count, ceil_div(threads, chunks));
  const int64_t block_rows = block_rows_for(sizeof(T) * (g.sh * X.sh + KB * g.Q * nb));
  T* const part = workspace<T>(Slot::partials, chunks * tiles_count * MR * nb);
  parallel_for(chunks * tile_groups, [&](int64_t item) {
    const int64_t ch = item / tile_groups, tg = item % tile_groups;
    const int64_t t0 = tg * tiles_count / tile_groups, t1 = (tg + 1) * tiles_count / tile_groups;
    const int64_t row0 = ch * rows / chunks, row1 = (ch + 1) * rows / chunks;
    TapList<int64_t> a_off(block_rows);
    TapList<const T*> bp(block_rows);
    for (int64_t rb = row0; rb < row1; rb += block_rows) {
      const int64_t nrows = std::min(block_rows, row1 - rb);
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t ct = t % CT, rs = (t / CT) % RS, kb = (t / (CT * RS)) % KB, gi = t / (CT * RS * KB);
        const int64_t r = rs / g.S, s = rs % g.S, c0 = csplit.start(ct), mr = csplit.size(ct);
        for (int64_t i = 0; i < nrows; ++i) {
          const int64_t row = rb + i, n = row / g.P, p = row % g.P;
          a_off[i] = n * X.sn + (p * g.sh + r * g.dh) * X.sh + s * g.dw * X.sw + gi * Cg + c0;
          bp[i] = dy_row(gi, kb, row);
        }
        tile.fn(mr, TileArgs<T>{X.p, 1, g.sw * X.sw, a_off.data(), bp.data(), ldb, nrows, g.Q,
                                part + (ch * tiles_count + t) * MR * nb, nb, nb, nullptr, nullptr, rb > row0});
      }
    }
  });
  // The chunks' partial sums of each tile, added in chunk order.
  parallel_for(panels, [&](int64_t item) {
    const PanelItem pi = panel_item(item);
    write_dw(pi, [&](int64_t rs, int64_t i, int64_t v) {
      const int64_t t = ((pi.gi * KB + pi.kb) * RS + rs) * CT + pi.ct;
      T sum = 0;
      for (int64_t ch = 0; ch < chunks; ++ch) sum += part[(ch * tiles_count + t) * MR * nb + i * nb + v];
      return sum;
    });
  });
}

// Multiply-adds of the convolution (the same for its two gradients).
int64_t conv_work(const ConvGeometry& g) { return g.N * g.K * g.P * g.Q * (g.C / g.G) * g.R * g.S; }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Ops

at::Tensor conv2d(const at::Tensor& input, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                  at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups) {
  const char* op = "torchconv.conv2d";
  ConvGeometry g = check_conv2d(op, input, weight, bias, stride, padding, dilation, groups);
  at::Tensor x = as_batched(input);
  at::Tensor y = empty_output({g.N, g.K, g.P, g.Q}, x.options().memory_format(conv_memory_format(x, weight)));
  if (y.numel() > 0) {
    SerialIfSmall serial(conv_work(g));
    auto b = bias_values(bias);
    AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, x.scalar_type(), "torchconv.conv2d",
                                   [&] { conv_forward<scalar_t>(g, x, weight, b, y); });
  }
  return unbatch_if(y, g.batched);
}

at::Tensor conv2d_input_grad(const at::Tensor& grad_output, const at::Tensor& weight,
                             at::IntArrayRef input_size, at::IntArrayRef stride, at::IntArrayRef padding,
                             at::IntArrayRef dilation, int64_t groups) {
  const char* op = "torchconv.conv2d_input_grad";
  ConvGeometry g = check_conv2d_input_grad(op, grad_output, weight, input_size, stride, padding, dilation, groups);
  at::Tensor dy = as_batched(grad_output);
  at::Tensor dx = empty_output({g.N, g.C, g.H, g.W}, dy.options().memory_format(conv_memory_format(dy, weight)));
  if (dx.numel() > 0) {
    SerialIfSmall serial(conv_work(g));
    AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, dy.scalar_type(), "torchconv.conv2d_input_grad",
                                   [&] { conv_input_grad<scalar_t>(g, dy, weight, dx); });
  }
  return unbatch_if(dx, g.batched);
}

at::Tensor conv2d_weight_grad(const at::Tensor& grad_output, const at::Tensor& input,
                              at::IntArrayRef weight_size, at::IntArrayRef stride, at::IntArrayRef padding,
                              at::IntArrayRef dilation, int64_t groups) {
  const char* op = "torchconv.conv2d_weight_grad";
  ConvGeometry g = check_conv2d_weight_grad(op, grad_output, input, weight_size, stride, padding, dilation, groups);
  at::Tensor dy = as_batched(grad_output), x = as_batched(input);
  at::Tensor dw = at::empty(weight_size, dy.options().memory_format(conv_memory_format(x, dy)));
  if (dw.numel() > 0) {
    if (g.N == 0) {
      dw.zero_();
    } else {
      SerialIfSmall serial(conv_work(g));
      AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, dy.scalar_type(), "torchconv.conv2d_weight_grad",
                                     [&] { conv_weight_grad<scalar_t>(g, dy, x, dw); });
    }
  }
  return dw;
}

TORCH_LIBRARY_IMPL(torchconv, CPU, m) {
  m.impl("conv2d", &conv2d);
  m.impl("conv2d_input_grad", &conv2d_input_grad);
  m.impl("conv2d_weight_grad", &conv2d_weight_grad);
}

}  // namespace cpu
}  // namespace torchconv
