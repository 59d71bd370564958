"""Tests of minigrad/ops/recurrent.py: the fused gate Functions LSTMGates and GRUGates, the
backend primitives lstm_gates_forward / gru_gates_forward, the cells (rnn_tanh_cell,
rnn_relu_cell, lstm_cell, gru_cell) and the sequence functions (rnn_tanh, rnn_relu, lstm, gru).

Values are checked against a float64 NumPy reference of the equations as PyTorch documents
them, written out below; gradients against central finite differences.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.backend import cpu
from minigrad.ops.recurrent import (
    GRUGates,
    LSTMGates,
    gru,
    gru_cell,
    lstm,
    lstm_cell,
    rnn_relu,
    rnn_relu_cell,
    rnn_tanh,
    rnn_tanh_cell,
)
from minigrad.testing import gradcheck, gradgradcheck

GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}
CELLS = {"rnn_tanh": rnn_tanh_cell, "rnn_relu": rnn_relu_cell, "lstm": lstm_cell,
         "gru": gru_cell}
SEQUENCES = {"rnn_tanh": rnn_tanh, "rnn_relu": rnn_relu, "lstm": lstm, "gru": gru}


# -- the reference: PyTorch's documented equations, one step, in float64 NumPy -------------------


def np_sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def ref_cell(mode, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One step of ``mode``; returns (h', c') (c' is None except for the LSTM)."""
    b_ih = np.zeros(w_ih.shape[0]) if b_ih is None else b_ih
    b_hh = np.zeros(w_hh.shape[0]) if b_hh is None else b_hh
    hidden = w_hh.shape[1]
    if mode in ("rnn_tanh", "rnn_relu"):
        pre = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        return (np.tanh(pre) if mode == "rnn_tanh" else np.maximum(pre, 0.0)), None
    if mode == "lstm":
        W, U, b, v = w_ih, w_hh, b_ih, b_hh

        def gate(k):  # rows k*H:(k+1)*H of the stacked weights
            rows = slice(k * hidden, (k + 1) * hidden)
            return x @ W[rows].T + b[rows] + h @ U[rows].T + v[rows]

        i, f = np_sigmoid(gate(0)), np_sigmoid(gate(1))
        g, o = np.tanh(gate(2)), np_sigmoid(gate(3))
        c_new = f * c + i * g
        return o * np.tanh(c_new), c_new
    # GRU: r, z, n, with r applied to (W_hn h + b_hn)
    rows = [slice(k * hidden, (k + 1) * hidden) for k in range(3)]
    r = np_sigmoid(x @ w_ih[rows[0]].T + b_ih[rows[0]] + h @ w_hh[rows[0]].T + b_hh[rows[0]])
    z = np_sigmoid(x @ w_ih[rows[1]].T + b_ih[rows[1]] + h @ w_hh[rows[1]].T + b_hh[rows[1]])
    n = np.tanh(x @ w_ih[rows[2]].T + b_ih[rows[2]] + r * (h @ w_hh[rows[2]].T + b_hh[rows[2]]))
    return (1 - z) * n + z * h, None


def ref_sequence(mode, x, h0, c0, params, num_layers, bidirectional):
    """Loop over layers, directions and time steps; x (L, N, I), h0/c0 (layers * D, N, H).

    ``params[k]`` = (w_ih, w_hh, b_ih, b_hh) for layer-direction k = layer * D + d.
    Returns (output (L, N, D * H), h_n, c_n).
    """
    directions = 2 if bidirectional else 1
    length = x.shape[0]
    layer_input, h_n, c_n = x, [], []
    for layer in range(num_layers):
        outs = []
        for d in range(directions):
            k = layer * directions + d
            h, c = h0[k], c0[k] if c0 is not None else None
            out = np.zeros((length, x.shape[1], h0.shape[-1]))
            for t in range(length) if d == 0 else range(length - 1, -1, -1):
                h, c = ref_cell(mode, layer_input[t], h, c, *params[k])
                out[t] = h
            outs.append(out)
            h_n.append(h)
            c_n.append(c)
        layer_input = np.concatenate(outs, axis=-1)
    return layer_input, np.stack(h_n), (np.stack(c_n) if c0 is not None else None)


# -- helpers ---------------------------------------------------------------------------------


def leaf(rng, *shape, scale=1.0):
    return mg.tensor(rng.uniform(-scale, scale, shape), dtype=mg.float64, requires_grad=True)


def cell_args(rng, mode, batch, size, hidden, bias):
    gates = GATES[mode] * hidden
    x, h = leaf(rng, batch, size), leaf(rng, batch, hidden)
    c = leaf(rng, batch, hidden) if mode == "lstm" else None
    w = [leaf(rng, gates, size), leaf(rng, gates, hidden)]
    b = [leaf(rng, gates), leaf(rng, gates)] if bias else [None, None]
    return x, h, c, w, b


def call_cell(mode, x, h, c, w_ih, w_hh, b_ih, b_hh):
    if mode == "lstm":
        return lstm_cell(x, (h, c), w_ih, w_hh, b_ih, b_hh)
    return CELLS[mode](x, h, w_ih, w_hh, b_ih, b_hh)


def numpy_of(t):
    return None if t is None else t.detach().numpy().copy()


# -- the cells ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(CELLS))
@given(data=st.data())
def test_cell_values_and_gradients(mode, data):
    batch, size, hidden = (data.draw(st.integers(1, 3), label=s) for s in ("N", "I", "H"))
    bias = data.draw(st.booleans(), label="bias")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x, h, c, (w_ih, w_hh), (b_ih, b_hh) = cell_args(rng, mode, batch, size, hidden, bias)
    tensors = [t for t in (x, h, c, w_ih, w_hh, b_ih, b_hh) if t is not None]
    before = [numpy_of(t) for t in tensors]

    out = call_cell(mode, x, h, c, w_ih, w_hh, b_ih, b_hh)
    h_ref, c_ref = ref_cell(mode, *(numpy_of(t) for t in (x, h, c, w_ih, w_hh, b_ih, b_hh)))
    if mode == "lstm":
        assert out[0].shape == out[1].shape == (batch, hidden)
        np.testing.assert_allclose(numpy_of(out[0]), h_ref, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(numpy_of(out[1]), c_ref, rtol=1e-12, atol=1e-14)
        assert out[0].grad_fn.fn is LSTMGates
    else:
        assert out.shape == (batch, hidden) and out.dtype == mg.float64
        np.testing.assert_allclose(numpy_of(out), h_ref, rtol=1e-12, atol=1e-14)
        if mode == "gru":
            assert out.grad_fn.fn is GRUGates
    for t, a in zip(tensors, before):
        np.testing.assert_array_equal(numpy_of(t), a)  # inputs left alone

    if mode == "rnn_relu":  # keep finite differences away from relu's kink
        pre = numpy_of(x) @ numpy_of(w_ih).T + numpy_of(h) @ numpy_of(w_hh).T
        if bias:
            pre = pre + numpy_of(b_ih) + numpy_of(b_hh)
        if np.abs(pre).min() < 1e-3:
            return

    def fn(x, h, c, w_ih, w_hh, b_ih, b_hh):
        return call_cell(mode, x, h, c, w_ih, w_hh, b_ih, b_hh)

    assert gradcheck(fn, (x, h, c, w_ih, w_hh, b_ih, b_hh))


@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_cell_second_derivatives(mode):
    rng = np.random.default_rng(3)
    x, h, c, (w_ih, w_hh), (b_ih, b_hh) = cell_args(rng, mode, 2, 2, 2, True)

    def fn(x, h, c, w_ih, w_hh, b_ih, b_hh):
        return call_cell(mode, x, h, c, w_ih, w_hh, b_ih, b_hh)

    assert gradgradcheck(fn, (x, h, c, w_ih, w_hh, b_ih, b_hh))


def test_lstm_cell_without_bias_matches_zero_bias():
    rng = np.random.default_rng(0)
    x, h, c, (w_ih, w_hh), _ = cell_args(rng, "lstm", 2, 3, 2, False)
    zero = mg.zeros(8, dtype=mg.float64)
    a = lstm_cell(x, (h, c), w_ih, w_hh)
    b = lstm_cell(x, (h, c), w_ih, w_hh, zero, zero)
    np.testing.assert_array_equal(numpy_of(a[0]), numpy_of(b[0]))
    np.testing.assert_array_equal(numpy_of(a[1]), numpy_of(b[1]))


# -- the fused gate Functions, all outputs (the gate activations included) -------------------------


@settings(max_examples=15)
@given(data=st.data())
def test_lstm_gates_every_output(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    batch, hidden = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    gx, gh = leaf(rng, batch, 4 * hidden, scale=2), leaf(rng, batch, 4 * hidden, scale=2)
    c = leaf(rng, batch, hidden)
    h_new, c_new, acts = LSTMGates.apply(gx, gh, c)
    a = numpy_of(gx) + numpy_of(gh)
    i, f, g, o = np.split(a, 4, axis=-1)
    i, f, g, o = np_sigmoid(i), np_sigmoid(f), np.tanh(g), np_sigmoid(o)
    np.testing.assert_allclose(numpy_of(acts), np.concatenate([i, f, g, o], -1), rtol=1e-12)
    np.testing.assert_allclose(numpy_of(c_new), f * numpy_of(c) + i * g, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(numpy_of(h_new), o * np.tanh(f * numpy_of(c) + i * g), rtol=1e-12,
                               atol=1e-15)
    assert gradcheck(LSTMGates.apply, (gx, gh, c))
    # each output alone: backward gets None for the others
    for k in range(3):
        assert gradcheck(lambda *a, k=k: LSTMGates.apply(*a)[k], (gx, gh, c))


@settings(max_examples=15)
@given(data=st.data())
def test_gru_gates_every_output(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    batch, hidden = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    gx, gh = leaf(rng, batch, 3 * hidden, scale=2), leaf(rng, batch, 3 * hidden, scale=2)
    h = leaf(rng, batch, hidden)
    h_new, acts = GRUGates.apply(gx, gh, h)
    ax, ah = np.split(numpy_of(gx), 3, -1), np.split(numpy_of(gh), 3, -1)
    r, z = np_sigmoid(ax[0] + ah[0]), np_sigmoid(ax[1] + ah[1])
    n = np.tanh(ax[2] + r * ah[2])
    np.testing.assert_allclose(numpy_of(acts), np.concatenate([r, z, n], -1), rtol=1e-12)
    np.testing.assert_allclose(numpy_of(h_new), (1 - z) * n + z * numpy_of(h), rtol=1e-12,
                               atol=1e-15)
    assert gradcheck(GRUGates.apply, (gx, gh, h))
    for k in range(2):
        assert gradcheck(lambda *a, k=k: GRUGates.apply(*a)[k], (gx, gh, h))


def test_gate_functions_second_order_through_every_output():
    rng = np.random.default_rng(5)
    gx, gh, c = leaf(rng, 2, 8, scale=2), leaf(rng, 2, 8, scale=2), leaf(rng, 2, 2)
    assert gradgradcheck(LSTMGates.apply, (gx, gh, c))
    gx, gh, h = leaf(rng, 2, 6, scale=2), leaf(rng, 2, 6, scale=2), leaf(rng, 2, 2)
    assert gradgradcheck(GRUGates.apply, (gx, gh, h))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backend_gate_primitives_keep_dtype_and_saturate_cleanly(dtype):
    # huge pre-activations: gates at exactly 0 or 1, no overflow warnings or NaN
    gx = np.array([[1e4, -1e4, 1e4, -1e4, 3.0, -2.0, 0.5, 1e4]], dtype=dtype)
    gh = np.zeros_like(gx)
    c = np.array([[0.5, -0.25]], dtype=dtype)
    with np.errstate(all="raise"):
        h, c_new, acts = cpu.lstm_gates_forward(gx, gh, c)
        h_gru, acts_gru = cpu.gru_gates_forward(gx[:, :6], gh[:, :6], c)
    for a in (h, c_new, acts, h_gru, acts_gru):
        assert a.dtype == dtype and np.isfinite(a).all()
    np.testing.assert_array_equal(acts[0, :4], np.array([1, 0, 1, 0], dtype=dtype))
    # unit 0: i = f = 1, so c' = c + tanh(3); unit 1: i = f = 0, so c' = 0 exactly
    np.testing.assert_allclose(c_new[0], [0.5 + np.tanh(3.0), 0.0], rtol=1e-6, atol=0)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda x, h, w: rnn_tanh_cell(x[0], h, w[0], w[1]), r"rnn_tanh_cell: expected input of "
         r"shape \(N, input_size\), got \(3,\)"),
        (lambda x, h, w: rnn_tanh_cell(x, h[:1], w[0], w[1]), r"rnn_tanh_cell: expected hx of "
         r"shape \(2, 4\) for input of shape \(2, 3\), got \(1, 4\)"),
        (lambda x, h, w: gru_cell(x, h, w[0], w[1]), r"gru_cell: expected w_ih of shape "
         r"\(12, 3\).*got \(4, 3\)"),
        (lambda x, h, w: rnn_relu_cell(x, h, w[0], w[1], w[2][:2]), r"rnn_relu_cell: expected "
         r"b_ih of shape \(4,\).*got \(2,\)"),
    ],
)
def test_cell_errors_name_the_op_and_shapes(call, message):
    rng = np.random.default_rng(0)
    x, h, _, w, b = cell_args(rng, "rnn_tanh", 2, 3, 4, True)
    with pytest.raises(ValueError, match=message):
        call(x, h, [*w, *b])


def test_lstm_cell_needs_a_pair_of_states():
    rng = np.random.default_rng(0)
    x, h, _, w, _ = cell_args(rng, "lstm", 2, 3, 4, False)
    with pytest.raises(TypeError, match=r"lstm_cell: expected hx to be a pair \(h, c\)"):
        lstm_cell(x, h, *w)


# -- whole sequences -------------------------------------------------------------------------------


def sequence_params(rng, mode, size, hidden, num_layers, bidirectional, bias):
    """Flat list in PyTorch's order and the same grouped per layer-direction."""
    directions = 2 if bidirectional else 1
    gates = GATES[mode] * hidden
    flat, grouped = [], []
    for layer in range(num_layers):
        for _ in range(directions):
            width = size if layer == 0 else hidden * directions
            group = [leaf(rng, gates, width), leaf(rng, gates, hidden)]
            if bias:
                group += [leaf(rng, gates), leaf(rng, gates)]
            flat += group
            grouped.append(tuple(numpy_of(t) for t in group) + ((None, None) if not bias else ()))
    return flat, grouped


@pytest.mark.parametrize("mode", list(SEQUENCES))
@given(data=st.data())
def test_sequence_functions_against_the_loop_reference(mode, data):
    draw = data.draw
    length, batch, size, hidden = (draw(st.integers(1, 3), label=s) for s in "LNIH")
    num_layers, bidirectional = draw(st.integers(1, 2), label="layers"), draw(st.booleans())
    bias, batch_first = draw(st.booleans(), label="bias"), draw(st.booleans(), label="bf")
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="seed"))
    flat, grouped = sequence_params(rng, mode, size, hidden, num_layers, bidirectional, bias)
    directions = 2 if bidirectional else 1
    x = leaf(rng, length, batch, size)
    h0 = leaf(rng, num_layers * directions, batch, hidden)
    c0 = leaf(rng, num_layers * directions, batch, hidden) if mode == "lstm" else None
    hx = (h0, c0) if mode == "lstm" else h0
    x_in = x.transpose(0, 1) if batch_first else x
    out = SEQUENCES[mode](x_in, hx, flat, bias, num_layers, 0.0, False, bidirectional, batch_first)
    output, states = out[0], (out[1] if mode == "lstm" else (out[1],))

    ref_out, ref_h, ref_c = ref_sequence(mode, numpy_of(x), numpy_of(h0), numpy_of(c0), grouped,
                                         num_layers, bidirectional)
    if batch_first:
        ref_out = ref_out.transpose(1, 0, 2)
    np.testing.assert_allclose(numpy_of(output), ref_out, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(numpy_of(states[0]), ref_h, rtol=1e-11, atol=1e-13)
    if mode == "lstm":
        np.testing.assert_allclose(numpy_of(states[1]), ref_c, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("mode", list(SEQUENCES))
@pytest.mark.parametrize("bidirectional", [False, True])
def test_sequence_gradients(mode, bidirectional):
    rng = np.random.default_rng(11)
    flat, _ = sequence_params(rng, mode, 2, 2, 2, bidirectional, True)
    directions = 2 if bidirectional else 1
    x, h0, c0 = leaf(rng, 3, 1, 2), leaf(rng, 2 * directions, 1, 2), leaf(rng, 2 * directions, 1, 2)
    if mode == "rnn_relu":  # weights and inputs positive: no pre-activation near relu's kink
        for t in (x, h0, *flat):
            t.data = t.data.abs() + 0.1

    def fn(x, h0, c0, *params):
        hx = (h0, c0) if mode == "lstm" else h0
        output, states = SEQUENCES[mode](x, hx, list(params), True, 2, 0.0, False, bidirectional)
        return (output, *states) if mode == "lstm" else (output, states)

    inputs = (x, h0, c0 if mode == "lstm" else None, *flat)
    assert gradcheck(fn, inputs, fast_mode=True)
    for t in flat:  # the full Jacobian w.r.t. input and initial states
        t.requires_grad_(False)
    assert gradcheck(fn, inputs)


def test_sequence_errors():
    rng = np.random.default_rng(0)
    flat, _ = sequence_params(rng, "gru", 3, 2, 1, False, True)
    with pytest.raises(ValueError, match=r"GRU: expected input to be 2D or 3D, got 4D"):
        gru(mg.zeros(1, 1, 1, 3, dtype=mg.float64), None, flat)
    with pytest.raises(ValueError, match=r"GRU: expected 8 weight tensors"):
        gru(mg.zeros(2, 3, dtype=mg.float64), None, flat, True, 2)
    with pytest.raises(ValueError, match=r"GRU: dropout should be a number in range \[0, 1\]"):
        gru(mg.zeros(2, 3, dtype=mg.float64), None, flat, dropout=1.5)
