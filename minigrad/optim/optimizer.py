r"""``Optimizer``: the base class that holds parameter groups and per-parameter state.

An optimizer owns a list of *parameter groups* (``param_groups``): dicts with a
``'params'`` list and that group's hyper-parameters (``'lr'``, ``'momentum'``, ...), filled
from the optimizer's defaults where the group does not set them.  ``state`` maps each
parameter to a dict of its running buffers (``momentum_buffer``, ``exp_avg``, ...).
``step()`` walks the groups and hands every parameter that has a gradient to the
subclass's ``_update``, under ``no_grad``; the update changes the parameter's array in
place, so ``Parameter`` objects and their arrays keep their identity and no graph is
recorded.  ``state_dict()`` and ``load_state_dict()`` use PyTorch's layout, with
parameters replaced by their index in group order::

    {'state': {0: {'momentum_buffer': tensor}, ...},
     'param_groups': [{'lr': 0.1, 'momentum': 0.9, ..., 'params': [0, 1]}]}
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

import numpy

from minigrad.autograd import grad_mode
from minigrad.backend import CPU, device_of, get_array_module, kernel, to_device
from minigrad.tensor import Tensor

__all__ = ["Optimizer"]


def _describe(p: Tensor) -> str:
    return f"shape {tuple(p.shape)}, dtype {p.dtype}"


class Optimizer:
    """Base class of all optimizers.

    Parameters
    ----------
    params : iterable of Tensors or of dicts
        The parameters to optimize, or parameter groups: dicts with a ``'params'`` entry and
        any hyper-parameters that override ``defaults`` for that group.
    defaults : dict
        The hyper-parameters used by groups that do not set them.

    A subclass defines ``_update(param, grad, state, group)`` (one parameter's in-place
    update), ``_check_group(group)`` (hyper-parameter validation) and ``_state_keys`` (the
    names its ``state`` may hold).  Code that subclasses ``Optimizer`` PyTorch-style and
    overrides ``step`` itself works too.
    """

    _state_keys: tuple[str, ...] = ()

    def __init__(self, params: Iterable, defaults: dict):
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: params should be an iterable of Tensors or dicts, got a single Tensor "
                f"({_describe(params)}); pass [tensor] or model.parameters()"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: params must be an ordered iterable, got a set")
        self.defaults = dict(defaults)
        self._check_group(self.defaults)
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list")
        if not isinstance(groups[0], Mapping):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- groups ------------------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Append a parameter group (a dict with ``'params'``); missing hyper-parameters
        come from ``defaults``.  A parameter may belong to one group only."""
        name = type(self).__name__
        if not isinstance(param_group, Mapping):
            raise TypeError(f"{name}.add_param_group: expected a dict, got "
                            f"{type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}.add_param_group: the group has no 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}.add_param_group: params must be an ordered iterable, got a "
                            "set")
        else:
            params = list(params)
        group_index = len(self.param_groups)
        owner = {id(p): gi for gi, g in enumerate(self.param_groups) for p in g["params"]}
        seen: dict[int, int] = {}
        for i, p in enumerate(params):
            where = f"parameter {i} of param group {group_index}"
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: {where} is a {type(p).__name__}, expected a Tensor")
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor ({where}, "
                                 f"{_describe(p)})")
            if id(p) in seen:
                raise ValueError(f"{name}: {where} ({_describe(p)}) is listed twice in its group "
                                 f"(also as parameter {seen[id(p)]})")
            if id(p) in owner:
                raise ValueError(f"{name}: {where} ({_describe(p)}) already appears in param "
                                 f"group {owner[id(p)]}; a parameter can be in one group only")
            seen[id(p)] = i
        group = dict(param_group)
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: dict) -> None:
        """Raise ``ValueError`` for invalid hyper-parameters (subclasses extend this)."""

    def _check(self, ok: bool, argument: str, value, expected: str) -> None:
        if not ok:
            raise ValueError(f"{type(self).__name__}: invalid {argument}={value!r} "
                             f"(expected {expected})")

    # -- the update --------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's gradient (``set_to_none``, the default) or zero it in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:
                        p.grad = p.grad.detach()
                    with grad_mode.no_grad():
                        p.grad.zero_()

    def step(self, closure: Callable | None = None):
        """Update every parameter that has a gradient, once.

        ``closure``, if given, is called first with gradient recording enabled (it should
        zero the gradients, compute the loss, call ``backward()`` and return the loss);
        its loss is returned.
        """
        loss = None
        if closure is not None:
            with grad_mode.enable_grad():
                loss = closure()
        with grad_mode.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    self._update(p, p.grad, self.state[p], group)
                    p._version_counter.value += 1  # changed in place, as PyTorch counts it
        return loss

    def _update(self, param: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not define _update or step")

    @staticmethod
    def _kernel(name: str, param: Tensor):
        """The backend's fused update ``name`` for where ``param`` lives."""
        return kernel(name, param._data)

    @staticmethod
    def _zeros_like(param: Tensor, fill: float = 0.0) -> Tensor:
        """A state buffer: ``param``'s shape, dtype and device, filled with ``fill``."""
        xp = get_array_module(param._data)
        return Tensor._make(xp.full_like(param._data, fill))

    @staticmethod
    def _new_step() -> Tensor:
        """A step counter as PyTorch keeps it: a 0-d float32 tensor on the CPU."""
        return Tensor._make(numpy.zeros((), dtype=numpy.float32))

    @staticmethod
    def _increment(step: Tensor) -> int:
        """Add one to a step counter in place and return the new count."""
        step._data += 1
        return int(step._data)

    # -- checkpoints -------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``.

        Parameters are numbered in group order.  As in PyTorch, the state tensors are the
        live buffers (``copy.deepcopy`` the result to keep a snapshot while training on);
        ``load_state_dict`` copies them.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if self.state.get(p):
                    state[index[id(p)]] = dict(self.state[p])
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping) -> None:
        """Load a ``state_dict()``: hyper-parameters per group and copies of the state.

        Raises ``ValueError`` (and changes nothing) when the groups or their sizes differ,
        when the state was saved by another optimizer type, or when a buffer's shape does
        not match its parameter.
        """
        name = type(self).__name__
        where = f"{name}.load_state_dict"
        if not isinstance(state_dict, Mapping) or not {"state", "param_groups"} <= set(
            state_dict
        ):
            raise ValueError(f"{where}: expected a dict with 'state' and 'param_groups'")
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{where}: the loaded state has {len(saved_groups)} parameter "
                             f"groups, this optimizer has {len(self.param_groups)}")
        by_index: dict = {}
        for gi, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{where}: loaded param group {gi} has {len(saved['params'])} "
                                 f"parameters, this optimizer's has {len(group['params'])}")
            missing = [k for k in self.defaults if k not in saved]
            if missing:
                found = sorted(k for k in saved if k != "params")
                raise ValueError(f"{where}: loaded param group {gi} lacks {missing} (it has "
                                 f"{found}); was it saved from another optimizer type?")
            by_index.update(zip(saved["params"], group["params"]))
        new_state: defaultdict = defaultdict(dict)
        for index, saved_state in state_dict["state"].items():
            if index not in by_index:
                raise ValueError(f"{where}: the loaded state has an entry for parameter "
                                 f"{index}, which is in no parameter group")
            p = by_index[index]
            unknown = sorted(set(saved_state) - set(self._state_keys))
            if unknown:
                raise ValueError(f"{where}: the state of parameter {index} holds {unknown}, "
                                 f"which {name} does not use (it keeps {list(self._state_keys)}); "
                                 "was it saved from another optimizer type?")
            new_state[p] = {
                key: self._copy_state_value(p, index, key, value)
                for key, value in saved_state.items()
            }
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new_group = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            if isinstance(new_group.get("betas"), list):
                new_group["betas"] = tuple(new_group["betas"])
            new_group["params"] = group["params"]
            self._check_group(new_group)
            new_groups.append(new_group)
        self.state = new_state
        self.param_groups = new_groups

    def _copy_state_value(self, p: Tensor, index, key: str, value):
        """A copy of one saved buffer: the step counter as float32 on the CPU, every other
        tensor cast to its parameter's dtype and device after checking its shape."""
        if value is None:
            return None
        array = value._data if isinstance(value, Tensor) else value
        if key == "step":
            if not isinstance(array, (int, float)):
                array = to_device(array, CPU)
            return Tensor._make(numpy.array(array, dtype=numpy.float32))
        if isinstance(array, (int, float)):
            raise ValueError(f"{type(self).__name__}.load_state_dict: state {key!r} of parameter "
                             f"{index} is a number, expected a tensor of shape {tuple(p.shape)}")
        if tuple(array.shape) != tuple(p.shape):
            raise ValueError(f"{type(self).__name__}.load_state_dict: state {key!r} of parameter "
                             f"{index} has shape {tuple(array.shape)}, but the parameter has "
                             f"shape {tuple(p.shape)}")
        array = to_device(array, device_of(p._data))
        return Tensor._make(array.astype(p.dtype, copy=True))

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)
