"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their single-step cells.

Parameter names, shapes, registration order, defaults, input/output shapes and reprs are
PyTorch's, so a ``state_dict`` moves between the two unchanged.  The math (and the fused
gate ops) lives in ``minigrad/ops/recurrent.py``; these classes own the weights.
"""

from __future__ import annotations

import math
import warnings

from minigrad import creation, dtypes
from minigrad.autograd import grad_mode
from minigrad.nn.module import Module, Parameter
from minigrad.ops import recurrent as _ops
from minigrad.ops.shape import squeeze, unsqueeze

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNBase", "RNNCell", "RNNCellBase"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _uniform_parameter(shape, bound, dtype, device):
    """A Parameter drawn from U(-bound, bound) with minigrad's seeded generator."""
    values = creation.rand(*shape, dtype=dtype, device=device)
    with grad_mode.no_grad():
        values = values * (2 * bound) - bound
    return Parameter(values)


def _check_sizes(name, input_size, hidden_size):
    for label, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{name}: {label} must be a positive integer, got {value!r}")


class RNNBase(Module):
    """Shared machinery of :class:`RNN`, :class:`LSTM` and :class:`GRU`.

    For layer ``k`` and each direction it registers, in PyTorch's order,
    ``weight_ih_l{k}`` (gates * hidden_size, in), ``weight_hh_l{k}`` (gates * hidden_size,
    hidden_size), ``bias_ih_l{k}`` and ``bias_hh_l{k}`` (gates * hidden_size,), with the
    suffix ``_reverse`` for the backward direction; ``in`` is ``input_size`` for layer 0
    and ``hidden_size * num_directions`` after.  All are drawn from
    U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        _check_sizes(name, input_size, hidden_size)
        if not isinstance(num_layers, int) or isinstance(num_layers, bool) or num_layers <= 0:
            raise ValueError(f"{name}: num_layers must be a positive integer, got {num_layers!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not (
            0 <= dropout <= 1
        ):
            raise ValueError(
                f"{name}: dropout should be a number in range [0, 1] representing the "
                f"probability of an element being zeroed, got {dropout!r}"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"{name}: dropout option adds dropout after all but last recurrent layer, so "
                f"non-zero dropout expects num_layers greater than 1, but got dropout={dropout} "
                f"and num_layers={num_layers}",
                stacklevel=3,
            )
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = 0
        directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        dtype = dtype or dtypes.get_default_dtype()
        self._flat_weights_names = []
        bound = 1.0 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [
                    ("weight_ih", (gate_size, layer_input)),
                    ("weight_hh", (gate_size, hidden_size)),
                ]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                for prefix, shape in shapes:
                    setattr(self, prefix + suffix, _uniform_parameter(shape, bound, dtype, device))
                    self._flat_weights_names.append(prefix + suffix)

    def reset_parameters(self) -> None:
        """Redraw every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        with grad_mode.no_grad():
            for p in self.parameters():
                p.uniform_(-bound, bound)

    def flatten_parameters(self) -> None:
        """Does nothing: PyTorch packs the weights for cuDNN here; minigrad needs no packing."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        """The parameters grouped per layer and direction, as PyTorch's ``all_weights``."""
        per = 4 if self.bias else 2
        flat = self._flat_weights
        return [flat[k : k + per] for k in range(0, len(flat), per)]

    def forward(self, input, hx=None):
        function = {
            "RNN_TANH": _ops.rnn_tanh,
            "RNN_RELU": _ops.rnn_relu,
            "LSTM": _ops.lstm,
            "GRU": _ops.gru,
        }[self.mode]
        return function(
            input, hx, self._flat_weights, self.bias, self.num_layers, self.dropout,
            self.training, self.bidirectional, self.batch_first,
        )

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    r"""Multi-layer Elman RNN: :math:`h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})`
    (``nonlinearity='relu'`` for ReLU).

    Input (L, N, H_in), (N, L, H_in) with ``batch_first``, or unbatched (L, H_in);
    ``h_0`` (num_layers * D, N, H) or None (zeros).  Returns ``(output, h_n)`` with
    output (L, N, D * H) (batch first if ``batch_first``) and h_n (num_layers * D, N, H).
    ``dropout`` applies to each layer's output except the last, in training mode only.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; "
                             "expected 'tanh' or 'relu'")
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device, dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    r"""Multi-layer long short-term memory (gates i, f, g, o, as PyTorch documents):

    .. math::

        i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}),\ \dots,\
        c_t = f_t c_{t-1} + i_t g_t,\ h_t = o_t \tanh c_t.

    Takes ``(input, (h_0, c_0))`` (or no state: zeros) and returns
    ``(output, (h_n, c_n))``; shapes as :class:`RNN`.  ``proj_size`` is not supported.

    Examples
    --------
    >>> import minigrad
    >>> from minigrad import nn
    >>> lstm = nn.LSTM(10, 20, num_layers=2, batch_first=True)
    >>> output, (h_n, c_n) = lstm(minigrad.randn(3, 5, 10))
    >>> tuple(output.shape), tuple(h_n.shape), tuple(c_n.shape)
    ((3, 5, 20), (2, 3, 20), (2, 3, 20))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        if proj_size != 0:
            raise NotImplementedError("LSTM: proj_size is not supported by minigrad")
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device, dtype)


class GRU(RNNBase):
    r"""Multi-layer gated recurrent unit (gates r, z, n, as PyTorch documents):

    .. math::

        r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}),\ \dots,\
        n_t = \tanh(W_{in} x_t + b_{in} + r_t (W_{hn} h_{t-1} + b_{hn})),\
        h_t = (1 - z_t) n_t + z_t h_{t-1}.

    Shapes and return values as :class:`RNN`.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device, dtype)


# -- cells ----------------------------------------------------------------------------------------


class RNNCellBase(Module):
    """Shared machinery of the cells: ``weight_ih`` (gates * hidden, input_size),
    ``weight_hh`` (gates * hidden, hidden), ``bias_ih`` and ``bias_hh`` (gates * hidden,),
    all drawn from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""

    def __init__(self, input_size, hidden_size, bias, gates, device=None, dtype=None):
        super().__init__()
        _check_sizes(type(self).__name__, input_size, hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        dtype = dtype or dtypes.get_default_dtype()
        bound = 1.0 / math.sqrt(hidden_size)
        size = gates * hidden_size
        self.weight_ih = _uniform_parameter((size, input_size), bound, dtype, device)
        self.weight_hh = _uniform_parameter((size, hidden_size), bound, dtype, device)
        if bias:
            self.bias_ih = _uniform_parameter((size,), bound, dtype, device)
            self.bias_hh = _uniform_parameter((size,), bound, dtype, device)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)

    reset_parameters = RNNBase.reset_parameters

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input, states):
        """Check shapes; add a batch dimension to unbatched input (and states)."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: expected input to be 1D or 2D, got {input.ndim}D input "
                             f"of shape {input.shape}")
        if input.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: input has inconsistent input_size: got {input.shape[-1]} (input of "
                f"shape {input.shape}), expected {self.input_size}"
            )
        batched = input.ndim == 2
        batch = input.shape[0] if batched else 1
        expected = (batch, self.hidden_size) if batched else (self.hidden_size,)
        prepared = []
        for label, s in states:
            if s is None:
                s = creation.zeros(batch, self.hidden_size, dtype=input.dtype,
                                   device=input.device)
            elif s.shape != expected:
                raise ValueError(
                    f"{name}: expected {label} of shape {expected} for input of shape "
                    f"{input.shape}, got {s.shape}"
                )
            elif not batched:
                s = unsqueeze(s, 0)
            prepared.append(s)
        return (input if batched else unsqueeze(input, 0)), prepared, batched


class RNNCell(RNNCellBase):
    r"""One Elman RNN step: :math:`h' = \tanh(W_{ih} x + b_{ih} + W_{hh} h + b_{hh})`
    (or ReLU).  Input (N, input_size) or (input_size,); ``hx`` the same batch shape."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; "
                             "expected 'tanh' or 'relu'")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, [("hx", hx)])
        step = _ops.rnn_tanh_cell if self.nonlinearity == "tanh" else _ops.rnn_relu_cell
        out = step(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out if batched else squeeze(out, 0)


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o); ``forward(input, (h, c))`` returns ``(h', c')``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError("LSTMCell: expected hx to be a pair (h, c) of tensors")
        h, c = hx if hx is not None else (None, None)
        x, (h, c), batched = self._prepare(input, [("hx[0]", h), ("hx[1]", c)])
        h, c = _ops.lstm_cell(x, (h, c), self.weight_ih, self.weight_hh, self.bias_ih,
                              self.bias_hh)
        return (h, c) if batched else (squeeze(h, 0), squeeze(c, 0))


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n; ``r`` scales the hidden term of ``n``)."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, [("hx", hx)])
        out = _ops.gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out if batched else squeeze(out, 0)
