"""Shared by the optimizer tests: run an optimizer over a list of given gradients."""

import minigrad
from minigrad.nn import Parameter


def run_optimizer(make, theta, grads):
    """Steps of ``make([p])`` from ``theta`` with the gradients ``grads`` (float64).

    Returns the parameter after each step, the optimizer and the parameter.
    """
    p = Parameter(minigrad.tensor(theta, dtype=minigrad.float64))
    opt = make([p])
    out = []
    for g in grads:
        p.grad = minigrad.tensor(g, dtype=minigrad.float64)
        opt.step()
        out.append(p.detach().numpy().copy())
    return out, opt, p
