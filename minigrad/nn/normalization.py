r"""Normalization layers: ``BatchNorm1d``, ``BatchNorm2d`` and ``LayerNorm``.

The math (:math:`y = \gamma (x - \mu)/\sqrt{\sigma^2 + \epsilon} + \beta`) is in
``minigrad/ops/normalization.py``; these modules hold :math:`\gamma` (``weight``),
:math:`\beta` (``bias``) and, for batch norm, the running statistics as buffers.
"""

from __future__ import annotations

from minigrad import creation, dtypes
from minigrad.nn.module import Module, Parameter
from minigrad.ops.normalization import batch_norm, layer_norm

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


class _BatchNorm(Module):
    """Shared by the BatchNorm layers; subclasses say which input ranks they accept."""

    _ranks: tuple = ()
    _layout: str = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if not isinstance(num_features, int) or isinstance(num_features, bool) \
                or num_features <= 0:
            raise ValueError(f"{name}: num_features must be a positive int, got {num_features!r}")
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        dtype = dtypes.get_default_dtype() if dtype is None else dtype
        if affine:
            self.weight = Parameter(creation.ones(num_features, dtype=dtype, device=device))
            self.bias = Parameter(creation.zeros(num_features, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer(
                "running_mean", creation.zeros(num_features, dtype=dtype, device=device))
            self.register_buffer(
                "running_var", creation.ones(num_features, dtype=dtype, device=device))
            self.register_buffer(
                "num_batches_tracked", creation.tensor(0, dtype=dtypes.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            from minigrad import no_grad

            with no_grad():
                self.weight.fill_(1)
                self.bias.zero_()

    def _check_input(self, input) -> None:
        name = type(self).__name__
        if input.ndim not in self._ranks:
            ranks = " or ".join(f"{r}D" for r in self._ranks)
            raise ValueError(
                f"{name}: expected {ranks} input {self._layout}, got {input.ndim}D input of "
                f"shape {input.shape}"
            )
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"{name}: expected input with {self.num_features} channels "
                f"{self._layout.replace('C', f'C={self.num_features}', 1)}, got {input.shape}"
            )

    def forward(self, input):
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # a cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.item())
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        keep_stats = not self.training or self.track_running_stats
        return batch_norm(
            input,
            self.running_mean if keep_stats else None,
            self.running_var if keep_stats else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    r"""Batch normalization of an (N, C) or (N, C, L) input over N (and L), per channel.

    Parameters ``weight`` (ones) and ``bias`` (zeros) of shape (C,) when ``affine``;
    buffers ``running_mean`` (zeros), ``running_var`` (ones) and ``num_batches_tracked``
    (int64) when ``track_running_stats``.  In training the batch statistics normalise and
    update the running ones (``momentum=None``: a cumulative average); in eval mode the
    running statistics normalise.
    """

    _ranks = (2, 3)
    _layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalization of an (N, C, H, W) input over N, H and W, per channel (as
    ``BatchNorm1d`` otherwise)."""

    _ranks = (4,)
    _layout = "(N, C, H, W)"


class LayerNorm(Module):
    r"""Layer normalization over the trailing ``normalized_shape`` of each sample.

    Parameters ``weight`` (ones) and ``bias`` (zeros) of shape ``normalized_shape`` when
    ``elementwise_affine`` (``bias=False`` drops the bias).
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        dtype = dtypes.get_default_dtype() if dtype is None else dtype
        if elementwise_affine:
            self.weight = Parameter(
                creation.ones(self.normalized_shape, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(
                    creation.zeros(self.normalized_shape, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        from minigrad import no_grad

        with no_grad():
            if self.weight is not None:
                self.weight.fill_(1)
            if self.bias is not None:
                self.bias.zero_()

    def forward(self, input):
        k = len(self.normalized_shape)
        if input.ndim < k or input.shape[input.ndim - k:] != self.normalized_shape:
            raise RuntimeError(
                f"LayerNorm: expected input of shape (*, "
                f"{', '.join(map(str, self.normalized_shape))}) (normalized_shape="
                f"{self.normalized_shape}), got {input.shape}"
            )
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
