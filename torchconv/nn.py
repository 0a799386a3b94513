"""Drop-in ``torch.nn`` layers computed by torchconv's kernels.

Each class subclasses its ``torch.nn`` counterpart, so constructors, parameters, initialisation,
``state_dict`` keys, ``repr`` and ``isinstance`` checks are unchanged; only the computation differs.
"""
import torch

from . import functional as tcf  # torchconv.functional (not torch.nn.functional)

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d",
           "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d"]


def _conv_forward(conv, module, input, weight, bias):
    """``module``'s convolution by ``conv`` (tcf.conv1d / tcf.conv2d); a non-zeros padding_mode pads first."""
    padding = module.padding
    if module.padding_mode != "zeros":
        input = torch.nn.functional.pad(input, module._reversed_padding_repeated_twice, mode=module.padding_mode)
        padding = 0
    return conv(input, weight, bias, module.stride, padding, module.dilation, module.groups)


def _conv_transpose_forward(conv_transpose, module, input, output_size, num_spatial_dims):
    """``module``'s transposed convolution; ``output_size`` picks the output_padding, as in torch.nn."""
    if module.padding_mode != "zeros":
        raise ValueError(f"Only `zeros` padding mode is supported for {type(module).__name__}")
    output_padding = module._output_padding(input, output_size, module.stride, module.padding, module.kernel_size,
                                            num_spatial_dims, module.dilation)
    return conv_transpose(input, module.weight, module.bias, module.stride, module.padding, output_padding,
                          module.groups, module.dilation)


class Conv1d(torch.nn.Conv1d):
    """``torch.nn.Conv1d`` on torchconv kernels; padding_mode zeros, reflect, replicate or circular.

    Example::

        >>> conv = torchconv.nn.Conv1d(4, 16, 5, padding="same", padding_mode="circular")
        >>> conv(torch.randn(2, 4, 100)).shape
        torch.Size([2, 16, 100])
    """

    def _conv_forward(self, input, weight, bias):
        return _conv_forward(tcf.conv1d, self, input, weight, bias)


class Conv2d(torch.nn.Conv2d):
    """``torch.nn.Conv2d`` on torchconv kernels; padding_mode zeros, reflect, replicate or circular.

    Example::

        >>> conv = torchconv.nn.Conv2d(3, 16, 3, padding=1, padding_mode="reflect")
        >>> conv(torch.randn(2, 3, 32, 32)).shape
        torch.Size([2, 16, 32, 32])
    """

    def _conv_forward(self, input, weight, bias):
        return _conv_forward(tcf.conv2d, self, input, weight, bias)


class ConvTranspose1d(torch.nn.ConvTranspose1d):
    """``torch.nn.ConvTranspose1d`` on torchconv kernels (``forward(input, output_size=None)``).

    Example::

        >>> up = torchconv.nn.ConvTranspose1d(16, 8, 4, stride=2, padding=1)
        >>> up(torch.randn(2, 16, 25)).shape
        torch.Size([2, 8, 50])
    """

    def forward(self, input, output_size=None):
        return _conv_transpose_forward(tcf.conv_transpose1d, self, input, output_size, 1)


class ConvTranspose2d(torch.nn.ConvTranspose2d):
    """``torch.nn.ConvTranspose2d`` on torchconv kernels (``forward(input, output_size=None)``).

    Example::

        >>> up = torchconv.nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1)
        >>> up(torch.randn(2, 16, 8, 8)).shape
        torch.Size([2, 8, 16, 16])
    """

    def forward(self, input, output_size=None):
        return _conv_transpose_forward(tcf.conv_transpose2d, self, input, output_size, 2)


class MaxPool1d(torch.nn.MaxPool1d):
    """``torch.nn.MaxPool1d`` on torchconv kernels.

    Example::

        >>> torchconv.nn.MaxPool1d(3, 2, 1)(torch.randn(2, 8, 100)).shape
        torch.Size([2, 8, 50])
    """

    def forward(self, input):
        return tcf.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class MaxPool2d(torch.nn.MaxPool2d):
    """``torch.nn.MaxPool2d`` on torchconv kernels.

    Example::

        >>> torchconv.nn.MaxPool2d(3, 2, 1)(torch.randn(1, 64, 112, 112)).shape
        torch.Size([1, 64, 56, 56])
    """

    def forward(self, input):
        return tcf.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class AvgPool1d(torch.nn.AvgPool1d):
    """``torch.nn.AvgPool1d`` on torchconv kernels.

    Example::

        >>> torchconv.nn.AvgPool1d(4)(torch.randn(2, 3, 16)).shape
        torch.Size([2, 3, 4])
    """

    def forward(self, input):
        return tcf.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class AvgPool2d(torch.nn.AvgPool2d):
    """``torch.nn.AvgPool2d`` on torchconv kernels.

    Example::

        >>> torchconv.nn.AvgPool2d(2)(torch.randn(1, 8, 16, 16)).shape
        torch.Size([1, 8, 8, 8])
    """

    def forward(self, input):
        return tcf.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class AdaptiveAvgPool1d(torch.nn.AdaptiveAvgPool1d):
    """``torch.nn.AdaptiveAvgPool1d`` on torchconv kernels.

    Example::

        >>> torchconv.nn.AdaptiveAvgPool1d(1)(torch.randn(2, 64, 50)).shape
        torch.Size([2, 64, 1])
    """

    def forward(self, input):
        return tcf.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(torch.nn.AdaptiveAvgPool2d):
    """``torch.nn.AdaptiveAvgPool2d`` on torchconv kernels.

    Example::

        >>> torchconv.nn.AdaptiveAvgPool2d((1, 1))(torch.randn(2, 512, 7, 7)).shape
        torch.Size([2, 512, 1, 1])
    """

    def forward(self, input):
        return tcf.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveMaxPool1d(torch.nn.AdaptiveMaxPool1d):
    """``torch.nn.AdaptiveMaxPool1d`` on torchconv kernels.

    Example::

        >>> torchconv.nn.AdaptiveMaxPool1d(3)(torch.randn(2, 8, 10)).shape
        torch.Size([2, 8, 3])
    """

    def forward(self, input):
        return tcf.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(torch.nn.AdaptiveMaxPool2d):
    """``torch.nn.AdaptiveMaxPool2d`` on torchconv kernels.

    Example::

        >>> torchconv.nn.AdaptiveMaxPool2d(2)(torch.randn(1, 4, 9, 9)).shape
        torch.Size([1, 4, 2, 2])
    """

    def forward(self, input):
        return tcf.adaptive_max_pool2d(input, self.output_size, self.return_indices)
