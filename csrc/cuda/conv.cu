// CUDA convolution: forward, input gradient and weight gradient as implicit GEMMs, and direct
// kernels for depthwise convolutions.
//
// Algorithm. Each pass is a matrix product whose operands are read straight from the tensors
// (implicit GEMM: no im2col buffer), computed by one tiled kernel, `implicit_gemm`:
//   forward          Y[npq, k]   = sum over (c, r, s) of X[npq, (c, r, s)] * W[(c, r, s), k]
//                    rows: output pixels N*P*Q; columns: output channels K/G; reduction: C/G*R*S.
//   input gradient   dX[nhw, c]  = sum over (k, r, s) of dY[nhw, (k, r, s)] * W[(k, r, s), c]
//                    with the stride decomposition: input pixels fall into classes by
//                    (h mod sh, w mod sw); inside a class exactly the taps r = r0 + i*sh/gcd(sh, dh)
//                    (and likewise s) land on an output pixel, so the reduction runs over those
//                    taps only, never over the zeros of a strided transposed convolution.
//   weight gradient  dW[k, (c, r, s)] = sum over npq of dY[k, npq] * X[npq, (c, r, s)]
//                    rows: K/G; columns: C/G*R*S; reduction: N*P*Q, split into chunks (split-K)
//                    whose fp32/fp64 partial sums a second kernel adds in chunk order.
// Groups, input-gradient classes and weight-gradient chunks are independent GEMMs ("slices").
// Every output element is written by exactly one thread after a fixed-order reduction: no atomics,
// so results are bitwise reproducible. Depthwise convolutions (one input channel per group) have no
// channel reduction and use direct kernels: one thread per output element (forward, input
// gradient), one block per weight element with a fixed-order tree reduction (weight gradient).
//
// Layout. Operands are read through their strides (NCHW, channels_last or any view) and converted
// on load to the accumulation type (float for float32/float16/bfloat16, double for float64);
// outputs are written through their strides, in the memory format PyTorch gives them. float32 is
// computed in plain fp32 FMAs (no TF32, no tensor cores).
//
// Blocking. A block of 256 threads computes a 64x64 output tile, each thread a 4x4 sub-tile at rows
// ty + 16i and columns tx + 16j (conflict-free shared-memory reads). The reduction advances 16 at a
// time through shared-memory tiles of A (16x64) and B (16x64) that all threads load together, so
// each operand element is read from global memory once per tile. Index arithmetic is 32-bit when
// every tensor and offset is below 2^30, else 64-bit.
#include "common.cuh"

namespace torchconv {
namespace cuda {
namespace {

// ---------------------------------------------------------------------------------------------
// Geometry in the kernels' index type

template <typename index_t>
struct ConvShape {
  index_t N, C, H, W, K, R, S, P, Q, G, Cg, Kg, sh, sw, ph, pw, dh, dw;
  explicit ConvShape(const ConvGeometry& g)
      : N(g.N), C(g.C), H(g.H), W(g.W), K(g.K), R(g.R), S(g.S), P(g.P), Q(g.Q), G(g.G),
        Cg(g.C / g.G), Kg(g.K / g.G), sh(g.sh), sw(g.sw), ph(g.ph), pw(g.pw), dh(g.dh), dw(g.dw) {}

  struct Pixel {  // output pixel (n, p, q)
    index_t n, p, q;
  };
  struct Tap {  // channel c and filter tap (r, s)
    index_t c, r, s;
  };
  __device__ Pixel pixel(index_t npq) const { return {npq / Q / P, npq / Q % P, npq % Q}; }
  __device__ Tap tap(index_t crs) const { return {crs / S / R, crs / S % R, crs % S}; }
};

// Whether the coordinates and products the kernels form fit 32-bit arithmetic (tensor sizes are
// checked separately with fits_int32).
bool geometry_fits_int32(const ConvGeometry& g) {
  const int64_t reach_h = g.H + 2 * g.ph + g.P * g.sh + g.R * g.dh;
  const int64_t reach_w = g.W + 2 * g.pw + g.Q * g.sw + g.S * g.dw;
  return std::max({reach_h, reach_w, g.N * g.P * g.Q, g.N * g.H * g.W, g.K * g.R * g.S, g.C * g.R * g.S}) <
         kInt32Limit;
}

bool is_depthwise(const ConvGeometry& g) { return g.C == g.G && g.G > 1; }

int64_t gcd(int64_t a, int64_t b) { return b == 0 ? a : gcd(b, a % b); }

// Filter taps r in [0, R) that connect input row h to an output row, i.e. those with
// (h + ph - r*dh) divisible by sh: r = first + i*step for i < count, step = sh / gcd(sh, dh).
template <typename index_t>
struct Taps {
  index_t first, count;
};
template <typename index_t>
TC_HOST_DEVICE Taps<index_t> reaching_taps(index_t h_padded, index_t stride, index_t dilation, index_t R,
                                           index_t step) {
  for (index_t r = 0; r < R && r < step; ++r) {
    if ((h_padded - r * dilation) % stride == 0) return {r, (R - 1 - r) / step + 1};
  }
  return {0, 0};
}

// ---------------------------------------------------------------------------------------------
// The tiled implicit-GEMM kernel. A Problem describes one pass:
//   slice(z)           -> Slice with the GEMM extent of slice z: rows M, columns N, reduction [k0, k1)
//   row(slice, m)      -> per-row context of A (decoded once per tile), a(slice, row, kk) = A[m, kk]
//   col(slice, n)      -> per-column context of B,                       b(slice, col, kk) = B[kk, n]
//   store(slice, m, n, value)

constexpr int kTileM = 64, kTileN = 64, kTileK = 16, kSubM = 4, kSubN = 4;
constexpr int kGemmThreads = (kTileM / kSubM) * (kTileN / kSubN);
static_assert(kGemmThreads % kTileM == 0 && kGemmThreads % kTileN == 0, "tile loads must divide evenly");

template <typename Problem>
__global__ void __launch_bounds__(kGemmThreads)
    implicit_gemm(const Problem prob, int64_t m_tiles, int64_t n_tiles, int64_t tiles) {
  using acc_t = typename Problem::acc_t;
  using index_t = typename Problem::index_t;
  __shared__ acc_t As[kTileK][kTileM];
  __shared__ acc_t Bs[kTileK][kTileN];
  const int tid = threadIdx.x, tx = tid % (kTileN / kSubN), ty = tid / (kTileN / kSubN);

  for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    const int64_t z = tile / (m_tiles * n_tiles);
    const auto sl = prob.slice(z);
    const int64_t m0 = tile % m_tiles * kTileM, n0 = tile / m_tiles % n_tiles * kTileN;
    if (m0 >= sl.M || n0 >= sl.N) continue;  // past a smaller slice: uniform over the block

    // This thread loads A row am and B column bn of every reduction step.
    const index_t am = static_cast<index_t>(m0) + tid % kTileM;
    const index_t bn = static_cast<index_t>(n0) + tid % kTileN;
    const bool a_ok = am < sl.M, b_ok = bn < sl.N;
    const auto row = prob.row(sl, a_ok ? am : index_t(0));
    const auto col = prob.col(sl, b_ok ? bn : index_t(0));

    acc_t acc[kSubM][kSubN] = {};
    for (index_t k0 = sl.k0; k0 < sl.k1; k0 += kTileK) {
#pragma unroll
      for (int i = 0; i < kTileK * kTileM / kGemmThreads; ++i) {
        const int kl = tid / kTileM + i * (kGemmThreads / kTileM);
        const index_t kk = k0 + kl;
        As[kl][tid % kTileM] = (a_ok && kk < sl.k1) ? prob.a(sl, row, kk) : acc_t(0);
      }
#pragma unroll
      for (int i = 0; i < kTileK * kTileN / kGemmThreads; ++i) {
        const int kl = tid / kTileN + i * (kGemmThreads / kTileN);
        const index_t kk = k0 + kl;
        Bs[kl][tid % kTileN] = (b_ok && kk < sl.k1) ? prob.b(sl, col, kk) : acc_t(0);
      }
      __syncthreads();
#pragma unroll
      for (int kl = 0; kl < kTileK; ++kl) {
        acc_t av[kSubM], bv[kSubN];
#pragma unroll
        for (int i = 0; i < kSubM; ++i) av[i] = As[kl][ty + i * (kTileM / kSubM)];
#pragma unroll
        for (int j = 0; j < kSubN; ++j) bv[j] = Bs[kl][tx + j * (kTileN / kSubN)];
#pragma unroll
        for (int i = 0; i < kSubM; ++i)
#pragma unroll
          for (int j = 0; j < kSubN; ++j) acc[i][j] += av[i] * bv[j];
      }
      __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < kSubM; ++i)
#pragma unroll
      for (int j = 0; j < kSubN; ++j) {
        const int64_t m = m0 + ty + i * (kTileM / kSubM), n = n0 + tx + j * (kTileN / kSubN);
        if (m < sl.M && n < sl.N) prob.store(sl, static_cast<index_t>(m), static_cast<index_t>(n), acc[i][j]);
      }
  }
}

// Runs a Problem: `slices` GEMMs of at most max_rows x max_cols outputs each.
template <typename Problem>
void run_gemm(const Problem& prob, int64_t max_rows, int64_t max_cols, int64_t slices) {
  const int64_t m_tiles = ceil_div(max_rows, kTileM), n_tiles = ceil_div(max_cols, kTileN);
  const int64_t tiles = m_tiles * n_tiles * slices;
  launch_blocks(implicit_gemm<Problem>, tiles, kGemmThreads, prob, m_tiles, n_tiles, tiles);
}

// ---------------------------------------------------------------------------------------------
// Forward: slice = group g; A[npq, (c, r, s)] = x[n, g*Cg + c, p*sh - ph + r*dh, q*sw - pw + s*dw]
// (0 in the padding), B[(c, r, s), k] = w[g*Kg + k, c, r, s].

template <typename scalar_t, typename index_type>
struct ForwardGemm {
  using acc_t = at::opmath_type<scalar_t>;
  using index_t = index_type;
  ConvShape<index_t> g;
  const scalar_t* x;
  const scalar_t* wt;
  const scalar_t* bias;  // contiguous (K), or null
  scalar_t* y;
  Strides4<index_t> xs, ws, ys;

  struct Slice {
    index_t M, N, k0, k1, group;
  };
  using Pixel = typename ConvShape<index_t>::Pixel;
  using Tap = typename ConvShape<index_t>::Tap;
  __device__ Slice slice(int64_t z) const {
    return {g.N * g.P * g.Q, g.Kg, 0, g.Cg * g.R * g.S, static_cast<index_t>(z)};
  }
  __device__ Pixel row(const Slice&, index_t m) const { return g.pixel(m); }
  __device__ acc_t a(const Slice& sl, const Pixel& o, index_t kk) const {
    const Tap t = g.tap(kk);
    const index_t h = o.p * g.sh - g.ph + t.r * g.dh, w = o.q * g.sw - g.pw + t.s * g.dw;
    if (h < 0 || h >= g.H || w < 0 || w >= g.W) return acc_t(0);
    return static_cast<acc_t>(x[xs.offset(o.n, sl.group * g.Cg + t.c, h, w)]);
  }
  __device__ index_t col(const Slice&, index_t k) const { return k; }
  __device__ acc_t b(const Slice& sl, index_t k, index_t kk) const {
    const Tap t = g.tap(kk);
    return static_cast<acc_t>(wt[ws.offset(sl.group * g.Kg + k, t.c, t.r, t.s)]);
  }
  __device__ void store(const Slice& sl, index_t m, index_t k, acc_t v) const {
    const Pixel o = g.pixel(m);
    const index_t kg = sl.group * g.Kg + k;
    if (bias) v += static_cast<acc_t>(bias[kg]);
    y[ys.offset(o.n, kg, o.p, o.q)] = static_cast<scalar_t>(v);
  }
};

// ---------------------------------------------------------------------------------------------
// Input gradient: slice = (group, class (h0, w0)) with h0 < min(sh, H), w0 < min(sw, W). The class
// holds input pixels (n, h0 + i*sh, w0 + j*sw); for them the reduction index is (k, tap) with
// taps (r, s) = (r0 + a*step_r, s0 + b*step_s), and
//   A[pixel, (k, tap)] = dy[n, g*Kg + k, (h + ph - r*dh)/sh, (w + pw - s*dw)/sw]  (exact divisions;
//                        0 outside the output), B[(k, tap), c] = w[g*Kg + k, c, r, s].

template <typename scalar_t, typename index_type>
struct InputGradGemm {
  using acc_t = at::opmath_type<scalar_t>;
  using index_t = index_type;
  ConvShape<index_t> g;
  const scalar_t* dy;
  const scalar_t* wt;
  scalar_t* dx;
  Strides4<index_t> ds, ws, xs;
  index_t classes_h, classes_w, step_r, step_s;

  struct Slice {
    index_t M, N, k0, k1, group, h0, w0, rows, cols;
    Taps<index_t> tr, ts;
  };
  struct Pixel {  // input pixel (n, h, w)
    index_t n, h, w;
  };
  struct Term {  // reduction index: output channel k (in the group) and tap (r, s)
    index_t k, r, s;
  };
  __device__ Slice slice(int64_t z) const {
    Slice sl;
    sl.w0 = static_cast<index_t>(z % classes_w);
    sl.h0 = static_cast<index_t>(z / classes_w % classes_h);
    sl.group = static_cast<index_t>(z / classes_w / classes_h);
    sl.rows = ceil_div(g.H - sl.h0, g.sh);
    sl.cols = ceil_div(g.W - sl.w0, g.sw);
    sl.tr = reaching_taps<index_t>(sl.h0 + g.ph, g.sh, g.dh, g.R, step_r);
    sl.ts = reaching_taps<index_t>(sl.w0 + g.pw, g.sw, g.dw, g.S, step_s);
    sl.M = g.N * sl.rows * sl.cols;
    sl.N = g.Cg;
    sl.k0 = 0;
    sl.k1 = g.Kg * sl.tr.count * sl.ts.count;
    return sl;
  }
  __device__ Pixel row(const Slice& sl, index_t m) const {
    return {m / sl.cols / sl.rows, sl.h0 + m / sl.cols % sl.rows * g.sh, sl.w0 + m % sl.cols * g.sw};
  }
  __device__ Term term(const Slice& sl, index_t kk) const {
    const index_t taps = sl.tr.count * sl.ts.count, t = kk % taps;
    return {kk / taps, sl.tr.first + t / sl.ts.count * step_r, sl.ts.first + t % sl.ts.count * step_s};
  }
  __device__ acc_t a(const Slice& sl, const Pixel& o, index_t kk) const {
    const Term t = term(sl, kk);
    const index_t oh = (o.h + g.ph - t.r * g.dh) / g.sh, ow = (o.w + g.pw - t.s * g.dw) / g.sw;
    if (oh < 0 || oh >= g.P || ow < 0 || ow >= g.Q) return acc_t(0);
    return static_cast<acc_t>(dy[ds.offset(o.n, sl.group * g.Kg + t.k, oh, ow)]);
  }
  __device__ index_t col(const Slice&, index_t c) const { return c; }
  __device__ acc_t b(const Slice& sl, index_t c, index_t kk) const {
    const Term t = term(sl, kk);
    return static_cast<acc_t>(wt[ws.offset(sl.group * g.Kg + t.k, c, t.r, t.s)]);
  }
  __device__ void store(const Slice& sl, index_t m, index_t c, acc_t v) const {
    const Pixel o = row(sl, m);
    dx[xs.offset(o.n, sl.group * g.Cg + c, o.h, o.w)] = static_cast<scalar_t>(v);
  }
};

// ---------------------------------------------------------------------------------------------
// Weight gradient: slice = (group, chunk of the N*P*Q reduction);
//   A[k, npq] = dy[n, g*Kg + k, p, q], B[npq, (c, r, s)] = x[n, g*Cg + c, p*sh - ph + r*dh, ...]
// Partial sums go to partial[chunk][g*Kg + k][(c, r, s)], summed over chunks by sum_chunks.

template <typename scalar_t, typename index_type>
struct WeightGradGemm {
  using acc_t = at::opmath_type<scalar_t>;
  using index_t = index_type;
  ConvShape<index_t> g;
  const scalar_t* dy;
  const scalar_t* x;
  acc_t* partial;
  Strides4<index_t> ds, xs;
  index_t chunk, chunks;

  struct Slice {
    index_t M, N, k0, k1, group, part;
  };
  struct Column {  // (c, r, s): input channel and the offsets of tap (r, s) from p*sh, q*sw
    index_t c, dh, dw;
  };
  __device__ Slice slice(int64_t z) const {
    const index_t part = static_cast<index_t>(z % chunks), k0 = part * chunk, npq = g.N * g.P * g.Q;
    return {g.Kg, g.Cg * g.R * g.S, k0, npq < k0 + chunk ? npq : k0 + chunk, static_cast<index_t>(z / chunks), part};
  }
  __device__ index_t row(const Slice&, index_t k) const { return k; }
  __device__ acc_t a(const Slice& sl, index_t k, index_t npq) const {
    const auto o = g.pixel(npq);
    return static_cast<acc_t>(dy[ds.offset(o.n, sl.group * g.Kg + k, o.p, o.q)]);
  }
  __device__ Column col(const Slice&, index_t crs) const {
    const auto t = g.tap(crs);
    return {t.c, t.r * g.dh - g.ph, t.s * g.dw - g.pw};
  }
  __device__ acc_t b(const Slice& sl, const Column& t, index_t npq) const {
    const auto o = g.pixel(npq);
    const index_t h = o.p * g.sh + t.dh, w = o.q * g.sw + t.dw;
    if (h < 0 || h >= g.H || w < 0 || w >= g.W) return acc_t(0);
    return static_cast<acc_t>(x[xs.offset(o.n, sl.group * g.Cg + t.c, h, w)]);
  }
  __device__ void store(const Slice& sl, index_t k, index_t crs, acc_t v) const {
    const index_t crs_all = g.Cg * g.R * g.S;
    partial[(sl.part * g.K + sl.group * g.Kg + k) * crs_all + crs] = v;
  }
};

// dw[k, c, r, s] = sum over chunks, in chunk order, of partial[chunk][k][(c, r, s)].
template <typename scalar_t, typename index_t>
__global__ void sum_chunks(ConvShape<index_t> g, const at::opmath_type<scalar_t>* partial, index_t chunks,
                           scalar_t* dw, Strides4<index_t> ws) {
  const index_t crs_all = g.Cg * g.R * g.S, total = g.K * crs_all;
  for (int64_t i = first_item(); i < total; i += grid_stride()) {
    at::opmath_type<scalar_t> sum = 0;
    for (index_t part = 0; part < chunks; ++part) sum += partial[part * total + i];
    const auto t = g.tap(static_cast<index_t>(i % crs_all));
    dw[ws.offset(static_cast<index_t>(i / crs_all), t.c, t.r, t.s)] = static_cast<scalar_t>(sum);
  }
}

// ---------------------------------------------------------------------------------------------
// Depthwise (C/G = 1): output channel k reads input channel k / m, m = K / C. Elementwise kernels
// walk their output in memory order (channels_last: channel fastest).

template <typename scalar_t, typename index_t>
__global__ void depthwise_forward(ConvShape<index_t> g, const scalar_t* x, Strides4<index_t> xs,
                                  const scalar_t* wt, Strides4<index_t> ws, const scalar_t* bias, scalar_t* y,
                                  Strides4<index_t> ys, bool channels_last) {
  using acc_t = at::opmath_type<scalar_t>;
  const index_t total = g.N * g.K * g.P * g.Q;
  for (int64_t i = first_item(); i < total; i += grid_stride()) {
    const Coord<index_t> o = coord_of<index_t>(static_cast<index_t>(i), g.K, g.P, g.Q, channels_last);
    const index_t c = o.c / g.Kg;
    acc_t sum = bias ? static_cast<acc_t>(bias[o.c]) : acc_t(0);
    for (index_t r = 0; r < g.R; ++r) {
      const index_t h = o.h * g.sh - g.ph + r * g.dh;
      if (h < 0 || h >= g.H) continue;
      for (index_t s = 0; s < g.S; ++s) {
        const index_t w = o.w * g.sw - g.pw + s * g.dw;
        if (w < 0 || w >= g.W) continue;
        sum += static_cast<acc_t>(x[xs.offset(o.n, c, h, w)]) * static_cast<acc_t>(wt[ws.offset(o.c, 0, r, s)]);
      }
    }
    y[ys.offset(o.n, o.c, o.h, o.w)] = static_cast<scalar_t>(sum);
  }
}

// dx[n, c, h, w] = sum over j < m and the taps reaching (h, w) of dy[n, c*m + j, oh, ow] * w[c*m + j, 0, r, s].
template <typename scalar_t, typename index_t>
__global__ void depthwise_input_grad(ConvShape<index_t> g, const scalar_t* dy, Strides4<index_t> ds,
                                     const scalar_t* wt, Strides4<index_t> ws, scalar_t* dx, Strides4<index_t> xs,
                                     index_t step_r, index_t step_s, bool channels_last) {
  using acc_t = at::opmath_type<scalar_t>;
  const index_t total = g.N * g.C * g.H * g.W;
  for (int64_t i = first_item(); i < total; i += grid_stride()) {
    const Coord<index_t> o = coord_of<index_t>(static_cast<index_t>(i), g.C, g.H, g.W, channels_last);
    const Taps<index_t> tr = reaching_taps<index_t>(o.h + g.ph, g.sh, g.dh, g.R, step_r);
    const Taps<index_t> ts = reaching_taps<index_t>(o.w + g.pw, g.sw, g.dw, g.S, step_s);
    acc_t sum = 0;
    for (index_t j = 0; j < g.Kg; ++j) {
      const index_t k = o.c * g.Kg + j;
      for (index_t a = 0; a < tr.count; ++a) {
        const index_t r = tr.first + a * step_r, oh = (o.h + g.ph - r * g.dh) / g.sh;
        if (oh < 0 || oh >= g.P) continue;
        for (index_t b = 0; b < ts.count; ++b) {
          const index_t s = ts.first + b * step_s, ow = (o.w + g.pw - s * g.dw) / g.sw;
          if (ow < 0 || ow >= g.Q) continue;
          sum += static_cast<acc_t>(dy[ds.offset(o.n, k, oh, ow)]) * static_cast<acc_t>(wt[ws.offset(k, 0, r, s)]);
        }
      }
    }
    dx[xs.offset(o.n, o.c, o.h, o.w)] = static_cast<scalar_t>(sum);
  }
}

// dw[k, 0, r, s] = sum over (n, p, q) of dy[n, k, p, q] * x[n, k/m, p*sh - ph + r*dh, q*sw - pw + s*dw]:
// one block per weight element; thread t sums the (n, p, q) congruent to t modulo kThreads, then a
// fixed shared-memory tree adds the threads' sums.
template <typename scalar_t, typename index_t>
__global__ void __launch_bounds__(kThreads)
    depthwise_weight_grad(ConvShape<index_t> g, const scalar_t* dy, Strides4<index_t> ds, const scalar_t* x,
                          Strides4<index_t> xs, scalar_t* dw, Strides4<index_t> ws) {
  using acc_t = at::opmath_type<scalar_t>;
  __shared__ acc_t partial[kThreads];
  const index_t npq = g.N * g.P * g.Q;
  for (int64_t e = blockIdx.x; e < int64_t(g.K) * g.R * g.S; e += gridDim.x) {
    const auto t = g.tap(static_cast<index_t>(e));  // (k, r, s): weight element [k, 0, r, s]
    const index_t k = t.c, c = k / g.Kg;
    acc_t sum = 0;
    for (index_t j = threadIdx.x; j < npq; j += kThreads) {
      const auto o = g.pixel(j);
      const index_t h = o.p * g.sh - g.ph + t.r * g.dh, w = o.q * g.sw - g.pw + t.s * g.dw;
      if (h < 0 || h >= g.H || w < 0 || w >= g.W) continue;
      sum += static_cast<acc_t>(dy[ds.offset(o.n, k, o.p, o.q)]) * static_cast<acc_t>(x[xs.offset(o.n, c, h, w)]);
    }
    partial[threadIdx.x] = sum;
    __syncthreads();
    for (int width = kThreads / 2; width > 0; width /= 2) {
      if (threadIdx.x < width) partial[threadIdx.x] += partial[threadIdx.x + width];
      __syncthreads();
    }
    if (threadIdx.x == 0) dw[ws.offset(k, 0, t.r, t.s)] = static_cast<scalar_t>(partial[0]);
    __syncthreads();  // partial[0] is read before the next element overwrites it
  }
}

// ---------------------------------------------------------------------------------------------
// Drivers

template <typename scalar_t, typename index_t>
void conv_forward(const ConvGeometry& geo, const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias,
                  at::Tensor& y) {
  const ConvShape<index_t> g(geo);
  const scalar_t* b = bias.defined() ? bias.const_data_ptr<scalar_t>() : nullptr;
  if (is_depthwise(geo)) {
    launch(depthwise_forward<scalar_t, index_t>, y.numel(), g, x.const_data_ptr<scalar_t>(), Strides4<index_t>(x),
           w.const_data_ptr<scalar_t>(), Strides4<index_t>(w), b, y.data_ptr<scalar_t>(), Strides4<index_t>(y),
           is_channels_last(y));
    return;
  }
  const ForwardGemm<scalar_t, index_t> prob{g,
                                            x.const_data_ptr<scalar_t>(),
                                            w.const_data_ptr<scalar_t>(),
                                            b,
                                            y.data_ptr<scalar_t>(),
                                            Strides4<index_t>(x),
                                            Strides4<index_t>(w),
                                            Strides4<index_t>(y)};
  run_gemm(prob, geo.N * geo.P * geo.Q, geo.K / geo.G, geo.G);
}

template <typename scalar_t, typename index_t>
void conv_input_grad(const ConvGeometry& geo, const at::Tensor& dy, const at::Tensor& w, at::Tensor& dx) {
  const ConvShape<index_t> g(geo);
  const index_t step_r = static_cast<index_t>(geo.sh / gcd(geo.sh, geo.dh));
  const index_t step_s = static_cast<index_t>(geo.sw / gcd(geo.sw, geo.dw));
  if (is_depthwise(geo)) {
    launch(depthwise_input_grad<scalar_t, index_t>, dx.numel(), g, dy.const_data_ptr<scalar_t>(),
           Strides4<index_t>(dy), w.const_data_ptr<scalar_t>(), Strides4<index_t>(w), dx.data_ptr<scalar_t>(),
           Strides4<index_t>(dx), step_r, step_s, is_channels_last(dx));
    return;
  }
  const int64_t classes_h = std::min(geo.sh, geo.H), classes_w = std::min(geo.sw, geo.W);
  const InputGradGemm<scalar_t, index_t> prob{g,
                                              dy.const_data_ptr<scalar_t>(),
                                              w.const_data_ptr<scalar_t>(),
                                              dx.data_ptr<scalar_t>(),
                                              Strides4<index_t>(dy),
                                              Strides4<index_t>(w),
                                              Strides4<index_t>(dx),
                                              static_cast<index_t>(classes_h),
                                              static_cast<index_t>(classes_w),
                                              step_r,
                                              step_s};
  // Class (0, 0) has the most pixels: ceil(H/sh) x ceil(W/sw) per image.
  run_gemm(prob, geo.N * ceil_div(geo.H, geo.sh) * ceil_div(geo.W, geo.sw), geo.C / geo.G,
           geo.G * classes_h * classes_w);
}

// Chunks of the N*P*Q reduction: enough slices for about four blocks per multiprocessor, each chunk
// at least kMinChunkSteps reduction tiles long.
constexpr int64_t kMinChunkSteps = 16;

template <typename scalar_t, typename index_t>
void conv_weight_grad(const ConvGeometry& geo, const at::Tensor& dy, const at::Tensor& x, const at::Tensor& partial,
                      int64_t chunk, at::Tensor& dw) {
  const ConvShape<index_t> g(geo);
  if (is_depthwise(geo)) {
    launch_blocks(depthwise_weight_grad<scalar_t, index_t>, dw.numel(), kThreads, g, dy.const_data_ptr<scalar_t>(),
                  Strides4<index_t>(dy), x.const_data_ptr<scalar_t>(), Strides4<index_t>(x), dw.data_ptr<scalar_t>(),
                  Strides4<index_t>(dw));
    return;
  }
  using acc_t = at::opmath_type<scalar_t>;
  const int64_t chunks = partial.size(0);
  const WeightGradGemm<scalar_t, index_t> prob{g,
                                               dy.const_data_ptr<scalar_t>(),
                                               x.const_data_ptr<scalar_t>(),
                                               partial.data_ptr<acc_t>(),
                                               Strides4<index_t>(dy),
                                               Strides4<index_t>(x),
                                               static_cast<index_t>(chunk),
                                               static_cast<index_t>(chunks)};
  run_gemm(prob, geo.K / geo.G, geo.C / geo.G * geo.R * geo.S, geo.G * chunks);
  launch(sum_chunks<scalar_t, index_t>, dw.numel(), g, partial.const_data_ptr<acc_t>(),
         static_cast<index_t>(chunks), dw.data_ptr<scalar_t>(), Strides4<index_t>(dw));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Ops

at::Tensor conv2d(const at::Tensor& input, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                  at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups) {
  const char* op = "torchconv.conv2d";
  const ConvGeometry g = check_conv2d(op, input, weight, bias, stride, padding, dilation, groups);
  c10::cuda::CUDAGuard guard(input.device());
  const at::Tensor x = as_batched(input);
  at::Tensor y = at::empty({g.N, g.K, g.P, g.Q}, x.options().memory_format(conv_memory_format(x, weight)));
  if (y.numel() > 0) {
    const at::Tensor b = bias.has_value() && bias->defined() ? bias->contiguous() : at::Tensor();
    const bool int32 = fits_int32(x) && fits_int32(weight) && fits_int32(y) && geometry_fits_int32(g);
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "torchconv.conv2d", [&] {
      with_index_type(int32, [&](auto tag) { conv_forward<scalar_t, decltype(tag)>(g, x, weight, b, y); });
    });
  }
  return unbatch_if(y, g.batched);
}

at::Tensor conv2d_input_grad(const at::Tensor& grad_output, const at::Tensor& weight, at::IntArrayRef input_size,
                             at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation,
                             int64_t groups) {
  const char* op = "torchconv.conv2d_input_grad";
  const ConvGeometry g =
      check_conv2d_input_grad(op, grad_output, weight, input_size, stride, padding, dilation, groups);
  c10::cuda::CUDAGuard guard(grad_output.device());
  const at::Tensor dy = as_batched(grad_output);
  at::Tensor dx = at::empty({g.N, g.C, g.H, g.W}, dy.options().memory_format(conv_memory_format(dy, weight)));
  if (dx.numel() > 0) {
    const bool int32 = fits_int32(dy) && fits_int32(weight) && fits_int32(dx) && geometry_fits_int32(g);
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, dy.scalar_type(), "torchconv.conv2d_input_grad", [&] {
      with_index_type(int32, [&](auto tag) { conv_input_grad<scalar_t, decltype(tag)>(g, dy, weight, dx); });
    });
  }
  return unbatch_if(dx, g.batched);
}

at::Tensor conv2d_weight_grad(const at::Tensor& grad_output, const at::Tensor& input, at::IntArrayRef weight_size,
                              at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation,
                              int64_t groups) {
  const char* op = "torchconv.conv2d_weight_grad";
  const ConvGeometry g =
      check_conv2d_weight_grad(op, grad_output, input, weight_size, stride, padding, dilation, groups);
  c10::cuda::CUDAGuard guard(grad_output.device());
  const at::Tensor dy = as_batched(grad_output), x = as_batched(input);
  at::Tensor dw = at::empty(weight_size, dy.options().memory_format(conv_memory_format(x, dy)));
  if (dw.numel() == 0) return dw;
  if (g.N == 0) return dw.zero_();

  // Split-K partial sums (not used by the depthwise kernel).
  at::Tensor partial;
  int64_t chunk = 0;
  if (!is_depthwise(g)) {
    const int64_t steps = ceil_div(g.N * g.P * g.Q, kTileK);
    const int64_t tiles = ceil_div(g.K / g.G, kTileM) * ceil_div(g.C / g.G * g.R * g.S, kTileN) * g.G;
    const int64_t want = std::max<int64_t>(1, std::min(ceil_div(4 * sm_count(), tiles), steps / kMinChunkSteps));
    chunk = ceil_div(steps, want) * kTileK;
    const auto acc = dy.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
    partial = at::empty({ceil_div(g.N * g.P * g.Q, chunk), g.K, g.C / g.G * g.R * g.S}, dy.options().dtype(acc));
  }
  const bool int32 = fits_int32(dy) && fits_int32(x) && fits_int32(dw) &&
                     (!partial.defined() || fits_int32(partial)) && geometry_fits_int32(g);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, dy.scalar_type(), "torchconv.conv2d_weight_grad", [&] {
    with_index_type(int32, [&](auto tag) { conv_weight_grad<scalar_t, decltype(tag)>(g, dy, x, partial, chunk, dw); });
  });
  return dw;
}

TORCH_LIBRARY_IMPL(torchconv, CUDA, m) {
  m.impl("conv2d", &conv2d);
  m.impl("conv2d_input_grad", &conv2d_input_grad);
  m.impl("conv2d_weight_grad", &conv2d_weight_grad);
}

}  // namespace cuda
}  // namespace torchconv
