"""minigrad's differentiable primitives, one family per module.

Each module holds the ``Function`` classes of its family (forward and backward side by
side, the math in the docstring) and the plain functions users call.  This package
re-exports the functions so that ``Tensor`` and ``minigrad`` can reach them in one place.
"""

from minigrad.ops.activation import gelu, leaky_relu, log_softmax, relu, softmax, softplus
from minigrad.ops.conv import conv1d, conv2d
from minigrad.ops.conversion import clone, copy_from, full_like_value, to_device, to_dtype
from minigrad.ops.elementwise import (
    abs,
    add,
    all,
    any,
    clamp,
    clip,
    cos,
    div,
    eq,
    erf,
    exp,
    ge,
    gt,
    isfinite,
    isinf,
    isnan,
    le,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    sigmoid,
    sign,
    sin,
    sqrt,
    sub,
    tanh,
    where,
)
from minigrad.ops.indexing import getitem, index_put
from minigrad.ops.linalg import linear, matmul
from minigrad.ops.pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from minigrad.ops.recurrent import (
    gru,
    gru_cell,
    lstm,
    lstm_cell,
    rnn_relu,
    rnn_relu_cell,
    rnn_tanh,
    rnn_tanh_cell,
)
from minigrad.ops.reduction import (
    argmax,
    argmin,
    logsumexp,
    max,
    mean,
    min,
    std,
    sum,
    var,
)
from minigrad.ops.shape import (
    broadcast_to,
    cat,
    chunk,
    expand,
    flatten,
    pad,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    sum_to,
    transpose,
    unsqueeze,
    view,
)

__all__ = [name for name in dir() if not name.startswith("_") and name not in ("activation",
           "conv", "conversion", "elementwise", "pooling", "recurrent",
           "indexing", "linalg", "reduction", "shape")]
