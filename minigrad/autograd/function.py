"""``Function``: one op of the graph, with its forward and its backward side by side.

Every differentiable op in minigrad is a subclass of :class:`Function`.  Calling
``MyOp.apply(*args)`` runs ``MyOp.forward(ctx, *args)`` and, when any input requires a
gradient and grad mode is on, records ``ctx`` as the ``grad_fn`` of the outputs.  Later
the engine (``engine.py``) calls ``MyOp.backward(ctx, *grad_outputs)``, which returns one
gradient per forward argument (``None`` where there is none).

Two flavours share this one mechanism:

* :class:`Function` is PyTorch's public form: ``forward`` receives Tensors (and runs
  with grad mode off), ``backward`` receives and returns Tensors.
* :class:`ArrayFunction` is what minigrad's own ops use: ``forward`` receives the raw
  arrays (NumPy or CuPy) and returns arrays, which saves wrapping on the hot path.
  ``backward`` is the same as above: written with minigrad ops on Tensors, so it is
  itself differentiable and ``create_graph=True`` gives higher-order gradients.

``ctx.save_for_backward`` takes what ``forward`` received or produced.  After forward,
each saved item is resolved once: an input's data becomes that input Tensor, an
output's data becomes a reference to that output (rebuilt on unpacking, so that the
node does not keep its own output alive in a reference cycle), and anything else is
kept as a constant.  ``ctx.saved_tensors`` checks the version counters, so an in-place
change to a tensor that backward still needs raises an error instead of giving a
wrong gradient.
"""

from __future__ import annotations

import traceback

import numpy

from minigrad import tensor as _tensor  # the module: it imports this one
from minigrad.autograd import anomaly, grad_mode
from minigrad.backend import get_array_module


class VersionCounter:
    """How many times a tensor's data was changed in place (shared between views)."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


class SavedTensor:
    """One item of ``ctx.saved_tensors`` together with the version it was saved at."""

    __slots__ = ("tensor", "data", "counter", "version", "output_nr")

    def __init__(self, tensor, data, counter, output_nr):
        self.tensor = tensor  # the input Tensor; None for an output of the node
        self.data = data  # the output's array; None for an input
        self.counter = counter
        self.version = counter.value
        self.output_nr = output_nr

    def unpack(self, node):
        if self.counter.value != self.version:
            t = self.tensor
            shape = t.shape if t is not None else tuple(self.data.shape)
            what = f"output {self.output_nr} of {node.name()}" if t is None else "an input"
            raise RuntimeError(
                f"{node.name()}: one of the tensors saved for backward (shape {shape}, {what}) "
                f"was modified by an in-place operation: it is at version {self.counter.value}; "
                f"expected version {self.version}. Use an out-of-place op, or .clone() it first."
            )
        if self.tensor is not None:
            return self.tensor
        out = _tensor.Tensor._make(self.data)
        # the same test as _record: only a differentiable output is rebuilt inside the graph
        if self.data.dtype.kind in "fc" and id(self.data) not in (node._non_differentiable or ()):
            out._requires_grad = True
            out.grad_fn = node
            out._output_nr = self.output_nr
        out._version_counter = self.counter
        return out


class Node:
    """The context of one op call; once recorded it is also the ``grad_fn`` of its outputs.

    Attributes the engine uses: ``fn`` (the Function class), ``next_functions`` (for each
    forward argument, ``(node, output_nr)`` of where its gradient goes, or ``None``) and
    ``needs_input_grad``.  Ops may set any other attribute they need in backward.
    """

    # Defaults shared by all nodes; an instance sets only what differs (creating a node
    # is on the path of every op, so it stays cheap).
    next_functions = ()
    needs_input_grad = ()
    _to_save = None
    _saved = None
    _freed = False
    _non_differentiable = None
    _materialize_grads = True
    _output_meta = ()  # (shape, dtype, array module) of each output, for zeros
    _input_meta = ()  # (shape, dtype) of each input that needs a gradient
    _pre_hooks = None  # {output_nr: [hook, ...]}
    _forward_trace = None

    def __init__(self, fn):
        self.fn = fn

    # -- the API that forward and backward see ------------------------------------------
    def save_for_backward(self, *items):
        """Keep inputs, outputs or other values for backward (read them as ``saved_tensors``)."""
        self._to_save = items

    @property
    def saved_tensors(self) -> tuple:
        if self._freed:
            raise RuntimeError(
                f"{self.name()}: trying to backward through the graph a second time (or to "
                "read saved tensors after they were freed). Saved tensors are freed after "
                "backward(); pass retain_graph=True to the first backward() to keep them."
            )
        if self._saved is None:
            return ()
        return tuple(s.unpack(self) if isinstance(s, SavedTensor) else s for s in self._saved)

    def mark_non_differentiable(self, *outputs):
        """Declare outputs (e.g. argmax indices) that never carry a gradient."""
        self._non_differentiable = {id(o._data if hasattr(o, "_data") else o) for o in outputs}

    def set_materialize_grads(self, value: bool):
        """If False, backward receives None (not zeros) for outputs that got no gradient."""
        self._materialize_grads = bool(value)

    # -- the API that the engine and users of grad_fn see --------------------------------
    def name(self) -> str:
        return f"{self.fn.__name__}Backward"

    def register_prehook(self, output_nr: int, hook) -> RemovableHandle:
        """Run ``hook(grad)`` on the gradient of output ``output_nr`` before backward."""
        if self._pre_hooks is None:
            self._pre_hooks = {}
        hooks = self._pre_hooks.setdefault(output_nr, [])
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def apply_backward(self, grads):
        """Call ``fn.backward`` with the gradients of the outputs; return the input gradients."""
        if self._materialize_grads and any(g is None for g in grads):
            grads = tuple(
                g if g is not None else _tensor.Tensor._make(xp.zeros(shape, dtype))
                for g, (shape, dtype, xp) in zip(grads, self._output_meta)
            )
        result = self.fn.backward(self, *grads)
        return result if isinstance(result, tuple) else (result,)

    def release(self):
        """Free what was saved for backward (the engine calls this unless retain_graph)."""
        self._saved = None
        self._freed = True

    def __repr__(self):
        return f"<{self.name()}>"


class AccumulateGrad:
    """The graph's sink for a leaf tensor: adds the incoming gradient into ``leaf.grad``."""

    next_functions = ()

    def __init__(self, variable):
        self.variable = variable
        self._pre_hooks = None

    def name(self) -> str:
        return "AccumulateGrad"

    register_prehook = Node.register_prehook

    def __repr__(self):
        return "<AccumulateGrad>"


class RemovableHandle:
    """Returned by ``register_hook``; ``handle.remove()`` unregisters the hook."""

    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class Function:
    """Base of every differentiable op.  Subclass it and define two static methods.

    Examples
    --------
    >>> import minigrad
    >>> class Cube(minigrad.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x * x
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (x,) = ctx.saved_tensors
    ...         return grad * 3 * x * x
    >>> x = minigrad.tensor([2.0], requires_grad=True)
    >>> Cube.apply(x).backward()
    >>> x.grad
    tensor([12.])
    """

    # True for ops whose output shares memory with their first input (reshape, transpose,
    # slicing...): the output then shares the input's version counter.
    is_view = False
    # False: forward receives Tensors (PyTorch's form); ArrayFunction sets it to True.
    takes_arrays = False

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args):
        """Run forward and, if any input requires grad (and grad mode is on), record the op."""
        Tensor = _tensor.Tensor  # noqa: N806 - a local name for the hot loop
        needs_grad, inputs, array_type = [], [], None
        for a in args:
            if isinstance(a, Tensor):
                if array_type is None:
                    array_type = type(a._data)
                elif type(a._data) is not array_type:
                    _raise_device_mismatch(cls, args)
                needs_grad.append(a._requires_grad)
                inputs.append(a._data)
            else:
                needs_grad.append(False)
                inputs.append(a)
        record = grad_mode._grad_enabled and True in needs_grad

        ctx = Node(cls)
        # forward may read it, as in PyTorch (all False when nothing is recorded)
        ctx.needs_input_grad = tuple(needs_grad) if record else (False,) * len(args)
        if cls.takes_arrays:
            outputs = cls.forward(ctx, *inputs)
        else:
            with grad_mode.no_grad():
                outputs = cls.forward(ctx, *args)
        single = not isinstance(outputs, tuple)
        raw_outputs = (outputs,) if single else outputs
        arrays = [_as_array(o) for o in raw_outputs]

        results = [Tensor._make(a) for a in arrays]
        first = args[0] if args else None
        if isinstance(first, Tensor):
            for r in results:
                # declared views, and any output that NumPy/CuPy made a view of the input
                # (basic indexing...), share its version counter
                if cls.is_view or _is_view_of(r._data, first._data):
                    r._version_counter = first._version_counter
                    r._is_view = True
        if record:
            _record(ctx, args, arrays, results, raw_outputs)
        return results[0] if single else tuple(results)


class ArrayFunction(Function):
    """A Function whose ``forward(ctx, *args)`` gets raw arrays: minigrad's own ops."""

    takes_arrays = True


def _is_view_of(array, base) -> bool:
    """True when ``array`` is ``base`` or a view of the memory that ``base`` views."""
    own = getattr(array, "base", None)
    return array is base or (own is not None and (own is base or own is base.base))


def _as_array(output):
    """Forward results as arrays: NumPy reductions can return scalars, Functions Tensors."""
    data = getattr(output, "_data", output)
    if isinstance(data, numpy.generic) or not hasattr(data, "shape"):
        return numpy.asarray(data)
    return data


def _record(ctx, args, arrays, results, raw_outputs):
    """Link ``ctx`` into the graph: edges to the inputs, saved tensors, outputs' grad_fn."""
    edges, meta = [], []
    for a, needed in zip(args, ctx.needs_input_grad):
        if needed:
            node = a.grad_fn
            edges.append((node, a._output_nr) if node is not None else (a._accumulator(), 0))
            meta.append((a._data.shape, a._data.dtype))
        else:
            edges.append(None)
            meta.append(None)
    ctx.next_functions = tuple(edges)
    ctx._input_meta = tuple(meta)
    xp = get_array_module(arrays[0]) if arrays else numpy
    ctx._output_meta = tuple((a.shape, a.dtype, xp) for a in arrays)

    non_diff = ctx._non_differentiable or ()
    for i, (r, a) in enumerate(zip(results, arrays)):
        if a.dtype.kind in "fc" and id(a) not in non_diff:
            r._requires_grad = True
            r.grad_fn = ctx
            r._output_nr = i

    if ctx._to_save is not None:
        ctx._saved = tuple(
            _resolve_saved(item, args, arrays, results, raw_outputs) for item in ctx._to_save
        )
        ctx._to_save = None
    if anomaly._enabled:
        ctx._forward_trace = "".join(traceback.format_stack()[:-3])


def _resolve_saved(item, args, arrays, results, raw_outputs):
    """Turn one item given to save_for_backward into what backward will get."""
    Tensor = _tensor.Tensor  # noqa: N806
    data = item._data if isinstance(item, Tensor) else item
    if not hasattr(data, "shape"):
        return item  # a plain Python value
    for i, raw in enumerate(raw_outputs):
        # ``raw``: what forward returned, before _as_array (a NumPy scalar for 0-d results)
        if arrays[i] is data or raw is data or getattr(raw, "_data", None) is data:
            return SavedTensor(None, arrays[i], results[i]._version_counter, i)
    for a in args:
        if isinstance(a, Tensor) and a._data is data:
            return SavedTensor(a, None, a._version_counter, None)
    if isinstance(item, Tensor):
        return item  # a constant Tensor
    return Tensor._make(_as_array(item))  # a constant array (a mask, indices...)


def _raise_device_mismatch(cls, args):
    devices = [str(a.device) for a in args if isinstance(a, _tensor.Tensor)]
    raise RuntimeError(
        f"{cls.__name__.lower()}: expected all tensors to be on the same device, "
        f"but found tensors on {', '.join(devices)}"
    )
