// Autocast for torchconv's convolutions, on the CPU and on CUDA. Inside torch.autocast, PyTorch runs
// its convolutions in the autocast dtype (they are on its lower-precision list); torchconv's conv2d,
// conv2d_input_grad, conv2d_weight_grad and conv_transpose2d do the same: every floating-point tensor
// argument on the autocast device except float64 is cast to the device's autocast dtype (through
// autocast's weight cache), and the op runs again below the Autocast key. Pooling ops have no kernel
// here: autocast falls through for them and they run in their input's dtype, as PyTorch's pooling does.
#include <ATen/autocast_mode.h>
#include <torch/library.h>

namespace torchconv {
namespace autocast {
namespace {

template <c10::DeviceType device>
void cast_to_autocast_dtype(const c10::OperatorHandle& op, torch::jit::Stack* stack) {
  c10::impl::ExcludeDispatchKeyGuard no_autocast(at::autocast::get_autocast_dispatch_key_from_device_type(device));
  const auto dtype = at::autocast::get_autocast_dtype(device);
  const auto args = static_cast<std::ptrdiff_t>(op.schema().arguments().size());
  for (auto arg = stack->end() - args; arg != stack->end(); ++arg) {
    if (arg->isTensor()) *arg = at::autocast::cached_cast(dtype, arg->toTensor(), device);
  }
  op.callBoxed(stack);
}

constexpr const char* kConvOps[] = {"conv2d", "conv2d_input_grad", "conv2d_weight_grad", "conv_transpose2d"};

}  // namespace

TORCH_LIBRARY_IMPL(torchconv, AutocastCPU, m) {
  for (const char* name : kConvOps)
    m.impl(name, torch::CppFunction::makeFromBoxedFunction<&cast_to_autocast_dtype<c10::DeviceType::CPU>>());
}

TORCH_LIBRARY_IMPL(torchconv, AutocastCUDA, m) {
  for (const char* name : kConvOps)
    m.impl(name, torch::CppFunction::makeFromBoxedFunction<&cast_to_autocast_dtype<c10::DeviceType::CUDA>>());
}

}  // namespace autocast
}  // namespace torchconv
