// conv_transpose2d: the gradient of conv2d with respect to its input, plus a bias. It is a composite
// op (CompositeImplicitAutograd): it validates its arguments in its own terms, computes the output size
// (symbolically under compile and export) and calls conv2d_input_grad, whose kernels, autograd and
// autocast serve it. Its gradients are therefore conv2d (input) and conv2d_weight_grad with the roles
// of input and grad_output swapped (weight): no kernel of its own.
//
//   H_out = (H - 1)*stride - 2*padding + dilation*(kH - 1) + output_padding + 1     (W likewise)
#include <ATen/ATen.h>
#include <torch/library.h>

namespace torchconv {
namespace {

at::Tensor conv_transpose2d(const at::Tensor& input, const at::Tensor& weight, const std::optional<at::Tensor>& bias,
                            at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef output_padding,
                            int64_t groups, at::IntArrayRef dilation) {
  const char* op = "torchconv.conv_transpose2d";
  TORCH_CHECK(input.dim() == 3 || input.dim() == 4,
              "Expected 3D (unbatched) or 4D (batched) input to conv_transpose2d, but got input of size: ",
              input.sizes());
  TORCH_CHECK(weight.dim() == 4, op, ": expected a 4-D weight, but got weight of size ", weight.sizes());
  TORCH_CHECK(stride.size() == 2 && padding.size() == 2 && output_padding.size() == 2 && dilation.size() == 2, op,
              ": stride, padding, output_padding and dilation must be pairs");
  TORCH_CHECK(groups > 0, op, ": non-positive groups is not supported");
  TORCH_CHECK(input.sym_size(-3) == weight.sym_size(0), "Given transposed=1, weight of size ", weight.sizes(),
              ", expected input", input.sizes(), " to have ", weight.size(0), " channels, but got ",
              input.size(-3), " channels instead");
  const c10::SymInt out_channels = weight.sym_size(1) * groups;
  if (bias.has_value() && bias->defined()) {
    TORCH_CHECK(bias->dim() == 1 && bias->sym_numel() == out_channels, "Given transposed=1, weight of size ",
                weight.sizes(), ", expected bias to be 1-dimensional with ", out_channels,
                " elements, but got bias of size ", bias->sizes(), " instead");
    TORCH_CHECK(bias->device() == input.device(), op, ": expected input and bias to be on the same device, but got ",
                input.device(), " and ", bias->device());
    TORCH_CHECK(bias->scalar_type() == input.scalar_type(), op, ": Input type (", input.scalar_type(),
                ") and bias type (", bias->scalar_type(), ") should be the same");
  }
  for (int i = 0; i < 2; ++i) {
    const int64_t o = output_padding[i];
    TORCH_CHECK(o >= 0 && (o < stride[i] || o < dilation[i]),
                "output padding must be smaller than either stride or dilation, but got output_padding_height: ",
                output_padding[0], " output_padding_width: ", output_padding[1], " stride_height: ", stride[0],
                " stride_width: ", stride[1], " dilation_height: ", dilation[0], " dilation_width: ", dilation[1]);
  }
  std::vector<c10::SymInt> size(input.sym_sizes().begin(), input.sym_sizes().end() - 3);
  size.push_back(out_channels);
  std::vector<c10::SymInt> out_hw;
  for (int i = 0; i < 2; ++i)
    out_hw.push_back((input.sym_size(-2 + i) - 1) * stride[i] - 2 * padding[i] +
                     dilation[i] * (weight.size(2 + i) - 1) + output_padding[i] + 1);
  TORCH_CHECK(out_hw[0] > 0 && out_hw[1] > 0, op, ": calculated output size ", out_hw,
              " is too small for input of size ", input.sizes());
  size.insert(size.end(), out_hw.begin(), out_hw.end());

  // A conv2d over `size` has H + output_padding / stride output rows (output_padding >= stride is
  // allowed when below the dilation): its input gradient is taken of the input with that many zero
  // rows (columns) appended.
  at::Tensor x = input;
  if (stride[0] > 0 && stride[1] > 0 && (output_padding[0] >= stride[0] || output_padding[1] >= stride[1]))
    x = at::constant_pad_nd(input, {0, output_padding[1] / stride[1], 0, output_padding[0] / stride[0]});
  static const auto input_grad = c10::Dispatcher::singleton()
                                     .findSchemaOrThrow("torchconv::conv2d_input_grad", "")
                                     .typed<at::Tensor(const at::Tensor&, const at::Tensor&, c10::SymIntArrayRef,
                                                       at::IntArrayRef, at::IntArrayRef, at::IntArrayRef, int64_t)>();
  at::Tensor out = input_grad.call(x, weight, size, stride, padding, dilation, groups);
  if (bias.has_value() && bias->defined()) out = out + bias->view({-1, 1, 1});
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(torchconv, CompositeImplicitAutograd, m) { m.impl("conv_transpose2d", &conv_transpose2d); }

}  // namespace torchconv
