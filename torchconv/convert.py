"""``torchconv.convert``: swap every torch.nn convolution and pooling layer of a model for its
torchconv counterpart, keeping parameters, buffers and hooks."""
import copy

import torch

from . import nn

# torch.nn class -> torchconv class. Only these exact classes are swapped: a user's subclass of
# torch.nn.Conv2d may override forward, and is left alone.
SWAPS = {
    torch.nn.Conv1d: nn.Conv1d,
    torch.nn.ConvTranspose1d: nn.ConvTranspose1d,
    torch.nn.MaxPool1d: nn.MaxPool1d,
    torch.nn.AvgPool1d: nn.AvgPool1d,
    torch.nn.AdaptiveAvgPool1d: nn.AdaptiveAvgPool1d,
    torch.nn.AdaptiveMaxPool1d: nn.AdaptiveMaxPool1d,
    torch.nn.Conv2d: nn.Conv2d,
    torch.nn.ConvTranspose2d: nn.ConvTranspose2d,
    torch.nn.MaxPool2d: nn.MaxPool2d,
    torch.nn.AvgPool2d: nn.AvgPool2d,
    torch.nn.AdaptiveAvgPool2d: nn.AdaptiveAvgPool2d,
    torch.nn.AdaptiveMaxPool2d: nn.AdaptiveMaxPool2d,
}


def convert(module, inplace=False):
    """Return ``module`` with every ``torch.nn`` convolution and pooling layer replaced by the
    torchconv layer of the same class name. The torchconv classes subclass the torch.nn ones and add
    no state, so each layer keeps its parameters, buffers, hooks and ``state_dict`` keys. The
    original is left untouched unless ``inplace=True``.

    Example::

        >>> model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2))
        >>> fast = torchconv.convert(model)
        >>> type(fast[0])
        <class 'torchconv.nn.Conv2d'>
    """
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"convert expects a torch.nn.Module, but got {type(module).__name__}")
    if not inplace:
        module = copy.deepcopy(module)
    for m in module.modules():
        target = SWAPS.get(type(m))
        if target is not None:
            m.__class__ = target
    return module
