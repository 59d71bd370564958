"""minigrad: a small, readable deep-learning framework with PyTorch's API.

The tensor core is a reverse-mode autograd engine (``minigrad.autograd``) over NumPy
arrays on the CPU and CuPy arrays on NVIDIA GPUs.  Start with ``minigrad.tensor`` and
``Tensor.backward``; every op's math is in the docstring of its ``Function`` class in
``minigrad.ops``.
"""

# Tensor first: tensor.py imports minigrad.ops at its end, and the ops import Tensor.
from minigrad.tensor import Tensor  # noqa: I001

from minigrad import autograd, cuda, random, testing
from minigrad.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from minigrad.backend import device
from minigrad.creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from minigrad.dtypes import (
    bool,
    double,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from minigrad.ops import (
    abs,
    add,
    all,
    any,
    argmax,
    argmin,
    broadcast_to,
    cat,
    chunk,
    clamp,
    clip,
    clone,
    cos,
    div,
    eq,
    erf,
    exp,
    flatten,
    ge,
    gt,
    isfinite,
    isinf,
    isnan,
    le,
    log,
    log1p,
    log_softmax,
    logsumexp,
    lt,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mul,
    ne,
    neg,
    permute,
    pow,
    relu,
    reshape,
    sigmoid,
    sign,
    sin,
    softmax,
    split,
    sqrt,
    squeeze,
    stack,
    std,
    sub,
    sum,
    tanh,
    transpose,
    unsqueeze,
    var,
    where,
)
from minigrad.random import Generator, initial_seed, manual_seed
from minigrad.serialization import load, save

concat = concatenate = cat
multiply, divide, subtract = mul, div, sub

__version__ = "0.1.0"

# Last: minigrad.nn builds on everything above (``import minigrad as torch; torch.nn.Linear``).
# minigrad.optim after it: optimizers take nn.Parameters.
from minigrad import data, nn, optim, utils  # noqa: E402
