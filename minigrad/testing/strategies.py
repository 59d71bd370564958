"""Hypothesis strategies for testing minigrad ops: shapes, broadcastable shapes, arrays, tensors.

Each function returns a ``hypothesis`` search strategy, to be used with ``@given`` or
``data.draw``.  Values are finite and bounded, and can be kept away from the kinks of
an op (``avoid=(0.0,)`` for ``abs`` or ``relu``) so that finite differences stay valid.

Example
-------
A property-based test of a custom op, ready to paste into a test file:

.. code-block:: python

    from hypothesis import given, settings
    from hypothesis import strategies as st

    import minigrad
    from minigrad.autograd import Function
    from minigrad.testing import gradcheck, gradgradcheck
    from minigrad.testing import strategies as mst


    class SoftAbs(Function):
        # y = sqrt(x**2 + 1), a smooth |x|;  dy/dx = x / y
        @staticmethod
        def forward(ctx, x):
            y = (x * x + 1) ** 0.5
            ctx.save_for_backward(x, y)
            return y

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            return grad * x / y


    @settings(deadline=None, max_examples=25)
    @given(x=mst.tensors(mst.shapes(max_dims=2, max_side=3)))
    def test_soft_abs_gradients(x):
        assert gradcheck(SoftAbs.apply, (x,))
        assert gradgradcheck(SoftAbs.apply, (x,))


    @settings(deadline=None, max_examples=25)
    @given(x=mst.tensors(avoid=(0.0,)))  # abs has a kink at 0
    def test_abs_gradient(x):
        assert gradcheck(lambda t: t.abs(), (x,), fast_mode=True)


    @settings(deadline=None, max_examples=25)
    @given(data=st.data(), shapes=mst.mutually_broadcastable_shapes(num_shapes=2, max_side=3))
    def test_mul_broadcasts(data, shapes):
        x = data.draw(mst.tensors(shapes[0]))
        y = data.draw(mst.tensors(shapes[1]))
        assert (x * y).shape == shapes.result_shape
        assert gradcheck(lambda a, b: a * b, (x, y))

Keep shapes small in gradchecks: the full Jacobian costs two forward calls per input
element and one backward per output element (or use ``fast_mode=True``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra import numpy as hnp

import minigrad

__all__ = [
    "BroadcastShapes",
    "arrays",
    "broadcastable_shapes",
    "mutually_broadcastable_shapes",
    "shapes",
    "tensors",
]

Shape = tuple[int, ...]
ShapeLike = int | Sequence[int] | st.SearchStrategy


def shapes(
    min_dims: int = 0, max_dims: int = 4, min_side: int = 1, max_side: int = 5
) -> st.SearchStrategy[Shape]:
    """Shapes with ``min_dims..max_dims`` dimensions of ``min_side..max_side`` each.

    Examples
    --------
    >>> from hypothesis import given
    >>> from minigrad.testing import strategies as mst
    >>> @given(mst.shapes(min_dims=1, max_dims=2, max_side=3))
    ... def test(shape):
    ...     assert 1 <= len(shape) <= 2 and all(1 <= n <= 3 for n in shape)
    >>> test()
    """
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def broadcastable_shapes(
    shape: Sequence[int],
    min_dims: int = 0,
    max_dims: int = 4,
    min_side: int = 1,
    max_side: int = 5,
) -> st.SearchStrategy[Shape]:
    """Shapes that broadcast with ``shape``.

    The broadcast of the two may be larger than ``shape`` (a drawn shape can add leading
    dimensions, or a side where ``shape`` has 1).

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given
    >>> from minigrad.testing import strategies as mst
    >>> @given(mst.broadcastable_shapes((2, 3)))
    ... def test(other):
    ...     np.broadcast_shapes((2, 3), other)  # does not raise
    >>> test()
    """
    return hnp.broadcastable_shapes(
        tuple(shape), min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


class BroadcastShapes(tuple):
    """A tuple of shapes that broadcast together; ``result_shape`` is their broadcast.

    Drawn by :func:`mutually_broadcastable_shapes`.  It is an ordinary tuple of the input
    shapes (so ``a, b = shapes`` works), with one extra property.

    Examples
    --------
    >>> shapes = BroadcastShapes([(3, 1), (4,)])
    >>> a, b = shapes
    >>> shapes.result_shape
    (3, 4)
    """

    __slots__ = ()

    @property
    def result_shape(self) -> Shape:
        """The shape that the input shapes broadcast to."""
        return tuple(int(n) for n in np.broadcast_shapes(*self))


def mutually_broadcastable_shapes(
    num_shapes: int = 2,
    min_dims: int = 0,
    max_dims: int = 4,
    min_side: int = 1,
    max_side: int = 5,
) -> st.SearchStrategy[BroadcastShapes]:
    """``num_shapes`` shapes that broadcast together, as a :class:`BroadcastShapes`.

    The drawn value is a tuple of the input shapes; its ``result_shape`` property is the
    shape they broadcast to (``numpy.broadcast_shapes(*shapes)``).

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given
    >>> from minigrad.testing import strategies as mst
    >>> @given(mst.mutually_broadcastable_shapes(num_shapes=3))
    ... def test(shapes):
    ...     x, y, z = (np.zeros(s) for s in shapes)
    ...     assert (x + y + z).shape == shapes.result_shape
    >>> test()
    """
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes,
        min_dims=min_dims,
        max_dims=max_dims,
        min_side=min_side,
        max_side=max_side,
    ).map(lambda drawn: BroadcastShapes(drawn.input_shapes))


def arrays(
    shape: ShapeLike,
    dtype: Any = np.float64,
    min_value: float = -10,
    max_value: float = 10,
    avoid: Sequence[float] = (),
    margin: float = 1e-3,
) -> st.SearchStrategy[np.ndarray]:
    """NumPy arrays of finite values in ``[min_value, max_value]``, away from ``avoid``.

    Parameters
    ----------
    shape : int, tuple of int or strategy
        The array's shape, or a strategy that draws it (such as :func:`shapes`).
    dtype : dtype-like, optional
        A floating-point, integer or bool dtype (``minigrad.float32`` works too).
    min_value, max_value : float, optional
        Bounds on the values (ignored for bool).  For floats of less than 64 bits they are
        rounded inward to representable numbers.
    avoid : sequence of float, optional
        Points to keep away from, such as the kinks of ``abs``, ``relu`` or ``clamp``.
        Every value ends at least ``margin`` from each of them.  A drawn value closer than
        that is moved, deterministically, to the nearer edge of the forbidden interval
        around the point (to the upper edge on a tie, and to the other edge if the nearer
        one is out of range); overlapping intervals are treated as one.
    margin : float, optional
        The distance to keep from the points in ``avoid``.  It should exceed the
        ``eps`` of the gradient check, so that ``x ± eps`` never crosses a kink.

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given
    >>> from minigrad.testing import strategies as mst
    >>> @given(mst.arrays((2, 3), min_value=-1, max_value=1, avoid=(0.0,)))
    ... def test(a):
    ...     assert a.shape == (2, 3) and a.dtype == np.float64
    ...     assert np.all(np.abs(a) >= 1e-3) and np.all(np.abs(a) <= 1)
    >>> test()
    """
    dtype = np.dtype(dtype)
    if isinstance(shape, int):
        shape = (shape,)
    elif not isinstance(shape, st.SearchStrategy):
        shape = tuple(shape)
    return hnp.arrays(dtype, shape, elements=_elements(dtype, min_value, max_value, avoid, margin))


def tensors(
    shape: ShapeLike | None = None,
    dtype: Any = np.float64,
    min_value: float = -10,
    max_value: float = 10,
    requires_grad: bool = True,
    avoid: Sequence[float] = (),
    margin: float = 1e-3,
    device: Any = None,
) -> st.SearchStrategy[minigrad.Tensor]:
    """minigrad Tensors with values drawn as by :func:`arrays`.

    Parameters
    ----------
    shape : int, tuple of int or strategy, optional
        The shape, or a strategy for it; if None, it is drawn from :func:`shapes`.
    dtype : dtype-like, optional
        The Tensor's dtype, ``minigrad.float64`` by default (what gradcheck needs).
    min_value, max_value, avoid, margin
        As for :func:`arrays`.
    requires_grad : bool, optional
        Whether the drawn Tensors require grad (True by default); only for float dtypes.
    device : str or minigrad.device, optional
        Where to put the Tensors (the CPU if None).  They are leaves there.

    Examples
    --------
    >>> import minigrad
    >>> from hypothesis import given
    >>> from minigrad.testing import strategies as mst
    >>> @given(mst.tensors((3,), min_value=0, max_value=1))
    ... def test(x):
    ...     assert x.shape == (3,) and x.dtype == minigrad.float64 and x.requires_grad
    >>> test()
    """
    dtype = np.dtype(dtype)
    if requires_grad and dtype.kind != "f":
        raise InvalidArgument(
            f"tensors: requires_grad=True needs a floating-point dtype, got {dtype}"
        )
    if shape is None:
        shape = shapes()

    def to_tensor(array: np.ndarray) -> minigrad.Tensor:
        if device is None:
            return minigrad.tensor(array, dtype=dtype, requires_grad=requires_grad)
        t = minigrad.tensor(array, dtype=dtype).to(device)
        return t.requires_grad_() if requires_grad else t

    return arrays(shape, dtype, min_value, max_value, avoid, margin).map(to_tensor)


# -- elements ---------------------------------------------------------------------------------


def _elements(dtype: np.dtype, min_value, max_value, avoid, margin) -> st.SearchStrategy:
    avoid = tuple(float(p) for p in avoid)
    if margin < 0:
        raise InvalidArgument(f"arrays: margin must be non-negative, got {margin}")
    if dtype.kind == "b":
        return st.booleans()
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        low = max(math.ceil(min_value), int(info.min))
        high = min(math.floor(max_value), int(info.max))
        integers = st.integers(low, high)
        if not avoid:
            return integers
        return integers.filter(lambda v: all(abs(v - p) >= margin for p in avoid))
    if dtype.kind != "f":
        raise InvalidArgument(f"arrays: expected a float, integer or bool dtype, got {dtype}")

    low = _round_inward(min_value, dtype, up=True)
    high = _round_inward(max_value, dtype, up=False)
    if low > high:
        raise InvalidArgument(
            f"arrays: no {dtype} value lies in [min_value={min_value}, max_value={max_value}]"
        )
    floats = st.floats(low, high, allow_nan=False, allow_infinity=False, width=dtype.itemsize * 8)
    if not avoid:
        return floats
    push = _PushAway(dtype, low, high, _merge_forbidden(avoid, margin), margin)
    return floats.map(push)


def _round_inward(value: float, dtype: np.dtype, *, up: bool) -> float:
    """The representable ``dtype`` number nearest ``value`` on the inner side of a bound."""
    rounded = dtype.type(value)
    if up and float(rounded) < value:
        rounded = np.nextafter(rounded, dtype.type(np.inf))
    elif not up and float(rounded) > value:
        rounded = np.nextafter(rounded, dtype.type(-np.inf))
    return float(rounded)


def _merge_forbidden(points: Sequence[float], margin: float) -> list[tuple[float, ...]]:
    """Group the points whose open ``margin`` intervals overlap or touch, in order."""
    groups: list[list[float]] = []
    for p in sorted(points):
        if groups and p - groups[-1][-1] <= 2 * margin:
            groups[-1].append(p)
        else:
            groups.append([p])
    return [tuple(g) for g in groups]


class _PushAway:
    """Move a value that lies within ``margin`` of a group of points to the group's edge."""

    def __init__(self, dtype, low, high, groups, margin):
        self.dtype, self.low, self.high = dtype, low, high
        self.groups, self.margin = groups, margin
        for group in groups:
            if group[0] - margin < low and high < group[-1] + margin:
                raise InvalidArgument(
                    f"arrays: every value in [{low}, {high}] is within margin={margin} of "
                    f"a point of avoid={group}"
                )

    def __call__(self, value: float) -> float:
        for group in self.groups:
            lower, upper = group[0] - self.margin, group[-1] + self.margin
            if lower < value < upper or self._too_close(value, group):
                if value >= (lower + upper) / 2:
                    edges = ((upper, 1), (lower, -1))
                else:
                    edges = ((lower, -1), (upper, 1))
                for edge, direction in edges:
                    moved = self._snap_outward(edge, direction, group)
                    if self.low <= moved <= self.high and not self._too_close_to_any(moved):
                        return moved
                raise InvalidArgument(
                    f"arrays: cannot keep {value} at least margin={self.margin} from the "
                    f"points {group} within [{self.low}, {self.high}]"
                )
        return value

    def _too_close(self, value: float, group: tuple[float, ...]) -> bool:
        return any(abs(value - p) < self.margin for p in group)

    def _too_close_to_any(self, value: float) -> bool:
        return any(self._too_close(value, group) for group in self.groups)

    def _snap_outward(self, edge: float, direction: int, group: tuple[float, ...]) -> float:
        """The representable number nearest ``edge`` that keeps ``margin`` from ``group``."""
        moved = self.dtype.type(edge)
        toward = self.dtype.type(np.inf if direction > 0 else -np.inf)
        while self._too_close(float(moved), group):
            moved = np.nextafter(moved, toward)
        return float(moved)
