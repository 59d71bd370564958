"""Property tests for ``minigrad/ops/elementwise.py``, written as one table of declarations.

Each ``Case`` names the Function classes it covers (``covers``: they must appear in the
graph the op builds), the minigrad op, its NumPy float64 reference, the value domain of
each input, the points each input must keep away from (kinks, ties, singularities) and
the op's parameters as a hypothesis strategy.  ``make_op_tests`` turns a table into three
property tests (forward, gradient, second order); ``test_activation.py`` reuses it.

Hand-written tables below the property tests pin down what a property cannot: PyTorch's
dtype promotion, its subgradients at kinks, and the error messages.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from minigrad.ops import elementwise as ew
from minigrad.testing import gradcheck, gradgradcheck
from minigrad.testing import strategies as mst

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
MAX_DIMS, MAX_SIDE = 3, 3  # full Jacobians: at most 27 elements per input


def _no_params(shapes) -> st.SearchStrategy[dict]:
    return st.just({})


def _no_kinks(params: dict, drawn: list) -> tuple:
    return ()


def avoid_ties(params: dict, drawn: list) -> tuple:
    """Keep each input away from every value of the inputs drawn before it (max, clamp)."""
    values = [a.ravel() for a in drawn if a.dtype != bool]
    return tuple(np.unique(np.concatenate(values))) if values else ()


def avoid_zero_in(*positions: int) -> Callable[[dict, list], tuple]:
    """Keep the inputs at ``positions`` away from 0 (denominators, |x|'s kink)."""
    return lambda params, drawn: (0.0,) if len(drawn) in positions else ()


@dataclass(frozen=True)
class Case:
    """One op under test.

    ``domains`` has one ``(low, high)`` per input, or ``None`` for a bool input that
    takes no gradient (``where``'s condition).  ``avoid(params, drawn)`` gives the points
    the next input keeps ``margin`` away from, knowing the inputs drawn before it.
    ``rtol``/``atol`` are for the float64 forward check against ``ref``.
    """

    name: str
    covers: tuple  # the Function classes that must appear in the op's graph
    op: Callable
    ref: Callable
    domains: tuple
    avoid: Callable[[dict, list], tuple] = _no_kinks
    margin: float = 1e-3
    params: Callable[[tuple], st.SearchStrategy[dict]] = _no_params
    second_order: bool = True
    rtol: float = 1e-12
    atol: float = 0.0
    min_dims: int = 0


def draw_case_inputs(data, case: Case) -> tuple[dict, list[np.ndarray]]:
    """Draw mutually broadcastable shapes, then the parameters, then each input's values."""
    shapes = data.draw(
        mst.mutually_broadcastable_shapes(
            len(case.domains), min_dims=case.min_dims, max_dims=MAX_DIMS, max_side=MAX_SIDE
        ),
        label="shapes",
    )
    params = data.draw(case.params(shapes), label="params")
    drawn: list[np.ndarray] = []
    for k, (shape, domain) in enumerate(zip(shapes, case.domains)):
        if domain is None:
            strategy = mst.arrays(shape, bool)
        else:
            low, high = domain
            avoid = case.avoid(params, drawn)
            strategy = mst.arrays(shape, F64, low, high, avoid=avoid, margin=case.margin)
        drawn.append(data.draw(strategy, label=f"input {k}"))
    return params, drawn


def as_tensors(arrays: list[np.ndarray], dtype=F64, requires_grad=True) -> list:
    return [
        minigrad.tensor(a)
        if a.dtype == bool
        else minigrad.tensor(a.astype(dtype), requires_grad=requires_grad)
        for a in arrays
    ]


def graph_functions(out) -> set:
    """The Function classes of every node in the graph that produced ``out``."""
    found, seen, stack = set(), set(), [out.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        found.add(getattr(node, "fn", None))
        stack.extend(edge[0] for edge in node.next_functions if edge is not None)
    return found


def make_op_tests(cases: list[Case]):
    """The three property tests of a table of cases, each parametrized by case name."""
    parametrize = pytest.mark.parametrize("case", cases, ids=[c.name for c in cases])

    @parametrize
    @given(data=st.data())
    def test_forward(case: Case, data):
        """float64 value against NumPy; float32 stays float32; nothing mutated or aliased."""
        params, arrays = draw_case_inputs(data, case)
        originals = [a.copy() for a in arrays]
        tensors = as_tensors(arrays)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the drawn domains avoid every singularity
            out = case.op(*tensors, **params)
        expected = case.ref(*arrays, **params)
        assert out.dtype == F64 and out.shape == np.shape(expected)
        np.testing.assert_allclose(out.detach().numpy(), expected, rtol=case.rtol, atol=case.atol)
        assert set(case.covers) <= graph_functions(out), f"{case.name}: expected {case.covers}"

        upstream = data.draw(mst.arrays(out.shape, F64), label="upstream gradient")
        upstream_tensor = minigrad.tensor(upstream)
        out.backward(upstream_tensor)
        for a, original, t in zip(arrays, originals, tensors):
            np.testing.assert_array_equal(a, original)  # the caller's array
            np.testing.assert_array_equal(t.detach().numpy(), original)  # the tensor's data
        np.testing.assert_array_equal(upstream_tensor.numpy(), upstream)
        grads = [t.grad for t in tensors if t.requires_grad]
        for t, g in zip([t for t in tensors if t.requires_grad], grads):
            assert g.shape == t.shape and g.dtype == t.dtype
        for i, g in enumerate(grads):
            others = [upstream_tensor, *tensors, *(h for j, h in enumerate(grads) if j != i)]
            assert not any(np.shares_memory(g._data, o._data) for o in others), "aliased grad"

        # float32 in, float32 out (and float32 gradients), close to the reference evaluated
        # at the float32-rounded inputs: float32 keeps about 7 digits.
        tensors32 = as_tensors(arrays, F32)
        out32 = case.op(*tensors32, **params)
        assert out32.dtype == F32
        rounded = [a if a.dtype == bool else a.astype(F32).astype(F64) for a in arrays]
        np.testing.assert_allclose(
            out32.detach().numpy(), case.ref(*rounded, **params), rtol=2e-5, atol=2e-6
        )
        out32.sum().backward()
        assert all(t.grad.dtype == F32 for t in tensors32 if t.requires_grad)

    @parametrize
    @given(data=st.data())
    def test_gradient(case: Case, data):
        """Analytic gradient against central differences in float64 (full Jacobian)."""
        params, arrays = draw_case_inputs(data, case)
        assert gradcheck(lambda *ts: case.op(*ts, **params), tuple(as_tensors(arrays)))

    second = [c for c in cases if c.second_order]

    @pytest.mark.parametrize("case", second, ids=[c.name for c in second])
    @given(data=st.data())
    def test_second_order(case: Case, data):
        """Backward is built from minigrad ops, so it differentiates again (create_graph)."""
        params, arrays = draw_case_inputs(data, case)
        assert gradgradcheck(lambda *ts: case.op(*ts, **params), tuple(as_tensors(arrays)))

    return test_forward, test_gradient, test_second_order


# -- the table ----------------------------------------------------------------------------------
def _floats(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def _param(name: str, strategy: st.SearchStrategy) -> Callable[[tuple], st.SearchStrategy]:
    return lambda shapes: st.fixed_dictionaries({name: strategy})


def _clamp_bounds(shapes) -> st.SearchStrategy[dict]:
    """min only, max only, or both (min > max allowed: then every value is max)."""
    bound = _floats(-5, 5)
    return st.one_of(
        st.fixed_dictionaries({"min": bound}),
        st.fixed_dictionaries({"max": bound}),
        st.fixed_dictionaries({"min": bound, "max": bound}),
    )


def _avoid_clamp_bounds(params: dict, drawn: list) -> tuple:
    return tuple(b for b in (params.get("min"), params.get("max")) if b is not None)


_erf = np.vectorize(math.erf, otypes=[float])
ANY = (-10.0, 10.0)

CASES = [
    # arithmetic: tensor (op) tensor, broadcasting
    Case("Add", (ew.Add,), ew.add, np.add, (ANY, ANY)),
    Case("Sub", (ew.Sub,), ew.sub, np.subtract, (ANY, ANY)),
    Case("Mul", (ew.Mul,), ew.mul, np.multiply, (ANY, ANY)),
    Case("Div", (ew.Div,), ew.div, np.divide, (ANY, (-5.0, 5.0)), avoid_zero_in(1), margin=0.5),
    Case("Neg", (ew.Neg,), ew.neg, np.negative, (ANY,)),
    # ``alpha`` and Python-number operands (the operators, reflected ones included)
    Case("Add-alpha", (ew.Add,), ew.add, lambda x, y, alpha: x + alpha * y,
         (ANY, ANY), params=_param("alpha", _floats(-3, 3))),
    Case("Sub-alpha", (ew.Sub,), ew.sub, lambda x, y, alpha: x - alpha * y,
         (ANY, ANY), params=_param("alpha", _floats(-3, 3))),
    Case("Add-scalar", (ew.Add,), lambda x, other: x + other, lambda x, other: x + other,
         (ANY,), params=_param("other", _floats(-5, 5))),
    Case("Sub-rsub-scalar", (ew.Sub,), lambda x, other: other - x, lambda x, other: other - x,
         (ANY,), params=_param("other", _floats(-5, 5))),
    Case("Mul-scalar", (ew.Mul,), lambda x, other: other * x, lambda x, other: other * x,
         (ANY,), params=_param("other", _floats(-5, 5))),
    Case("Div-rdiv-scalar", (ew.Div,), lambda x, other: other / x, lambda x, other: other / x,
         ((-5.0, 5.0),), avoid_zero_in(0), margin=0.5, params=_param("other", _floats(-5, 5))),
    # powers: a positive base for a tensor or real exponent; any base for whole exponents
    # (PyTorch zeroes x's gradient where y == 0 exactly, which loses d2z/dxdy there)
    Case("Pow", (ew.Pow,), ew.pow, np.power, ((0.5, 3.0), (-2.0, 2.0)), avoid_zero_in(1)),
    Case("Pow-scalar-exponent", (ew.Pow,), ew.pow, lambda x, exponent: np.power(x, exponent),
         ((0.5, 3.0),), params=_param("exponent", _floats(-3, 3))),
    Case("Pow-whole-exponent", (ew.Pow,), ew.pow, lambda x, exponent: np.power(x, exponent),
         ((-3.0, 3.0),), params=_param("exponent", st.sampled_from([0, 1, 2, 3]))),
    Case("Pow-scalar-base", (ew.Pow,), lambda y, base: ew.pow(base, y),
         lambda y, base: np.power(base, y), ((-3.0, 3.0),), params=_param("base", _floats(0.5, 4))),
    # unary math, in each function's domain
    Case("Exp", (ew.Exp,), ew.exp, np.exp, ((-5.0, 5.0),)),
    Case("Log", (ew.Log,), ew.log, np.log, ((0.1, 10.0),)),
    Case("Log1p", (ew.Log1p,), ew.log1p, np.log1p, ((-0.9, 10.0),)),
    Case("Sqrt", (ew.Sqrt,), ew.sqrt, np.sqrt, ((0.1, 10.0),)),
    Case("Abs", (ew.Abs,), ew.abs, np.abs, (ANY,), avoid_zero_in(0)),
    Case("Sign", (ew.Sign,), ew.sign, np.sign, (ANY,), avoid_zero_in(0)),
    Case("Sin", (ew.Sin,), ew.sin, np.sin, (ANY,)),
    Case("Cos", (ew.Cos,), ew.cos, np.cos, (ANY,)),
    Case("Tanh", (ew.Tanh,), ew.tanh, np.tanh, ((-5.0, 5.0),)),
    Case("Sigmoid", (ew.Sigmoid,), ew.sigmoid, lambda x: 1 / (1 + np.exp(-x)), (ANY,)),
    # Cody's rational erf is within 4 ulp of math.erf (tests/backend/test_cpu_erf.py)
    Case("Erf", (ew.Erf,), ew.erf, _erf, ((-4.0, 4.0),), rtol=1e-15),
    # selections: ties and bounds are kinks, so each input keeps away from the ones before it
    Case("Clamp", (ew.Clamp,), ew.clamp, lambda x, min=None, max=None: np.clip(x, min, max),
         (ANY,), _avoid_clamp_bounds, params=_clamp_bounds),
    Case("Clamp-tensor-min", (ew.Clamp,), lambda x, low: ew.clamp(x, min=low),
         lambda x, low: np.clip(x, low, None), (ANY, ANY), avoid_ties),
    Case("Clamp-tensor-bounds", (ew.Clamp,), ew.clamp, np.clip, (ANY, (-5.0, 5.0), (-5.0, 5.0)),
         avoid_ties),
    Case("Maximum", (ew.Maximum,), ew.maximum, np.maximum, (ANY, ANY), avoid_ties),
    Case("Minimum (Maximum and Neg)", (ew.Maximum, ew.Neg), ew.minimum, np.minimum, (ANY, ANY),
         avoid_ties),
    Case("Where", (ew.Where,), ew.where, np.where, (None, ANY, ANY)),
]

test_forward, test_gradient, test_second_order = make_op_tests(CASES)


# -- dtype promotion, as PyTorch ----------------------------------------------------------------
def _t(values, dtype):
    return minigrad.tensor(values, dtype=dtype)


f32, f64, f16 = minigrad.float32, minigrad.float64, minigrad.float16
i32, i64, b8 = minigrad.int32, minigrad.int64, minigrad.bool
PROMOTION = [
    # (id, op, first operand, second operand, expected dtype)
    ("f32+f32", ew.add, _t([1.5], f32), _t([2.0], f32), f32),
    ("f32*float", ew.mul, _t([1.5], f32), 2.5, f32),
    ("float*f32 (reflected)", lambda a, b: b * a, _t([1.5], f32), 2.5, f32),
    ("f64*float", ew.mul, _t([1.5], f64), 2.5, f64),
    ("f32+f64", ew.add, _t([1.5], f32), _t([2.0], f64), f64),
    ("f32+f64 0-d", ew.add, _t([1.5], f32), _t(2.0, f64), f32),
    ("f64 0-d+f32", ew.add, _t(2.0, f64), _t([1.5], f32), f32),
    ("f16*f32 0-d", ew.mul, _t([1.5], f16), _t(2.0, f32), f16),
    ("i64+float", ew.add, _t([1], i64), 2.5, f32),
    ("float-i64", lambda a, b: b - a, _t([1], i64), 2.5, f32),
    ("i64+int", ew.add, _t([1], i64), 2, i64),
    ("i32+int", ew.add, _t([1], i32), 2, i32),
    ("i32+i64", ew.add, _t([1], i32), _t([2], i64), i64),
    ("i32+i64 0-d", ew.add, _t([1], i32), _t(2, i64), i32),
    ("i64+f64 0-d", ew.add, _t([1], i64), _t(2.5, f64), f64),
    ("i64+f32", ew.add, _t([1], i64), _t([2.5], f32), f32),
    ("i64/i64", ew.div, _t([3], i64), _t([2], i64), f32),
    ("i64/int", ew.div, _t([3], i64), 2, f32),
    ("bool+bool", ew.add, _t([True], b8), _t([True], b8), b8),
    ("bool+int", ew.add, _t([True], b8), 3, i64),
    ("bool*float", ew.mul, _t([True], b8), 1.5, f32),
    ("bool+i32", ew.add, _t([True], b8), _t([3], i32), i32),
    ("bool/bool", ew.div, _t([True], b8), _t([True], b8), f32),
    ("i64**int", ew.pow, _t([3], i64), 2, i64),
    ("i64**float", ew.pow, _t([4], i64), 0.5, f32),
    ("float**i64", lambda a, b: ew.pow(b, a), _t([3], i64), 2.0, f32),
    ("maximum(i64, f32)", ew.maximum, _t([3], i64), _t([2.5], f32), f32),
    ("minimum(f32, f64 0-d)", ew.minimum, _t([3.0], f32), _t(2.5, f64), f32),
    ("where(f32, float)", lambda a, b: ew.where(_t([True], b8), a, b), _t([3.0], f32), 0.5, f32),
    ("where(i64, float)", lambda a, b: ew.where(_t([False], b8), a, b), _t([3], i64), 0.5, f32),
    ("where(float, float)", lambda a, b: ew.where(_t([True, False], b8), a, b), 1.0, 0.0, f32),
    ("where(int, int)", lambda a, b: ew.where(_t([True, False], b8), a, b), 1, 0, i64),
    ("where(int, float)", lambda a, b: ew.where(_t([True, False], b8), a, b), 1, 0.5, f32),
    ("clamp(i64, float)", lambda a, b: ew.clamp(a, min=b), _t([1, 3], i64), 1.5, f32),
    ("clamp(i64, int)", lambda a, b: ew.clamp(a, min=b), _t([1, 3], i64), 2, i64),
    ("clamp(f32, f64 0-d)", lambda a, b: ew.clamp(a, max=b), _t([1.0, 3.0], f32), _t(2.0, f64),
     f32),
]


@pytest.mark.parametrize(
    "op, a, b, expected", [row[1:] for row in PROMOTION], ids=[row[0] for row in PROMOTION]
)
def test_binary_result_dtype_follows_pytorch_promotion(op, a, b, expected):
    out = op(a, b)
    assert out.dtype == expected
    a64 = a.numpy().astype(F64) if isinstance(a, minigrad.Tensor) else a
    b64 = b.numpy().astype(F64) if isinstance(b, minigrad.Tensor) else b
    # the values: the float64 result (itself checked against NumPy above) in that dtype
    reference = np.asarray(op(a64, b64)).astype(expected).astype(F64)
    np.testing.assert_allclose(out.numpy().astype(F64), reference, rtol=1e-3)


UNARY_DTYPES = [
    # float-valued functions of integers are computed in the default float dtype
    *[(f, i64, f32) for f in (ew.exp, ew.log, ew.log1p, ew.sqrt, ew.sin, ew.cos, ew.tanh)],
    *[(f, b8, f32) for f in (ew.sigmoid, ew.erf)],
    # the others keep the dtype
    *[(f, i64, i64) for f in (ew.abs, ew.sign, ew.neg)],
    *[(f, f32, f32) for f in (ew.exp, ew.abs, ew.sigmoid, ew.erf)],
    *[(f, f16, f16) for f in (ew.exp, ew.tanh)],
]


@pytest.mark.parametrize(
    "op, dtype, expected", UNARY_DTYPES, ids=[f"{f.__name__}-{d}" for f, d, _ in UNARY_DTYPES]
)
def test_unary_result_dtype(op, dtype, expected):
    assert op(minigrad.tensor([1, 2], dtype=dtype)).dtype == expected


ROUNDING = [
    # (id, dividend, divisor, rounding_mode, expected values, expected dtype)
    ("floor int", _t([7, -7], i64), _t([2, 2], i64), "floor", [3, -4], i64),
    ("trunc int", _t([7, -7], i64), 2, "trunc", [3, -3], i64),
    ("floor float", _t([7.0, -7.0], f32), 2.0, "floor", [3.0, -4.0], f32),
    ("trunc float", _t([7.0, -7.0], f64), _t([2.0], f64), "trunc", [3.0, -3.0], f64),
    ("floor int by float", _t([7, -7], i64), 2.5, "floor", [2.0, -3.0], f32),
]


@pytest.mark.parametrize(
    "a, b, mode, expected, dtype", [r[1:] for r in ROUNDING], ids=[r[0] for r in ROUNDING]
)
def test_div_rounding_modes(a, b, mode, expected, dtype):
    out = ew.div(a, b, rounding_mode=mode)
    assert out.dtype == dtype and out.tolist() == expected


# -- PyTorch's subgradients and conventions at kinks and singular points ------------------------
def _grads(fn, *values):
    """The gradients of ``fn(*inputs).sum()`` for float64 leaves holding ``values``."""
    inputs = [minigrad.tensor(v, dtype=f64, requires_grad=True) for v in values]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the conventions give finite numbers without warnings
        fn(*inputs).sum().backward()
    return [x.grad.tolist() for x in inputs]


KINKS = [
    # (id naming the Function, op, input values, expected gradients)
    ("Abs: abs'(0) = 0", ew.abs, ([0.0, -2.0, 3.0],), [[0.0, -1.0, 1.0]]),
    ("Sign: zero gradient", ew.sign, ([0.0, -2.0, 3.0],), [[0.0, 0.0, 0.0]]),
    ("Clamp: gradient passes at both bounds", lambda x: ew.clamp(x, -1.0, 1.0),
     ([-1.0, 1.0, 0.0, -2.0, 2.0],), [[1.0, 1.0, 1.0, 0.0, 0.0]]),
    ("Clamp: at min only", lambda x: ew.clamp(x, min=0.0), ([0.0, -1.0],), [[1.0, 0.0]]),
    ("Clamp: at max only", lambda x: ew.clamp(x, max=0.0), ([0.0, 1.0],), [[1.0, 0.0]]),
    ("Clamp: min > max gives max", lambda x: ew.clamp(x, 1.0, 0.0), ([-1.0, 0.5, 2.0],),
     [[0.0, 0.0, 0.0]]),
    ("Clamp: tensor bound at a tie goes to the input", lambda x, low: ew.clamp(x, min=low),
     ([1.0, 0.0], [1.0, 2.0]), [[1.0, 0.0], [0.0, 1.0]]),
    ("Clamp: tensor bounds, min > max", lambda x, low, high: ew.clamp(x, low, high),
     ([-1.0, 0.5, 2.0], 1.0, 0.0), [[0.0, 0.0, 0.0], 0.0, 3.0]),
    ("Maximum: a tie splits in half", ew.maximum, ([1.0, 2.0], [1.0, 0.0]),
     [[0.5, 1.0], [0.5, 0.0]]),
    ("Minimum (Maximum): a tie splits in half", ew.minimum, ([1.0, 2.0], [1.0, 0.0]),
     [[0.5, 0.0], [0.5, 1.0]]),
    ("Pow: 0 ** 0 (tensor exponent)", ew.pow, ([0.0, 0.0, 0.0], [0.0, 2.0, 1.0]),
     [[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]),
    ("Pow: x ** 0 has zero gradient", lambda x: ew.pow(x, 0), ([0.0, 2.0],), [[0.0, 0.0]]),
    ("Pow: 0 ** 2 and 0 ** 1", lambda x: ew.pow(x, 2) + ew.pow(x, 1), ([0.0],), [[1.0]]),
    ("Pow: number base 0", lambda y: ew.pow(0.0, y), ([0.0, 1.5],), [[0.0, 0.0]]),
    ("Pow: tensor base 0 broadcast", lambda x, y: ew.pow(x, y), ([0.0], [[0.0], [2.0]]),
     [[0.0], [[0.0], [0.0]]]),
    ("Where: the gradient goes to the chosen side",
     lambda x, y: ew.where(minigrad.tensor([True, False]), x, y), ([1.0, 2.0], [3.0, 4.0]),
     [[1.0, 0.0], [0.0, 1.0]]),
]


@pytest.mark.parametrize(
    "fn, values, expected", [row[1:] for row in KINKS], ids=[row[0] for row in KINKS]
)
def test_subgradients_follow_pytorch(fn, values, expected):
    assert _grads(fn, *values) == expected


def test_pow_singular_gradients_match_pytorch():
    """At a true singularity the gradient is the infinity PyTorch gives, not NaN."""
    assert _grads_ignoring(lambda x: ew.pow(x, 0.5), [0.0]) == [[math.inf]]
    assert _grads_ignoring(ew.pow, [0.0], [-1.0]) == [[-math.inf], [-math.inf]]
    assert _grads_ignoring(lambda y: ew.pow(0.0, y), [-1.0]) == [[-math.inf]]


def _grads_ignoring(fn, *values):
    inputs = [minigrad.tensor(v, dtype=f64, requires_grad=True) for v in values]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 0 ** -1 overflows, as it should
        fn(*inputs).sum().backward()
    return [x.grad.tolist() for x in inputs]


def test_sigmoid_is_exact_and_warning_free_at_extremes():
    """Sigmoid: computed from exp(-|x|), so ±1e4 neither overflows nor loses the tail."""
    for dtype in (f64, f32):
        x = minigrad.tensor([-1e4, -30.0, 0.0, 30.0, 1e4], dtype=dtype, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            y = ew.sigmoid(x)
            y.sum().backward()
        tail = np.exp(-30.0) / (1 + np.exp(-30.0))
        expected = [0.0, tail, 0.5, 1 - tail, 1.0]
        rtol = 1e-15 if dtype == f64 else 1e-6
        np.testing.assert_allclose(y.detach().numpy(), expected, rtol=rtol)
        assert y.dtype == dtype and np.isfinite(x.grad.numpy()).all()
        assert x.grad.numpy()[[0, 2, 4]].tolist() == [0.0, 0.25, 0.0]


# -- errors name the op and what it got ---------------------------------------------------------
ERRORS = [
    # (id, call, exception, message pattern)
    *[
        (f"{name}: not broadcastable", lambda f=f: f(minigrad.ones((2, 3)), minigrad.ones((4,))),
         RuntimeError, rf"{name}: shapes \(2, 3\) and \(4,\) are not broadcastable")
        for name, f in [("add", ew.add), ("sub", ew.sub), ("mul", ew.mul), ("div", ew.div),
                        ("pow", ew.pow), ("maximum", ew.maximum), ("minimum", ew.minimum)]
    ],
    ("operator *: not broadcastable", lambda: minigrad.ones((2, 3)) * minigrad.ones((2,)),
     RuntimeError, r"mul: shapes \(2, 3\) and \(2,\) are not broadcastable"),
    ("where: not broadcastable",
     lambda: ew.where(minigrad.ones(4) > 0, minigrad.ones((2, 3)), 0.0),
     RuntimeError, r"where: shapes \(4,\) and \(2, 3\) are not broadcastable"),
    ("where: condition not bool", lambda: ew.where(minigrad.ones(3), minigrad.ones(3), 0.0),
     TypeError, r"where: expected condition to be a bool Tensor, got float32"),
    ("clamp: no bound", lambda: ew.clamp(minigrad.ones(3)), ValueError,
     r"clamp: at least one of 'min' or 'max' must not be None"),
    ("clamp: tensor bound not broadcastable",
     lambda: ew.clamp(minigrad.ones((2, 3)), min=minigrad.ones(4)), RuntimeError,
     r"clamp: shapes \(2, 3\) and \(4,\) are not broadcastable"),
    ("div: bad rounding_mode", lambda: ew.div(minigrad.ones(2), 2, rounding_mode="round"),
     ValueError, r"div: expected rounding_mode to be one of None, 'trunc' or 'floor', got 'round'"),
    ("mul: not a number", lambda: ew.mul(minigrad.ones(3), "2"), TypeError,
     r"mul: expected a Tensor or a number, got str"),
]


@pytest.mark.parametrize(
    "call, exception, message", [row[1:] for row in ERRORS], ids=[row[0] for row in ERRORS]
)
def test_bad_input_raises_naming_the_op(call, exception, message):
    with pytest.raises(exception, match=message):
        call()
