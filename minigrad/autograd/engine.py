"""The backward engine: walk the graph once in topological order, without recursion.

1. Start from the roots' ``grad_fn`` (or a leaf's ``AccumulateGrad``) and collect every
   reachable node with an explicit stack, in depth-first post-order.  Reversed, that order
   puts each node after every node that sends it a gradient (a topological order), so
   by the time a node runs, all the gradients of its outputs have been summed.
2. Run the nodes in that order.  Each node's backward returns one gradient per forward
   input; each is added into the buffer of the node it came from (a tensor used many
   times gets the sum of its gradients).  Leaves' ``AccumulateGrad`` adds into ``.grad``.
3. Unless ``retain_graph``, each node frees its saved tensors once it has run, so a
   second backward through the same graph raises a clear error.

``backward()`` accumulates into leaves' ``.grad``; ``grad()`` instead captures the total
gradient arriving at given tensors and returns it, running only the nodes on a path to
them.  With ``create_graph=True`` the backward formulas run with grad mode on, so the
gradients are themselves part of a graph and can be differentiated again.
"""

from __future__ import annotations

from minigrad import tensor as _tensor  # the module: it imports this one
from minigrad.autograd import anomaly, grad_mode
from minigrad.autograd.function import AccumulateGrad
from minigrad.backend import get_array_module


def _edge(tensor):
    """Where the gradient of ``tensor`` enters the graph: ``(node, output_nr)``."""
    if tensor.grad_fn is not None:
        return tensor.grad_fn, tensor._output_nr
    return tensor._accumulator(), 0


def _topological_order(roots) -> list:
    """Nodes reachable from ``roots``, each before every node it sends gradients to."""
    post_order, seen = [], set()
    for root in roots:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(root.next_functions))]
        while stack:
            node, children = stack[-1]
            for edge in children:
                if edge is not None and edge[0] not in seen:
                    seen.add(edge[0])
                    stack.append((edge[0], iter(edge[0].next_functions)))
                    break
            else:
                stack.pop()
                post_order.append(node)
    post_order.reverse()
    return post_order


def _prune(order, targets) -> tuple[list, set]:
    """Keep only what ``grad()`` needs: the targets, and the nodes that lead to one.

    Returns the pruned order and the set of nodes whose backward must run (those with
    a child that is kept).  ``order`` lists parents before children, so it is walked
    backwards: each node is decided after all of its children.
    """
    kept, run = set(targets), set()
    for node in reversed(order):
        if any(e is not None and e[0] in kept for e in node.next_functions):
            run.add(node)
            kept.add(node)
    return [n for n in order if n in kept], run


def _root_gradients(tensors, grad_tensors):
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(
            f"backward: got {len(tensors)} tensors but {len(grad_tensors)} gradients"
        )
    grads = []
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        if not t._requires_grad:
            raise RuntimeError(
                f"backward: element {i} of tensors does not require grad and has no grad_fn"
            )
        if g is None:
            if t.numel() != 1:
                raise RuntimeError(
                    "backward: grad can be implicitly created only for scalar outputs, but "
                    f"element {i} has shape {t.shape}; pass a gradient of that shape"
                )
            g = _tensor.Tensor._make(get_array_module(t._data).ones_like(t._data))
        else:
            if not isinstance(g, _tensor.Tensor):
                g = _tensor.Tensor(g, dtype=t.dtype, device=t.device)
            if g.shape != t.shape:
                raise RuntimeError(
                    f"backward: gradient {i} has shape {g.shape}, "
                    f"but the tensor it is for has shape {t.shape}"
                )
        grads.append(g)
    return grads


def run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=None, capture=False):
    """Backpropagate from ``tensors``.

    Without ``inputs``: accumulate into every reachable leaf's ``.grad``.  With ``inputs``
    and ``capture=False``: accumulate into those tensors' ``.grad`` only.  With
    ``capture=True``: return the gradient of each input (None where none arrived).
    """
    grads = _root_gradients(tensors, grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph

    buffers = {}  # node -> list of the summed gradient of each output
    roots = []
    with grad_mode.set_grad_enabled(create_graph):
        for t, g in zip(tensors, grads):
            node, nr = _edge(t)
            roots.append(node)
            _add_to_buffer(buffers, node, nr, g)

        order = _topological_order(roots)
        must_run = None  # None: every node runs
        targets = {}  # (node, output_nr) -> indices into inputs
        if inputs is not None:
            for i, t in enumerate(inputs):
                if not isinstance(t, _tensor.Tensor) or not t._requires_grad:
                    raise RuntimeError(f"grad: input {i} does not require grad")
                targets.setdefault(_edge(t), []).append(i)
            order, must_run = _prune(order, {node for node, _ in targets})
        captured = [None] * (len(inputs) if inputs is not None else 0)

        for node in order:
            node_grads = buffers.pop(node, None)
            if node_grads is None:
                continue  # no gradient reached this node
            if node._pre_hooks:
                _run_pre_hooks(node, node_grads)
            if targets:
                for nr, g in enumerate(node_grads):
                    for i in targets.get((node, nr), ()):
                        captured[i] = g
            if isinstance(node, AccumulateGrad):
                if inputs is None:
                    _accumulate(node.variable, node_grads[0], create_graph)
            elif must_run is None or node in must_run:
                _send(node, node.apply_backward(tuple(node_grads)), buffers)
                if not retain_graph:
                    node.release()

        if inputs is not None and not capture:
            for t, g in zip(inputs, captured):
                if g is not None:
                    _accumulate(t, g, create_graph)
    return captured


def _run_pre_hooks(node, node_grads):
    """Tensor hooks (``register_hook``, ``retain_grad``) see and may replace a gradient."""
    for nr, hooks in node._pre_hooks.items():
        for hook in list(hooks):
            if node_grads[nr] is not None:
                new = hook(node_grads[nr])
                if new is not None:
                    node_grads[nr] = new


def _send(node, input_grads, buffers):
    """Check each gradient a backward returned and add it to the buffer it belongs to."""
    edges = node.next_functions
    if len(input_grads) != len(edges):
        raise RuntimeError(
            f"{node.name()}: backward returned {len(input_grads)} gradients, expected "
            f"{len(edges)} (one per forward argument; use None for non-tensor ones)"
        )
    for i, (edge, g) in enumerate(zip(edges, input_grads)):
        if edge is None or g is None:
            continue
        if not isinstance(g, _tensor.Tensor):
            raise TypeError(
                f"{node.name()}: backward must return Tensors or None, got {type(g).__name__} "
                f"for input {i}"
            )
        shape, dtype = node._input_meta[i]
        if g._data.shape != shape:
            raise RuntimeError(
                f"{node.name()}: backward returned a gradient of shape {g.shape} for input {i}, "
                f"whose shape is {tuple(shape)}"
            )
        if g._data.dtype != dtype:
            g = g.to(dtype)
        if anomaly._enabled:
            _check_finite(node, i, g)
        _add_to_buffer(buffers, edge[0], edge[1], g)


def _add_to_buffer(buffers, node, output_nr, grad):
    slots = buffers.get(node)
    if slots is None:
        slots = buffers[node] = [None] * _num_outputs(node)
    slots[output_nr] = grad if slots[output_nr] is None else slots[output_nr] + grad


def _num_outputs(node) -> int:
    return 1 if isinstance(node, AccumulateGrad) else len(node._output_meta)


def _accumulate(leaf, grad, create_graph):
    """``leaf.grad += grad`` (a fresh tensor the first time, so no two leaves share one)."""
    if create_graph:  # clone: the same gradient tensor may reach several leaves (Add)
        leaf.grad = grad.clone() if leaf.grad is None else leaf.grad + grad
    elif leaf.grad is None:
        leaf.grad = _tensor.Tensor._make(grad._data.copy())
    else:
        leaf.grad._data += grad._data
        leaf.grad._version_counter.value += 1


def _check_finite(node, i, grad):
    xp = get_array_module(grad._data)
    if not bool(xp.all(xp.isfinite(grad._data))):
        kind = "nan" if bool(xp.any(xp.isnan(grad._data))) else "inf"
        trace = node._forward_trace or "(the forward ran before anomaly detection was on)\n"
        raise RuntimeError(
            f"Function '{node.name()}' returned {kind} values in its {i}th output.\n"
            f"The forward call that created it:\n{trace}"
        )
