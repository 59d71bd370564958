r"""Recurrent cells and the sequence loops of RNN, LSTM and GRU, with PyTorch's equations.

One step of each cell, in PyTorch's gate order (``W_ih`` stacks the gates' input weights
row-wise, ``W_hh`` their hidden weights):

* RNN:  :math:`h' = \tanh(W_{ih} x + b_{ih} + W_{hh} h + b_{hh})` (or ReLU);
* LSTM (gates i, f, g, o):
  :math:`[a_i, a_f, a_g, a_o] = W_{ih} x + b_{ih} + W_{hh} h + b_{hh}`,
  :math:`c' = \sigma(a_f) c + \sigma(a_i) \tanh(a_g)`, :math:`h' = \sigma(a_o) \tanh(c')`;
* GRU (gates r, z, n): :math:`r = \sigma(x_r + h_r)`, :math:`z = \sigma(x_z + h_z)`,
  :math:`n = \tanh(x_n + r \odot h_n)`, :math:`h' = (1 - z) n + z h`, where
  :math:`x_\ast = W_{i\ast} x + b_{i\ast}` and :math:`h_\ast = W_{h\ast} h + b_{h\ast}`.

The matrix products are ordinary ``matmul`` nodes; the pointwise gate math of one LSTM or
GRU step is one fused Function (:class:`LSTMGates`, :class:`GRUGates`) whose forward is
the backend primitive ``lstm_gates_forward`` / ``gru_gates_forward`` and whose backward
is written with minigrad ops.  A whole sequence costs one GEMM for the input projections
of all time steps and then one ``h @ W_hh^T`` (all gates at once) per step.
"""

from __future__ import annotations

from minigrad.autograd.function import ArrayFunction
from minigrad.backend import kernel
from minigrad.creation import zeros
from minigrad.ops.activation import relu
from minigrad.ops.dropout import dropout as dropout_op
from minigrad.ops.elementwise import tanh
from minigrad.ops.linalg import matmul
from minigrad.ops.shape import cat, reshape, split, squeeze, transpose, unsqueeze

__all__ = [
    "gru",
    "gru_cell",
    "lstm",
    "lstm_cell",
    "rnn_relu",
    "rnn_relu_cell",
    "rnn_tanh",
    "rnn_tanh_cell",
]


def _sigmoid_slope(s):
    """:math:`\\sigma'` written from the sigmoid's value: :math:`s (1 - s)`."""
    return s * (1 - s)


class LSTMGates(ArrayFunction):
    r"""The pointwise math of one LSTM step (gates i, f, g, o), fused.

    Math, with :math:`a = g_x + g_h` cut into :math:`a_i, a_f, a_g, a_o`:

    .. math::

        i = \sigma(a_i),\ f = \sigma(a_f),\ g = \tanh(a_g),\ o = \sigma(a_o),\quad
        c' = f c + i g,\quad h' = o \tanh c'.

    Backward, with :math:`\bar c_{tot} = \bar c' + \bar h' o (1 - \tanh^2 c')`:

    .. math::

        \bar a_i = \bar c_{tot}\, g\, i(1-i),\ \bar a_f = \bar c_{tot}\, c\, f(1-f),\
        \bar a_g = \bar c_{tot}\, i\, (1-g^2),\ \bar a_o = \bar h' \tanh c'\, o(1-o),\quad
        \bar g_x = \bar g_h = \bar a,\quad \bar c = \bar c_{tot} f.

    The activated gates ``acts = [i, f, g, o]`` are a third output, so backward reuses them
    and, under ``create_graph``, differentiates through them (a gradient arriving at
    ``acts`` is multiplied by the activations' slopes).
    """

    @staticmethod
    def forward(ctx, gx, gh, c):
        h_new, c_new, acts = kernel("lstm_gates_forward", gx)(gx, gh, c)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(c, c_new, acts)
        return h_new, c_new, acts

    @staticmethod
    def backward(ctx, grad_h, grad_c, grad_acts):
        c, c_new, acts = ctx.saved_tensors
        i, f, g, o = split(acts, c.shape[-1], -1)
        tanh_c = tanh(c_new)
        grad_c_total = grad_c
        grad_o = None
        if grad_h is not None:
            through_h = grad_h * o * (1 - tanh_c * tanh_c)
            grad_c_total = through_h if grad_c_total is None else grad_c_total + through_h
            grad_o = grad_h * tanh_c
        if grad_c_total is None:
            grad_c_total = c_new * 0  # only acts received a gradient
        grad_i, grad_f, grad_g = grad_c_total * g, grad_c_total * c, grad_c_total * i
        if grad_o is None:
            grad_o = o * 0
        if grad_acts is not None:
            extra_i, extra_f, extra_g, extra_o = split(grad_acts, c.shape[-1], -1)
            grad_i, grad_f = grad_i + extra_i, grad_f + extra_f
            grad_g, grad_o = grad_g + extra_g, grad_o + extra_o
        grad_a = cat(
            [
                grad_i * _sigmoid_slope(i),
                grad_f * _sigmoid_slope(f),
                grad_g * (1 - g * g),
                grad_o * _sigmoid_slope(o),
            ],
            -1,
        )
        grad_prev_c = grad_c_total * f if ctx.needs_input_grad[2] else None
        return grad_a, grad_a, grad_prev_c


class GRUGates(ArrayFunction):
    r"""The pointwise math of one GRU step (gates r, z, n), fused.

    Math, from :math:`g_x = W_{ih} x + b_{ih}` and :math:`g_h = W_{hh} h + b_{hh}`:

    .. math::

        r = \sigma(x_r + h_r),\ z = \sigma(x_z + h_z),\ n = \tanh(x_n + r h_n),\quad
        h' = (1 - z) n + z h.

    Backward:

    .. math::

        \bar a_n = \bar h' (1 - z)(1 - n^2),\
        \bar a_z = \bar h' (h - n)\, z(1-z),\
        \bar a_r = \bar a_n h_n\, r(1-r),

    :math:`\bar g_x = [\bar a_r, \bar a_z, \bar a_n]`,
    :math:`\bar g_h = [\bar a_r, \bar a_z, r \bar a_n]`, :math:`\bar h = \bar h' z`.
    The activated gates ``acts = [r, z, n]`` are a second output (see :class:`LSTMGates`).
    """

    @staticmethod
    def forward(ctx, gx, gh, h):
        h_new, acts = kernel("gru_gates_forward", gx)(gx, gh, h)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(gh, h, acts)
        return h_new, acts

    @staticmethod
    def backward(ctx, grad_h, grad_acts):
        gh, h, acts = ctx.saved_tensors
        hidden = h.shape[-1]
        r, z, n = split(acts, hidden, -1)
        if grad_h is None:
            grad_h = h * 0  # only acts received a gradient
        grad_n = grad_h * (1 - z)
        grad_z = grad_h * (h - n)
        grad_r = None
        if grad_acts is not None:
            grad_r, extra_z, extra_n = split(grad_acts, hidden, -1)
            grad_n, grad_z = grad_n + extra_n, grad_z + extra_z
        grad_an = grad_n * (1 - n * n)
        h_n = split(gh, [2 * hidden, hidden], -1)[1]
        through_r = grad_an * h_n
        grad_r = through_r if grad_r is None else grad_r + through_r
        grad_ar = grad_r * _sigmoid_slope(r)
        grad_az = grad_z * _sigmoid_slope(z)
        grad_gx = cat([grad_ar, grad_az, grad_an], -1) if ctx.needs_input_grad[0] else None
        grad_gh = cat([grad_ar, grad_az, grad_an * r], -1) if ctx.needs_input_grad[1] else None
        grad_prev_h = grad_h * z if ctx.needs_input_grad[2] else None
        return grad_gx, grad_gh, grad_prev_h


# -- one step (the cells) ------------------------------------------------------------------------


def _check_cell(op, input, hidden, w_ih, w_hh, b_ih, b_hh, gates):
    """Validate a cell's arguments; name the op and the shapes it got."""
    if input.ndim != 2:
        raise ValueError(f"{op}: expected input of shape (N, input_size), got {input.shape}")
    n, size = input.shape
    hidden_size = w_hh.shape[-1]
    expected = {
        "w_ih": (gates * hidden_size, size),
        "w_hh": (gates * hidden_size, hidden_size),
        "b_ih": (gates * hidden_size,),
        "b_hh": (gates * hidden_size,),
    }
    for name, t in (("w_ih", w_ih), ("w_hh", w_hh), ("b_ih", b_ih), ("b_hh", b_hh)):
        if t is not None and t.shape != expected[name]:
            raise ValueError(
                f"{op}: expected {name} of shape {expected[name]} (input of shape {input.shape}, "
                f"hidden_size={hidden_size}), got {t.shape}"
            )
    for i, h in enumerate(hidden):
        if h.shape != (n, hidden_size):
            name = ("hx", "cx")[i] if len(hidden) == 2 else "hx"
            raise ValueError(
                f"{op}: expected {name} of shape {(n, hidden_size)} for input of shape "
                f"{input.shape}, got {h.shape}"
            )


def _project(x, weight, bias=None, bias2=None):
    """``x @ weight^T (+ bias) (+ bias2)``: one GEMM over all rows of ``x``."""
    out = matmul(x, transpose(weight, 0, 1))
    if bias is not None and bias2 is not None:
        bias = bias + bias2  # add the two vectors, then the big matrix once
    elif bias is None:
        bias = bias2
    return out if bias is None else out + bias


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    r"""One Elman RNN step: :math:`h' = \tanh(W_{ih} x + b_{ih} + W_{hh} h + b_{hh})`.

    ``input`` (N, input_size), ``hx`` (N, hidden_size); returns h' (N, hidden_size).
    """
    _check_cell("rnn_tanh_cell", input, (hx,), w_ih, w_hh, b_ih, b_hh, 1)
    return tanh(_project(input, w_ih, b_ih, b_hh) + _project(hx, w_hh))


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    r"""One Elman RNN step with ReLU:
    :math:`h' = \max(0, W_{ih} x + b_{ih} + W_{hh} h + b_{hh})`."""
    _check_cell("rnn_relu_cell", input, (hx,), w_ih, w_hh, b_ih, b_hh, 1)
    return relu(_project(input, w_ih, b_ih, b_hh) + _project(hx, w_hh))


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    r"""One LSTM step (gates i, f, g, o stacked in ``w_ih``/``w_hh``); returns ``(h', c')``.

    ``input`` (N, input_size), ``hx = (h, c)`` each (N, hidden_size),
    ``w_ih`` (4 hidden_size, input_size), ``w_hh`` (4 hidden_size, hidden_size).
    """
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise TypeError("lstm_cell: expected hx to be a pair (h, c) of tensors")
    h, c = hx
    _check_cell("lstm_cell", input, (h, c), w_ih, w_hh, b_ih, b_hh, 4)
    h_new, c_new, _ = LSTMGates.apply(_project(input, w_ih, b_ih, b_hh), _project(h, w_hh), c)
    return h_new, c_new


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    r"""One GRU step (gates r, z, n; ``r`` scales :math:`W_{hn} h + b_{hn}`); returns h'."""
    _check_cell("gru_cell", input, (hx,), w_ih, w_hh, b_ih, b_hh, 3)
    h_new, _ = GRUGates.apply(_project(input, w_ih, b_ih), _project(hx, w_hh, b_hh), hx)
    return h_new


# -- whole sequences (the layers, without Modules) -----------------------------------------------

_NAMES = {"RNN_TANH": "RNN", "RNN_RELU": "RNN", "LSTM": "LSTM", "GRU": "GRU"}


def _run_direction(mode, x, h, c, w_ih, w_hh, b_ih, b_hh, reverse):
    """One layer, one direction over ``x`` (L, N, I); ``h``/``c`` are (1, N, H).

    Every step works on (1, N, ·) tensors, so the per-step pieces need no reshaping and the
    outputs join into (L, N, H) with one ``cat``.  Returns (output, h_last, c_last).
    """
    length, batch, size = x.shape
    # One GEMM for the input projections of every time step.  Except in the GRU, whose
    # b_hn sits inside r * (...), the hidden bias joins the input side here too.
    if mode == "GRU":
        proj = _project(reshape(x, (length * batch, size)), w_ih, b_ih)
    else:
        proj = _project(reshape(x, (length * batch, size)), w_ih, b_ih, b_hh)
    steps = split(reshape(proj, (length, batch, proj.shape[-1])), 1, 0)
    w_hh_t = transpose(w_hh, 0, 1)  # once, not once per step
    outputs = [None] * length
    for t in range(length - 1, -1, -1) if reverse else range(length):
        recurrent = matmul(h, w_hh_t)  # all gates at once
        if mode == "LSTM":
            h, c, _ = LSTMGates.apply(steps[t], recurrent, c)
        elif mode == "GRU":
            if b_hh is not None:
                recurrent = recurrent + b_hh
            h, _ = GRUGates.apply(steps[t], recurrent, h)
        elif mode == "RNN_TANH":
            h = tanh(steps[t] + recurrent)
        else:
            h = relu(steps[t] + recurrent)
        outputs[t] = h
    return cat(outputs, 0), h, c


def _recurrent(
    mode, input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first
):
    """The sequence loop shared by :func:`rnn_tanh`, :func:`rnn_relu`, :func:`lstm`, :func:`gru`."""
    name = _NAMES[mode]
    if input.ndim not in (2, 3):
        raise ValueError(f"{name}: expected input to be 2D or 3D, got {input.ndim}D input "
                         f"of shape {input.shape}")
    directions = 2 if bidirectional else 1
    per_direction = 4 if has_biases else 2
    if len(params) != num_layers * directions * per_direction:
        raise ValueError(
            f"{name}: expected {num_layers * directions * per_direction} weight tensors "
            f"(num_layers={num_layers}, bidirectional={bidirectional}, bias={has_biases}), "
            f"got {len(params)}"
        )
    hidden_size = params[1].shape[-1]
    input_size = params[0].shape[-1]
    batched = input.ndim == 3
    x = input
    if not batched:
        x = unsqueeze(x, 1)
    elif batch_first:
        x = transpose(x, 0, 1)
    if x.shape[-1] != input_size:
        raise ValueError(
            f"{name}: input.size(-1) must be equal to input_size. Expected {input_size}, "
            f"got {x.shape[-1]} (input of shape {input.shape})"
        )
    length, batch = x.shape[0], x.shape[1]
    if length == 0:
        raise ValueError(f"{name}: expected a sequence of length > 0, got input of shape "
                         f"{input.shape}")

    state_shape = (num_layers * directions, batch, hidden_size)
    if mode == "LSTM":
        states = list(hx) if hx is not None else [None, None]
    else:
        states = [hx]
    for k, s in enumerate(states):
        label = ("h_0", "c_0")[k]
        if s is None:
            states[k] = zeros(state_shape, dtype=x.dtype, device=x.device)
            continue
        expected = state_shape if batched else (state_shape[0], hidden_size)
        if s.shape != expected:
            raise ValueError(
                f"{name}: expected {label} of shape {expected} for input of shape {input.shape}, "
                f"got {s.shape}"
            )
        states[k] = s if batched else unsqueeze(s, 1)
    h0 = split(states[0], 1, 0)
    c0 = split(states[1], 1, 0) if mode == "LSTM" else None

    h_n, c_n = [], []
    for layer in range(num_layers):
        if layer > 0 and dropout > 0 and train:
            x = dropout_op(x, dropout, training=True)
        outs = []
        for d in range(directions):
            k = layer * directions + d
            w = params[k * per_direction : (k + 1) * per_direction]
            b_ih, b_hh = (w[2], w[3]) if has_biases else (None, None)
            out, h, c = _run_direction(
                mode, x, h0[k], c0[k] if c0 is not None else None, w[0], w[1], b_ih, b_hh, d == 1
            )
            outs.append(out)
            h_n.append(h)
            c_n.append(c)
        x = outs[0] if directions == 1 else cat(outs, 2)

    output = x
    h_n = cat(h_n, 0) if len(h_n) > 1 else h_n[0]
    c_n = (cat(c_n, 0) if len(c_n) > 1 else c_n[0]) if mode == "LSTM" else None
    if not batched:
        output, h_n = squeeze(output, 1), squeeze(h_n, 1)
        c_n = squeeze(c_n, 1) if c_n is not None else None
    elif batch_first:
        output = transpose(output, 0, 1)
    return (output, (h_n, c_n)) if mode == "LSTM" else (output, h_n)


def _check_dropout(name, dropout):
    if not 0 <= dropout <= 1 or isinstance(dropout, bool):
        raise ValueError(f"{name}: dropout should be a number in range [0, 1], got {dropout}")


def rnn_tanh(input, hx, params, has_biases=True, num_layers=1, dropout=0.0, train=False,
             bidirectional=False, batch_first=False):
    """A multi-layer Elman RNN with tanh over a whole sequence; returns ``(output, h_n)``.

    ``params`` lists, for each layer and direction in PyTorch's order,
    ``w_ih, w_hh[, b_ih, b_hh]``; ``hx`` (num_layers * D, N, H) or None (zeros).
    Shapes as ``nn.RNN``: input (L, N, H_in), (N, L, H_in) with ``batch_first``, or
    unbatched (L, H_in); output (L, N, D * H).
    """
    _check_dropout("RNN", dropout)
    return _recurrent("RNN_TANH", input, hx, params, has_biases, num_layers, dropout, train,
                      bidirectional, batch_first)


def rnn_relu(input, hx, params, has_biases=True, num_layers=1, dropout=0.0, train=False,
             bidirectional=False, batch_first=False):
    """As :func:`rnn_tanh` with ReLU as the nonlinearity."""
    _check_dropout("RNN", dropout)
    return _recurrent("RNN_RELU", input, hx, params, has_biases, num_layers, dropout, train,
                      bidirectional, batch_first)


def lstm(input, hx, params, has_biases=True, num_layers=1, dropout=0.0, train=False,
         bidirectional=False, batch_first=False):
    """A multi-layer LSTM over a whole sequence; returns ``(output, (h_n, c_n))``.

    ``hx`` is ``(h_0, c_0)`` or None (zeros); otherwise as :func:`rnn_tanh`.
    """
    _check_dropout("LSTM", dropout)
    if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
        raise TypeError("LSTM: expected hx to be a pair (h_0, c_0) of tensors")
    return _recurrent("LSTM", input, hx, params, has_biases, num_layers, dropout, train,
                      bidirectional, batch_first)


def gru(input, hx, params, has_biases=True, num_layers=1, dropout=0.0, train=False,
        bidirectional=False, batch_first=False):
    """A multi-layer GRU over a whole sequence; returns ``(output, h_n)`` (as :func:`rnn_tanh`)."""
    _check_dropout("GRU", dropout)
    return _recurrent("GRU", input, hx, params, has_biases, num_layers, dropout, train,
                      bidirectional, batch_first)
