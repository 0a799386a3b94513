"""Build torchconv: the CPU extension always; CUDA sources when a CUDA toolkit and a CUDA build of
PyTorch are present, or when FORCE_CUDA=1."""
import glob
import os
import sys

from setuptools import find_packages, setup

try:
    import torch
    from torch.utils.cpp_extension import CUDA_HOME, BuildExtension, CppExtension, CUDAExtension
except ImportError:
    sys.exit("torchconv needs PyTorch to build: install it first (e.g. `pip install torch`), "
             "then run `pip install --no-build-isolation -e .`")

from packaging.version import Version

MIN_TORCH = "2.4"
if Version(torch.__version__.split("+")[0]) < Version(MIN_TORCH):
    sys.exit(f"torchconv needs PyTorch >= {MIN_TORCH}, found {torch.__version__}")

ROOT = os.path.dirname(os.path.abspath(__file__))


def rel(pattern):
    return sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, pattern)))


def want_cuda():
    if os.environ.get("FORCE_CUDA", "0") == "1":
        return True
    return torch.version.cuda is not None and CUDA_HOME is not None


def default_cuda_arch_list():
    """TORCH_CUDA_ARCH_LIST wins; otherwise the local GPU's architecture, else sm_80 and sm_90."""
    if os.environ.get("TORCH_CUDA_ARCH_LIST"):
        return
    if torch.cuda.is_available():
        major, minor = torch.cuda.get_device_capability()
        os.environ["TORCH_CUDA_ARCH_LIST"] = f"{major}.{minor}"
    else:
        os.environ["TORCH_CUDA_ARCH_LIST"] = "8.0;9.0"


sources = (rel("csrc/*.cpp") + rel("csrc/autograd/*.cpp") + rel("csrc/autocast/*.cpp") + rel("csrc/cpu/*.cpp")
           + rel("csrc/cpu/isa/*.cpp"))
cxx_flags = ["-O3", "-std=c++17", "-ffp-contract=fast", "-fopenmp", "-fvisibility=hidden"]
link_flags = ["-fopenmp"]
include_dirs = [os.path.join(ROOT, "csrc")]

if want_cuda():
    default_cuda_arch_list()
    ext = CUDAExtension(
        "torchconv._C",
        sources + rel("csrc/cuda/*.cu"),
        include_dirs=include_dirs,
        define_macros=[("TORCHCONV_WITH_CUDA", "1")],
        extra_compile_args={"cxx": cxx_flags, "nvcc": ["-O3", "-std=c++17", "--expt-relaxed-constexpr"]},
        extra_link_args=link_flags,
    )
else:
    ext = CppExtension("torchconv._C", sources, include_dirs=include_dirs,
                       extra_compile_args={"cxx": cxx_flags}, extra_link_args=link_flags)

setup(
    packages=find_packages(include=["torchconv", "torchconv.*"]),
    ext_modules=[ext],
    cmdclass={"build_ext": BuildExtension.with_options(use_ninja=True)},
)
