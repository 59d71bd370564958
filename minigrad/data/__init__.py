"""Loading data: datasets, samplers, ``DataLoader`` and image transforms.

PyTorch's ``torch.utils.data`` API; also importable as ``minigrad.utils.data``::

    from minigrad.data import DataLoader, TensorDataset
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
    for xb, yb in loader:
        ...
"""

from minigrad.data import datasets, transforms
from minigrad.data.dataloader import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WorkerInfo,
    default_collate,
    default_convert,
    get_worker_info,
)
from minigrad.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
