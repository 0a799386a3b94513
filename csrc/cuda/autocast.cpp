// Autocast for torchconv's convolutions on CUDA. Inside torch.autocast("cuda"), PyTorch runs its
// convolutions in the autocast dtype (they are on its lower-precision list); torchconv's conv2d,
// conv2d_input_grad and conv2d_weight_grad do the same: every floating-point CUDA tensor argument
// except float64 is cast to the autocast dtype (through autocast's weight cache), and the op runs
// again below the Autocast key. Pooling ops have no kernel here: autocast falls through for them
// and they run in their input's dtype, as PyTorch's pooling does.
#include <ATen/autocast_mode.h>
#include <torch/library.h>

namespace torchconv {
namespace cuda {
namespace {

void cast_to_autocast_dtype(const c10::OperatorHandle& op, torch::jit::Stack* stack) {
  c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::DispatchKey::AutocastCUDA);
  const auto dtype = at::autocast::get_autocast_dtype(at::kCUDA);
  const auto args = static_cast<std::ptrdiff_t>(op.schema().arguments().size());
  for (auto arg = stack->end() - args; arg != stack->end(); ++arg) {
    if (arg->isTensor()) *arg = at::autocast::cached_cast(dtype, arg->toTensor(), c10::DeviceType::CUDA);
  }
  op.callBoxed(stack);
}

}  // namespace

TORCH_LIBRARY_IMPL(torchconv, AutocastCUDA, m) {
  for (const char* name : {"conv2d", "conv2d_input_grad", "conv2d_weight_grad"}) {
    m.impl(name, torch::CppFunction::makeFromBoxedFunction<&cast_to_autocast_dtype>());
  }
}

}  // namespace cuda
}  // namespace torchconv
