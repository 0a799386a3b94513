"""Benchmark torchconv against PyTorch on the layer suite of ``benchmarks/suite.py``.

Method
------
* Baseline: ``torch.nn.functional`` (oneDNN on the CPU, cuDNN on the GPU). Candidate:
  ``torchconv.functional``. ``speedup = baseline time / torchconv time`` (> 1: torchconv is faster).
* Every layer runs in each dtype, memory format (NCHW = contiguous, channels_last: input and weight)
  and pass:

      fwd     y = f(x, w)
      fwdbwd  y = f(x, w); torch.autograd.grad(y, [x, w], gy)   with a fixed random gy

  (input and weight gradients for convolutions, the input gradient for pooling). Both sides get the
  very same tensors: same values, dtype and memory format.
* Both sides run in one process, interleaved A B B A ..., so that drifting clocks, temperature or
  background load hit both alike. After warm-up each side runs until it has spent a time budget
  (bounded by a minimum and maximum repetition count); the reported time is the median.
* CPU: ``time.perf_counter`` around each call. GPU: CUDA events around each call,
  ``torch.backends.cudnn.benchmark = True``, TF32 set identically for both sides (``--tf32``, default off).
* Throughput. Convolutions: GFLOP/s with ``2*N*K*P*Q*(C/groups)*R*S`` flops per forward and three times
  that for fwdbwd (the input and the weight gradient each cost one forward). Pooling: GB/s of the bytes
  that must move, input read + output written, twice that for fwdbwd (gy read + grad input written).
  "% peak" is torchconv's throughput against ``--peak-gflops`` (convolutions) or the measured
  memory-copy bandwidth (pooling; ``--peak-gbps`` overrides it). The copy runs on buffers far larger
  than the caches, so a pooling layer whose input stays cache-resident between calls can exceed 100%.
* Accuracy: relative error ``||a - b|| / ||b||`` of torchconv's result against PyTorch's in the same dtype;
  for fwdbwd the largest over the output and the gradients.
* Summary: geometric-mean speedups per part of the performance targets (DESIGN.md section 6) and the
  worst single case.

Usage (from the repository root)::

    python benchmarks/bench.py                    # full suite: CPU, plus CUDA when available
    python benchmarks/bench.py --quick            # a subset with fewer repetitions
    python benchmarks/bench.py --filter resnet50 --device cpu --threads 2 --plot
    python benchmarks/bench.py --small-calls --device cpu   # per-call cost on tiny tensors

Results go to ``benchmarks/results/<device>-<date>.json`` (and ``.png`` with ``--plot``). The pieces
(``bench_layer``, ``run``, ``summarize``, ``print_table``, ``machine_info``, ``plot``) can be imported
from other scripts: ``from benchmarks.bench import bench_layer``.
"""
import argparse
import datetime
import importlib.util
import json
import math
import platform
import re
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

if __package__ in (None, ""):  # run as a script: make the `benchmarks` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torchconv  # noqa: E402
import torchconv.functional as TF  # noqa: E402
from benchmarks.suite import LAYERS  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "benchmarks" / "results"
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16, "fp64": torch.float64}
FORMATS = {"NCHW": torch.contiguous_format, "channels_last": torch.channels_last}
PASSES = ("fwd", "fwdbwd")
PLOT_HINT = 'pip install -e ".[bench]"'


@dataclass
class Timing:
    """How long each side runs per measurement, after `warmup` calls: until it has spent `budget_s`
    seconds, but at least `min_reps` and at most `max_reps` calls."""
    warmup: int = 2
    min_reps: int = 5
    max_reps: int = 25
    budget_s: float = 0.5


QUICK_TIMING = Timing(warmup=1, min_reps=3, max_reps=5, budget_s=0.05)


def default_peak_gflops(device, dtype, tf32=False):
    """Peak arithmetic rate the "% peak" column is measured against.

    CPU: the 2-core AVX-512 machine of DESIGN.md (fp32 FMA; bf16 dot products do twice the work per
    instruction). GPU: H100 dense tensor-core rates: 790 TFLOP/s bf16/fp16, half that for TF32, and the
    67 TFLOP/s of plain fp32 FMA when TF32 is off.
    """
    if device == "cpu":
        return {torch.bfloat16: 900.0, torch.float64: 225.0}.get(dtype, 450.0)
    if dtype in (torch.bfloat16, torch.float16):
        return 790e3
    if dtype == torch.float32:
        return 395e3 if tf32 else 67e3
    return 34e3


# ---------------------------------------------------------------------------------------------------
# Timing


def _time_calls(fns, device):
    """Run `fns` in order; the seconds each call took. CPU: perf_counter. GPU: a pair of CUDA events
    around each call, all read after one synchronisation at the end."""
    if device == "cuda":
        events = []
        for fn in fns:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            events.append((start, end))
        torch.cuda.synchronize()
        return [start.elapsed_time(end) / 1e3 for start, end in events]
    times = []
    for fn in fns:
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def compare(fn_a, fn_b, device="cpu", timing=Timing()):
    """Time two callables interleaved (A B, B A, A B, ...) after warm-up.

    Returns (times_a, times_b) in seconds, one entry per timed call.
    """
    warm = _time_calls([fn_a, fn_b] * timing.warmup, device) if timing.warmup else []
    per_call = max(warm[-2:]) if warm else 0.0
    reps = timing.max_reps if per_call <= 0 else math.ceil(timing.budget_s / per_call)
    reps = max(timing.min_reps, min(timing.max_reps, reps))
    order = [side for i in range(reps) for side in ((0, 1) if i % 2 == 0 else (1, 0))]
    times = _time_calls([(fn_a, fn_b)[side] for side in order], device)
    return ([t for side, t in zip(order, times) if side == 0],
            [t for side, t in zip(order, times) if side == 1])


def copy_bandwidth_gbps(device="cpu"):
    """Memory-copy bandwidth in GB/s (bytes read + bytes written per second) on buffers far larger than
    the caches: the ceiling for pooling, which reads its input and writes its output once."""
    numel = (128 << 20 if device == "cpu" else 1 << 30) // 4
    src = torch.ones(numel, device=device)
    dst = torch.empty_like(src)
    times = _time_calls([lambda: dst.copy_(src)] * 10, device)[2:]
    return 2 * src.nbytes / statistics.median(times) / 1e9


# ---------------------------------------------------------------------------------------------------
# One layer


def make_inputs(layer, batch, device="cpu", dtype=torch.float32, memory_format=torch.contiguous_format):
    """The input x and, for a convolution, the weight (scaled by 1/sqrt(fan-in) so outputs stay O(1)),
    from a fixed seed, in the given dtype and memory format."""
    gen = torch.Generator(device).manual_seed(0)
    tensors = [torch.randn(batch, layer.channels, layer.size, layer.size, generator=gen, device=device)]
    if layer.is_conv:
        c_per_group = layer.channels // layer.args.get("groups", 1)
        w = torch.randn(layer.out_channels, c_per_group, layer.kernel, layer.kernel, generator=gen, device=device)
        tensors.append(w / math.sqrt(c_per_group * layer.kernel ** 2))
    return [t.to(dtype).contiguous(memory_format=memory_format) for t in tensors]


def layer_fn(layer, lib):
    """The layer as a function of its tensors, computed by `lib` (torch.nn.functional or torchconv)."""
    op = getattr(lib, layer.op)
    return lambda *tensors: op(*tensors, **layer.args)


def work(layer, x, y, pass_):
    """Flops (convolution) or bytes (pooling) one call of the pass has to do."""
    if layer.is_conv:
        n, k, p, q = y.shape
        flops = 2 * n * k * p * q * (x.shape[1] // layer.args.get("groups", 1)) * layer.kernel ** 2
        return flops * (3 if pass_ == "fwdbwd" else 1)
    nbytes = (x.numel() + y.numel()) * x.element_size()
    return nbytes * (2 if pass_ == "fwdbwd" else 1)


def rel_err(a, b):
    """||a - b|| / ||b|| in float64 (the absolute norm when b is zero)."""
    a, b = a.detach().double(), b.detach().double()
    diff, ref = torch.linalg.vector_norm(a - b).item(), torch.linalg.vector_norm(b).item()
    return diff / ref if ref > 0 else diff


def _dtype_name(dtype):
    return next(name for name, d in DTYPES.items() if d == dtype)


def bench_layer(layer, device="cpu", dtype=torch.float32, fmt="NCHW", pass_="fwd", batch=None,
                timing=Timing(), peak_gflops=None, peak_gbps=None):
    """Benchmark one layer on both sides; returns a JSON-ready row. An exception on either side
    (e.g. an unsupported dtype) is recorded in row["error"] instead of raised."""
    batch = batch or layer.batch
    row = {"case": layer.name, "op": layer.op, "device": device, "dtype": _dtype_name(dtype), "format": fmt,
           "pass": pass_, "batch": batch, "args": dict(layer.args), "error": None}
    try:
        tensors = make_inputs(layer, batch, device, dtype, FORMATS[fmt])
        row["shapes"] = [list(t.shape) for t in tensors]
        sides = {"torchconv": layer_fn(layer, TF), "pytorch": layer_fn(layer, F)}
        with torch.no_grad():
            y = sides["pytorch"](*tensors)
        names = ["out"]
        if pass_ == "fwdbwd":
            gy = torch.randn(y.shape, generator=torch.Generator(device).manual_seed(1), device=device)
            gy = gy.to(dtype).contiguous(memory_format=FORMATS[fmt])
            for t in tensors:
                t.requires_grad_(True)
            names += ["grad_input", "grad_weight"][:len(tensors)]

            def step(fn):
                def call():
                    out = fn(*tensors)
                    return (out, *torch.autograd.grad(out, tensors, gy))
                return call
        else:
            def step(fn):
                return lambda: (fn(*tensors),)
        calls = {side: step(fn) for side, fn in sides.items()}

        # The first call of each side gives the results to compare (and counts as warm-up).
        results = {side: call() for side, call in calls.items()}
        row["rel_err"] = {name: rel_err(a, b) for name, a, b in zip(names, results["torchconv"], results["pytorch"])}
        row["rel_err_max"] = max(row["rel_err"].values())
        del results

        t_tc, t_pt = compare(calls["torchconv"], calls["pytorch"], device, timing)
        amount = work(layer, tensors[0], y, pass_)
        unit, peak = ("GFLOP/s", peak_gflops) if layer.is_conv else ("GB/s", peak_gbps)
        row.update(
            torchconv_ms=statistics.median(t_tc) * 1e3, pytorch_ms=statistics.median(t_pt) * 1e3,
            torchconv_min_ms=min(t_tc) * 1e3, pytorch_min_ms=min(t_pt) * 1e3, reps=len(t_tc),
            work=amount, unit=unit, peak=peak)
        row["speedup"] = row["pytorch_ms"] / row["torchconv_ms"]
        row["torchconv_throughput"] = amount / row["torchconv_ms"] / 1e6  # per ms -> G per s
        row["pytorch_throughput"] = amount / row["pytorch_ms"] / 1e6
        row["pct_peak"] = 100 * row["torchconv_throughput"] / peak if peak else None
    except Exception as exc:  # noqa: BLE001  (one failing case must not end the run)
        message = str(exc).strip().splitlines()
        row["error"] = f"{type(exc).__name__}: {message[0]}" if message else type(exc).__name__
    return row


# ---------------------------------------------------------------------------------------------------
# The suite


class _Progress:
    """A tqdm bar when tqdm is installed, otherwise one line per finished measurement."""

    def __init__(self, total, label, enabled=True):
        self.total, self.label, self.count, self.enabled, self.bar = total, label, 0, enabled, None
        if enabled:
            try:
                from tqdm import tqdm
                self.bar = tqdm(total=total, desc=label, unit="case", dynamic_ncols=True, leave=False)
            except ImportError:
                pass

    def start(self, text):
        if self.bar is not None:
            self.bar.set_postfix_str(text)

    def done(self, row):
        self.count += 1
        if self.bar is not None:
            self.bar.update()
        elif self.enabled:
            what = f"{row['case']} {row['pass']} {row['format']}"
            if row["error"]:
                result = row["error"]
            else:
                result = (f"torchconv {row['torchconv_ms']:.3f} ms, PyTorch {row['pytorch_ms']:.3f} ms, "
                          f"{row['speedup']:.2f}x")
            print(f"[{self.count:>{len(str(self.total))}}/{self.total}] {self.label} {what}: {result}", flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def run(layers, device="cpu", dtypes=(torch.float32,), formats=tuple(FORMATS), passes=PASSES, batch=None,
        batch_scale=1, timing=Timing(), peak_gflops=None, peak_gbps=None, tf32=False, progress=True):
    """Benchmark every (dtype, layer, format, pass) on one device; returns the rows.

    batch: one batch size for every layer; default: each layer's own times `batch_scale`.
    peak_gflops: default per dtype from `default_peak_gflops`. peak_gbps: default none (no % column).
    """
    jobs = [(dtype, layer, fmt, pass_) for dtype in dtypes for layer in layers for fmt in formats for pass_ in passes]
    bar = _Progress(len(jobs), device, progress)
    rows = []
    try:
        for dtype, layer, fmt, pass_ in jobs:
            bar.start(f"{_dtype_name(dtype)} {layer.name} {pass_} {fmt}")
            peak = peak_gflops or default_peak_gflops(device, dtype, tf32)
            rows.append(bench_layer(layer, device, dtype, fmt, pass_, batch or layer.batch * batch_scale, timing,
                                    peak, peak_gbps))
            bar.done(rows[-1])
            if device == "cuda":
                torch.cuda.empty_cache()
    finally:
        bar.close()
    return rows


def configure_cuda(tf32):
    """cuDNN autotuning on; TF32 for convolutions and matmuls set to `tf32`. torchconv reads the same
    global flags, so both sides run under identical settings."""
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32


# ---------------------------------------------------------------------------------------------------
# Summary


def _parts(device, dtype):
    """(name, row filter, target) per part of the performance targets of DESIGN.md section 6."""
    low_precision = dtype in ("bf16", "fp16")
    parts = []
    for pass_ in PASSES:
        for fmt in FORMATS:
            if device == "cpu":
                target = 1.2 if (pass_, fmt) == ("fwd", "NCHW") else 1.0
            else:
                target = 0.9 if not low_precision else 1.0 if fmt == "channels_last" else None
            parts.append((f"conv {pass_} {fmt}", lambda r, p=pass_, f=fmt: r["op"] == "conv2d"
                          and r["pass"] == p and r["format"] == f, target))
    parts.append(("depthwise/grouped conv", lambda r: r["op"] == "conv2d" and r["args"].get("groups", 1) > 1,
                  1.3 if device == "cuda" else None))
    for pass_ in PASSES:
        for fmt in FORMATS:
            target = 1.3 if device == "cuda" else 3.0 if fmt == "NCHW" else 1.0
            parts.append((f"pool {pass_} {fmt}", lambda r, p=pass_, f=fmt: r["op"] != "conv2d"
                          and r["pass"] == p and r["format"] == f, target))
    return parts


def geomean(values):
    values = list(values)
    return math.exp(sum(math.log(v) for v in values) / len(values))


def summarize(rows):
    """Geomean speedup per part of the targets and the worst case, per (device, dtype)."""
    summary = []
    for device, dtype in dict.fromkeys((r["device"], r["dtype"]) for r in rows):
        done = [r for r in rows if (r["device"], r["dtype"]) == (device, dtype) and not r["error"]]
        for name, keep, target in _parts(device, dtype):
            selected = [r["speedup"] for r in done if keep(r)]
            if selected:
                g = geomean(selected)
                summary.append({"device": device, "dtype": dtype, "part": name, "geomean": g, "n": len(selected),
                                "target": target, "met": None if target is None else g >= target})
        if done:
            worst = min(done, key=lambda r: r["speedup"])
            summary.append({"device": device, "dtype": dtype, "part": "worst case", "speedup": worst["speedup"],
                            "case": f"{worst['case']} {worst['pass']} {worst['format']}"})
    return summary


# ---------------------------------------------------------------------------------------------------
# Output


def print_table(rows, file=sys.stdout):
    """One line per row: times, speedup, torchconv's throughput and % of peak, relative error."""
    width = max([len(r["case"]) for r in rows] + [4])
    head = (f"{'case':<{width}}  {'pass':<6}  {'format':<13}  {'dtype':<5}  {'torchconv ms':>12}  {'PyTorch ms':>10}"
            f"  {'speedup':>7}  {'GFLOP/s | GB/s':>15}  {'% peak':>6}  {'rel err':>7}")
    print(head, file=file)
    print("-" * len(head), file=file)
    for r in rows:
        lead = f"{r['case']:<{width}}  {r['pass']:<6}  {r['format']:<13}  {r['dtype']:<5}"
        if r["error"]:
            print(f"{lead}  error: {r['error']}", file=file)
            continue
        throughput = f"{r['torchconv_throughput']:.1f} {r['unit']}"
        pct = f"{r['pct_peak']:.1f}" if r["pct_peak"] is not None else "-"
        print(f"{lead}  {r['torchconv_ms']:>12.3f}  {r['pytorch_ms']:>10.3f}  {r['speedup']:>6.2f}x  "
              f"{throughput:>15}  {pct:>6}  {r['rel_err_max']:>7.1e}", file=file)


def print_summary(summary, file=sys.stdout):
    print("Geomean speedup, torchconv vs PyTorch (> 1: torchconv is faster)", file=file)
    for s in summary:
        value = s["speedup"] if s["part"] == "worst case" else s["geomean"]
        lead = f"  {s['device']:<4} {s['dtype']:<4}  {s['part']:<26}  {value:>6.2f}x"
        if s["part"] == "worst case":
            print(f"{lead}  {s['case']}", file=file)
        else:
            verdict = "" if s["target"] is None else \
                f"  target >= {s['target']:.1f}  {'met' if s['met'] else 'NOT met'}"
            print(f"{lead}  n={s['n']:<3}{verdict}".rstrip(), file=file)


def markdown_report(info, rows, summary):
    """The README's benchmark section: machine, per-layer table and geomeans, as Markdown."""
    lines = [f"Measured {info['date'][:10]} on {info['cpu']} ({info['threads']} threads, torchconv ISA "
             f"{info['cpu_isa']}), torch {info['torch']}; `python benchmarks/bench.py "
             f"{' '.join(sys.argv[1:])}`.", "",
             "| layer | pass | format | torchconv ms | PyTorch ms | speedup | torchconv throughput | % peak |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        if r["error"]:
            continue
        pct = f"{r['pct_peak']:.0f}" if r["pct_peak"] is not None else "-"
        lines.append(f"| {r['case']} | {r['pass']} | {r['format']} | {r['torchconv_ms']:.2f} | {r['pytorch_ms']:.2f} | "
                     f"{r['speedup']:.2f}x | {r['torchconv_throughput']:.0f} {r['unit']} | {pct} |")
    lines += ["", "| part | geomean speedup | target |", "|---|---:|---|"]
    for s in summary:
        if s["part"] == "worst case":
            lines.append(f"| worst case ({s['case']}) | {s['speedup']:.2f}x | |")
        else:
            target = "" if s["target"] is None else f"≥ {s['target']:.1f} ({'met' if s['met'] else 'not met'})"
            lines.append(f"| {s['device']} {s['dtype']} {s['part']} | {s['geomean']:.2f}x | {target} |")
    return "\n".join(lines) + "\n"


def _command_output(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10, cwd=REPO).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def cpu_model():
    """The CPU's model name: /proc/cpuinfo, else lscpu, else platform."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    for line in _command_output("lscpu").splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine_info(devices):
    """Where and with what the numbers were taken."""
    info = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchconv": torchconv.__version__,
        "git_commit": _command_output("git", "rev-parse", "HEAD") or None,
        "git_dirty": bool(_command_output("git", "status", "--porcelain", "--untracked-files=no")),
        "cpu": cpu_model(),
        "cpu_isa": torchconv.cpu_isa(),
        "threads": torch.get_num_threads(),
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
    }
    if "cuda" in devices:
        props = torch.cuda.get_device_properties(torch.cuda.current_device())
        info.update(gpu=props.name, gpu_capability=f"{props.major}.{props.minor}",
                    gpu_memory_gib=round(props.total_memory / 2 ** 30, 1),
                    gpu_driver=(_command_output("nvidia-smi", "--query-gpu=driver_version",
                                                "--format=csv,noheader").splitlines() or [None])[0],
                    tf32=torch.backends.cudnn.allow_tf32, cudnn_benchmark=torch.backends.cudnn.benchmark)
    return info


def default_out_path(info, devices):
    name = info["gpu"] if "cuda" in devices else info["cpu"]
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return RESULTS_DIR / f"{slug}-{info['date'][:10]}.json"


def plot(rows, path):
    """Bar chart of per-layer speedups (log scale), one panel per (device, dtype, format), forward and
    forward+backward bars per layer, a line at 1.0. Needs matplotlib."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    done = [r for r in rows if not r["error"]]
    panels = list(dict.fromkeys((r["device"], r["dtype"], r["format"]) for r in done))
    if not panels:
        return None
    n_cases = len(dict.fromkeys(r["case"] for r in done))
    fig, axes = plt.subplots(len(panels), 1, figsize=(max(8.0, 0.55 * n_cases + 2), 4.2 * len(panels)),
                             squeeze=False)
    for ax, panel in zip(axes[:, 0], panels):
        selected = [r for r in done if (r["device"], r["dtype"], r["format"]) == panel]
        cases = list(dict.fromkeys(r["case"] for r in selected))
        speedups = [r["speedup"] for r in selected]
        for i, (pass_, label, color) in enumerate((("fwd", "forward", "tab:blue"),
                                                   ("fwdbwd", "forward+backward", "tab:orange"))):
            by_case = {r["case"]: r["speedup"] for r in selected if r["pass"] == pass_}
            xs = [x + (i - 0.5) * 0.4 for x, case in enumerate(cases) if case in by_case]
            values = [by_case[case] for case in cases if case in by_case]
            if not values:
                continue
            # Bars grow from 1.0: up where torchconv is faster, down where it is slower.
            ax.bar(xs, [v - 1 for v in values], 0.4, bottom=1.0, color=color,
                   label=f"{label} (geomean {geomean(values):.2f}x)")
            for x, v in zip(xs, values):
                ax.annotate(f"{v:.2f}", (x, v), ha="center", va="bottom" if v >= 1 else "top", fontsize=6)
        ax.axhline(1.0, color="black", linewidth=0.8)
        n_conv = len({r["case"] for r in selected if r["op"] == "conv2d"})
        if 0 < n_conv < len(cases):  # convolutions first, then pooling
            ax.axvline(n_conv - 0.5, color="gray", linestyle=":", linewidth=0.8)
        ax.set_yscale("log")
        low, high = min(speedups + [1.0]) / 1.4, max(speedups + [1.0]) * 1.4
        ax.set_ylim(low, high)
        ax.set_yticks([2.0 ** e for e in range(math.floor(math.log2(low)), math.ceil(math.log2(high)) + 1)
                       if low <= 2.0 ** e <= high])
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xticks(range(len(cases)))
        ax.set_xticklabels(cases, rotation=40, ha="right", fontsize=7)
        ax.set_xlim(-0.6, len(cases) - 0.4)
        ax.set_ylabel("speedup vs PyTorch")
        ax.set_title(f"torchconv vs PyTorch: {panel[0]} {panel[1]} {panel[2]}")
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


# ---------------------------------------------------------------------------------------------------
# CLI


# ---------------------------------------------------------------------------------------------------
# Small-call suite: tensors so small (1x4x8x8) that the time is the per-call cost of the operator layer
# (argument handling, dispatch, autograd recording), not the kernel.

SMALL_CALLS_PER_SAMPLE = 200


def small_call_cases(device="cpu"):
    """name -> {"torch": fn, "torchconv": fn}, each fn one call of the case."""
    x = torch.randn(1, 4, 8, 8, device=device, requires_grad=True)
    w = torch.randn(4, 4, 3, 3, device=device)
    conv = {"torch": torch.nn.Conv2d(4, 4, 3, padding=1).to(device)}
    conv["torchconv"] = torchconv.convert(conv["torch"])
    libs = {"torch": torch.nn.functional, "torchconv": torchconv}

    def per_lib(make):
        return {name: make(lib) for name, lib in libs.items()}

    def no_grad_module(module):
        def call():
            with torch.no_grad():
                module(x)
        return call

    return {
        "conv2d fwd (input requires grad)": per_lib(lambda F: lambda: F.conv2d(x, w, padding=1)),
        "conv2d fwd+bwd": per_lib(lambda F: lambda: F.conv2d(x, w, padding=1).sum().backward()),
        "max_pool2d fwd": per_lib(lambda F: lambda: F.max_pool2d(x, 2)),
        "max_pool2d fwd+bwd": per_lib(lambda F: lambda: F.max_pool2d(x, 2).sum().backward()),
        "avg_pool2d fwd": per_lib(lambda F: lambda: F.avg_pool2d(x, 2)),
        "Conv2d module fwd, no_grad": {name: no_grad_module(m) for name, m in conv.items()},
    }


def run_small_calls(device="cpu", samples=21):
    """Each sample runs a case's call SMALL_CALLS_PER_SAMPLE times; torch and torchconv samples are
    interleaved; the median sample gives the per-call time. speedup = torch time / torchconv time."""
    rows = []
    for name, fns in small_call_cases(device).items():
        def repeat(fn):
            def many():
                for _ in range(SMALL_CALLS_PER_SAMPLE):
                    fn()
            return many
        t_torch, t_ours = compare(repeat(fns["torch"]), repeat(fns["torchconv"]), device,
                                  Timing(warmup=2, min_reps=samples, max_reps=samples, budget_s=0))
        us = [statistics.median(t) / SMALL_CALLS_PER_SAMPLE * 1e6 for t in (t_torch, t_ours)]
        rows.append({"case": name, "device": device, "torch_us": us[0], "torchconv_us": us[1],
                     "speedup": us[0] / us[1]})
        print(f"{name:34s} torch {us[0]:7.1f} us  torchconv {us[1]:7.1f} us  {us[0] / us[1]:5.2f}x", flush=True)
    print(f"geomean {geomean([r['speedup'] for r in rows]):.2f}x, worst {min(r['speedup'] for r in rows):.2f}x")
    return rows


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Benchmark torchconv against torch.nn.functional on real CNN layers.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--small-calls", action="store_true",
                   help="only the small-call suite: per-call cost on 1x4x8x8 tensors, 200 calls per sample")
    p.add_argument("--quick", action="store_true",
                   help="the layers marked quick in suite.py (all that match --filter, if given), fewer repetitions")
    p.add_argument("--device", choices=("cpu", "cuda", "all"), default=None,
                   help="default: cpu, plus cuda when available")
    p.add_argument("--dtype", default=None,
                   help="comma-separated from fp32,bf16,fp16,fp64; default: fp32 on CPU, fp32,bf16,fp16 on CUDA")
    p.add_argument("--filter", default=None, help="only layers whose name contains this, or any of several comma-separated strings (case-insensitive)")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (torchconv's OpenMP follows it)")
    p.add_argument("--batch", type=int, default=None,
                   help="batch size for every layer on every device; default: per layer (suite.py), "
                        "times --gpu-batch-scale on CUDA")
    p.add_argument("--gpu-batch-scale", type=int, default=32, help="GPU batch = CPU batch times this")
    p.add_argument("--tf32", choices=("on", "off"), default="off", help="TF32 for fp32 on CUDA, both sides")
    p.add_argument("--peak-gflops", type=float, default=None,
                   help="peak for %% peak of convolutions; default: CPU 450 (fp32), GPU 790e3 (bf16/fp16), "
                        "395e3 (TF32), 67e3 (fp32)")
    p.add_argument("--peak-gbps", type=float, default=None,
                   help="peak for %% peak of pooling; default: measured memory-copy bandwidth")
    p.add_argument("--out", type=Path, default=None,
                   help="JSON path; default: benchmarks/results/<device>-<date>.json")
    p.add_argument("--plot", action="store_true", help="also write a PNG bar chart next to the JSON (matplotlib)")
    p.add_argument("--markdown", type=Path, help="also write the per-layer table and geomeans as Markdown")
    return p, p.parse_args(argv)


def select_layers(name_filter=None, quick=False):
    if name_filter:
        parts = [part.strip().lower() for part in name_filter.split(",") if part.strip()]
        return [layer for layer in LAYERS if any(part in layer.name.lower() for part in parts)]
    return [layer for layer in LAYERS if layer.quick or not quick]


def main(argv=None):
    parser, args = parse_args(argv)
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        print(f"--plot needs matplotlib, an optional extra: {PLOT_HINT}", file=sys.stderr)
        return 1

    cuda = torch.cuda.is_available()
    devices = {"cpu": ["cpu"], "cuda": ["cuda"], "all": ["cpu", "cuda"], None: ["cpu"] + ["cuda"] * cuda}[args.device]
    if "cuda" in devices and not cuda:
        parser.error(f"--device {args.device}: no CUDA device (torch.cuda.is_available() is False)")
    dtype_names = {}
    for device in devices:
        names = args.dtype.split(",") if args.dtype else ["fp32"] if device == "cpu" else ["fp32", "bf16", "fp16"]
        unknown = [n for n in names if n not in DTYPES]
        if unknown:
            parser.error(f"--dtype: unknown {', '.join(unknown)} (choose from {', '.join(DTYPES)})")
        dtype_names[device] = names
    layers = select_layers(args.filter, args.quick)
    if not layers:
        parser.error(f"--filter {args.filter!r} matches no layer; layers: {', '.join(l.name for l in LAYERS)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    if "cuda" in devices:
        configure_cuda(args.tf32 == "on")
    timing = QUICK_TIMING if args.quick else Timing()

    info = machine_info(devices)
    if args.small_calls:
        print(f"torch {info['torch']}, torchconv {info['torchconv']}; CPU: {info['cpu']}, {info['threads']} threads")
        rows = [row for device in devices for row in run_small_calls(device)]
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps({"machine": info, "small_calls": rows}, indent=1) + "\n")
            print(f"wrote {args.out}")
        return 0
    print(f"torch {info['torch']}, torchconv {info['torchconv']}; CPU: {info['cpu']}, {info['threads']} threads, "
          f"torchconv ISA {info['cpu_isa']}")
    if "cuda" in devices:
        print(f"GPU: {info['gpu']} (sm_{info['gpu_capability'].replace('.', '')}, driver {info['gpu_driver']}), "
              f"CUDA {info['cuda']}, cuDNN {info['cudnn']}; cudnn.benchmark=True, TF32 {args.tf32} on both sides")
    print(f"{len(layers)} layers; per side: 1 call checked against PyTorch, {timing.warmup} warm-up, then "
          f"{timing.min_reps}-{timing.max_reps} interleaved timed calls (budget {timing.budget_s} s), median")

    rows, bandwidth = [], {}
    for device in devices:
        bandwidth[device] = args.peak_gbps or copy_bandwidth_gbps(device)
        peaks = [f"{n} {args.peak_gflops or default_peak_gflops(device, DTYPES[n], args.tf32 == 'on'):g} GFLOP/s"
                 for n in dtype_names[device]]
        source = "given" if args.peak_gbps else "measured copy bandwidth"
        print(f"{device}: % peak against convolutions {', '.join(peaks)}; pooling {bandwidth[device]:.1f} GB/s "
              f"({source})", flush=True)
        rows += run(layers, device, [DTYPES[n] for n in dtype_names[device]], batch=args.batch,
                    batch_scale=1 if device == "cpu" else args.gpu_batch_scale, timing=timing,
                    peak_gflops=args.peak_gflops, peak_gbps=bandwidth[device], tf32=args.tf32 == "on")

    for device in devices:
        print(f"\n== {device} ==")
        print_table([r for r in rows if r["device"] == device])
    summary = summarize(rows)
    print()
    print_summary(summary)

    out = args.out or default_out_path(info, devices)
    out.parent.mkdir(parents=True, exist_ok=True)
    info["copy_bandwidth_gbps"] = bandwidth
    result = {"machine": info, "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
              "timing": asdict(timing), "rows": rows, "summary": summary}
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\nwrote {out}")
    if args.markdown:
        args.markdown.write_text(markdown_report(info, rows, summary))
        print(f"wrote {args.markdown}")
    if args.plot:
        png = plot(rows, out.with_suffix(".png"))
        print(f"wrote {png}" if png else "nothing to plot: every case failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
