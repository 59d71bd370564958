"""``Tensor``: one array (NumPy or CuPy) plus what autograd needs to know about it.

The arithmetic lives in ``minigrad.ops``; every method here forwards to an op, so a
reader finds the math of ``x * y`` in ``ops/elementwise.py`` (``Mul``), not here.
What lives here is the bookkeeping: ``requires_grad``, ``grad``, ``grad_fn`` (the node
that made this tensor), the version counter that in-place changes bump, hooks, and
conversions between dtypes and devices.
"""

from __future__ import annotations

import weakref

import numpy

from minigrad import dtypes
from minigrad.autograd import grad_mode
from minigrad.autograd.function import AccumulateGrad, VersionCounter
from minigrad.backend import CPU, device, device_of, get_array_module, to_device


class Tensor:
    """A multi-dimensional array that can record the operations applied to it.

    ``Tensor(data, requires_grad=False, dtype=None, device=None)`` copies ``data`` (a
    nested list, a number, a NumPy/CuPy array or a Tensor).  As with ``minigrad.tensor``,
    Python floats become float32, ints int64 and bools bool; an array keeps its dtype.
    """

    __slots__ = (
        "_data",
        "_requires_grad",
        "grad",
        "grad_fn",
        "_output_nr",
        "_version_counter",
        "_accumulator_ref",
        "_is_view",
        "__weakref__",
    )
    __array_priority__ = 1000  # numpy_array * tensor -> Tensor.__rmul__

    def __init__(self, data, requires_grad: bool = False, dtype=None, device=None):
        array = _to_array(data, dtype, device, copy=True)
        self._init(array)
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, array, requires_grad: bool = False) -> Tensor:
        """Wrap an array without copying or checks (how ops build their results)."""
        if isinstance(array, numpy.generic):  # NumPy gives scalars for 0-d results (x > 0)
            array = numpy.asarray(array)
        t = object.__new__(cls)
        t._init(array)
        t._requires_grad = requires_grad
        return t

    def _init(self, array):
        self._data = array
        self._requires_grad = False
        self.grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._version_counter = VersionCounter()
        self._accumulator_ref = None
        self._is_view = False

    # -- autograd attributes ---------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (leaves only) and return self."""
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError(
                "requires_grad_: cannot turn off requires_grad of a non-leaf tensor "
                f"(created by {self.grad_fn.name()}); use .detach() instead"
            )
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(
                "requires_grad_: only tensors of floating point dtype can require gradients, "
                f"got {self.dtype}"
            )
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors not created by a recorded op (their ``.grad`` is filled)."""
        return self.grad_fn is None

    @property
    def _version(self) -> int:
        return self._version_counter.value

    def _accumulator(self) -> AccumulateGrad:
        """The graph node that adds gradients into this leaf's ``.grad`` (one per leaf)."""
        acc = self._accumulator_ref() if self._accumulator_ref is not None else None
        if acc is None:
            acc = AccumulateGrad(self)
            self._accumulator_ref = weakref.ref(acc)
        return acc

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        ``gradient`` is required unless self holds one element; the graph is freed
        afterwards unless ``retain_graph=True``; ``create_graph=True`` records the
        backward for higher-order derivatives.
        """
        from minigrad.autograd.functional import backward

        backward(self, gradient, retain_graph, create_graph, inputs)

    def retain_grad(self) -> None:
        """Keep the gradient of this non-leaf tensor in ``.grad`` after backward."""
        if self.grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("retain_grad: called on a tensor that does not require grad")
            return  # leaves keep their gradient anyway
        if getattr(self.grad_fn, "_retains", None) is None:
            self.grad_fn._retains = {}
        if self._output_nr in self.grad_fn._retains:
            return
        ref = weakref.ref(self)

        def retain(grad):
            t = ref()
            if t is not None:
                t.grad = grad.detach().clone() if t.grad is None else t.grad + grad.detach()

        retain._retains_grad = True
        self.grad_fn._retains[self._output_nr] = retain
        self.grad_fn.register_prehook(self._output_nr, retain)

    @property
    def retains_grad(self) -> bool:
        retains = getattr(self.grad_fn, "_retains", None)
        return bool(retains) and self._output_nr in retains

    def register_hook(self, hook):
        """Call ``hook(grad)`` with this tensor's gradient during backward.

        The hook may return a new gradient to use instead.  Returns a handle whose
        ``remove()`` unregisters it.
        """
        if not self._requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that "
                               "does not require grad")
        node = self.grad_fn if self.grad_fn is not None else self._accumulator()
        if node is not self.grad_fn:
            self._accumulator_keepalive(node)
        handle = node.register_prehook(self._output_nr if self.grad_fn is not None else 0, hook)
        hooks = handle._hooks
        retain = [h for h in hooks if getattr(h, "_retains_grad", False)]
        for h in retain:  # retain_grad sees the gradient after every user hook
            hooks.remove(h)
            hooks.append(h)
        return handle

    def _accumulator_keepalive(self, node):
        # A hooked leaf must keep its accumulator (and the hooks on it) alive.
        self._accumulator_ref = _StrongRef(node)

    # -- array attributes --------------------------------------------------------------
    @property
    def data(self) -> Tensor:
        """A tensor sharing this one's storage, detached from the graph (as in PyTorch)."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value: Tensor):
        if not isinstance(value, Tensor):
            raise TypeError(f"data: expected a Tensor, got {type(value).__name__}")
        self._data = value._data

    @property
    def shape(self) -> tuple:
        return tuple(self._data.shape)

    @property
    def dtype(self) -> numpy.dtype:
        return self._data.dtype

    @property
    def device(self) -> device:
        return CPU if type(self._data) is numpy.ndarray else device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        return _ops.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:  # noqa: N802 - PyTorch's name
        return _ops.transpose(self, -2, -1)

    def size(self, dim: int | None = None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    def element_size(self) -> int:
        return self._data.dtype.itemsize

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(
                f"item: a Tensor with {self._data.size} elements cannot be converted to a scalar"
            )
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self) -> numpy.ndarray:
        """The NumPy array behind a CPU tensor (shared memory, as in PyTorch)."""
        if self._requires_grad:
            raise RuntimeError(
                "numpy: can't call numpy() on a Tensor that requires grad; "
                "use tensor.detach().numpy() instead"
            )
        if type(self._data) is not numpy.ndarray:
            raise TypeError(
                f"numpy: can't convert a {self.device} tensor to NumPy; "
                "call .cpu() first to copy it to host memory"
            )
        return self._data

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype, copy=False)

    # -- copies and conversions ----------------------------------------------------------
    def detach(self) -> Tensor:
        """A tensor sharing this one's data, cut from the graph (no grad)."""
        t = Tensor._make(self._data)
        t._version_counter = self._version_counter
        return t

    def detach_(self) -> Tensor:
        if self._is_view:
            raise RuntimeError("detach_: cannot detach a view in place; use detach()")
        self.grad_fn = None
        self._requires_grad = False
        return self

    def clone(self) -> Tensor:
        """A copy of the data, still connected to the graph (gradient passes through)."""
        return _ops.clone(self)

    def contiguous(self) -> Tensor:
        return self if self._data.flags.c_contiguous else _ops.clone(self)

    def to(self, *args, **kwargs) -> Tensor:
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(other_tensor)``.

        Differentiable: the gradient flows back to the original dtype and device.
        """
        target_device, target_dtype = _parse_to_args(args, kwargs)
        out = self
        if target_dtype is not None and target_dtype != out._data.dtype:
            out = _ops.to_dtype(out, target_dtype)
        if target_device is not None and target_device != out.device:
            out = _ops.to_device(out, target_device)
        if kwargs.get("copy") and out is self:
            out = _ops.clone(self)
        return out

    def cuda(self, device=None) -> Tensor:
        if device is None or isinstance(device, int):  # cuda(1) means cuda:1, as in PyTorch
            device = "cuda" if device is None else f"cuda:{device}"
        return self.to(device)

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def float(self) -> Tensor:
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def half(self) -> Tensor:
        return self.to(dtypes.float16)

    def long(self) -> Tensor:
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        return self.to(dtypes.int32)

    def bool(self) -> Tensor:
        return self.to(dtypes.bool)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    # -- in-place operations -------------------------------------------------------------
    def _inplace(self, op, *args, name: str | None = None) -> Tensor:
        """Run ``op(self, *args)`` and make its result the new value of self.

        With no graph to record, the result is written into self's array (views see it).
        When the op is recorded, self's old value must stay intact for backward, so self
        is re-pointed at the result's array and takes over its ``grad_fn``.  Either way
        the version counter is bumped, so a backward that saved the old value raises.
        """
        recording = grad_mode._grad_enabled and (
            self._requires_grad or any(isinstance(a, Tensor) and a._requires_grad for a in args)
        )
        name = name or getattr(op, "__name__", "in-place op") + "_"  # as the user called it
        if recording and self.grad_fn is None and self._requires_grad:
            raise RuntimeError(
                f"{name}: a leaf tensor that requires grad is being used in an in-place "
                "operation; wrap it in minigrad.no_grad() or use an out-of-place op"
            )
        if recording and self._is_view:
            raise RuntimeError(
                f"{name}: in-place operations on a view are not recorded by minigrad's "
                "autograd; use an out-of-place op (or clone() the view first)"
            )
        if recording:
            old = Tensor._make(self._data, requires_grad=self._requires_grad)
            old.grad_fn, old._output_nr = self.grad_fn, self._output_nr
            result = op(old, *args)
        else:
            with grad_mode.no_grad():
                result = op(self.detach(), *args)
        if result.shape != self.shape:
            raise RuntimeError(
                f"{name}: the result has shape {result.shape}, which does not match the "
                f"shape {self.shape} of the tensor modified in place"
            )
        if result.dtype != self.dtype and not numpy.can_cast(
            result.dtype, self.dtype, casting="same_kind"
        ):
            raise RuntimeError(
                f"{name}: result type {result.dtype} can't be cast to the desired "
                f"output type {self.dtype}"
            )
        if recording:
            self._data = result._data.astype(self.dtype, copy=False)
            self.grad_fn, self._output_nr = result.grad_fn, result._output_nr
            self._requires_grad = result._requires_grad
        else:
            self._data[...] = result._data
        self._version_counter.value += 1
        return self

    def add_(self, other, alpha=1) -> Tensor:
        return self._inplace(_ops.add, other if alpha == 1 else other * alpha)

    def sub_(self, other, alpha=1) -> Tensor:
        return self._inplace(_ops.sub, other if alpha == 1 else other * alpha)

    def mul_(self, other) -> Tensor:
        return self._inplace(_ops.mul, other)

    def div_(self, other) -> Tensor:
        return self._inplace(_ops.div, other)

    def pow_(self, exponent) -> Tensor:
        return self._inplace(_ops.pow, exponent)

    def clamp_(self, min=None, max=None) -> Tensor:  # noqa: A002 - PyTorch's names
        return self._inplace(_ops.clamp, min, max)

    def copy_(self, src) -> Tensor:
        """Copy ``src`` (broadcast to self's shape, cast to self's dtype) into self."""
        return self._inplace(_ops.copy_from, src, name="copy_")

    def zero_(self) -> Tensor:
        # copy_from, not a constant: a non-leaf stays in the graph (its gradient becomes 0)
        return self._inplace(_ops.copy_from, 0, name="zero_")

    def fill_(self, value) -> Tensor:
        return self._inplace(_ops.copy_from, value, name="fill_")

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
        from minigrad.random import numpy_generator

        values = numpy_generator(generator).uniform(a, b, self.shape)
        return self._inplace(_ops.copy_from, _array_like(values, self), name="uniform_")

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
        from minigrad.random import numpy_generator

        values = numpy_generator(generator).normal(mean, std, self.shape)
        return self._inplace(_ops.copy_from, _array_like(values, self), name="normal_")

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def __setitem__(self, key, value):
        self._inplace(_ops.index_put, key, value, name="__setitem__")

    # -- Python protocol -----------------------------------------------------------------
    __hash__ = object.__hash__

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of a Tensor with {self._data.size} values is ambiguous"
            )
        return bool(self._data.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self._data.item())

    def __repr__(self) -> str:
        return _format(self)

    # -- arithmetic operators --------------------------------------------------------------
    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(other, self)

    def __sub__(self, other):
        return _ops.sub(self, other)

    def __rsub__(self, other):
        return _ops.sub(other, self)

    def __mul__(self, other):
        return _ops.mul(self, other)

    def __rmul__(self, other):
        return _ops.mul(other, self)

    def __truediv__(self, other):
        return _ops.div(self, other)

    def __rtruediv__(self, other):
        return _ops.div(other, self)

    def __pow__(self, other):
        return _ops.pow(self, other)

    def __rpow__(self, other):
        return _ops.pow(other, self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __neg__(self):
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __getitem__(self, key):
        return _ops.getitem(self, key)

    # -- comparisons (no gradient) -----------------------------------------------------------
    def __eq__(self, other):
        return _ops.eq(self, other)

    def __ne__(self, other):
        return _ops.ne(self, other)

    def __lt__(self, other):
        return _ops.lt(self, other)

    def __le__(self, other):
        return _ops.le(self, other)

    def __gt__(self, other):
        return _ops.gt(self, other)

    def __ge__(self, other):
        return _ops.ge(self, other)

    def __invert__(self):
        return _ops.logical_not(self)

    def __and__(self, other):
        return _ops.logical_and(self, other)

    def __or__(self, other):
        return _ops.logical_or(self, other)


def _install_methods():
    """Methods that are the op of the same name with self first (x.exp() is exp(x))."""
    names = """add sub mul div neg pow exp log log1p sqrt abs sign clamp maximum minimum sin cos
        tanh sigmoid erf relu leaky_relu gelu softplus sum mean var std max min logsumexp argmax
        argmin softmax log_softmax reshape view transpose permute flatten squeeze unsqueeze
        expand broadcast_to split chunk matmul eq ne lt le gt ge logical_not logical_and
        logical_or isnan isinf isfinite all any""".split()
    for name in names:
        setattr(Tensor, name, getattr(_ops, name))
    Tensor.clip = Tensor.clamp
    Tensor.absolute = Tensor.abs
    Tensor.multiply = Tensor.mul
    Tensor.divide = Tensor.div
    Tensor.subtract = Tensor.sub
    Tensor.where = lambda self, condition, other: _ops.where(condition, self, other)
    Tensor.view_as = lambda self, other: _ops.view(self, other.shape)
    Tensor.reshape_as = lambda self, other: _ops.reshape(self, other.shape)
    Tensor.expand_as = lambda self, other: _ops.expand(self, other.shape)


# -- construction helpers -------------------------------------------------------------------
def _to_array(data, dtype, dev, copy: bool):
    """Turn user data into an array of the right dtype on the right device."""
    if isinstance(data, Tensor):
        array = data._data
    else:
        xp = get_array_module(data)
        array = data if hasattr(data, "__array_namespace__") else None
        if array is None:
            array = numpy.asarray(data)
            if dtype is None:
                array = array.astype(_inferred_dtype(array), copy=False)
            copy = False
        elif copy:
            array = xp.array(array, copy=True)
            copy = False
    if dtype is not None:
        target = dtypes.as_dtype(dtype)
        if array.dtype != target:
            array = array.astype(target)
            copy = False
    if dev is not None:
        target_device = device(dev)
        if target_device != device_of(array):
            array = to_device(array, target_device)
            copy = False
    if copy:
        array = array.copy()
    return array


def _inferred_dtype(array: numpy.ndarray) -> numpy.dtype:
    """PyTorch's inference for Python data: floats -> default float, ints -> int64."""
    kind = array.dtype.kind
    if kind == "f":
        return dtypes.get_default_dtype()
    if kind in "iu":
        return dtypes.int64
    if kind == "b":
        return dtypes.bool
    raise TypeError(f"tensor: could not infer a dtype for data of NumPy type {array.dtype}")


def _array_like(values: numpy.ndarray, like: Tensor):
    """Host-made ``values`` cast to ``like``'s dtype and moved to its device."""
    return to_device(values.astype(like.dtype, copy=False), like.device)


def _parse_to_args(args, kwargs):
    target_device = kwargs.get("device")
    target_dtype = kwargs.get("dtype")
    for a in args:
        if isinstance(a, Tensor):
            target_device, target_dtype = a.device, a.dtype
        elif isinstance(a, (str, device)):
            target_device = a
        else:
            target_dtype = a
    if target_device is not None:
        target_device = device(target_device)
    if target_dtype is not None:
        target_dtype = dtypes.as_dtype(target_dtype)
    return target_device, target_dtype


class _StrongRef:
    """Looks like a weakref but holds its object (used when hooks must stay alive)."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __call__(self):
        return self.obj


# -- repr -------------------------------------------------------------------------------
def _format(t: Tensor) -> str:
    array = t._data if type(t._data) is numpy.ndarray else t._data.get()
    suffix = []
    if t.device.type != "cpu":
        suffix.append(f"device='{t.device}'")
    default_dtypes = (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool)
    # an empty tensor shows every dtype but the default float (no values to tell it by)
    if array.dtype not in default_dtypes or (array.size == 0 and array.dtype != default_dtypes[0]):
        suffix.append(f"dtype=minigrad.{array.dtype}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        suffix.append("requires_grad=True")
    if array.size == 0:
        body = "[]" if array.ndim == 1 else f"[], size={tuple(array.shape)}"
    else:
        body = numpy.array2string(
            array, separator=", ", prefix="tensor(", threshold=1000, edgeitems=3,
            formatter=_formatter(array), max_line_width=80,
        )
    return "tensor(" + ", ".join([body, *suffix]) + ")"


def _formatter(array):
    """Number format like PyTorch's: 4 decimals, integral floats as '1.', large in e-notation,
    every entry padded to the same width."""
    if array.dtype.kind == "b":
        width = 5 if array.size and not array.all() else 4  # len("False"), len("True")
        return {"bool": lambda v: str(v).rjust(width)}
    if array.dtype.kind != "f":
        width = max(len(str(v)) for v in (array.min(), array.max()))
        return {"int": lambda v: str(v).rjust(width)}
    finite = numpy.abs(array[numpy.isfinite(array)]).astype(numpy.float64)
    nonzero = finite[finite > 0]
    # PyTorch's rule: e-notation when the magnitudes span more than 1000x, or are huge/tiny
    wide = nonzero.size and (nonzero.max() / nonzero.min() > 1000 or nonzero.max() > 1e8)
    if finite.size and numpy.all(finite == numpy.round(finite)) and not wide:
        def fmt(v):
            return f"{v:.0f}." if numpy.isfinite(v) else str(v)
    else:
        scientific = wide or (nonzero.size and nonzero.min() < 1e-4)
        pattern = "{:.4e}" if scientific else "{:.4f}"

        def fmt(v):
            return pattern.format(v) if numpy.isfinite(v) else str(v)
    shown = array if array.size <= 1000 else numpy.concatenate(
        [array.reshape(-1)[:3], array.reshape(-1)[-3:]])
    # as PyTorch, only finite values set the width ('nan' and 'inf' are padded to it)
    width = max((len(fmt(v)) for v in shown.reshape(-1) if numpy.isfinite(v)), default=0)
    return {"float_kind": lambda v: fmt(v).rjust(width)}


from minigrad import ops as _ops  # noqa: E402 - ops import Tensor; the class must exist first

_install_methods()
