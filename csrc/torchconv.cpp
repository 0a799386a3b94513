// Every torchconv op schema, declared once. Backends register kernels with TORCH_LIBRARY_IMPL in
// csrc/cpu (CPU) and csrc/cuda (CUDA), the dispatcher layers above them in csrc/autograd and
// csrc/autocast; the fake (meta) kernels, which compile and export trace with, are in
// torchconv/_ops.py. Sizes that follow the input's shape are SymInt, so dynamic shapes stay symbolic.
//
// Op set: the forward ops, and one op per gradient so that only what autograd needs is computed.
//   conv2d                          y = conv(x, w) + b
//   conv2d_input_grad               dx from dy and w (this is also conv_transpose2d's forward)
//   conv2d_weight_grad              dw from dy and x
//   conv_transpose2d                conv2d_input_grad + bias, composite (csrc/conv_transpose.cpp)
//   max_pool2d / adaptive_max_pool2d       (values, int64 indices into each H*W plane)
//   max_pool2d_values               values only: indices are kept only when autograd needs them
//   max_pool2d_backward             dx from dy and indices (serves both max pools)
//   avg_pool2d, avg_pool2d_backward
//   adaptive_avg_pool2d, adaptive_avg_pool2d_backward
// Inputs are (N, C, H, W) or unbatched (C, H, W); size arguments follow the input's rank.
#include <Python.h>
#include <torch/library.h>

#include "cpu/isa.h"

namespace {
// torchconv._C.cpu_isa(): the instruction set the CPU kernels use.
PyObject* cpu_isa(PyObject*, PyObject*) {
  try {
    return PyUnicode_FromString(torchconv::cpu::isa_name(torchconv::cpu::active_isa()));
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
    return nullptr;
  }
}
PyMethodDef methods[] = {{"cpu_isa", cpu_isa, METH_NOARGS, "CPU instruction set in use"}, {nullptr, nullptr, 0, nullptr}};
}  // namespace

extern "C" {
// `import torchconv._C` loads this library, whose static initialisers register the ops.
PyMODINIT_FUNC PyInit__C(void) {
  static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_C", nullptr, -1, methods};
  return PyModule_Create(&module);
}
}

TORCH_LIBRARY(torchconv, m) {
  m.def("conv2d(Tensor input, Tensor weight, Tensor? bias, int[2] stride, int[2] padding, "
        "int[2] dilation, int groups) -> Tensor");
  m.def("conv2d_input_grad(Tensor grad_output, Tensor weight, SymInt[] input_size, int[2] stride, "
        "int[2] padding, int[2] dilation, int groups) -> Tensor");
  m.def("conv2d_weight_grad(Tensor grad_output, Tensor input, SymInt[] weight_size, int[2] stride, "
        "int[2] padding, int[2] dilation, int groups) -> Tensor");
  m.def("conv_transpose2d(Tensor input, Tensor weight, Tensor? bias, int[2] stride, int[2] padding, "
        "int[2] output_padding, int groups, int[2] dilation) -> Tensor");
  m.def("max_pool2d(Tensor input, int[2] kernel_size, int[2] stride, int[2] padding, "
        "int[2] dilation, bool ceil_mode) -> (Tensor, Tensor)");
  m.def("max_pool2d_values(Tensor input, int[2] kernel_size, int[2] stride, int[2] padding, "
        "int[2] dilation, bool ceil_mode) -> Tensor");
  m.def("max_pool2d_backward(Tensor grad_output, Tensor indices, SymInt[] input_size) -> Tensor");
  m.def("avg_pool2d(Tensor input, int[2] kernel_size, int[2] stride, int[2] padding, "
        "bool ceil_mode, bool count_include_pad, int? divisor_override) -> Tensor");
  m.def("avg_pool2d_backward(Tensor grad_output, SymInt[] input_size, int[2] kernel_size, "
        "int[2] stride, int[2] padding, bool ceil_mode, bool count_include_pad, "
        "int? divisor_override) -> Tensor");
  m.def("adaptive_avg_pool2d(Tensor input, int[2] output_size) -> Tensor");
  m.def("adaptive_avg_pool2d_backward(Tensor grad_output, SymInt[] input_size) -> Tensor");
  m.def("adaptive_max_pool2d(Tensor input, int[2] output_size) -> (Tensor, Tensor)");
}
