#include "checks.h"

#include <c10/util/safe_numerics.h>

#include "shape.h"

namespace torchconv {
namespace {

// Largest stride, padding, dilation or kernel extent accepted: keeps all shape arithmetic far from
// int64 overflow whatever the caller passes.
constexpr int64_t kMaxParam = int64_t(1) << 31;

void check_dtype(const char* op, const at::Tensor& t, const char* name) {
  auto dt = t.scalar_type();
  bool ok = dt == at::kFloat || dt == at::kDouble || dt == at::kBFloat16 ||
            (dt == at::kHalf && t.is_cuda());
  TORCH_CHECK(ok, op, ": expected ", name, " of dtype float32, float64 or bfloat16",
              t.is_cuda() ? " or float16" : " (float16 on CUDA only)", ", but got ", dt);
}

void check_same_device_dtype(const char* op, const at::Tensor& a, const char* an, const at::Tensor& b,
                             const char* bn) {
  TORCH_CHECK(a.device() == b.device(), op, ": expected ", an, " and ", bn,
              " to be on the same device, but got ", a.device(), " and ", b.device());
  TORCH_CHECK(a.scalar_type() == b.scalar_type(), op, ": ", an, " type (", a.scalar_type(),
              ") and ", bn, " type (", b.scalar_type(), ") should be the same");
}

// Reads a pair argument: one value is repeated, two are (h, w); anything else is an error.
std::array<int64_t, 2> pair(const char* op, at::IntArrayRef v, const char* name) {
  TORCH_CHECK(v.size() == 1 || v.size() == 2, op, ": expected ", name,
              " to be a single integer value or a list of 2 values, but got ", name, "=", v);
  return {v[0], v.size() == 2 ? v[1] : v[0]};
}

void check_bounded(const char* op, std::array<int64_t, 2> v, const char* name) {
  TORCH_CHECK(v[0] < kMaxParam && v[1] < kMaxParam, op, ": ", name, " must be smaller than 2^31, but got ",
              name, "=[", v[0], ", ", v[1], "]");
}

std::vector<int64_t> sizes_of(at::IntArrayRef s) { return std::vector<int64_t>(s.begin(), s.end()); }

struct ConvParams {
  std::array<int64_t, 2> stride, padding, dilation;
};

ConvParams check_conv_params(const char* op, at::IntArrayRef stride, at::IntArrayRef padding,
                             at::IntArrayRef dilation, int64_t groups) {
  ConvParams p{pair(op, stride, "stride"), pair(op, padding, "padding"), pair(op, dilation, "dilation")};
  TORCH_CHECK(p.stride[0] > 0 && p.stride[1] > 0, op, ": non-positive stride is not supported");
  TORCH_CHECK(p.padding[0] >= 0 && p.padding[1] >= 0, op, ": negative padding is not supported");
  TORCH_CHECK(p.dilation[0] > 0 && p.dilation[1] > 0, op,
              ": dilation should be greater than zero, but got [", p.dilation[0], ", ", p.dilation[1], "]");
  TORCH_CHECK(groups > 0, op, ": non-positive groups is not supported");
  check_bounded(op, p.stride, "stride");
  check_bounded(op, p.padding, "padding");
  check_bounded(op, p.dilation, "dilation");
  return p;
}

// Shared by forward and both backward ops: input sizes (N, C, H, W), weight sizes (K, C/G, R, S).
ConvGeometry conv_geometry(const char* op, at::IntArrayRef in, at::IntArrayRef wt, const ConvParams& p,
                           int64_t groups, bool batched) {
  TORCH_CHECK(wt.size() == 4, op, ": expected a 4-D weight (out_channels, in_channels/groups, kH, kW), "
              "but got weight of size ", wt);
  for (auto s : wt) TORCH_CHECK(s >= 0 && s < kMaxParam, op, ": invalid weight size ", wt);
  for (auto s : in) TORCH_CHECK(s >= 0, op, ": invalid input size ", in);
  TORCH_CHECK(wt[0] >= groups, op, ": Given groups=", groups, ", expected weight to be at least ", groups,
              " at dimension 0, but got weight of size ", wt, " instead");
  TORCH_CHECK(wt[0] % groups == 0, op, ": Given groups=", groups, ", expected weight to be divisible by ",
              groups, " at dimension 0, but got weight of size ", wt, " instead");
  TORCH_CHECK(in[1] == wt[1] * groups, op, ": Given groups=", groups, ", weight of size ", wt,
              ", expected input", in, " to have ", wt[1] * groups, " channels, but got ", in[1],
              " channels instead");
  TORCH_CHECK(wt[2] > 0 && wt[3] > 0, op, ": expected a non-empty kernel, but got weight of size ", wt);
  TORCH_CHECK(in[2] > 0 && in[3] > 0, op, ": Only zero batch or zero channel inputs are supported, but got input shape: ",
              in);
  TORCH_CHECK(in[2] < kMaxParam * 64 && in[3] < kMaxParam * 64, op, ": input size ", in, " is too large");
  int64_t eff_h = p.dilation[0] * (wt[2] - 1) + 1, eff_w = p.dilation[1] * (wt[3] - 1) + 1;
  int64_t padded_h = in[2] + 2 * p.padding[0], padded_w = in[3] + 2 * p.padding[1];
  TORCH_CHECK(padded_h >= eff_h && padded_w >= eff_w, op, ": Calculated padded input size per channel: (",
              padded_h, " x ", padded_w, "). Kernel size: (", eff_h, " x ", eff_w,
              "). Kernel size can't be greater than actual input size");
  ConvGeometry g;
  g.N = in[0]; g.C = in[1]; g.H = in[2]; g.W = in[3];
  g.K = wt[0]; g.R = wt[2]; g.S = wt[3]; g.G = groups;
  g.sh = p.stride[0]; g.sw = p.stride[1];
  g.ph = p.padding[0]; g.pw = p.padding[1];
  g.dh = p.dilation[0]; g.dw = p.dilation[1];
  g.P = window_out_size(g.H, g.R, g.ph, g.sh, g.dh, false);
  g.Q = window_out_size(g.W, g.S, g.pw, g.sw, g.dw, false);
  g.batched = batched;
  return g;
}

// (C, H, W) sizes become (1, C, H, W); `what` names the tensor in messages.
std::vector<int64_t> batched_sizes(const char* op, at::IntArrayRef s, const char* what) {
  TORCH_CHECK(s.size() == 3 || s.size() == 4, op, ": Expected 3D (unbatched) or 4D (batched) ", what,
              " to conv2d, but got ", what, " of size: ", s);
  auto v = sizes_of(s);
  if (v.size() == 3) v.insert(v.begin(), 1);
  return v;
}

void check_grad_output(const char* op, const at::Tensor& grad_output, at::IntArrayRef expected) {
  auto go = sizes_of(grad_output.sizes());
  if (go.size() == 3) go.insert(go.begin(), 1);
  TORCH_CHECK(go == sizes_of(expected), op, ": expected grad_output of size ", expected,
              " (batched), but got ", grad_output.sizes());
}

}  // namespace

ConvGeometry check_conv2d(const char* op, const at::Tensor& input, const at::Tensor& weight,
                          const c10::optional<at::Tensor>& bias, at::IntArrayRef stride,
                          at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups) {
  check_dtype(op, input, "input");
  check_same_device_dtype(op, input, "Input", weight, "weight");
  auto p = check_conv_params(op, stride, padding, dilation, groups);
  auto in = batched_sizes(op, input.sizes(), "input");
  auto g = conv_geometry(op, in, weight.sizes(), p, groups, input.dim() == 4);
  if (bias.has_value() && bias->defined()) {
    check_same_device_dtype(op, input, "Input", *bias, "bias");
    TORCH_CHECK(bias->dim() == 1 && bias->size(0) == g.K, op, ": Given weight of size ", weight.sizes(),
                ", expected bias to be 1-dimensional with ", g.K, " elements, but got bias of size ",
                bias->sizes(), " instead");
  }
  return g;
}

ConvGeometry check_conv2d_input_grad(const char* op, const at::Tensor& grad_output,
                                     const at::Tensor& weight, at::IntArrayRef input_size,
                                     at::IntArrayRef stride, at::IntArrayRef padding,
                                     at::IntArrayRef dilation, int64_t groups) {
  check_dtype(op, grad_output, "grad_output");
  check_same_device_dtype(op, grad_output, "grad_output", weight, "weight");
  auto p = check_conv_params(op, stride, padding, dilation, groups);
  TORCH_CHECK(input_size.size() == grad_output.dim(), op, ": input_size ", input_size,
              " must have as many dimensions as grad_output ", grad_output.sizes());
  auto in = batched_sizes(op, input_size, "input");
  auto g = conv_geometry(op, in, weight.sizes(), p, groups, input_size.size() == 4);
  check_grad_output(op, grad_output, {g.N, g.K, g.P, g.Q});
  return g;
}

ConvGeometry check_conv2d_weight_grad(const char* op, const at::Tensor& grad_output,
                                      const at::Tensor& input, at::IntArrayRef weight_size,
                                      at::IntArrayRef stride, at::IntArrayRef padding,
                                      at::IntArrayRef dilation, int64_t groups) {
  check_dtype(op, grad_output, "grad_output");
  check_same_device_dtype(op, grad_output, "grad_output", input, "input");
  auto p = check_conv_params(op, stride, padding, dilation, groups);
  TORCH_CHECK(input.dim() == grad_output.dim(), op, ": input ", input.sizes(),
              " must have as many dimensions as grad_output ", grad_output.sizes());
  auto in = batched_sizes(op, input.sizes(), "input");
  auto g = conv_geometry(op, in, weight_size, p, groups, input.dim() == 4);
  check_grad_output(op, grad_output, {g.N, g.K, g.P, g.Q});
  return g;
}

// ---------------------------------------------------------------------------------------------
// Pooling

namespace {

// Input sizes whose element count overflows int64 (possible only in sizes passed to backward ops).
void check_numel(const char* op, at::IntArrayRef s) {
  int64_t numel = 1;
  for (auto d : s) {
    TORCH_CHECK(d >= 0 && !c10::mul_overflows(numel, d, &numel), op, ": input size ", s, " is too large");
  }
}

// PyTorch's pooling input rule: 3-D, or 4-D with a possibly empty batch; C, H, W non-empty.
std::vector<int64_t> pool_input_sizes(const char* op, at::IntArrayRef s) {
  bool ok = (s.size() == 3 || s.size() == 4);
  if (ok) {
    for (size_t d = s.size() == 4 ? 1 : 0; d < s.size(); ++d) ok = ok && s[d] > 0;
  }
  TORCH_CHECK(ok, op, ": Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, "
              "but got:", s);
  check_numel(op, s);
  auto v = sizes_of(s);
  if (v.size() == 3) v.insert(v.begin(), 1);
  return v;
}

PoolGeometry sliding_pool_geometry(const char* op, at::IntArrayRef input_size, at::IntArrayRef kernel_size,
                                   at::IntArrayRef stride, at::IntArrayRef padding,
                                   at::IntArrayRef dilation, bool ceil_mode) {
  auto in = pool_input_sizes(op, input_size);
  auto k = pair(op, kernel_size, "kernel_size");
  auto s = stride.empty() ? k : pair(op, stride, "stride");
  auto p = pair(op, padding, "padding");
  auto d = pair(op, dilation, "dilation");
  TORCH_CHECK(k[0] > 0 && k[1] > 0, op, ": kernel size should be greater than zero, but got kH: ", k[0],
              " kW: ", k[1]);
  TORCH_CHECK(s[0] > 0 && s[1] > 0, op, ": stride should be greater than zero, but got dH: ", s[0],
              " dW: ", s[1]);
  TORCH_CHECK(d[0] > 0 && d[1] > 0, op, ": dilation should be greater than zero, but got dilationH: ", d[0],
              " dilationW: ", d[1]);
  TORCH_CHECK(p[0] >= 0 && p[1] >= 0, op, ": pad must be non-negative, but got pad: ", p[0], " ", p[1]);
  check_bounded(op, k, "kernel_size");
  check_bounded(op, s, "stride");
  check_bounded(op, d, "dilation");
  for (int i = 0; i < 2; ++i) {
    TORCH_CHECK(p[i] <= ((k[i] - 1) * d[i] + 1) / 2, op,
                ": pad should be at most half of effective kernel size, but got pad=", p[i], ", kernel_size=", k[i],
                " and dilation=", d[i]);
  }
  TORCH_CHECK(p[0] <= k[0] / 2 && p[1] <= k[1] / 2, op,
              ": pad should be smaller than or equal to half of kernel size, but got padW = ", p[1], ", padH = ", p[0],
              ", kW = ", k[1], ", kH = ", k[0]);
  PoolGeometry g;
  g.N = in[0]; g.C = in[1]; g.H = in[2]; g.W = in[3];
  g.kh = k[0]; g.kw = k[1]; g.sh = s[0]; g.sw = s[1];
  g.ph = p[0]; g.pw = p[1]; g.dh = d[0]; g.dw = d[1];
  g.OH = window_out_size(g.H, g.kh, g.ph, g.sh, g.dh, ceil_mode);
  g.OW = window_out_size(g.W, g.kw, g.pw, g.sw, g.dw, ceil_mode);
  g.batched = input_size.size() == 4;
  TORCH_CHECK(g.OH >= 1 && g.OW >= 1, op, ": Given input size: (", g.C, "x", g.H, "x", g.W,
              "). Calculated output size: (", g.C, "x", std::max<int64_t>(g.OH, 0), "x",
              std::max<int64_t>(g.OW, 0), "). Output size is too small");
  return g;
}

PoolGeometry adaptive_geometry(const char* op, at::IntArrayRef s, at::IntArrayRef output_size) {
  TORCH_CHECK(s.size() == 3 || s.size() == 4, op, ": Expected 3D or 4D tensor, but got ", s);
  for (size_t d = s.size() - 3 + 1; d < s.size(); ++d) {
    TORCH_CHECK(s[d] > 0, op, ": Expected input to have non-zero size for non-batch dimensions, but input has "
                "sizes ", s, " with dimension ", d, " being empty");
  }
  TORCH_CHECK(s[s.size() - 3] > 0, op, ": Expected input to have non-zero size for non-batch dimensions, "
              "but input has sizes ", s, " with dimension ", s.size() - 3, " being empty");
  TORCH_CHECK(output_size.size() == 2, op, ": output_size must be 2, but got ", output_size);
  TORCH_CHECK(output_size[0] >= 0 && output_size[1] >= 0, op,
              ": elements of output_size must be greater than or equal to 0 but received {", output_size[0],
              ", ", output_size[1], "}");
  TORCH_CHECK(output_size[0] < kMaxParam && output_size[1] < kMaxParam, op,
              ": output_size must be smaller than 2^31, but got ", output_size);
  check_numel(op, s);
  auto in = sizes_of(s);
  if (in.size() == 3) in.insert(in.begin(), 1);
  PoolGeometry g{};
  g.N = in[0]; g.C = in[1]; g.H = in[2]; g.W = in[3];
  g.OH = output_size[0]; g.OW = output_size[1];
  g.batched = s.size() == 4;
  return g;
}

void check_pool_grad_output(const char* op, const at::Tensor& grad_output, at::IntArrayRef input_size,
                            const PoolGeometry& g) {
  check_dtype(op, grad_output, "grad_output");
  TORCH_CHECK(grad_output.dim() == (int64_t)input_size.size(), op, ": grad_output ", grad_output.sizes(),
              " must have as many dimensions as input_size ", input_size);
  std::vector<int64_t> expected{g.N, g.C, g.OH, g.OW};
  if (!g.batched) expected.erase(expected.begin());
  TORCH_CHECK(sizes_of(grad_output.sizes()) == expected, op, ": expected grad_output of size ",
              at::IntArrayRef(expected), ", but got ", grad_output.sizes());
}

}  // namespace

PoolGeometry check_max_pool2d(const char* op, const at::Tensor& input, at::IntArrayRef kernel_size,
                              at::IntArrayRef stride, at::IntArrayRef padding,
                              at::IntArrayRef dilation, bool ceil_mode) {
  check_dtype(op, input, "input");
  return sliding_pool_geometry(op, input.sizes(), kernel_size, stride, padding, dilation, ceil_mode);
}

PoolGeometry check_avg_pool2d(const char* op, const at::Tensor& input, at::IntArrayRef kernel_size,
                              at::IntArrayRef stride, at::IntArrayRef padding, bool ceil_mode,
                              c10::optional<int64_t> divisor_override) {
  check_dtype(op, input, "input");
  TORCH_CHECK(!divisor_override.has_value() || *divisor_override != 0, op, ": divisor must be not zero");
  return sliding_pool_geometry(op, input.sizes(), kernel_size, stride, padding, {1}, ceil_mode);
}

PoolGeometry check_adaptive_pool2d(const char* op, const at::Tensor& input, at::IntArrayRef output_size) {
  check_dtype(op, input, "input");
  return adaptive_geometry(op, input.sizes(), output_size);
}

PoolGeometry check_avg_pool2d_backward(const char* op, const at::Tensor& grad_output,
                                       at::IntArrayRef input_size, at::IntArrayRef kernel_size,
                                       at::IntArrayRef stride, at::IntArrayRef padding, bool ceil_mode,
                                       c10::optional<int64_t> divisor_override) {
  TORCH_CHECK(!divisor_override.has_value() || *divisor_override != 0, op, ": divisor must be not zero");
  auto g = sliding_pool_geometry(op, input_size, kernel_size, stride, padding, {1}, ceil_mode);
  check_pool_grad_output(op, grad_output, input_size, g);
  return g;
}

PoolGeometry check_adaptive_avg_pool2d_backward(const char* op, const at::Tensor& grad_output,
                                                at::IntArrayRef input_size) {
  TORCH_CHECK(grad_output.dim() == 3 || grad_output.dim() == 4, op,
              ": Expected 3D or 4D grad_output, but got ", grad_output.sizes());
  auto g = adaptive_geometry(op, input_size, grad_output.sizes().slice(grad_output.dim() - 2));
  check_pool_grad_output(op, grad_output, input_size, g);
  return g;
}

PoolGeometry check_max_pool2d_backward(const char* op, const at::Tensor& grad_output,
                                       const at::Tensor& indices, at::IntArrayRef input_size) {
  TORCH_CHECK(grad_output.dim() == 3 || grad_output.dim() == 4, op,
              ": Expected 3D or 4D grad_output, but got ", grad_output.sizes());
  auto g = adaptive_geometry(op, input_size, grad_output.sizes().slice(grad_output.dim() - 2));
  check_pool_grad_output(op, grad_output, input_size, g);
  TORCH_CHECK(indices.scalar_type() == at::kLong, op, ": expected indices of dtype int64, but got ",
              indices.scalar_type());
  TORCH_CHECK(indices.device() == grad_output.device(), op,
              ": expected grad_output and indices on the same device, but got ", grad_output.device(),
              " and ", indices.device());
  TORCH_CHECK(indices.sizes() == grad_output.sizes(), op, ": expected indices of size ",
              grad_output.sizes(), ", but got ", indices.sizes());
  return g;
}

at::MemoryFormat conv_memory_format(const at::Tensor& input, const at::Tensor& weight) {
  auto cl = at::MemoryFormat::ChannelsLast;
  bool input_cl = input.dim() == 4 && input.suggest_memory_format() == cl;
  bool weight_cl = weight.suggest_memory_format() == cl;
  return (input_cl || weight_cl) ? cl : at::MemoryFormat::Contiguous;
}

}  // namespace torchconv
