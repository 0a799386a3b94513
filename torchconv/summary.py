"""``torchconv.summary``: a layer-by-layer table of a model: output shapes, parameters, multiply-adds,
receptive field and jump.

Receptive field and jump are measured in input pixels, per spatial axis. Starting from ``r = j = 1`` at
the input, a convolution or pooling layer with kernel ``k``, dilation ``d`` and stride ``s`` gives

    r_out = r_in + (k - 1) * d * j_in        (the window spans (k-1)*d input steps of j_in pixels)
    j_out = j_in * s                          (adjacent outputs are s input steps apart)

Elementwise layers (activations, normalisation, dropout) pass both through. The field is the
theoretical one: it may exceed the input, whose border is padding.

A transposed convolution divides the jump by its stride and widens the field by the most input steps
that reach one of its outputs; an adaptive pool acts as a pool with its widest window and stride
``L_in / L_out``. Both are exact for that layer, but their outputs do not advance evenly (``s``
neighbouring outputs of a transposed convolution share inputs), so the fields of the layers after
a transposed convolution, or after an adaptive pool whose output size does not divide its input
size, are approximations (the jump is an average).

Receptive fields travel with the tensors, not with the layer order: every tensor the forward pass
makes is tagged with the field of the tensors it was computed from, so branches are followed
exactly, and tensors that meet (``x + shortcut``, ``torch.cat``) take the larger field per axis (the
union, for branches centred on the same point as in residual networks). Tensors that are no longer
spatial (flatten, linear layers) or whose spatial size a non-windowed layer changed (upsampling)
have no local receptive field, shown as ``-``.
"""
from __future__ import annotations

import dataclasses
import math
from fractions import Fraction
from typing import List, Optional, Tuple

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_leaves
from torch.utils.weak import WeakIdKeyDictionary

__all__ = ["summary", "LayerSummary", "ModelSummary"]

_conv = torch.nn.modules.conv
_pool = torch.nn.modules.pooling


@dataclasses.dataclass
class LayerSummary:
    """One call of a leaf module (or of a module that owns parameters directly).

    ``params`` counts the module's own parameters at its first call (0 at later calls of a shared
    module); ``macs`` the multiply-adds of convolution, transposed convolution and linear layers for
    the whole input batch; ``receptive_field`` and ``jump`` hold one value per spatial axis
    (``(rh, rw)`` for 2-D, ``(r,)`` for 1-D) in input pixels, or ``None`` where the output has no local
    receptive field."""
    name: str
    type: str
    output_shape: Tuple[int, ...]
    params: int
    macs: int
    receptive_field: Optional[tuple]
    jump: Optional[tuple]


@dataclasses.dataclass
class ModelSummary:
    """The rows of ``summary`` in execution order and the model's totals; ``str()`` gives the table."""
    layers: List[LayerSummary]
    input_size: Tuple[int, ...]
    total_params: int
    trainable_params: int
    total_macs: int

    def __str__(self):
        head = ("Layer", "Type", "Output shape", "Params", "Mult-adds", "Receptive field", "Jump")
        rows = [(l.name or "(model)", l.type, str(list(l.output_shape)), f"{l.params:,}", f"{l.macs:,}",
                 _fmt(l.receptive_field), _fmt(l.jump)) for l in self.layers]
        widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]

        def line(row):
            return "  ".join(f"{c:{a}{w}}" for c, a, w in zip(row, "<<<>>>>", widths)).rstrip()

        rule = "-" * len(line(head))
        return "\n".join([f"Input: {list(self.input_size)}", rule, line(head), rule] + [line(r) for r in rows] + [
            rule, f"Total params: {self.total_params:,} (trainable: {self.trainable_params:,})",
            f"Total mult-adds: {self.total_macs:,}"])

    __repr__ = __str__


def _fmt(values):
    return "-" if values is None else "x".join(str(v) if isinstance(v, int) else f"{float(v):.3g}" for v in values)


def _exact(x):
    """An int or Fraction as an int when it is whole."""
    return int(x) if x.denominator == 1 else x


def _per_axis(value, nd):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * nd


def _transposed_span(k, d, s):
    """Input steps spanned by the inputs that reach one output of a transposed convolution: output
    o = i*s - p + t for kernel taps t = 0, d, ..., (k-1)*d, so the taps reaching one output share a
    residue modulo s, and their inputs span (max t - min t) / s steps."""
    taps = [t * d for t in range(k)]
    spans = []
    for residue in range(s):
        phase = [t for t in taps if t % s == residue]
        if phase:
            spans.append((max(phase) - min(phase)) // s)
    return max(spans)


def _window(module, nd, in_shape, out_shape):
    """Per spatial axis, (span, stride) of a windowed layer: r_out = r_in + span*j_in, j_out = j_in*stride.
    None for layers without a window."""
    if isinstance(module, _conv._ConvTransposeNd):
        return [(_transposed_span(k, d, s), Fraction(1, s))
                for k, d, s in zip(module.kernel_size, module.dilation, module.stride)]
    if isinstance(module, _conv._ConvNd):
        return [((k - 1) * d, s) for k, d, s in zip(module.kernel_size, module.dilation, module.stride)]
    if isinstance(module, (_pool._MaxPoolNd, _pool._AvgPoolNd, _pool._LPPoolNd)):
        k = _per_axis(module.kernel_size, nd)
        s = _per_axis(module.stride or module.kernel_size, nd)
        d = _per_axis(getattr(module, "dilation", 1), nd)
        return [((ki - 1) * di, si) for ki, si, di in zip(k, s, d)]
    if isinstance(module, (_pool._AdaptiveAvgPoolNd, _pool._AdaptiveMaxPoolNd)):
        window = []
        for n, m in zip(in_shape[-nd:], out_shape[-nd:]):
            if m == 0:
                return None
            # output i pools [floor(i*n/m), ceil((i+1)*n/m))
            widest = max(((i + 1) * n + m - 1) // m - i * n // m for i in range(m))
            window.append((widest - 1, Fraction(n, m)))
        return window
    return None


def _recurrence(window, field):
    """Per axis r_out = r_in + span * j_in and j_out = j_in * stride; None (no local field) stays None."""
    if field is None or len(field[0]) != len(window):
        return None
    rf, jump = field
    return (tuple(_exact(r + span * j) for (span, _), r, j in zip(window, rf, jump)),
            tuple(_exact(j * stride) for (_, stride), j in zip(window, jump)))


def _macs(module, input, output):
    if isinstance(module, _conv._ConvTransposeNd):
        return input.numel() * module.out_channels // module.groups * math.prod(module.kernel_size)
    if isinstance(module, _conv._ConvNd):
        return output.numel() * module.in_channels // module.groups * math.prod(module.kernel_size)
    if isinstance(module, torch.nn.Linear):
        return output.numel() * module.in_features
    return 0


class _FieldTracker(TorchFunctionMode):
    """Tags every tensor a torch function returns with (receptive field, jump) from its inputs'
    tags: kept when the spatial size is kept, the per-axis maximum where several tagged tensors meet,
    None when the output is not spatial or changed size (a windowed layer's hook then sets the
    exact value)."""

    def __init__(self, nd):
        super().__init__()
        self.nd = nd
        self.fields = WeakIdKeyDictionary()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        inputs = [t for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor) and t in self.fields]
        if inputs:
            for t in tree_leaves(out):
                if isinstance(t, torch.Tensor):
                    self.fields[t] = self._merge(inputs, t)
        return out

    def _merge(self, inputs, out):
        fields = [self.fields[t] for t in inputs]
        if any(f is None for f in fields) or out.dim() != self.nd + 2 or \
                any(t.shape[2:] != out.shape[2:] for t in inputs):
            return None
        return tuple(tuple(max(v) for v in zip(*axis)) for axis in zip(*fields))


def summary(model, input_size, device=None, dtype=None):
    """Run ``model`` once on a random input of ``input_size`` and return a :class:`ModelSummary`: one
    :class:`LayerSummary` per call of each leaf module, in execution order (name, type, output shape,
    parameters, multiply-adds, receptive field and jump in input pixels), and the totals.
    ``print()`` it for the table.

    ``input_size`` includes the batch dimension: ``(N, C, H, W)`` for 2-D models, ``(N, C, L)`` for
    1-D ones; multiply-adds are for that whole batch. ``device`` and ``dtype`` default to those of the
    model's first parameter (else CPU and the default dtype). The model runs in eval mode under
    ``torch.no_grad()`` (so batch-norm statistics are not updated); its train/eval flags are restored.
    Works for ``torch.nn`` and ``torchconv.nn`` layers alike.

    Example::

        >>> model = torch.nn.Sequential(torch.nn.Conv2d(1, 6, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        ...                             torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2))
        >>> s = torchconv.summary(model, (1, 1, 32, 32))
        >>> s.layers[-1].output_shape, s.layers[-1].receptive_field, s.layers[-1].jump
        ((1, 16, 5, 5), (16, 16), (4, 4))
        >>> print(s)  # doctest: +SKIP
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"summary expects a torch.nn.Module, but got {type(model).__name__}")
    input_size = tuple(int(v) for v in input_size)
    if len(input_size) < 3:
        raise ValueError(f"summary: input_size must be (N, C, *spatial) with a batch dimension, but got "
                         f"{list(input_size)}")
    first = next(model.parameters(), None)
    device = device if device is not None else (first.device if first is not None else "cpu")
    dtype = dtype if dtype is not None else (first.dtype if first is not None and first.is_floating_point()
                                             else torch.get_default_dtype())
    nd = len(input_size) - 2
    tracker = _FieldTracker(nd)
    layers, seen = [], set()

    def hook(module, args, output):
        inputs = [t for t in tree_leaves(args) if isinstance(t, torch.Tensor)]
        outputs = [t for t in tree_leaves(output) if isinstance(t, torch.Tensor)]
        if not outputs:
            return
        input, out = inputs[0] if inputs else None, outputs[0]
        window = _window(module, nd, input.shape, out.shape) if input is not None else None
        if window is None:
            field = tracker.fields.get(out)
        else:
            field = _recurrence(window, tracker.fields.get(input))
            for t in outputs:
                tracker.fields[t] = field
        params = 0 if module in seen else sum(p.numel() for p in module.parameters(recurse=False))
        seen.add(module)
        cls = type(module)
        kind = f"{cls.__module__}.{cls.__name__}" if cls.__module__.startswith("torchconv") else cls.__name__
        layers.append(LayerSummary(names[module], kind, tuple(out.shape), params,
                                   _macs(module, input, out) if input is not None else 0,
                                   None if field is None else field[0], None if field is None else field[1]))

    names = {m: n for n, m in model.named_modules()}
    handles = [m.register_forward_hook(hook) for m in names
               if next(m.children(), None) is None or next(m.parameters(recurse=False), None) is not None]
    modes = {m: m.training for m in model.modules()}
    x = torch.randn(input_size, device=device, dtype=dtype)
    try:
        model.eval()
        with torch.no_grad(), tracker:
            tracker.fields[x] = ((1,) * nd, (1,) * nd)
            model(x)
    finally:
        for h in handles:
            h.remove()
        for m, training in modes.items():
            m.training = training
    params = list(model.parameters())
    return ModelSummary(layers, input_size, sum(p.numel() for p in params),
                        sum(p.numel() for p in params if p.requires_grad), sum(l.macs for l in layers))
