// Autograd for every torchconv op: the kernels registered for the Autograd dispatch key.
//
// Reverse mode: each differentiable op records a backward node, wired as PyTorch's generated autograd
// code wires its own ops (so torch.func's transforms, which run autograd on wrapped tensors, see
// ordinary nodes). Each node's formula calls torchconv's own ops, which are differentiable too, so
// gradients of gradients (double backward, Hessians) are computed by torchconv kernels:
//
//   y  = conv2d(x, w) + b            dx = conv2d_input_grad(dy, w)   dw = conv2d_weight_grad(dy, x)
//   dx = conv2d_input_grad(dy, w)    d(dy) = conv2d(g, w)            d(w) = conv2d_weight_grad(dy, g)
//   dw = conv2d_weight_grad(dy, x)   d(dy) = conv2d(x, g)            d(x) = conv2d_input_grad(dy, g)
//
// The pooling ops are linear in their tensor input (given the windows, or the argmax for max pooling):
// the gradient of each pooling op is its backward op and the other way round; max_pool2d_backward's
// gradient is a gather at the argmax.
//
// Forward mode (torch.autograd.forward_ad, torch.func.jvp/jacfwd): an output's tangent is computed
// from the inputs' tangents with the same ops: t(conv(x, w)) = conv(t(x), w) + conv(x, t(w)), and a
// linear op's tangent is the op applied to the input's tangent.
//
// Gradients come back in the layout of the forward's input, as PyTorch's do: the incoming gradient is
// first laid out like the forward output (channels_last or contiguous). Sizes travel as SymInts, so
// compile and export trace these formulas with symbolic shapes.
#include <ATen/ATen.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/csrc/autograd/saved_variable.h>
#include <torch/library.h>

namespace torchconv {
namespace autograd {
namespace {

using at::IntArrayRef;
using at::Tensor;
using c10::SymIntArrayRef;
using torch::autograd::Node;
using torch::autograd::SavedVariable;
using torch::autograd::variable_list;
using OptTensor = std::optional<Tensor>;

// ---------------------------------------------------------------------------------------------
// The ops, called through the dispatcher (so that each call reaches the backend, or records itself
// when traced).

template <class Signature>
c10::TypedOperatorHandle<Signature> find_op(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "").typed<Signature>();
}

#define TC_OP(fn, name, Signature)                                      \
  const c10::TypedOperatorHandle<Signature>& fn() {                     \
    static const auto handle = find_op<Signature>("torchconv::" name);  \
    return handle;                                                      \
  }
using Tensor2 = std::tuple<Tensor, Tensor>;
TC_OP(conv2d_op, "conv2d", Tensor(const Tensor&, const Tensor&, const OptTensor&, IntArrayRef, IntArrayRef,
                                  IntArrayRef, int64_t))
TC_OP(conv2d_input_grad_op, "conv2d_input_grad",
      Tensor(const Tensor&, const Tensor&, SymIntArrayRef, IntArrayRef, IntArrayRef, IntArrayRef, int64_t))
TC_OP(conv2d_weight_grad_op, "conv2d_weight_grad",
      Tensor(const Tensor&, const Tensor&, SymIntArrayRef, IntArrayRef, IntArrayRef, IntArrayRef, int64_t))
TC_OP(max_pool2d_op, "max_pool2d", Tensor2(const Tensor&, IntArrayRef, IntArrayRef, IntArrayRef, IntArrayRef, bool))
TC_OP(max_pool2d_values_op, "max_pool2d_values",
      Tensor(const Tensor&, IntArrayRef, IntArrayRef, IntArrayRef, IntArrayRef, bool))
TC_OP(max_pool2d_backward_op, "max_pool2d_backward", Tensor(const Tensor&, const Tensor&, SymIntArrayRef))
TC_OP(avg_pool2d_op, "avg_pool2d",
      Tensor(const Tensor&, IntArrayRef, IntArrayRef, IntArrayRef, bool, bool, std::optional<int64_t>))
TC_OP(avg_pool2d_backward_op, "avg_pool2d_backward",
      Tensor(const Tensor&, SymIntArrayRef, IntArrayRef, IntArrayRef, IntArrayRef, bool, bool, std::optional<int64_t>))
TC_OP(adaptive_avg_pool2d_op, "adaptive_avg_pool2d", Tensor(const Tensor&, IntArrayRef))
TC_OP(adaptive_avg_pool2d_backward_op, "adaptive_avg_pool2d_backward", Tensor(const Tensor&, SymIntArrayRef))
TC_OP(adaptive_max_pool2d_op, "adaptive_max_pool2d", Tensor2(const Tensor&, IntArrayRef))
#undef TC_OP

// ---------------------------------------------------------------------------------------------
// Helpers

// Runs `f` below the autograd keys (the backend kernel, or the next key when traced).
template <class F>
auto below_autograd(F&& f) {
  at::AutoDispatchBelowADInplaceOrView guard;
  return f();
}

bool requires_grad(std::initializer_list<const Tensor*> ts) {
  if (!at::GradMode::is_enabled()) return false;
  for (auto* t : ts)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

// A backward node of type N whose next edges are `inputs` (in order; an absent optional is an empty
// edge), recorded as the history of `output`.
template <class N, class... Inputs>
auto record(const Tensor& output, const Inputs&... inputs) {
  auto node = [] {  // nodes are intrusive_ptr-owned since PyTorch 2.12, shared_ptr-owned before
    if constexpr (std::is_base_of_v<c10::intrusive_ptr_target, N>) {
      return c10::make_intrusive<N>();
    } else {
      return std::make_shared<N>();
    }
  }();
  node->set_next_edges(torch::autograd::collect_next_edges(inputs...));
  node->layout = output.dim() == 4 ? output.suggest_memory_format() : at::MemoryFormat::Contiguous;
  torch::autograd::set_history(output, node);
  return node;
}

// Base of every node: one differentiable output, whose incoming gradient is laid out like it.
struct Backward : Node {
  at::MemoryFormat layout = at::MemoryFormat::Contiguous;
  Tensor incoming(const variable_list& grads) const {
    const Tensor& g = grads[0];
    return g.defined() && g.dim() == 4 ? g.contiguous(layout) : g;
  }
  bool wants(size_t input) const { return task_should_compute_output(input); }
};

// Forward-mode AD: the tangent of `t` at level 0 (undefined when it has none) and its primal.
Tensor tangent(const Tensor& t) { return t.defined() ? t._fw_grad(/*level=*/0) : Tensor(); }
Tensor tangent(const OptTensor& t) { return t.has_value() ? tangent(*t) : Tensor(); }
Tensor primal(const Tensor& t) { return tangent(t).defined() ? t._fw_primal(/*level=*/0) : t; }

// `sum` + `term`, where either may be undefined.
Tensor sum_defined(const Tensor& sum, const Tensor& term) {
  if (!sum.defined()) return term;
  return term.defined() ? sum + term : sum;
}

void set_tangent(const Tensor& out, const Tensor& t) {
  if (t.defined()) out._set_fw_grad(t, /*level=*/0, /*is_inplace_op=*/false);
}

// For a linear op L of one tensor: t(L(x)) = L(t(x)).
template <class Op>
void linear_tangent(const Tensor& out, const Tensor& input, Op&& op) {
  const Tensor t = tangent(input);
  if (t.defined()) set_tangent(out, op(t));
}

// Gathers `t` (N, C, H, W) at flat per-plane `indices` (N, C, OH, OW): max pooling's linear part.
Tensor gather_planes(const Tensor& t, const Tensor& indices) {
  return t.flatten(-2).gather(-1, indices.flatten(-2)).view_symint(indices.sym_sizes());
}

std::vector<c10::SymInt> sym_vec(SymIntArrayRef s) { return s.vec(); }

// ---------------------------------------------------------------------------------------------
// Convolution: conv2d and its two gradient ops share (stride, padding, dilation, groups).

struct ConvArgs {
  IntArrayRef stride, padding, dilation;
  int64_t groups;
};

// ConvArgs kept by a node.
struct SavedConvArgs {
  std::vector<int64_t> stride, padding, dilation;
  int64_t groups = 1;
  void save(const ConvArgs& a) {
    stride = a.stride.vec(), padding = a.padding.vec(), dilation = a.dilation.vec(), groups = a.groups;
  }
  ConvArgs args() const { return {stride, padding, dilation, groups}; }
};

Tensor conv2d(const Tensor& x, const Tensor& w, const OptTensor& b, const ConvArgs& a) {
  return conv2d_op().call(x, w, b, a.stride, a.padding, a.dilation, a.groups);
}
Tensor conv2d_input_grad(const Tensor& dy, const Tensor& w, SymIntArrayRef size, const ConvArgs& a) {
  return conv2d_input_grad_op().call(dy, w, size, a.stride, a.padding, a.dilation, a.groups);
}
Tensor conv2d_weight_grad(const Tensor& dy, const Tensor& x, SymIntArrayRef size, const ConvArgs& a) {
  return conv2d_weight_grad_op().call(dy, x, size, a.stride, a.padding, a.dilation, a.groups);
}

// A bilinear op f(u, v) with saved u and v; `Formula` gives d/du and d/dv of <g, f(u, v)>.
template <class Formula>
struct BilinearBackward : Backward {
  SavedVariable u, v;
  SavedConvArgs conv;
  std::string name() const override { return Formula::kName; }
  variable_list apply(variable_list&& grads) override {
    variable_list out(num_outputs());
    const Tensor g = incoming(grads);
    if (!g.defined()) return out;
    const Tensor uu = u.unpack(), vv = v.unpack();
    const ConvArgs a = conv.args();
    if (wants(0)) out[0] = Formula::grad_u(g, uu, vv, a);
    if (wants(1)) out[1] = Formula::grad_v(g, uu, vv, a);
    if (num_outputs() > 2 && wants(2)) out[2] = g.dim() == 4 ? g.sum({0, 2, 3}) : g.sum({1, 2});  // conv2d's bias
    return out;
  }
  void release_variables() override {
    u.reset_data();
    v.reset_data();
  }
};

struct Conv2dFormula {  // y = conv2d(x, w)
  static constexpr const char* kName = "torchconv::Conv2dBackward";
  static Tensor grad_u(const Tensor& g, const Tensor& x, const Tensor& w, const ConvArgs& a) {
    return conv2d_input_grad(g, w, x.sym_sizes(), a);
  }
  static Tensor grad_v(const Tensor& g, const Tensor& x, const Tensor& w, const ConvArgs& a) {
    return conv2d_weight_grad(g, x, w.sym_sizes(), a);
  }
};
struct Conv2dInputGradFormula {  // dx = conv2d_input_grad(dy, w)
  static constexpr const char* kName = "torchconv::Conv2dInputGradBackward";
  static Tensor grad_u(const Tensor& g, const Tensor&, const Tensor& w, const ConvArgs& a) {
    return conv2d(g, w, std::nullopt, a);
  }
  static Tensor grad_v(const Tensor& g, const Tensor& dy, const Tensor& w, const ConvArgs& a) {
    return conv2d_weight_grad(dy, g, w.sym_sizes(), a);
  }
};
struct Conv2dWeightGradFormula {  // dw = conv2d_weight_grad(dy, x)
  static constexpr const char* kName = "torchconv::Conv2dWeightGradBackward";
  static Tensor grad_u(const Tensor& g, const Tensor& dy, const Tensor& x, const ConvArgs& a) {
    return conv2d(x, g, std::nullopt, a);
  }
  static Tensor grad_v(const Tensor& g, const Tensor& dy, const Tensor& x, const ConvArgs& a) {
    return conv2d_input_grad(dy, g, x.sym_sizes(), a);
  }
};

// Runs bilinear op f(u, v) (+ bias) below autograd, records its node, and sets the tangent
// t(f) = f(t(u), v) + f(u, t(v)) (+ t(b)). `f(u, v, bias)` calls the op.
template <class Formula, class F>
Tensor bilinear(const Tensor& u, const Tensor& v, const OptTensor& bias, const ConvArgs& a, F&& f) {
  Tensor out = below_autograd([&] { return f(u, v, bias); });
  const Tensor no_bias;
  if (requires_grad({&u, &v, bias.has_value() ? &*bias : &no_bias})) {
    auto node = bias.has_value() ? record<BilinearBackward<Formula>>(out, u, v, bias)
                                 : record<BilinearBackward<Formula>>(out, u, v);
    node->u = SavedVariable(u, false);
    node->v = SavedVariable(v, false);
    node->conv.save(a);
  }
  const Tensor u_t = tangent(u), v_t = tangent(v), b_t = tangent(bias);
  if (u_t.defined() || v_t.defined() || b_t.defined()) {
    Tensor t = sum_defined(u_t.defined() ? f(u_t, primal(v), std::nullopt) : Tensor(),
                           v_t.defined() ? f(primal(u), v_t, std::nullopt) : Tensor());
    if (b_t.defined()) t = sum_defined(t, b_t.view({-1, 1, 1}).expand_as(out));
    set_tangent(out, t);
  }
  return out;
}

Tensor conv2d_autograd(const Tensor& input, const Tensor& weight, const OptTensor& bias, IntArrayRef stride,
                       IntArrayRef padding, IntArrayRef dilation, int64_t groups) {
  const ConvArgs a{stride, padding, dilation, groups};
  const OptTensor b = bias.has_value() && bias->defined() ? bias : std::nullopt;
  return bilinear<Conv2dFormula>(input, weight, b, a, [&](const Tensor& x, const Tensor& w, const OptTensor& bb) {
    return conv2d(x, w, bb, a);
  });
}

Tensor conv2d_input_grad_autograd(const Tensor& grad_output, const Tensor& weight, SymIntArrayRef input_size,
                                  IntArrayRef stride, IntArrayRef padding, IntArrayRef dilation, int64_t groups) {
  const ConvArgs a{stride, padding, dilation, groups};
  return bilinear<Conv2dInputGradFormula>(
      grad_output, weight, std::nullopt, a,
      [&](const Tensor& dy, const Tensor& w, const OptTensor&) { return conv2d_input_grad(dy, w, input_size, a); });
}

Tensor conv2d_weight_grad_autograd(const Tensor& grad_output, const Tensor& input, SymIntArrayRef weight_size,
                                   IntArrayRef stride, IntArrayRef padding, IntArrayRef dilation, int64_t groups) {
  const ConvArgs a{stride, padding, dilation, groups};
  return bilinear<Conv2dWeightGradFormula>(
      grad_output, input, std::nullopt, a,
      [&](const Tensor& dy, const Tensor& x, const OptTensor&) { return conv2d_weight_grad(dy, x, weight_size, a); });
}

// ---------------------------------------------------------------------------------------------
// Max pooling: max_pool2d and adaptive_max_pool2d return (values, indices); max_pool2d_values
// returns the values and keeps indices only when autograd or a tangent needs them. All three have
// the gradient max_pool2d_backward(dy, indices) and the tangent gather(t(x), indices).

struct MaxPoolBackward : Backward {
  SavedVariable indices;
  std::vector<c10::SymInt> input_size;
  std::string name() const override { return "torchconv::MaxPool2dBackward"; }
  variable_list apply(variable_list&& grads) override {
    const Tensor g = incoming(grads);
    if (!g.defined() || !wants(0)) return {Tensor()};
    return {max_pool2d_backward_op().call(g, indices.unpack(), input_size)};
  }
  void release_variables() override { indices.reset_data(); }
};

Tensor2 max_pool_autograd(const Tensor& input, Tensor2 pooled) {
  const auto& [out, indices] = pooled;
  if (requires_grad({&input})) {
    auto node = record<MaxPoolBackward>(out, input);
    node->indices = SavedVariable(indices, false);
    node->input_size = sym_vec(input.sym_sizes());
  }
  linear_tangent(out, input, [&](const Tensor& t) { return gather_planes(t, indices); });
  return pooled;
}

Tensor2 max_pool2d_autograd(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride, IntArrayRef padding,
                            IntArrayRef dilation, bool ceil_mode) {
  return max_pool_autograd(input, below_autograd([&] {
                             return max_pool2d_op().call(input, kernel_size, stride, padding, dilation, ceil_mode);
                           }));
}

Tensor max_pool2d_values_autograd(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride,
                                  IntArrayRef padding, IntArrayRef dilation, bool ceil_mode) {
  if (!requires_grad({&input}) && !tangent(input).defined())
    return below_autograd(
        [&] { return max_pool2d_values_op().call(input, kernel_size, stride, padding, dilation, ceil_mode); });
  return std::get<0>(max_pool2d_autograd(input, kernel_size, stride, padding, dilation, ceil_mode));
}

Tensor2 adaptive_max_pool2d_autograd(const Tensor& input, IntArrayRef output_size) {
  return max_pool_autograd(input, below_autograd([&] { return adaptive_max_pool2d_op().call(input, output_size); }));
}

// max_pool2d_backward(dy, indices) is linear in dy: its gradient and its tangent are gathers.
struct MaxPoolBackwardBackward : Backward {
  SavedVariable indices;
  std::string name() const override { return "torchconv::MaxPool2dBackwardBackward"; }
  variable_list apply(variable_list&& grads) override {
    if (!grads[0].defined() || !wants(0)) return {Tensor()};
    return {gather_planes(grads[0], indices.unpack())};
  }
  void release_variables() override { indices.reset_data(); }
};

Tensor max_pool2d_backward_autograd(const Tensor& grad_output, const Tensor& indices, SymIntArrayRef input_size) {
  Tensor out = below_autograd([&] { return max_pool2d_backward_op().call(grad_output, indices, input_size); });
  if (requires_grad({&grad_output})) {
    auto node = record<MaxPoolBackwardBackward>(out, grad_output);
    node->indices = SavedVariable(indices, false);
  }
  linear_tangent(out, grad_output,
                 [&](const Tensor& t) { return max_pool2d_backward_op().call(t, indices, input_size); });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Average pooling: avg_pool2d and adaptive_avg_pool2d are linear maps, and each backward op is the
// adjoint of its forward op: the gradient of either is the other.

struct AvgArgs {
  std::vector<int64_t> kernel_size, stride, padding;
  bool ceil_mode = false, count_include_pad = true;
  std::optional<int64_t> divisor_override;
  Tensor pool(const Tensor& x) const {
    return avg_pool2d_op().call(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override);
  }
  Tensor unpool(const Tensor& g, SymIntArrayRef input_size) const {
    return avg_pool2d_backward_op().call(g, input_size, kernel_size, stride, padding, ceil_mode, count_include_pad,
                                         divisor_override);
  }
};

// The node of a linear op: `Adjoint::apply(node, g)` is the op's adjoint applied to g.
template <class Adjoint>
struct LinearBackward : Backward {
  AvgArgs avg;
  std::vector<c10::SymInt> size;  // the adjoint's output size (avg_pool2d_backward, adaptive ops)
  std::string name() const override { return Adjoint::kName; }
  variable_list apply(variable_list&& grads) override {
    const Tensor g = incoming(grads);
    if (!g.defined() || !wants(0)) return {Tensor()};
    return {Adjoint::apply(*this, g)};
  }
};

struct AvgPoolAdjoint {
  static constexpr const char* kName = "torchconv::AvgPool2dBackward";
  static Tensor apply(const LinearBackward<AvgPoolAdjoint>& n, const Tensor& g) { return n.avg.unpool(g, n.size); }
};
struct AvgPoolBackwardAdjoint {
  static constexpr const char* kName = "torchconv::AvgPool2dBackwardBackward";
  static Tensor apply(const LinearBackward<AvgPoolBackwardAdjoint>& n, const Tensor& g) { return n.avg.pool(g); }
};
struct AdaptiveAvgPoolAdjoint {
  static constexpr const char* kName = "torchconv::AdaptiveAvgPool2dBackward";
  static Tensor apply(const LinearBackward<AdaptiveAvgPoolAdjoint>& n, const Tensor& g) {
    return adaptive_avg_pool2d_backward_op().call(g, n.size);
  }
};
struct AdaptiveAvgPoolBackwardAdjoint {
  static constexpr const char* kName = "torchconv::AdaptiveAvgPool2dBackwardBackward";
  static Tensor apply(const LinearBackward<AdaptiveAvgPoolBackwardAdjoint>& n, const Tensor& g) {
    // The output size of an adaptive pool is the model's constant: a symbolic one is specialised here.
    const std::vector<int64_t> size{n.size[0].guard_int(__FILE__, __LINE__), n.size[1].guard_int(__FILE__, __LINE__)};
    return adaptive_avg_pool2d_op().call(g, size);
  }
};

// Records the node of linear op `op` applied to `input`, whose adjoint is Adjoint with `avg` and
// `size`, and the tangent op(t(input)).
template <class Adjoint, class Op>
Tensor linear(const Tensor& input, Op&& op, const AvgArgs& avg, SymIntArrayRef size) {
  Tensor out = below_autograd([&] { return op(input); });
  if (requires_grad({&input})) {
    auto node = record<LinearBackward<Adjoint>>(out, input);
    node->avg = avg;
    node->size = sym_vec(size);
  }
  linear_tangent(out, input, op);
  return out;
}

Tensor avg_pool2d_autograd(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride, IntArrayRef padding,
                           bool ceil_mode, bool count_include_pad, std::optional<int64_t> divisor_override) {
  const AvgArgs a{kernel_size.vec(), stride.vec(), padding.vec(), ceil_mode, count_include_pad, divisor_override};
  return linear<AvgPoolAdjoint>(input, [&](const Tensor& x) { return a.pool(x); }, a, input.sym_sizes());
}

Tensor avg_pool2d_backward_autograd(const Tensor& grad_output, SymIntArrayRef input_size, IntArrayRef kernel_size,
                                    IntArrayRef stride, IntArrayRef padding, bool ceil_mode, bool count_include_pad,
                                    std::optional<int64_t> divisor_override) {
  const AvgArgs a{kernel_size.vec(), stride.vec(), padding.vec(), ceil_mode, count_include_pad, divisor_override};
  return linear<AvgPoolBackwardAdjoint>(grad_output, [&](const Tensor& g) { return a.unpool(g, input_size); }, a, {});
}

Tensor adaptive_avg_pool2d_autograd(const Tensor& input, IntArrayRef output_size) {
  return linear<AdaptiveAvgPoolAdjoint>(
      input, [&](const Tensor& x) { return adaptive_avg_pool2d_op().call(x, output_size); }, {}, input.sym_sizes());
}

Tensor adaptive_avg_pool2d_backward_autograd(const Tensor& grad_output, SymIntArrayRef input_size) {
  return linear<AdaptiveAvgPoolBackwardAdjoint>(
      grad_output, [&](const Tensor& g) { return adaptive_avg_pool2d_backward_op().call(g, input_size); }, {},
      grad_output.sym_sizes().slice(grad_output.dim() - 2));
}

}  // namespace

TORCH_LIBRARY_IMPL(torchconv, Autograd, m) {
  m.impl("conv2d", &conv2d_autograd);
  m.impl("conv2d_input_grad", &conv2d_input_grad_autograd);
  m.impl("conv2d_weight_grad", &conv2d_weight_grad_autograd);
  m.impl("max_pool2d", &max_pool2d_autograd);
  m.impl("max_pool2d_values", &max_pool2d_values_autograd);
  m.impl("adaptive_max_pool2d", &adaptive_max_pool2d_autograd);
  m.impl("max_pool2d_backward", &max_pool2d_backward_autograd);
  m.impl("avg_pool2d", &avg_pool2d_autograd);
  m.impl("avg_pool2d_backward", &avg_pool2d_backward_autograd);
  m.impl("adaptive_avg_pool2d", &adaptive_avg_pool2d_autograd);
  m.impl("adaptive_avg_pool2d_backward", &adaptive_avg_pool2d_backward_autograd);
}

}  // namespace autograd
}  // namespace torchconv
