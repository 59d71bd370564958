"""``minigrad.nn``: layers, losses and containers with PyTorch's names, arguments and shapes.

A layer is a ``Module`` that owns its ``Parameter``s and calls the functional form of its
op (``minigrad.nn.functional``), whose math lives in ``minigrad/ops``.
"""

from minigrad.nn import functional, init, utils  # noqa: I001
from minigrad.nn.module import Module, ModuleDict, ModuleList, Parameter, Sequential

# Layers (each group added by the module that defines it).
from minigrad.nn.conv import Conv1d, Conv2d
from minigrad.nn.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)
from minigrad.nn.activation import (
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from minigrad.nn.linear import Flatten, Identity, Linear, Unflatten
from minigrad.nn.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from minigrad.nn.dropout import Dropout
from minigrad.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from minigrad.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from minigrad.nn.sparse import Embedding
