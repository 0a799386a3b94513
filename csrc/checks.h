// Argument validation shared by every torchconv op and backend. Each op validates everything it
// receives before touching memory, because torch.ops.torchconv.* is public: bad input raises a
// c10::Error whose message starts with the op name and follows PyTorch's wording where PyTorch has
// one. The checks return the problem geometry that the kernels use.
#pragma once
#include <ATen/ATen.h>

namespace torchconv {

// Convolution problem: input (N, C, H, W), weight (K, C/G, R, S), output (N, K, P, Q).
struct ConvGeometry {
  int64_t N, C, H, W, K, R, S, P, Q, G;
  int64_t sh, sw, ph, pw, dh, dw;
  bool batched;  // false for an unbatched (C, H, W) input
};

// Pooling problem: input (N, C, H, W), output (N, C, OH, OW).
struct PoolGeometry {
  int64_t N, C, H, W, OH, OW;
  int64_t kh, kw, sh, sw, ph, pw, dh, dw;
  bool batched;
};

ConvGeometry check_conv2d(const char* op, const at::Tensor& input, const at::Tensor& weight,
                          const c10::optional<at::Tensor>& bias, at::IntArrayRef stride,
                          at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups);
ConvGeometry check_conv2d_input_grad(const char* op, const at::Tensor& grad_output,
                                     const at::Tensor& weight, at::IntArrayRef input_size,
                                     at::IntArrayRef stride, at::IntArrayRef padding,
                                     at::IntArrayRef dilation, int64_t groups);
ConvGeometry check_conv2d_weight_grad(const char* op, const at::Tensor& grad_output,
                                      const at::Tensor& input, at::IntArrayRef weight_size,
                                      at::IntArrayRef stride, at::IntArrayRef padding,
                                      at::IntArrayRef dilation, int64_t groups);

PoolGeometry check_max_pool2d(const char* op, const at::Tensor& input, at::IntArrayRef kernel_size,
                              at::IntArrayRef stride, at::IntArrayRef padding,
                              at::IntArrayRef dilation, bool ceil_mode);
PoolGeometry check_avg_pool2d(const char* op, const at::Tensor& input, at::IntArrayRef kernel_size,
                              at::IntArrayRef stride, at::IntArrayRef padding, bool ceil_mode,
                              c10::optional<int64_t> divisor_override);
PoolGeometry check_adaptive_pool2d(const char* op, const at::Tensor& input,
                                   at::IntArrayRef output_size);

// Backward ops: grad_output must have exactly the forward output's shape for `input_size`.
PoolGeometry check_avg_pool2d_backward(const char* op, const at::Tensor& grad_output,
                                       at::IntArrayRef input_size, at::IntArrayRef kernel_size,
                                       at::IntArrayRef stride, at::IntArrayRef padding,
                                       bool ceil_mode, c10::optional<int64_t> divisor_override);
PoolGeometry check_adaptive_avg_pool2d_backward(const char* op, const at::Tensor& grad_output,
                                                at::IntArrayRef input_size);
// Gradient scatter of both max pools: indices has grad_output's shape and dtype int64.
PoolGeometry check_max_pool2d_backward(const char* op, const at::Tensor& grad_output,
                                       const at::Tensor& indices, at::IntArrayRef input_size);

// Memory format of a convolution's output: channels_last when the input or the weight is.
at::MemoryFormat conv_memory_format(const at::Tensor& input, const at::Tensor& weight);

// View a (C, H, W) tensor as (1, C, H, W); 4-D tensors pass through.
inline at::Tensor as_batched(const at::Tensor& t) { return t.dim() == 3 ? t.unsqueeze(0) : t; }
inline at::Tensor unbatch_if(const at::Tensor& t, bool batched) { return batched ? t : t.squeeze(0); }

}  // namespace torchconv
