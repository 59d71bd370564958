"""PyTorch's ``torch.utils`` namespace: ``minigrad.utils.data`` *is* ``minigrad.data``.

``import minigrad.utils.data`` and ``from minigrad.utils.data import DataLoader`` give the
very same module object and classes as ``minigrad.data``.  The alias is registered in
``sys.modules`` here rather than by a ``utils/data.py`` file, so there is one module (one
``DataLoader`` class), and pytest's doctest collection never sees a file whose module is
another one.
"""

import sys

from minigrad import data

for _name in ("", ".dataset", ".dataloader", ".transforms", ".datasets"):
    sys.modules[__name__ + ".data" + _name] = sys.modules["minigrad.data" + _name]
del _name
