"""Tests of minigrad/nn/recurrent.py: RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell.

The layers are compared with a float64 NumPy reference that loops over layers, directions
and time steps with the equations as PyTorch documents them; parameter names, shapes and
order with PyTorch's; gradients with finite differences on tiny sizes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import nn
from minigrad.ops.recurrent import GRUGates, LSTMGates
from minigrad.testing import gradcheck

GATES = {"RNN": 1, "RNN_relu": 1, "LSTM": 4, "GRU": 3}


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def reference_step(kind, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One step of PyTorch's documented equations; returns (h', c')."""
    gi, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    if kind in ("RNN", "RNN_relu"):
        return (np.tanh(gi + gh) if kind == "RNN" else np.maximum(gi + gh, 0.0)), None
    if kind == "LSTM":
        i, f, g, o = np.split(gi + gh, 4, axis=-1)
        c_new = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        return sigmoid(o) * np.tanh(c_new), c_new
    (xr, xz, xn), (hr, hz, hn) = np.split(gi, 3, axis=-1), np.split(gh, 3, axis=-1)
    r, z = sigmoid(xr + hr), sigmoid(xz + hz)
    n = np.tanh(xn + r * hn)
    return (1 - z) * n + z * h, None


def reference_layer(kind, module, x, h0, c0):
    """Run ``module``'s weights over ``x`` (L, N, I) with explicit loops over layers,
    directions and time; h0/c0 (layers * D, N, H).  Returns (output, h_n, c_n)."""
    params = {k: v.detach().numpy().astype(np.float64) for k, v in module.state_dict().items()}
    directions = 2 if module.bidirectional else 1
    length, hidden = x.shape[0], module.hidden_size
    layer_input, h_n, c_n = x, [], []
    for layer in range(module.num_layers):
        outputs = []
        for d in range(directions):
            suffix = f"_l{layer}" + ("_reverse" if d else "")
            w_ih, w_hh = params["weight_ih" + suffix], params["weight_hh" + suffix]
            zero = np.zeros(w_ih.shape[0])
            b_ih = params.get("bias_ih" + suffix, zero)
            b_hh = params.get("bias_hh" + suffix, zero)
            k = layer * directions + d
            h, c = h0[k], (c0[k] if c0 is not None else None)
            out = np.zeros((length, x.shape[1], hidden))
            for t in range(length) if d == 0 else range(length - 1, -1, -1):
                h, c = reference_step(kind, layer_input[t], h, c, w_ih, w_hh, b_ih, b_hh)
                out[t] = h
            outputs.append(out)
            h_n.append(h)
            c_n.append(c)
        layer_input = np.concatenate(outputs, axis=-1)
    return layer_input, np.stack(h_n), (np.stack(c_n) if c0 is not None else None)


def make_layer(kind, *args, **kwargs):
    if kind == "RNN_relu":
        return nn.RNN(*args, nonlinearity="relu", **kwargs)
    return getattr(nn, kind)(*args, **kwargs)


def as_numpy(t):
    return t.detach().numpy()


# -- values against the loop reference ---------------------------------------------------------


@pytest.mark.parametrize("kind", list(GATES))
@given(data=st.data())
def test_layer_matches_the_loop_reference(kind, data):
    draw = data.draw
    length, batch, size, hidden = (draw(st.integers(1, 3), label=s) for s in "LNIH")
    num_layers = draw(st.integers(1, 2), label="num_layers")
    bidirectional, bias = draw(st.booleans(), label="bidir"), draw(st.booleans(), label="bias")
    batch_first, batched = draw(st.booleans(), label="bf"), draw(st.booleans(), label="batched")
    give_state = draw(st.booleans(), label="initial state given")
    mg.manual_seed(draw(st.integers(0, 2**16), label="seed"))
    layer = make_layer(kind, size, hidden, num_layers, bias=bias, batch_first=batch_first,
                       bidirectional=bidirectional, dtype=mg.float64)
    directions = 2 if bidirectional else 1
    rng = np.random.default_rng(draw(st.integers(0, 2**16), label="data seed"))
    x = rng.standard_normal((length, batch, size))
    h0 = rng.standard_normal((num_layers * directions, batch, hidden)) if give_state else None
    c0 = rng.standard_normal(h0.shape) if give_state and kind == "LSTM" else None

    def lay_out(a, time_axis_first=True):  # a (L, N, ...) -> the layout the module takes
        if not batched:
            return a[:, 0]
        return a.transpose(1, 0, 2) if batch_first and time_axis_first else a

    inp = mg.tensor(lay_out(x), dtype=mg.float64)
    states = None
    if give_state:
        h, c = (mg.tensor(lay_out(s, False), dtype=mg.float64) for s in (h0, c0 if c0 is not None
                                                                          else h0))
        states = (h, c) if kind == "LSTM" else h
    output, state = layer(inp, states) if states is not None else layer(inp)

    zeros = np.zeros((num_layers * directions, batch, hidden))
    ref_out, ref_h, ref_c = reference_layer(
        kind, layer, x, h0 if give_state else zeros,
        (c0 if give_state else zeros) if kind == "LSTM" else None,
    )
    h_n = state[0] if kind == "LSTM" else state
    expected_out = lay_out(ref_out)
    assert output.shape == expected_out.shape == (
        (length, directions * hidden) if not batched
        else (batch, length, directions * hidden) if batch_first
        else (length, batch, directions * hidden)
    )
    np.testing.assert_allclose(as_numpy(output), expected_out, rtol=1e-11, atol=1e-13)
    # h_n ignores batch_first, as PyTorch's
    np.testing.assert_allclose(as_numpy(h_n), lay_out(ref_h, False), rtol=1e-11, atol=1e-13)
    if kind == "LSTM":
        np.testing.assert_allclose(as_numpy(state[1]), lay_out(ref_c, False), rtol=1e-11,
                                   atol=1e-13)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_default_float32_layer_runs_and_matches_float64(kind):
    mg.manual_seed(0)
    layer = make_layer(kind, 3, 4, 2, bidirectional=True)
    assert all(p.dtype == mg.float32 for p in layer.parameters())
    x = mg.randn(5, 2, 3)
    output, _ = layer(x)
    assert output.dtype == mg.float32
    ref = reference_layer(kind, layer, as_numpy(x).astype(np.float64),
                          np.zeros((4, 2, 4)), np.zeros((4, 2, 4)) if kind == "LSTM" else None)
    np.testing.assert_allclose(as_numpy(output), ref[0], rtol=1e-4, atol=1e-5)


# -- gradients ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(GATES))
@settings(max_examples=6)
@given(data=st.data())
def test_layer_gradients_wrt_input_and_initial_state(kind, data):
    draw = data.draw
    length, batch, size, hidden = (draw(st.integers(1, n), label=s) for s, n in
                                   zip("LNIH", (3, 2, 2, 3)))
    num_layers = draw(st.integers(1, 2), label="num_layers")
    bidirectional, bias = draw(st.booleans(), label="bidir"), draw(st.booleans(), label="bias")
    batch_first, batched = draw(st.booleans(), label="bf"), draw(st.booleans(), label="batched")
    mg.manual_seed(draw(st.integers(0, 2**16), label="seed"))
    layer = make_layer(kind, size, hidden, num_layers, bias=bias, batch_first=batch_first,
                       bidirectional=bidirectional, dtype=mg.float64)
    rng = np.random.default_rng(draw(st.integers(0, 2**16), label="data seed"))
    directions = 2 if bidirectional else 1
    x_shape = (batch, length, size) if batch_first else (length, batch, size)
    state_shape = (num_layers * directions, batch, hidden)
    if not batched:
        x_shape, state_shape = (length, size), (num_layers * directions, hidden)
    x = mg.tensor(rng.uniform(-1, 1, x_shape), dtype=mg.float64, requires_grad=True)
    h0 = mg.tensor(rng.uniform(-1, 1, state_shape), dtype=mg.float64, requires_grad=True)
    c0 = mg.tensor(rng.uniform(-1, 1, state_shape), dtype=mg.float64, requires_grad=True)
    if kind == "RNN_relu":  # all positive: every pre-activation away from relu's kink
        with mg.no_grad():
            for p in layer.parameters():
                p.copy_(p.abs() + 0.05)
        x.data, h0.data = x.data.abs() + 0.1, h0.data.abs() + 0.1

    def fn(x, h0, c0):
        if kind == "LSTM":
            output, (h_n, c_n) = layer(x, (h0, c0))
            return output, h_n, c_n
        return layer(x, h0)

    assert gradcheck(fn, (x, h0, c0 if kind == "LSTM" else None))


def test_gradients_reach_every_parameter_and_match_finite_differences():
    mg.manual_seed(4)
    layer = nn.LSTM(2, 2, num_layers=2, bidirectional=True, dtype=mg.float64)
    x = mg.tensor(np.random.default_rng(0).uniform(-1, 1, (3, 1, 2)), dtype=mg.float64)

    def fn(*params):  # the layer's own functional form, with its parameters as inputs
        return mg.ops.lstm(x, None, list(params), True, 2, 0.0, False, True)[0]

    assert gradcheck(fn, tuple(layer.parameters()), fast_mode=True)
    layer(x)[0].sum().backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in layer.parameters())


def test_a_thousand_step_sequence_backpropagates():
    mg.manual_seed(0)
    layer = nn.LSTM(2, 3)
    x = mg.randn(1000, 1, 2, requires_grad=True)
    output, (h_n, c_n) = layer(x)
    (output.sum() + c_n.sum()).backward()  # the engine is iterative: no RecursionError
    assert np.isfinite(as_numpy(x.grad)).all() and x.grad.shape == (1000, 1, 2)
    assert np.abs(as_numpy(x.grad[0])).sum() > 0  # the first step got a gradient
    assert np.isfinite(as_numpy(layer.weight_hh_l0.grad)).all()


def test_fused_gate_functions_are_used_by_the_layers():
    x = mg.randn(2, 1, 3, requires_grad=True)
    assert nn.LSTM(3, 2)(x)[1][1].grad_fn is not None
    out = nn.LSTMCell(3, 2)(x[0])[0]
    assert out.grad_fn.fn is LSTMGates
    assert nn.GRUCell(3, 2)(x[0]).grad_fn.fn is GRUGates


# -- parameters, state_dict, initialisation, repr -----------------------------------------------

# PyTorch's names and shapes for LSTM(10, 20, num_layers=2, bidirectional=True), in order
PYTORCH_LSTM_KEYS = [
    ("weight_ih_l0", (80, 10)), ("weight_hh_l0", (80, 20)), ("bias_ih_l0", (80,)),
    ("bias_hh_l0", (80,)), ("weight_ih_l0_reverse", (80, 10)),
    ("weight_hh_l0_reverse", (80, 20)), ("bias_ih_l0_reverse", (80,)),
    ("bias_hh_l0_reverse", (80,)), ("weight_ih_l1", (80, 40)), ("weight_hh_l1", (80, 20)),
    ("bias_ih_l1", (80,)), ("bias_hh_l1", (80,)), ("weight_ih_l1_reverse", (80, 40)),
    ("weight_hh_l1_reverse", (80, 20)), ("bias_ih_l1_reverse", (80,)),
    ("bias_hh_l1_reverse", (80,)),
]


def test_state_dict_keys_and_shapes_are_pytorchs():
    lstm = nn.LSTM(10, 20, num_layers=2, bidirectional=True)
    assert [(k, tuple(v.shape)) for k, v in lstm.state_dict().items()] == PYTORCH_LSTM_KEYS
    gru = nn.GRU(5, 3, num_layers=2, bias=False)
    assert [(k, tuple(v.shape)) for k, v in gru.state_dict().items()] == [
        ("weight_ih_l0", (9, 5)), ("weight_hh_l0", (9, 3)),
        ("weight_ih_l1", (9, 3)), ("weight_hh_l1", (9, 3)),
    ]
    rnn = nn.RNN(4, 6)
    assert [(k, tuple(v.shape)) for k, v in rnn.state_dict().items()] == [
        ("weight_ih_l0", (6, 4)), ("weight_hh_l0", (6, 6)), ("bias_ih_l0", (6,)),
        ("bias_hh_l0", (6,)),
    ]
    for cell, gates in ((nn.RNNCell, 1), (nn.LSTMCell, 4), (nn.GRUCell, 3)):
        assert [(k, tuple(v.shape)) for k, v in cell(4, 6).state_dict().items()] == [
            ("weight_ih", (6 * gates, 4)), ("weight_hh", (6 * gates, 6)),
            ("bias_ih", (6 * gates,)), ("bias_hh", (6 * gates,)),
        ]
        assert list(cell(4, 6, bias=False).state_dict()) == ["weight_ih", "weight_hh"]


def test_module_to_float64_and_flatten_parameters():
    layer = nn.GRU(3, 4, num_layers=2)
    layer.flatten_parameters()  # a no-op, as code written for cuDNN calls it
    layer.to(mg.float64)
    output, h_n = layer(mg.randn(2, 1, 3, dtype=mg.float64))
    assert output.dtype == h_n.dtype == mg.float64
    assert [p.dtype for p in layer.parameters()] == [mg.float64] * 8


def test_state_dict_round_trip():
    a, b = nn.GRU(3, 4, bidirectional=True), nn.GRU(3, 4, bidirectional=True)
    b.load_state_dict(a.state_dict())
    x = mg.randn(2, 1, 3)
    np.testing.assert_array_equal(as_numpy(a(x)[0]), as_numpy(b(x)[0]))


def test_initialisation_is_uniform_within_one_over_sqrt_hidden():
    mg.manual_seed(0)
    layer = nn.LSTM(30, 25, num_layers=2)
    bound = 1 / math.sqrt(25)
    values = np.concatenate([as_numpy(p).ravel() for p in layer.parameters()])
    assert values.min() >= -bound and values.max() <= bound
    assert values.min() < -0.95 * bound and values.max() > 0.95 * bound
    assert abs(values.mean()) < 0.01 and abs(values.std() - bound / math.sqrt(3)) < 0.01
    layer.reset_parameters()
    again = np.concatenate([as_numpy(p).ravel() for p in layer.parameters()])
    assert not np.array_equal(values, again) and np.abs(again).max() <= bound


@pytest.mark.parametrize(
    "module, text",
    [
        (lambda: nn.LSTM(10, 20, num_layers=2, batch_first=True, bidirectional=True),
         "LSTM(10, 20, num_layers=2, batch_first=True, bidirectional=True)"),
        (lambda: nn.RNN(3, 4), "RNN(3, 4)"),
        (lambda: nn.GRU(3, 4, bias=False, dropout=0.5, num_layers=2),
         "GRU(3, 4, num_layers=2, bias=False, dropout=0.5)"),
        (lambda: nn.RNNCell(3, 4, nonlinearity="relu"), "RNNCell(3, 4, nonlinearity=relu)"),
        (lambda: nn.LSTMCell(3, 4, bias=False), "LSTMCell(3, 4, bias=False)"),
        (lambda: nn.GRUCell(3, 4), "GRUCell(3, 4)"),
    ],
)
def test_repr_is_pytorchs(module, text):
    assert repr(module()) == text


# -- dropout between layers ----------------------------------------------------------------------


def test_dropout_acts_between_layers_only_in_training():
    mg.manual_seed(0)
    layer = nn.GRU(3, 4, num_layers=2, dropout=0.5, dtype=mg.float64)
    x = mg.randn(4, 2, 3, dtype=mg.float64)
    zeros = np.zeros((2, 2, 4))
    expected, expected_h, _ = reference_layer("GRU", layer, as_numpy(x), zeros, None)
    layer.eval()
    out, h_n = layer(x)
    np.testing.assert_allclose(as_numpy(out), expected, rtol=1e-12, atol=1e-14)
    layer.train()
    out, h_n = layer(x)
    # layer 0 sees no dropout (its h_n is the reference's); the last layer's output differs
    np.testing.assert_allclose(as_numpy(h_n[0]), expected_h[0], rtol=1e-12, atol=1e-14)
    assert not np.allclose(as_numpy(out), expected)


def test_dropout_one_feeds_zeros_to_the_next_layer_and_none_after_the_last():
    mg.manual_seed(0)
    layer = nn.LSTM(3, 2, num_layers=2, dropout=1.0, dtype=mg.float64)
    x = mg.randn(3, 1, 3, dtype=mg.float64)
    out, _ = layer(x)  # training mode by default
    # layer 1 sees an all-zero input: compare with a one-layer LSTM holding layer 1's weights
    second = nn.LSTM(2, 2, dtype=mg.float64)
    second.load_state_dict({k.replace("_l1", "_l0"): v for k, v in layer.state_dict().items()
                            if k.endswith("_l1")})
    expected, _ = second(mg.zeros(3, 1, 2, dtype=mg.float64))
    np.testing.assert_allclose(as_numpy(out), as_numpy(expected), rtol=1e-12, atol=1e-14)
    with pytest.warns(UserWarning, match=r"LSTM: dropout option adds dropout after all but "
                      r"last recurrent layer.*dropout=1.0 and num_layers=1"):
        single = nn.LSTM(3, 2, dropout=1.0, dtype=mg.float64)  # one layer: no dropout at all
    single_out, _ = single(x)
    ref = reference_layer("LSTM", single, as_numpy(x), np.zeros((1, 1, 2)), np.zeros((1, 1, 2)))
    np.testing.assert_allclose(as_numpy(single_out), ref[0], rtol=1e-12, atol=1e-14)


# -- the cells -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["RNN", "RNN_relu", "LSTM", "GRU"])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("give_state", [True, False])
def test_cells_match_one_reference_step(kind, batched, give_state):
    mg.manual_seed(3)
    cls = {"RNN": nn.RNNCell, "RNN_relu": nn.RNNCell, "LSTM": nn.LSTMCell, "GRU": nn.GRUCell}
    kwargs = {"nonlinearity": "relu"} if kind == "RNN_relu" else {}
    cell = cls[kind](3, 4, dtype=mg.float64, **kwargs)
    rng = np.random.default_rng(0)
    x, h, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    if not give_state:
        h, c = np.zeros_like(h), np.zeros_like(c)
    w = {k: as_numpy(v) for k, v in cell.state_dict().items()}
    ref_h, ref_c = reference_step(kind, x, h, c, w["weight_ih"], w["weight_hh"], w["bias_ih"],
                                  w["bias_hh"])

    def t(a):
        return mg.tensor(a if batched else a[0], dtype=mg.float64)

    if kind == "LSTM":
        out_h, out_c = cell(t(x), (t(h), t(c))) if give_state else cell(t(x))
        np.testing.assert_allclose(as_numpy(out_c), ref_c if batched else ref_c[0], rtol=1e-12)
    else:
        out_h = cell(t(x), t(h)) if give_state else cell(t(x))
    np.testing.assert_allclose(as_numpy(out_h), ref_h if batched else ref_h[0], rtol=1e-12,
                               atol=1e-14)


# -- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: nn.LSTM(10, 20)(mg.randn(5, 3, 7)), ValueError,
         r"LSTM: input.size\(-1\) must be equal to input_size. Expected 10, got 7"),
        (lambda: nn.GRU(10, 20)(mg.randn(1, 5, 3, 10)), ValueError,
         r"GRU: expected input to be 2D or 3D, got 4D input of shape \(1, 5, 3, 10\)"),
        (lambda: nn.RNN(10, 20, num_layers=2)(mg.randn(5, 3, 10), mg.zeros(1, 3, 20)),
         ValueError, r"RNN: expected h_0 of shape \(2, 3, 20\) for input of shape "
         r"\(5, 3, 10\), got \(1, 3, 20\)"),
        (lambda: nn.LSTM(10, 20)(mg.randn(5, 3, 10), (mg.zeros(1, 3, 20), mg.zeros(1, 2, 20))),
         ValueError, r"LSTM: expected c_0 of shape \(1, 3, 20\).*got \(1, 2, 20\)"),
        (lambda: nn.LSTM(10, 20)(mg.randn(5, 3, 10), mg.zeros(1, 3, 20)), TypeError,
         r"LSTM: expected hx to be a pair \(h_0, c_0\)"),
        (lambda: nn.GRUCell(4, 5)(mg.randn(2, 3)), ValueError,
         r"GRUCell: input has inconsistent input_size: got 3.*expected 4"),
        (lambda: nn.RNNCell(4, 5)(mg.randn(2, 4), mg.zeros(3, 5)), ValueError,
         r"RNNCell: expected hx of shape \(2, 5\) for input of shape \(2, 4\), got \(3, 5\)"),
        (lambda: nn.LSTMCell(4, 5)(mg.randn(2, 2, 4)), ValueError,
         r"LSTMCell: expected input to be 1D or 2D, got 3D"),
        (lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), ValueError,
         r"RNN: unknown nonlinearity 'sigmoid'"),
        (lambda: nn.GRU(3, 4, dropout=2.0), ValueError, r"GRU: dropout should be a number"),
        (lambda: nn.LSTM(3, 0), ValueError, r"LSTM: hidden_size must be a positive integer"),
    ],
)
def test_errors_name_the_layer_and_shapes(call, error, message):
    with pytest.raises(error, match=message):
        call()
