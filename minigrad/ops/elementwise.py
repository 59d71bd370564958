"""Elementwise ops: arithmetic, powers, exponentials, trigonometry, comparisons.

Binary ops broadcast their inputs as NumPy does, so each backward ends with
``sum_to(grad, input_shape)``.  Operands are promoted the way PyTorch promotes them
(``promote``), which differs from NumPy in two places: an integer tensor meeting a
Python float becomes the default float dtype, and a zero-dimensional tensor does not
change the dtype of a dimensioned one of the same kind.
"""

from __future__ import annotations

import builtins
import math

import numpy

from minigrad import dtypes
from minigrad.autograd.function import ArrayFunction
from minigrad.backend import get_array_module
from minigrad.ops.shape import sum_to
from minigrad.tensor import Tensor

_SCALARS = (builtins.int, builtins.float, builtins.bool)


def _shape(x) -> tuple:
    return getattr(x, "shape", ())


def _kind(dtype) -> builtins.int:
    """0 bool, 1 integer, 2 floating: PyTorch promotes across kinds by the higher one."""
    return {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}[dtype.kind]


def _result_dtype(a: Tensor, b: Tensor) -> numpy.dtype:
    da, db = a.dtype, b.dtype
    ka, kb = _kind(da), _kind(db)
    if ka != kb:
        return da if ka > kb else db
    if (a.ndim == 0) != (b.ndim == 0):  # a 0-d tensor defers to a dimensioned one
        return db if a.ndim == 0 else da
    return numpy.promote_types(da, db)


def promote(a, b, op: str):
    """Make the two operands of a binary op ready for it, as PyTorch would.

    Tensors are cast (differentiably) to their common dtype; Python numbers stay
    Python numbers, except that an integer/bool tensor meeting a float (or a bool
    tensor meeting an int) is first cast to the float (int) dtype.  NumPy arrays and
    NumPy scalars are treated as tensors and Python numbers respectively.
    """
    a, b = _operand(a, op), _operand(b, op)
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a._data.dtype != b._data.dtype:
            dtype = _result_dtype(a, b)
            a, b = a.to(dtype), b.to(dtype)
        return a, b
    tensor, scalar = (a, b) if isinstance(a, Tensor) else (b, a)
    kind = tensor._data.dtype.kind
    if isinstance(scalar, builtins.float) and kind in "biu":
        tensor = tensor.to(dtypes.get_default_dtype())
    elif isinstance(scalar, builtins.int) and not isinstance(scalar, builtins.bool) and kind == "b":
        tensor = tensor.to(dtypes.int64)
    return (tensor, scalar) if isinstance(a, Tensor) else (scalar, tensor)


def _broadcastable(a, b, op: str, *more):
    """``promote(a, b)``, then check that the tensors broadcast together (PyTorch's error)."""
    a, b = promote(a, b, op)
    shapes = [tuple(x.shape) for x in (*more, a, b) if isinstance(x, Tensor)]
    if len(set(shapes)) > 1:
        try:
            numpy.broadcast_shapes(*shapes)
        except ValueError:
            shown = " and ".join(str(shape) for shape in shapes)
            raise RuntimeError(f"{op}: shapes {shown} are not broadcastable") from None
    return a, b


def promote_tensors(tensors: list, op: str) -> list:
    """Cast a list of tensors to their common dtype (used by cat/stack)."""
    tensors = [_operand(t, op) for t in tensors]
    if builtins.any(not isinstance(t, Tensor) for t in tensors):
        raise TypeError(f"{op}: expected a sequence of Tensors")
    dtype = tensors[0].dtype if tensors else None
    for t in tensors[1:]:
        if t.dtype != dtype:
            dtype = _result_dtype(Tensor._make(numpy.empty((1,), dtype)), t)
    return [t.to(dtype) for t in tensors]


def _operand(x, op: str):
    if isinstance(x, Tensor) or isinstance(x, _SCALARS):
        return x
    if isinstance(x, numpy.generic):
        return x.item()
    if hasattr(x, "__array_namespace__"):
        return Tensor._make(x)
    raise TypeError(
        f"{op}: expected a Tensor or a number, got {type(x).__name__}"
    )


# -- arithmetic ------------------------------------------------------------------------------
class Add(ArrayFunction):
    r"""Math: :math:`z = x + y`, :math:`\bar x = \bar z`, :math:`\bar y = \bar z`
    (each summed to its input's shape)."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.shapes = _shape(x), _shape(y)
        return x + y

    @staticmethod
    def backward(ctx, grad):
        return sum_to(grad, ctx.shapes[0]), sum_to(grad, ctx.shapes[1])


class Sub(ArrayFunction):
    r"""Math: :math:`z = x - y`, :math:`\bar x = \bar z`, :math:`\bar y = -\bar z`."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.shapes = _shape(x), _shape(y)
        return x - y

    @staticmethod
    def backward(ctx, grad):
        gy = sum_to(-grad, ctx.shapes[1]) if ctx.needs_input_grad[1] else None
        return sum_to(grad, ctx.shapes[0]), gy


class Mul(ArrayFunction):
    r"""Math: :math:`z = x y`, :math:`\bar x = \bar z\, y`, :math:`\bar y = \bar z\, x`."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        gx = sum_to(grad * y, _shape(x)) if ctx.needs_input_grad[0] else None
        gy = sum_to(grad * x, _shape(y)) if ctx.needs_input_grad[1] else None
        return gx, gy


class Div(ArrayFunction):
    r"""Math: :math:`z = x / y`, :math:`\bar x = \bar z / y`, :math:`\bar y = -\bar z\, x / y^2`."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x / y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        gx = sum_to(grad / y, _shape(x)) if ctx.needs_input_grad[0] else None
        gy = sum_to(-grad * x / (y * y), _shape(y)) if ctx.needs_input_grad[1] else None
        return gx, gy


class Neg(ArrayFunction):
    r"""Math: :math:`z = -x`, :math:`\bar x = -\bar z`."""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(ArrayFunction):
    r"""Math: :math:`z = x^y`, :math:`\bar x = \bar z\, y\, x^{y-1}`,
    :math:`\bar y = \bar z\, z \ln x`.

    As in PyTorch, :math:`\bar x = 0` where :math:`y = 0`, and :math:`\bar y = 0` where
    :math:`x = 0` and :math:`y \ge 0` (the limits, instead of :math:`0 \cdot \infty`).
    """

    @staticmethod
    def forward(ctx, x, y):
        out = x**y
        ctx.save_for_backward(x, y, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, y, out = ctx.saved_tensors
        gx = gy = None
        if ctx.needs_input_grad[0]:
            if isinstance(y, Tensor):
                # y - 1 is replaced where y == 0 so that 0 ** -1 is never computed
                gx = where(y == 0, 0.0, grad * y * x ** where(y == 0, 1.0, y - 1))
            else:
                gx = grad * 0.0 if y == 0 else grad * y * x ** (y - 1)
            gx = sum_to(gx, _shape(x))
        if ctx.needs_input_grad[1]:
            if isinstance(x, Tensor):
                at_zero = (x == 0) & (y >= 0)  # log(0) is never taken where it is not needed
                gy = where(at_zero, 0.0, grad * out * log(where(at_zero, 1.0, x)))
            else:  # a number base: the same convention at 0, and no log of a number <= 0
                if x == 0:  # 0 ** y is inf for y < 0, and inf * ln 0 = -inf
                    gy = where(y >= 0, 0.0, grad * -math.inf)
                else:
                    gy = grad * out * (math.log(x) if x > 0 else math.nan)
            gy = sum_to(gy, _shape(y))
        return gx, gy


def add(input, other, alpha=1):
    """``input + alpha * other`` with broadcasting."""
    a, b = _broadcastable(input, other if alpha == 1 else other * alpha, "add")
    return Add.apply(a, b)


def sub(input, other, alpha=1):
    """``input - alpha * other`` with broadcasting."""
    a, b = _broadcastable(input, other if alpha == 1 else other * alpha, "sub")
    return Sub.apply(a, b)


def mul(input, other):
    """Elementwise product with broadcasting."""
    a, b = _broadcastable(input, other, "mul")
    return Mul.apply(a, b)


def div(input, other, rounding_mode=None):
    """True division (integers give the default float dtype), as PyTorch."""
    a, b = _broadcastable(input, other, "div")
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(
                "div: expected rounding_mode to be one of None, 'trunc' or 'floor', "
                f"got {rounding_mode!r}"
            )
        return _no_grad_binary(a, b, rounding_mode, "div")
    if isinstance(a, Tensor) and a.dtype.kind in "biu":
        a = a.to(dtypes.get_default_dtype())
    if isinstance(b, Tensor) and b.dtype.kind in "biu":
        b = b.to(dtypes.get_default_dtype())
    return Div.apply(a, b)


def neg(input):
    return Neg.apply(input)


def pow(input, exponent):  # noqa: A001 - PyTorch's name
    """``input ** exponent``; either may be a tensor."""
    a, b = _broadcastable(input, exponent, "pow")
    return Pow.apply(a, b)


# -- unary math --------------------------------------------------------------------------------
class Exp(ArrayFunction):
    r"""Math: :math:`y = e^x`, :math:`\bar x = \bar y\, y`."""

    @staticmethod
    def forward(ctx, x):
        y = get_array_module(x).exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class Log(ArrayFunction):
    r"""Math: :math:`y = \ln x`, :math:`\bar x = \bar y / x`."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class Log1p(ArrayFunction):
    r"""Math: :math:`y = \ln(1 + x)` (accurate for small x), :math:`\bar x = \bar y / (1 + x)`."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).log1p(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x + 1)


class Sqrt(ArrayFunction):
    r"""Math: :math:`y = \sqrt{x}`, :math:`\bar x = \bar y / (2y)`."""

    @staticmethod
    def forward(ctx, x):
        y = get_array_module(x).sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad / (y * 2)


class Abs(ArrayFunction):
    r"""Math: :math:`y = |x|`, :math:`\bar x = \bar y\, \mathrm{sign}(x)`
    (0 at x = 0, as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * sign(x)


class Sign(ArrayFunction):
    r"""Math: :math:`y = \mathrm{sign}(x) \in \{-1, 0, 1\}`, :math:`\bar x = 0`
    (piecewise constant)."""

    @staticmethod
    def forward(ctx, x):
        return get_array_module(x).sign(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * 0


class Clamp(ArrayFunction):
    r"""Math: :math:`y = \min(\max(x, a), b)`, :math:`\bar x = \bar y\,[a \le x \le b]`.

    The gradient passes at the bounds themselves, as in PyTorch.  Tensor bounds get
    the gradient where they are the result: ``min`` where :math:`x < a \le b`, ``max``
    where :math:`\max(x, a) > b` (so all of it when :math:`a > b`, as ``y = b`` there).
    """

    @staticmethod
    def forward(ctx, x, low, high):
        xp = get_array_module(x)
        inside = xp.ones(x.shape, dtype=bool)
        out = x
        if low is not None:
            below = x < low
            inside = inside & ~below
            out = xp.where(below, low, out)
            ctx.below = below
        if high is not None:
            above = out > high  # min(max(x, low), high): high wins where low > high
            inside = inside & ~above
            out = xp.where(above, high, out)
            ctx.above = above
            if low is not None:
                ctx.below = ctx.below & ~above
        ctx.save_for_backward(inside)
        ctx.shapes = _shape(x), _shape(low), _shape(high)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        g_low = g_high = None
        if ctx.needs_input_grad[1]:
            g_low = sum_to(grad * ctx.below, ctx.shapes[1])
        if ctx.needs_input_grad[2]:
            g_high = sum_to(grad * ctx.above, ctx.shapes[2])
        return sum_to(grad * inside, ctx.shapes[0]), g_low, g_high


def _unary(cls, floating: bool = True):
    def op(input):
        x = input
        if floating and isinstance(x, Tensor) and x.dtype.kind in "biu":
            x = x.to(dtypes.get_default_dtype())  # exp(int_tensor) is float32, as PyTorch
        return cls.apply(x)

    op.__name__ = cls.__name__.lower()
    op.__doc__ = f"Elementwise {op.__name__} (see ``{cls.__name__}`` for its math)."
    return op


exp, log, log1p, sqrt = map(_unary, (Exp, Log, Log1p, Sqrt))
abs, sign = (_unary(cls, floating=False) for cls in (Abs, Sign))  # noqa: A001


def clamp(input, min=None, max=None):  # noqa: A002 - PyTorch's names
    """Limit values to ``[min, max]`` (either may be None, a number or a tensor)."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of 'min' or 'max' must not be None")
    x, bounds = input, []
    for bound in (min, max):
        if bound is not None:  # promotes x too: clamp(int_tensor, 0.5) is float, as PyTorch
            x, bound = _broadcastable(x, bound, "clamp")
        bounds.append(bound)
    return Clamp.apply(x, *bounds)


clip = clamp


# -- two-input selections ------------------------------------------------------------------------
class Maximum(ArrayFunction):
    r"""Math: :math:`z = \max(x, y)`; the gradient goes to the larger input,
    half to each on a tie."""

    @staticmethod
    def forward(ctx, x, y):
        xp = get_array_module(x, y)
        ctx.share_x = (x > y) + (x == y) * 0.5  # PyTorch splits ties evenly
        ctx.shapes = _shape(x), _shape(y)
        return xp.maximum(x, y)

    @staticmethod
    def backward(ctx, grad):
        share = ctx.share_x.astype(grad.dtype, copy=False)
        return sum_to(grad * share, ctx.shapes[0]), sum_to(grad * (1 - share), ctx.shapes[1])


def maximum(input, other):
    a, b = _broadcastable(input, other, "maximum")
    return Maximum.apply(a, b)


def minimum(input, other):
    """Elementwise minimum: ``-maximum(-x, -y)`` (same tie rule)."""
    a, b = _broadcastable(input, other, "minimum")
    return neg(maximum(neg(a), neg(b)))


class Where(ArrayFunction):
    r"""Math: :math:`z = c\,?\,x : y`; :math:`\bar x = c\,?\,\bar z : 0`,
    :math:`\bar y = c\,?\,0 : \bar z`."""

    @staticmethod
    def forward(ctx, condition, x, y):
        ctx.condition = condition
        ctx.shapes = _shape(x), _shape(y)
        return get_array_module(condition, x, y).where(condition, x, y)

    @staticmethod
    def backward(ctx, grad):
        c = Tensor._make(ctx.condition)
        gx = sum_to(where(c, grad, 0.0), ctx.shapes[0]) if ctx.needs_input_grad[1] else None
        gy = sum_to(where(c, 0.0, grad), ctx.shapes[1]) if ctx.needs_input_grad[2] else None
        return None, gx, gy


def where(condition, input, other):
    """``input`` where ``condition`` holds, else ``other`` (broadcast together)."""
    condition = _operand(condition, "where")
    if not isinstance(condition, Tensor) or condition.dtype != dtypes.bool:
        raise TypeError(
            "where: expected condition to be a bool Tensor, got "
            f"{getattr(condition, 'dtype', type(condition).__name__)}"
        )
    first = input
    if isinstance(first, _SCALARS) and isinstance(other, _SCALARS):  # where(c, 1.0, 0.0)
        first = Tensor(first, device=condition.device)  # the dtype PyTorch gives two numbers
    a, b = _broadcastable(first, other, "where", condition)
    return Where.apply(condition, a, b)


# -- trigonometric and friends ---------------------------------------------------------------------
class Sin(ArrayFunction):
    r"""Math: :math:`y = \sin x`, :math:`\bar x = \bar y \cos x`."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * cos(x)


class Cos(ArrayFunction):
    r"""Math: :math:`y = \cos x`, :math:`\bar x = -\bar y \sin x`."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * sin(x)


class Tanh(ArrayFunction):
    r"""Math: :math:`y = \tanh x`, :math:`\bar x = \bar y (1 - y^2)`."""

    @staticmethod
    def forward(ctx, x):
        y = get_array_module(x).tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (1 - y * y)


class Sigmoid(ArrayFunction):
    r"""Math: :math:`y = 1 / (1 + e^{-x})`, :math:`\bar x = \bar y\, y (1 - y)`.

    Computed from :math:`e^{-|x|}`, which never overflows, so it is exact at ±1e4.
    """

    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        e = xp.exp(-xp.abs(x))
        y = xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y * (1 - y)


class Erf(ArrayFunction):
    r"""Math: :math:`y = \mathrm{erf}(x) = \frac{2}{\sqrt\pi}\int_0^x e^{-t^2} dt`,
    :math:`\bar x = \bar y \frac{2}{\sqrt\pi} e^{-x^2}`."""

    @staticmethod
    def forward(ctx, x):
        from minigrad.backend import kernel

        ctx.save_for_backward(x)
        return kernel("erf", x)(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (2 / math.sqrt(math.pi)) * exp(-(x * x))


sin, cos, tanh, sigmoid, erf = map(_unary, (Sin, Cos, Tanh, Sigmoid, Erf))


# -- comparisons and predicates (no gradient) ----------------------------------------------------
def _no_grad_binary(a, b, name: str, op: str):
    a, b = _broadcastable(a, b, op)
    xa = a._data if isinstance(a, Tensor) else a
    xb = b._data if isinstance(b, Tensor) else b
    xp = get_array_module(xa, xb)
    if name in ("floor", "trunc"):
        q = xp.true_divide(xa, xb)
        result = xp.floor(q) if name == "floor" else xp.trunc(q)
        dtype = numpy.result_type(xa, xb)
        result = result.astype(dtype if dtype.kind != "b" else dtypes.int64, copy=False)
    else:
        result = getattr(xp, name)(xa, xb)
    return Tensor._make(xp.asarray(result))


def _comparison(name: str):
    def op(input, other):
        return _no_grad_binary(input, other, name, name)

    op.__name__ = {"equal": "eq", "not_equal": "ne", "less": "lt", "less_equal": "le",
                   "greater": "gt", "greater_equal": "ge"}.get(name, name)
    op.__doc__ = f"Elementwise ``{name}`` (a bool tensor, no gradient)."
    return op


eq, ne, lt, le, gt, ge = map(
    _comparison, ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal")
)
logical_and, logical_or = _comparison("logical_and"), _comparison("logical_or")


def _predicate(name: str):
    def op(input):
        x = input._data
        return Tensor._make(getattr(get_array_module(x), name)(x))

    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}`` (a bool tensor, no gradient)."
    return op


logical_not, isnan, isinf, isfinite = map(_predicate, ("logical_not", "isnan", "isinf", "isfinite"))


def all(input, dim=None, keepdim: bool = False):  # noqa: A001 - PyTorch's name
    x = input._data
    return Tensor._make(get_array_module(x).asarray(x.all(axis=dim, keepdims=keepdim)))


def any(input, dim=None, keepdim: bool = False):  # noqa: A001 - PyTorch's name
    x = input._data
    return Tensor._make(get_array_module(x).asarray(x.any(axis=dim, keepdims=keepdim)))
