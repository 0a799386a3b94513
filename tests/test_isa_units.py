"""Code compiled for an ISA the CPU may lack never runs before the run-time choice (csrc/cpu/isa/dispatch.cpp).

Two ways such code escapes its ISA, each checked here:
- a dynamic initialiser in an ISA unit runs at load time, whatever the CPU;
- an inline or template function of another namespace (std::min, a helper of a shared header) compiled in
  an ISA unit is a weak definition; the linker keeps one copy of it for the whole library, maybe the
  AVX-512 one, and ISA-independent code then calls it.

The first test compiles each kernels_<isa>.cpp at -O0, where no inline function is inlined and every one
used is therefore emitted, and reads its symbols: no initialiser, nothing defined outside its namespace.
The second disassembles the built library and fails on an instruction beyond the baseline ISA outside the
namespace of the ISA that allows it, and on a direct call or jump into an ISA namespace from outside it
(ISA code is reached only through the tables that the dispatch picks).
"""
import glob
import importlib.util
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ISA_UNITS = sorted(glob.glob(os.path.join(ROOT, "csrc", "cpu", "isa", "kernels_*.cpp")))
ISAS = ("scalar", "avx2", "avx512")


def tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def test_every_isa_has_a_unit():
    assert [os.path.basename(p) for p in ISA_UNITS] == sorted(f"kernels_{isa}.cpp" for isa in ISAS)


@pytest.mark.parametrize("unit", ISA_UNITS, ids=os.path.basename)
def test_isa_unit_defines_nothing_outside_its_namespace(unit, tmp_path):
    isa = re.fullmatch(r"kernels_(\w+)\.cpp", os.path.basename(unit)).group(1)
    cxx = tool(os.environ.get("CXX", "c++"))
    obj = tmp_path / f"{isa}.o"
    subprocess.run([cxx, "-O0", "-std=c++17", "-fopenmp", "-I", os.path.join(ROOT, "csrc"), "-c", unit,
                    "-o", str(obj)], check=True, capture_output=True, text=True, timeout=300)
    sections = subprocess.run([tool("readelf"), "-SW", str(obj)], check=True, capture_output=True,
                              text=True).stdout
    initialisers = re.findall(r"\.(?:init_array|ctors)\S*", sections)
    assert not initialisers, f"{os.path.basename(unit)} has a dynamic initialiser ({initialisers[0]})"
    symbols = subprocess.run([tool("nm"), "-C", "--defined-only", str(obj)], check=True, capture_output=True,
                             text=True).stdout.splitlines()
    # Upper-case kinds (and u, v, w, i) are visible to the linker; lower-case t, d, b, r are local.
    outside = [line for line in symbols
               if line.split()[1] not in "tdbrn" and f"torchconv::cpu::{isa}::" not in line]
    assert not outside, f"{os.path.basename(unit)} defines outside torchconv::cpu::{isa}:\n" + "\n".join(outside)


# What each ISA namespace may execute: AVX-512 anything, AVX2 the VEX encodings, the rest of the library
# the x86-64 baseline. AVX-512 shows in its registers (zmm, xmm16-31/ymm16-31, mask registers), masking
# and broadcasts, and in the EVEX-only instructions GCC emits.
AVX512 = re.compile(r"%zmm|%[xy]mm(1[6-9]|2\d|3[01])\b|%k[0-7]\b|\{1to\d+\}|"
                    r"^(vmovdq[au](8|16|32|64)|vpternlog|vperm[it]2|vp?compress|vp?expand|v(insert|extract)[if](32|64)x|"
                    r"vshuf[if](32|64)x|valign[dq]|vp?blendm|vptestn?m|vrcp14|vrsqrt14|vscalef|vgetexp|vgetmant|"
                    r"vfixupimm|vrange|vreduce|vpro[lr]|vpsra[v]?q|vpmullq|vp(abs|max|min)[su]?q|vpmovu?s?[qdw][bdw]\b|"
                    r"vpconflict|vplzcnt|vbroadcast[if](32|64)x|vpbroadcastm|vcvtne2?ps2bf16|vdpbf16ps)")
BEYOND_BASELINE = re.compile(r"^v(?!err|erw)|%ymm|^(andn|bextr|blsi|blsmsk|blsr|bzhi|mulx|pdep|pext|rorx|sarx|"
                             r"shlx|shrx|popcnt|lzcnt|movbe|crc32)\b")


def isa_of(symbol):
    """The ISA namespace a mangled function name belongs to (with its clones and local lambdas), else None."""
    for isa in ISAS:
        if re.match(rf"_Z+N9torchconv3cpu{len(isa)}{isa}", symbol):
            return isa
    return None


def violation(isa, insn):
    target = re.match(r"^(call|jmp|j[a-z]+)\s+[0-9a-f]+ <([^>+@]+)", insn)
    if target and isa_of(target.group(2)) not in (None, isa):
        return True
    if isa == "avx512":
        return False
    if isa == "avx2":
        return bool(AVX512.search(insn))
    return bool(BEYOND_BASELINE.search(insn))


def test_library_runs_isa_code_only_inside_its_namespace():
    # Found without importing torchconv, which is what an escaped instruction would crash.
    package = os.path.dirname(importlib.util.find_spec("torchconv").origin)
    libraries = glob.glob(os.path.join(package, "_C.*.so")) + glob.glob(os.path.join(package, "_C.so"))
    assert libraries, f"no built torchconv._C in {package}"
    library = libraries[0]
    listing = subprocess.run([tool("objdump"), "-d", "--no-show-raw-insn", library], check=True,
                             capture_output=True, text=True).stdout
    bad, function, isa, functions = {}, None, None, 0
    for line in listing.splitlines():
        head = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
        if head:
            function, functions = head.group(1), functions + 1
            isa = isa_of(function)
            continue
        insn = line.split("\t", 1)
        if function is None or len(insn) < 2 or not insn[0].strip().endswith(":"):
            continue
        insn = insn[1].strip()
        if violation(isa, insn):
            bad.setdefault(function, insn)
    assert functions > 100, f"objdump listed only {functions} functions of {library}"
    demangled = subprocess.run([tool("c++filt")], input="\n".join(bad), capture_output=True,
                               text=True).stdout.splitlines() if bad else []
    assert not bad, (f"{len(bad)} functions of {os.path.basename(library)} execute instructions or call code their ISA "
                     "namespace does not allow, e.g.:\n" +
                     "\n".join(f"  {name[:150]}: {insn}" for name, insn in list(zip(demangled, bad.values()))[:20]))
