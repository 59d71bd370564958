"""``minigrad.optim``: optimizers with PyTorch's update rules, state and defaults.

Each optimizer's docstring shows its update in the documents' notation and says where the
documents' formula differs from the published algorithm implemented here.  The array math
of each update is one fused in-place primitive in ``minigrad/backend/cpu.py`` (and its CUDA
twin), reached through ``minigrad.backend.kernel``.  ``lr_scheduler`` changes the ``'lr'``
of an optimizer's ``param_groups`` over the epochs.
"""

from minigrad.optim import lr_scheduler
from minigrad.optim.adagrad import Adagrad
from minigrad.optim.adam import Adam, AdamW
from minigrad.optim.optimizer import Optimizer
from minigrad.optim.rmsprop import RMSprop
from minigrad.optim.sgd import SGD

__all__ = ["Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "SGD", "lr_scheduler"]
