"""Drop-in ``torch.nn`` layers computed by torchconv's kernels.

Each class subclasses its ``torch.nn`` counterpart, so constructors, parameters, initialisation,
``state_dict`` keys, ``repr`` and ``isinstance`` checks are unchanged; only the computation differs.
"""
import torch

from . import functional as F

__all__ = ["Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d"]


class Conv2d(torch.nn.Conv2d):
    """``torch.nn.Conv2d`` on torchconv kernels; padding_mode zeros, reflect, replicate or circular.

    Example::

        >>> conv = torchconv.nn.Conv2d(3, 16, 3, padding=1, padding_mode="reflect")
        >>> conv(torch.randn(2, 3, 32, 32)).shape
        torch.Size([2, 16, 32, 32])
    """

    def _conv_forward(self, input, weight, bias):
        if self.padding_mode != "zeros":
            input = torch.nn.functional.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return F.conv2d(input, weight, bias, self.stride, 0, self.dilation, self.groups)
        return F.conv2d(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)


class ConvTranspose2d(torch.nn.ConvTranspose2d):
    """``torch.nn.ConvTranspose2d`` on torchconv kernels (``forward(input, output_size=None)``).

    Example::

        >>> up = torchconv.nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1)
        >>> up(torch.randn(2, 16, 8, 8)).shape
        torch.Size([2, 8, 16, 16])
    """

    def forward(self, input, output_size=None):
        if self.padding_mode != "zeros":
            raise ValueError("Only `zeros` padding mode is supported for ConvTranspose2d")
        output_padding = self._output_padding(input, output_size, self.stride, self.padding, self.kernel_size,
                                              2, self.dilation)
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                                  self.groups, self.dilation)


class MaxPool2d(torch.nn.MaxPool2d):
    """``torch.nn.MaxPool2d`` on torchconv kernels.

    Example::

        >>> torchconv.nn.MaxPool2d(3, 2, 1)(torch.randn(1, 64, 112, 112)).shape
        torch.Size([1, 64, 56, 56])
    """

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class AvgPool2d(torch.nn.AvgPool2d):
    """``torch.nn.AvgPool2d`` on torchconv kernels.

    Example::

        >>> torchconv.nn.AvgPool2d(2)(torch.randn(1, 8, 16, 16)).shape
        torch.Size([1, 8, 8, 8])
    """

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class AdaptiveAvgPool2d(torch.nn.AdaptiveAvgPool2d):
    """``torch.nn.AdaptiveAvgPool2d`` on torchconv kernels.

    Example::

        >>> torchconv.nn.AdaptiveAvgPool2d((1, 1))(torch.randn(2, 512, 7, 7)).shape
        torch.Size([2, 512, 1, 1])
    """

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveMaxPool2d(torch.nn.AdaptiveMaxPool2d):
    """``torch.nn.AdaptiveMaxPool2d`` on torchconv kernels.

    Example::

        >>> torchconv.nn.AdaptiveMaxPool2d(2)(torch.randn(1, 4, 9, 9)).shape
        torch.Size([1, 4, 2, 2])
    """

    def forward(self, input):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)
