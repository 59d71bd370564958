"""``grad()`` and ``backward()``: the two ways to run the engine, as PyTorch spells them."""

from __future__ import annotations

from minigrad.autograd.engine import run_backward


def _as_tuple(x):
    if x is None:
        return None
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
    materialize_grads: bool = False,
):
    """Return the gradients of ``outputs`` with respect to ``inputs`` (``.grad`` is untouched).

    Parameters follow ``torch.autograd.grad``: ``grad_outputs`` are the vectors of the
    vector-Jacobian products (needed for non-scalar outputs); ``create_graph=True``
    records the backward so the result can be differentiated again; an input that does
    not influence the outputs raises unless ``allow_unused=True`` (then its gradient is
    None, or zeros with ``materialize_grads=True``).

    Examples
    --------
    >>> import minigrad
    >>> x = minigrad.tensor(3.0, requires_grad=True)
    >>> (dy,) = minigrad.autograd.grad(x**3, x, create_graph=True)
    >>> (d2y,) = minigrad.autograd.grad(dy, x)
    >>> dy.item(), d2y.item()
    (27.0, 18.0)
    """
    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    grad_outputs = _as_tuple(grad_outputs)
    if materialize_grads:
        allow_unused = True
    result = run_backward(
        outputs, grad_outputs, retain_graph, create_graph, inputs=inputs, capture=True
    )
    for i, g in enumerate(result):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {inputs[i].shape}) was not used in the graph of the "
                    "outputs; pass allow_unused=True if this is expected"
                )
            if materialize_grads:
                from minigrad.creation import zeros_like

                result[i] = zeros_like(inputs[i])
    return tuple(result)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of ``tensors`` into the leaves' ``.grad`` (``Tensor.backward``)."""
    run_backward(
        _as_tuple(tensors), _as_tuple(grad_tensors), retain_graph, create_graph,
        inputs=_as_tuple(inputs),
    )
