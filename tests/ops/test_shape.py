"""Tests of minigrad/ops/shape.py: Reshape, Permute, BroadcastTo, SumTo, Cat, Split, ConstantPad
and the ops composed from them (view, flatten, squeeze, unsqueeze, expand, stack, chunk, pad).

Each property test is a declaration: hypothesis draws a shape and the op's parameters;
``check_op`` compares the forward with NumPy, checks that the inputs are left alone and
that the gradient does not alias the upstream one, and checks first and second
derivatives against finite differences.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.ops import pad, sum_to
from minigrad.ops.shape import BroadcastTo, Cat, ConstantPad, Permute, Reshape, Split, SumTo
from minigrad.testing import check_op as _check_op
from minigrad.testing import strategies as mst

SMALL = mst.shapes(min_dims=0, max_dims=3, max_side=3)
NONEMPTY_DIMS = mst.shapes(min_dims=1, max_dims=3, max_side=3)
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


def check_op(op, reference, *inputs, **kwargs):
    """``minigrad.testing.check_op`` with this file's value tolerance."""
    return _check_op(op, reference, *inputs, value_rtol=1e-13, **kwargs)


def signed(draw, d: int, ndim: int) -> int:
    """``d`` or its negative spelling, as drawn."""
    return d - ndim if draw(st.booleans()) else d


# -- Reshape: reshape, view, flatten, squeeze, unsqueeze -------------------------------------------


@st.composite
def reshape_targets(draw, shape):
    """A shape with as many elements as ``shape``; sometimes one entry is -1 (inferred)."""
    remaining, target = math.prod(shape), []
    while len(target) < 3 and draw(st.booleans()):
        d = draw(st.sampled_from([k for k in range(1, remaining + 1) if remaining % k == 0]))
        target.append(d)
        remaining //= d
    target = draw(st.permutations([*target, remaining]))
    if draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return tuple(target)


@pytest.mark.parametrize("method", ["reshape", "view"])
@given(data=st.data(), x=mst.tensors(SMALL))
def test_reshape_and_view(method, data, x):
    target = data.draw(reshape_targets(x.shape))
    check_op(lambda t: getattr(t, method)(target), lambda a: a.reshape(target), x)
    check_op(lambda t: getattr(t, method)(*target), lambda a: a.reshape(target), x)
    out = getattr(x, method)(target)
    assert out.shape == x.shape or out.grad_fn.fn is Reshape


def test_view_shares_memory_and_version_with_its_base():
    x = mg.arange(6.0)
    y = x.view(2, 3)
    assert np.shares_memory(x.numpy(), y.numpy())
    y[0, 0] = 10.0
    assert x[0].item() == 10.0 and x._version == y._version == 1


def test_view_of_a_non_contiguous_tensor_raises():
    x = mg.ones(2, 3).T
    with pytest.raises(RuntimeError, match=r"view: .*\[6\].*\(3, 2\).*non-contiguous.*reshape"):
        x.view(6)
    assert x.reshape(6).shape == (6,)  # reshape copies instead


@pytest.mark.parametrize("shape", [(4, 2), (7,), (-1, 4), (-1, -1)])
def test_reshape_to_a_wrong_size_raises(shape):
    pattern = r"reshape: shape \[.*\] is invalid for input of size 6 \(shape \(2, 3\)\)"
    with pytest.raises(RuntimeError, match=pattern):
        mg.ones(2, 3).reshape(shape)


@given(data=st.data(), x=mst.tensors(NONEMPTY_DIMS))
def test_flatten(data, x):
    start = data.draw(st.integers(0, x.ndim - 1))
    end = data.draw(st.integers(start, x.ndim - 1))
    s, e = signed(data.draw, start, x.ndim), signed(data.draw, end, x.ndim)
    shape = x.shape[:start] + (math.prod(x.shape[start : end + 1]),) + x.shape[end + 1 :]
    check_op(lambda t: mg.flatten(t, s, e), lambda a: a.reshape(shape), x)


def test_flatten_of_a_0d_tensor_is_1d():
    x = mg.tensor(3.0, dtype=mg.float64, requires_grad=True)
    check_op(lambda t: t.flatten(), lambda a: a.reshape(1), x)


@given(data=st.data(), x=mst.tensors(mst.shapes(max_dims=4, max_side=2)))
def test_squeeze(data, x):
    kind = data.draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none" or x.ndim == 0:
        dim, axes = None, None
    else:
        chosen = data.draw(st.lists(st.integers(0, x.ndim - 1), min_size=1, unique=True))
        chosen = chosen[:1] if kind == "int" else chosen
        dim = tuple(signed(data.draw, d, x.ndim) for d in chosen)
        dim = dim[0] if kind == "int" else dim
        axes = tuple(d for d in chosen if x.shape[d] == 1)  # PyTorch ignores sizes other than 1
    check_op(lambda t: t.squeeze(dim), lambda a: np.squeeze(a, axes), x)


@given(data=st.data(), x=mst.tensors(SMALL))
def test_unsqueeze(data, x):
    dim = data.draw(st.integers(-x.ndim - 1, x.ndim))
    check_op(lambda t: t.unsqueeze(dim), lambda a: np.expand_dims(a, dim), x)


# -- Permute: permute, transpose, T ----------------------------------------------------------------


@given(data=st.data(), x=mst.tensors(SMALL))
def test_permute(data, x):
    order = data.draw(st.permutations(range(x.ndim)))
    dims = tuple(signed(data.draw, d, x.ndim) for d in order)
    check_op(lambda t: t.permute(dims), lambda a: np.transpose(a, order), x)
    check_op(lambda t: mg.permute(t, *dims), lambda a: np.transpose(a, order), x)
    assert x.permute(dims).grad_fn.fn is Permute


@given(data=st.data(), x=mst.tensors(NONEMPTY_DIMS))
def test_transpose(data, x):
    d0, d1 = (data.draw(st.integers(-x.ndim, x.ndim - 1)) for _ in range(2))
    check_op(lambda t: t.transpose(d0, d1), lambda a: np.swapaxes(a, d0, d1), x)
    check_op(lambda t: t.T, lambda a: a.T, x)


def test_transpose_of_a_0d_tensor_is_itself():
    x = mg.tensor(2.0, dtype=mg.float64, requires_grad=True)
    check_op(lambda t: t.transpose(0, -1), lambda a: a, x)


# -- BroadcastTo, SumTo: expand, broadcast_to, sum_to ----------------------------------------------

PAIRS = mst.mutually_broadcastable_shapes(2, max_dims=3, max_side=3)


@given(data=st.data(), shapes=PAIRS)
def test_broadcast_to_and_expand(data, shapes):
    x = data.draw(mst.tensors(shapes[0]))
    target = shapes.result_shape
    lead = len(target) - x.ndim
    # expand: -1 keeps the size of an existing dimension (one that is not stretched)
    sizes = tuple(
        -1 if i >= lead and x.shape[i - lead] == s and data.draw(st.booleans()) else s
        for i, s in enumerate(target)
    )
    check_op(lambda t: mg.broadcast_to(t, target), lambda a: np.broadcast_to(a, target), x)
    check_op(lambda t: t.expand(*sizes), lambda a: np.broadcast_to(a, target), x)
    assert x.shape == target or x.expand(sizes).grad_fn.fn is BroadcastTo


@given(data=st.data(), shapes=PAIRS)
def test_sum_to(data, shapes):
    small, big = shapes[0], shapes.result_shape
    x = data.draw(mst.tensors(big))

    def reference(a):
        lead = len(big) - len(small)
        a = a.sum(axis=tuple(range(lead)))
        stretched = tuple(i for i, s in enumerate(small) if s == 1 and a.shape[i] != 1)
        return a.sum(axis=stretched, keepdims=True)

    check_op(lambda t: sum_to(t, small), reference, x)
    assert x.shape == small or sum_to(x, small).grad_fn.fn is SumTo


def test_expand_to_an_incompatible_shape_raises():
    with pytest.raises(RuntimeError, match=r"expand: the shape \(3, 2\) cannot be broadcast to"):
        mg.ones(3, 2).expand(3, 4)
    with pytest.raises(RuntimeError, match=r"expand: .*sizes \(1\).*\(3, 2\)"):
        mg.ones(3, 2).expand(2)


# -- Cat, Split: cat, stack, split, chunk ----------------------------------------------------------


@st.composite
def tensors_to_join(draw):
    """1-3 float64 tensors that agree on every dimension but ``dim``, and ``dim``."""
    base = draw(NONEMPTY_DIMS)
    dim = draw(st.integers(0, len(base) - 1))
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    shapes = [base[:dim] + (n,) + base[dim + 1 :] for n in sizes]
    return [draw(mst.tensors(s)) for s in shapes], signed(draw, dim, len(base))


@given(joined=tensors_to_join())
def test_cat(joined):
    xs, dim = joined
    check_op(lambda *ts: mg.cat(ts, dim), lambda *arrays: np.concatenate(arrays, dim), *xs)
    assert mg.cat(xs, dim).grad_fn.fn is Cat


def test_cat_promotes_dtypes():
    x = mg.tensor([1.5], dtype=mg.float64, requires_grad=True)
    out = mg.cat([mg.tensor([1, 2]), x])
    assert out.dtype == mg.float64 and out.tolist() == [1.0, 2.0, 1.5]
    out.sum().backward()
    assert x.grad.tolist() == [1.0]


@given(data=st.data(), shape=SMALL, count=st.integers(1, 3))
def test_stack(data, shape, count):
    xs = [data.draw(mst.tensors(shape)) for _ in range(count)]
    dim = data.draw(st.integers(-len(shape) - 1, len(shape)))
    check_op(lambda *ts: mg.stack(ts, dim), lambda *arrays: np.stack(arrays, dim), *xs)


@st.composite
def split_sizes(draw, length: int):
    """Sizes (some may be 0) that add up to ``length``."""
    cuts = sorted(draw(st.lists(st.integers(0, length), max_size=3)))
    return [b - a for a, b in zip([0, *cuts], [*cuts, length])]


@given(data=st.data(), x=mst.tensors(NONEMPTY_DIMS), by_sizes=st.booleans())
def test_split(data, x, by_sizes):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    length = x.shape[dim]
    if by_sizes:
        sizes = data.draw(split_sizes(length))
        arg = sizes
    else:
        arg = data.draw(st.integers(1, length + 1))
        sizes = [arg] * (length // arg) + ([length % arg] if length % arg else [])

    def reference(a):
        return tuple(np.split(a, np.cumsum(sizes)[:-1], axis=dim))

    check_op(lambda t: t.split(arg, dim), reference, x)
    assert x.split(arg, dim)[0].grad_fn.fn is Split


@given(data=st.data(), x=mst.tensors(NONEMPTY_DIMS), chunks=st.integers(1, 4))
def test_chunk(data, x, chunks):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    length = x.shape[dim]
    size = -(-length // chunks)  # PyTorch: pieces of ceil(n / chunks), the last one smaller
    bounds = list(range(size, length, size))
    check_op(lambda t: t.chunk(chunks, dim), lambda a: tuple(np.split(a, bounds, dim)), x)


@pytest.mark.parametrize(
    "length, chunks, sizes", [(5, 3, [2, 2, 1]), (6, 4, [2, 2, 2]), (2, 5, [1, 1]), (6, 3, [2] * 3)]
)
def test_chunk_sizes_as_pytorch(length, chunks, sizes):
    assert [len(c) for c in mg.arange(length).chunk(chunks)] == sizes


def test_split_pieces_are_views():
    x = mg.arange(6.0)
    first, _ = x.split(3)
    assert np.shares_memory(first.numpy(), x.numpy()) and first._version == x._version


# -- ConstantPad and the gather modes: pad ---------------------------------------------------------


@st.composite
def padded(draw, mode):
    """A float64 tensor and a ``pad`` tuple for 1-3 of its last dims that ``mode`` accepts."""
    x = draw(mst.tensors(mst.shapes(min_dims=1, max_dims=4, max_side=3)))
    count = draw(st.integers(1, min(3, x.ndim)))
    widths = []
    for size in reversed(x.shape[x.ndim - count :]):  # pad starts from the last dimension
        if mode == "constant":  # negative widths crop, leaving at least one element
            lo = draw(st.integers(-(size - 1), 2))
            hi = draw(st.integers(-(size - 1 + min(lo, 0)), 2))
        else:
            top = {"reflect": size - 1, "replicate": 3, "circular": size}[mode]
            lo, hi = draw(st.integers(0, top)), draw(st.integers(0, top))
        widths += [lo, hi]
    return x, tuple(widths)


def np_pad(a, widths, mode, value=0.0):
    """``torch.nn.functional.pad`` in NumPy: crop by the negative widths, then pad."""
    pairs = [(0, 0)] * (a.ndim - len(widths) // 2) + [
        (widths[2 * i], widths[2 * i + 1]) for i in reversed(range(len(widths) // 2))
    ]
    a = a[tuple(slice(-min(lo, 0), n + min(hi, 0)) for (lo, hi), n in zip(pairs, a.shape))]
    pairs = [(max(lo, 0), max(hi, 0)) for lo, hi in pairs]
    if mode == "constant":
        return np.pad(a, pairs, constant_values=value)
    return np.pad(
        a, pairs, mode={"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    )


@given(case=padded("constant"), value=st.floats(-3, 3))
def test_constant_pad(case, value):
    x, widths = case
    check_op(
        lambda t: pad(t, widths, value=value), lambda a: np_pad(a, widths, "constant", value), x
    )
    out = pad(x, widths, value=value)
    assert all(w <= 0 for w in widths) or out.grad_fn.fn is ConstantPad


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@given(data=st.data())
def test_pad_modes(mode, data):
    x, widths = data.draw(padded(mode))
    check_op(lambda t: pad(t, widths, mode=mode), lambda a: np_pad(a, widths, mode), x)


# -- errors ----------------------------------------------------------------------------------------

ERRORS = {
    "cat shapes": (
        lambda: mg.cat([mg.ones(2, 3), mg.ones(2, 4)]),
        RuntimeError,
        r"cat: .*except in dimension 0.*\(2, 3\).*tensor 1 has shape \(2, 4\)",
    ),
    "cat ndim": (lambda: mg.cat([mg.ones(2), mg.ones(2, 1)]), RuntimeError, r"cat: .*\(2, 1\)"),
    "cat 0-d": (lambda: mg.cat([mg.ones(()), mg.ones(())]), RuntimeError, "cat: zero-dim"),
    "cat empty": (lambda: mg.cat([]), ValueError, "cat: expected a non-empty"),
    "stack shapes": (
        lambda: mg.stack([mg.ones(2), mg.ones(3)]),
        RuntimeError,
        r"stack: .*\(2,\) at entry 0 and \(3,\) at entry 1",
    ),
    "split sum": (
        lambda: mg.ones(5, 2).split([2, 2]),
        RuntimeError,
        r"split: split sizes \[2, 2\] .*sum to .*dimension 0 \(5\).*\(5, 2\)",
    ),
    "split negative": (
        lambda: mg.ones(5).split([-1, 6]),
        RuntimeError,
        r"split: split sizes \[-1, 6\] must be non-negative",
    ),
    "split size 0": (lambda: mg.ones(5).split(0), ValueError, "split: split_size must be positive"),
    "chunk 0": (lambda: mg.ones(5).chunk(0), RuntimeError, "chunk: expected chunks > 0"),
    "permute count": (
        lambda: mg.ones(2, 3).permute(1, 0, 2),
        RuntimeError,
        r"permute: number of dims \(3\).*\(2\).*\(2, 3\)",
    ),
    "permute repeat": (lambda: mg.ones(2, 3).permute(0, 0), RuntimeError, "permute: repeated"),
    "flatten order": (
        lambda: mg.ones(2, 3).flatten(1, 0),
        RuntimeError,
        "flatten: start_dim 1 cannot come after end_dim 0",
    ),
    "pad odd": (
        lambda: pad(mg.ones(2, 3), (1, 2, 1)),
        ValueError,
        r"pad: padding length must be even.*got 3 for input of shape \(2, 3\)",
    ),
    "pad long": (lambda: pad(mg.ones(3), (1, 1, 1, 1)), ValueError, r"pad: .*at most 2 \* ndim"),
    "pad mode": (lambda: pad(mg.ones(3), (1, 1), mode="wrap"), ValueError, "pad: unknown mode"),
    "pad reflect": (
        lambda: pad(mg.ones(1, 2), (2, 0), mode="reflect"),
        ValueError,
        r"pad: reflect padding \(2, 0\) must be smaller than the size 2 .*\(1, 2\)",
    ),
}


@pytest.mark.parametrize("case", ERRORS)
def test_bad_arguments_raise(case):
    call, error, pattern = ERRORS[case]
    with pytest.raises(error, match=pattern):
        call()


DIM_OPS = {
    "transpose": lambda x, d: x.transpose(0, d),
    "squeeze": lambda x, d: x.squeeze(d),
    "unsqueeze": lambda x, d: x.unsqueeze(d + (d > 0) - (d < 0)),  # accepts one more dim
    "flatten": lambda x, d: x.flatten(d),
    "permute": lambda x, d: x.permute(d, 0),
    "cat": lambda x, d: mg.cat([x, x], d),
    "stack": lambda x, d: mg.stack([x, x], d + (d > 0) - (d < 0)),
    "split": lambda x, d: x.split(1, d),
    "chunk": lambda x, d: x.chunk(2, d),
}


@pytest.mark.parametrize("op", DIM_OPS)
@pytest.mark.parametrize("dim", [2, -3])
def test_dim_out_of_range_raises(op, dim):
    with pytest.raises(IndexError, match=rf"{op}: dimension out of range .* but got"):
        DIM_OPS[op](mg.ones(2, 3), dim)


# -- dtypes and devices ----------------------------------------------------------------------------

CASES = {
    "reshape": (lambda x: x.reshape(4, -1), lambda a: a.reshape(4, -1)),
    "permute": (lambda x: x.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1)),
    "expand": (
        lambda x: x[:, :1].expand(2, 2, 3, 4),
        lambda a: np.broadcast_to(a[:, :1], (2, 2, 3, 4)),
    ),
    "cat": (lambda x: mg.cat([x, 2 * x], 1), lambda a: np.concatenate([a, 2 * a], 1)),
    "split": (lambda x: x.split([1, 3], -1)[1], lambda a: a[..., 1:]),
    "pad": (
        lambda x: pad(x, (1, -1, 2, 0), value=3.0),
        lambda a: np_pad(a, (1, -1, 2, 0), "constant", 3.0),
    ),
    "reflect": (lambda x: pad(x, (1, 2), mode="reflect"), lambda a: np_pad(a, (1, 2), "reflect")),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [mg.float32, mg.float64, mg.int64], ids=str)
@pytest.mark.parametrize("case", CASES)
def test_shape_ops_keep_dtype_and_match_cpu_on(case, dtype, device):
    op, reference = CASES[case]
    a = np.arange(24).reshape(2, 3, 4).astype(dtype)
    floating = np.dtype(dtype).kind == "f"
    x = mg.tensor(a, device=device, requires_grad=floating)
    out = op(x)
    assert out.dtype == dtype and out.device == device
    np.testing.assert_array_equal(out.detach().cpu().numpy(), reference(a))
    if floating:
        out.sum().backward()
        cpu = mg.tensor(a, requires_grad=True)
        op(cpu).sum().backward()
        assert x.grad.dtype == dtype and x.grad.device == device
        np.testing.assert_array_equal(x.grad.cpu().numpy(), cpu.grad.numpy())
