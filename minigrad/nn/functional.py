"""``minigrad.nn.functional``: the functional form of every layer and loss (PyTorch's ``F``).

Each name is the op itself, re-exported from ``minigrad/ops`` where its ``Function``
(forward, backward and math) lives.
"""

# Every import here is a re-export (the public surface of F):
# ruff: noqa: F401

from minigrad.ops.activation import gelu, leaky_relu, log_softmax, relu, softmax, softplus
from minigrad.ops.conv import conv1d, conv2d
from minigrad.ops.dropout import dropout
from minigrad.ops.elementwise import sigmoid, tanh
from minigrad.ops.embedding import embedding
from minigrad.ops.linalg import linear
from minigrad.ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from minigrad.ops.normalization import batch_norm, layer_norm
from minigrad.ops.pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from minigrad.ops.shape import pad
