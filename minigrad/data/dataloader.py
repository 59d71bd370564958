"""Samplers, batch collation and ``DataLoader``, with PyTorch's ``torch.utils.data`` API.

A ``DataLoader`` turns a dataset into batches: a *sampler* says which indices to read
(in order or shuffled), a ``BatchSampler`` groups them, the dataset is read at those
indices and ``collate_fn`` (``default_collate``) stacks the samples into batch tensors.

Randomness.  Shuffling draws one fresh permutation per epoch from the loader's
``generator`` (or, without one, from a seed drawn from minigrad's global generator), so
``minigrad.manual_seed(s)`` makes the whole sequence of epochs repeatable.  Random
transforms (``minigrad.data.transforms``) running inside a loader draw from a generator
seeded per batch from (epoch seed, batch number), so the batches do not depend on how many
workers there are or which worker read which batch.
"""

from __future__ import annotations

import collections
import concurrent.futures
import math
import queue
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence, Sized
from concurrent.futures import ThreadPoolExecutor

import numpy

from minigrad.backend import get_array_module
from minigrad.creation import as_tensor, tensor
from minigrad.data.dataset import IterableDataset
from minigrad.dtypes import float64
from minigrad.ops import stack
from minigrad.random import Generator, numpy_generator
from minigrad.tensor import Tensor

__all__ = [
    "BatchSampler",
    "DataLoader",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "default_collate",
    "default_convert",
    "get_worker_info",
]


# -- samplers ---------------------------------------------------------------------------
class Sampler:
    """Yields dataset indices (or, for a batch sampler, lists of them)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source: Sized):
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


def _seeded_numpy_generator(generator: Generator | None) -> numpy.random.Generator:
    """``generator``'s NumPy generator, or a new one seeded by a draw from the global one.

    Drawing a seed (rather than using the global generator directly) is what PyTorch does:
    each ``iter(sampler)`` consumes exactly one number from the global stream.
    """
    if generator is not None:
        return numpy_generator(generator)
    seed = int(numpy_generator(None).integers(0, 2**63))
    return numpy.random.Generator(numpy.random.PCG64(seed))


class RandomSampler(Sampler):
    """Indices in random order: a fresh permutation every ``iter`` (every epoch).

    Parameters
    ----------
    data_source : the dataset (only its length is used)
    replacement : draw ``num_samples`` indices with replacement instead of permuting
    num_samples : how many indices per epoch (default ``len(data_source)``); without
        replacement, more than ``len`` chains several permutations
    generator : ``minigrad.Generator`` to draw from (default: a seed drawn per epoch from
        minigrad's global generator)
    """

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 generator: Generator | None = None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(
                f"RandomSampler: replacement should be a boolean value, got {replacement!r}"
            )
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(
                "RandomSampler: num_samples should be a positive integer value, "
                f"got {self.num_samples!r}"
            )

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        rng = _seeded_numpy_generator(self.generator)
        if self.replacement:
            yield from rng.integers(0, n, size=self.num_samples).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from rng.permutation(n).tolist()
        yield from rng.permutation(n).tolist()[: self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in random order, a fresh permutation every epoch."""

    def __init__(self, indices: Sequence[int], generator: Generator | None = None):
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        rng = _seeded_numpy_generator(self.generator)
        for i in rng.permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    The last, shorter batch is kept unless ``drop_last``.
    """

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(
                f"BatchSampler: batch_size should be a positive integer value, got {batch_size!r}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(
                f"BatchSampler: drop_last should be a boolean value, got {drop_last!r}"
            )
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return math.ceil(len(self.sampler) / self.batch_size)


# -- collation --------------------------------------------------------------------------
def _is_string_array(array: numpy.ndarray) -> bool:
    return array.dtype.kind in "SaUO"


def _stack_tensors(tensors: list[Tensor]) -> Tensor:
    """``stack(tensors)``; samples that need no gradient (the usual case) skip autograd."""
    if any(t.requires_grad for t in tensors):
        return stack(tensors, 0)
    shapes = {tuple(t.shape) for t in tensors}
    devices = {t.device for t in tensors}
    if len(shapes) > 1 or len(devices) > 1:
        raise RuntimeError(
            "default_collate: stack expects each tensor to be equal size and on one device, "
            f"got shapes {sorted(shapes)} on {sorted(map(str, devices))}"
        )
    arrays = [t.detach()._data for t in tensors]
    return Tensor._make(get_array_module(arrays[0]).stack(arrays, 0))


def default_collate(batch: list):
    """Stack a list of samples into a batch, recursing through containers, as PyTorch does.

    =========================  ======================================================
    each sample is             the batch is
    =========================  ======================================================
    ``Tensor``                 ``stack(samples)`` (a new leading batch dimension)
    NumPy array / scalar       the same, as a tensor of the array's dtype
    Python ``float``           a float64 tensor of shape ``(B,)``
    Python ``int`` / ``bool``  an int64 (bool) tensor of shape ``(B,)``
    ``str`` / ``bytes``        the list of samples unchanged
    mapping                    the same mapping type, each key collated
    namedtuple                 the same namedtuple, each field collated
    tuple / list               a list (tuple) / list whose ``i``-th entry collates the
                               ``i``-th entries; all samples must have the same length
    =========================  ======================================================
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack_tensors(list(batch))
    if isinstance(elem, numpy.ndarray):
        if _is_string_array(elem):
            raise TypeError(
                "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                f"lists; found a numpy array of dtype {elem.dtype}"
            )
        return _stack_tensors([as_tensor(b) for b in batch])
    if isinstance(elem, numpy.generic) and not isinstance(elem, (numpy.str_, numpy.bytes_)):
        return as_tensor(numpy.asarray(batch))
    if isinstance(elem, float):
        return tensor(batch, dtype=float64)
    if isinstance(elem, int):  # bool too: a bool tensor, as torch.tensor([True, ...])
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:  # a mapping type whose constructor takes something else
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, Sequence):
        sizes = {len(sample) for sample in batch}
        if len(sizes) != 1:
            raise RuntimeError(
                "default_collate: each element in list of batch should be of equal size, "
                f"got sizes {[len(sample) for sample in batch]}"
            )
        transposed = [default_collate(list(samples)) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return transposed  # PyTorch returns a list here too
        try:
            return type(elem)(transposed)
        except TypeError:
            return transposed
    raise TypeError(
        "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        f"found {type(elem).__name__}"
    )


def default_convert(data):
    """Convert NumPy arrays (inside containers too) to tensors, without batching.

    The ``collate_fn`` of a ``DataLoader`` built with ``batch_size=None``.
    """
    if isinstance(data, numpy.ndarray) and not _is_string_array(data):
        return as_tensor(data)
    if isinstance(data, numpy.generic) and not isinstance(data, (numpy.str_, numpy.bytes_)):
        return as_tensor(numpy.asarray(data))
    if isinstance(data, Mapping):
        converted = {key: default_convert(value) for key, value in data.items()}
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


# -- per-batch randomness and worker info -----------------------------------------------
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a loader worker thread."""

    def __init__(self, id: int, num_workers: int, seed: int, dataset):  # noqa: A002
        self.id = id
        self.num_workers = num_workers
        self.seed = seed
        self.dataset = dataset

    def __repr__(self) -> str:
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed})"


_local = threading.local()


def get_worker_info() -> WorkerInfo | None:
    """The ``WorkerInfo`` of the calling worker thread, or ``None`` in the main thread."""
    return getattr(_local, "worker_info", None)


def sample_generator() -> numpy.random.Generator:
    """The NumPy generator random transforms draw from.

    Inside a ``DataLoader`` this is the generator of the batch being read (seeded from the
    epoch's seed and the batch number); elsewhere minigrad's global generator.
    """
    rng = getattr(_local, "batch_generator", None)
    return rng if rng is not None else numpy_generator(None)


def _batch_rng(base_seed: int, batch_number: int) -> numpy.random.Generator:
    return numpy.random.Generator(numpy.random.PCG64(numpy.random.SeedSequence(
        [base_seed, batch_number]
    )))


def _fetch(fetcher, base_seed: int, batch_number: int, item):
    """Read one batch with the batch's own generator installed for random transforms."""
    previous = getattr(_local, "batch_generator", None)
    _local.batch_generator = _batch_rng(base_seed, batch_number)
    try:
        return fetcher(item)
    except Exception as error:
        info = get_worker_info()
        if info is not None and hasattr(error, "add_note"):  # Python >= 3.11
            error.add_note(f"(raised in DataLoader worker thread {info.id})")
        raise
    finally:
        _local.batch_generator = previous


# -- DataLoader -------------------------------------------------------------------------
class DataLoader:
    """Batches from a dataset: ``for x, y in DataLoader(dataset, batch_size=64, shuffle=True)``.

    The arguments are PyTorch's: the same names, order and defaults.

    Parameters
    ----------
    dataset : a map-style ``Dataset`` (or anything with ``__getitem__``/``__len__``) or an
        ``IterableDataset``
    batch_size : samples per batch; ``None`` turns batching off (each sample is passed
        through ``collate_fn``, by default ``default_convert``)
    shuffle : a fresh random order every epoch (a ``RandomSampler``)
    sampler : the indices to read (exclusive with ``shuffle``)
    batch_sampler : yields lists of indices (exclusive with ``batch_size``, ``shuffle``,
        ``sampler`` and ``drop_last``)
    num_workers : ``0`` reads batches in the calling thread; ``> 0`` reads them ahead in
        that many background **threads** (not processes: NumPy releases the GIL in its
        heavy loops, there is nothing to pickle, and workers start instantly).  Up to
        ``prefetch_factor * num_workers`` batches are read ahead, and they are yielded in
        sampler order, so the batches are exactly those of ``num_workers=0`` for the same
        seed: random transforms from ``minigrad.data.transforms`` draw from a generator
        seeded per batch (``sample_generator()``), not from the shared global one.  (A
        dataset that itself calls ``minigrad.rand`` & co. draws from the global generator,
        which worker threads share: reproducible only with ``num_workers=0``.)  An
        exception in a worker is re-raised in the caller with its original traceback.
    collate_fn : merges a list of samples into a batch (default ``default_collate``)
    pin_memory : accepted for compatibility; ignored (batches are CPU tensors, as PyTorch)
    timeout : seconds to wait for a batch from the workers (0: no limit)
    multiprocessing_context, pin_memory_device : accepted for compatibility; ignored
    drop_last : drop the last batch if it is smaller than ``batch_size``
    generator : ``minigrad.Generator`` for shuffling and the per-epoch seed (default:
        minigrad's global generator, so ``minigrad.manual_seed`` makes runs repeatable)
    worker_init_fn : called as ``worker_init_fn(worker_id)`` in each worker thread
    prefetch_factor : batches read ahead per worker (default 2; needs ``num_workers > 0``)
    persistent_workers : keep the worker threads between epochs

    ``len(loader)`` is the number of batches: ``ceil(len(dataset) / batch_size)``, or the
    floor with ``drop_last``.
    """

    def __init__(
        self,
        dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler | Iterable | None = None,
        num_workers: int = 0,
        collate_fn=None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn=None,
        multiprocessing_context=None,
        generator: Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
    ):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(
                "DataLoader: num_workers option should be non-negative; "
                "use num_workers=0 to disable multiprocessing"
            )
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "DataLoader: prefetch_factor option could only be specified in "
                "multiprocessing; let num_workers > 0 to enable multiprocessing, otherwise "
                "set prefetch_factor to None"
            )
        if prefetch_factor is None and num_workers > 0:
            prefetch_factor = 2
        if prefetch_factor is not None and prefetch_factor < 1:
            raise ValueError(f"DataLoader: prefetch_factor should be >= 1, got {prefetch_factor}")
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        if timeout < 0:
            raise ValueError("DataLoader: timeout option should be non-negative")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.persistent_workers = persistent_workers
        self.generator = generator
        self._iterable = isinstance(dataset, IterableDataset)

        if self._iterable:
            if shuffle not in (None, False):
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified shuffle option, "
                    f"but got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified sampler option, "
                    f"but got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified batch_sampler "
                    f"option, but got batch_sampler={batch_sampler}"
                )
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler option is mutually exclusive with "
                    "batch_size, shuffle, sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError(
                "DataLoader: batch_size=None option disables auto-batching and is mutually "
                "exclusive with drop_last"
            )

        if sampler is None and not self._iterable:
            sampler = (
                RandomSampler(dataset, generator=generator) if shuffle
                else SequentialSampler(dataset)
            )
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        if collate_fn is None:
            auto_collation = batch_sampler is not None or (self._iterable and batch_size)
            collate_fn = default_collate if auto_collation else default_convert
        self.collate_fn = collate_fn
        self._executor = None  # the persistent worker threads, made on first use

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # TypeError if the stream has no length, as in PyTorch
            if self.batch_size is not None:
                return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
            return n
        return len(self._index_sampler)

    # -- reading ------------------------------------------------------------------------
    def _fetch_map(self, index):
        if self._auto_collation:
            return self.collate_fn([self.dataset[i] for i in index])
        return self.collate_fn(self.dataset[index])

    def _draw_base_seed(self) -> int:
        return int(numpy_generator(self.generator).integers(0, 2**63))

    def _batches_of_stream(self, base_seed: int) -> Iterator:
        """Read an IterableDataset batch by batch, each with its own generator installed."""
        stream = iter(self.dataset)
        number = 0
        while True:
            _local.batch_generator = _batch_rng(base_seed, number)
            try:
                if self.batch_size is None:
                    try:
                        sample = next(stream)
                    except StopIteration:
                        return
                    batch = self.collate_fn(sample)
                else:
                    samples = []
                    for sample in stream:
                        samples.append(sample)
                        if len(samples) == self.batch_size:
                            break
                    if not samples or (self.drop_last and len(samples) < self.batch_size):
                        return
                    batch = self.collate_fn(samples)
            finally:
                _local.batch_generator = None
            yield batch
            number += 1

    def __iter__(self) -> Iterator:
        base_seed = self._draw_base_seed()
        if self.num_workers == 0:
            if self._iterable:
                return self._batches_of_stream(base_seed)
            return (
                _fetch(self._fetch_map, base_seed, number, item)
                for number, item in enumerate(self._index_sampler)
            )
        if self._iterable:
            return self._prefetch_stream(base_seed)
        return self._prefetch_map(base_seed)

    # -- background workers -------------------------------------------------------------
    def _make_executor(self, base_seed: int) -> ThreadPoolExecutor:
        ids = iter(range(self.num_workers))
        lock = threading.Lock()

        def initializer():
            with lock:
                worker_id = next(ids)
            _local.worker_info = WorkerInfo(
                worker_id, self.num_workers, base_seed + worker_id, self.dataset
            )
            if self.worker_init_fn is not None:
                self.worker_init_fn(worker_id)

        return ThreadPoolExecutor(
            max_workers=self.num_workers,
            thread_name_prefix="minigrad-DataLoader-worker",
            initializer=initializer,
        )

    def _prefetch_map(self, base_seed: int) -> Iterator:
        if self.persistent_workers:
            if self._executor is None:
                self._executor = self._make_executor(base_seed)
            executor = self._executor
        else:
            executor = self._make_executor(base_seed)
        timeout = self.timeout or None
        pending = collections.deque()
        items = enumerate(self._index_sampler)
        limit = self.prefetch_factor * self.num_workers
        try:
            while True:
                while len(pending) < limit:
                    number_item = next(items, None)
                    if number_item is None:
                        break
                    number, item = number_item
                    pending.append(
                        executor.submit(_fetch, self._fetch_map, base_seed, number, item)
                    )
                if not pending:
                    return
                # result() re-raises a worker's exception with the worker's traceback.
                try:
                    batch = pending.popleft().result(timeout=timeout)
                except concurrent.futures.TimeoutError:
                    raise RuntimeError(
                        f"DataLoader: timed out after {self.timeout} seconds waiting for a batch"
                    ) from None
                yield batch
        finally:
            for future in pending:
                future.cancel()
            if executor is not self._executor:
                executor.shutdown(wait=False, cancel_futures=True)

    def _prefetch_stream(self, base_seed: int) -> Iterator:
        """A stream has one order: one background thread reads it ahead into a queue."""
        buffer = queue.Queue(maxsize=self.prefetch_factor * self.num_workers)
        stop = threading.Event()
        done = object()

        def produce():
            _local.worker_info = WorkerInfo(0, 1, base_seed, self.dataset)
            try:
                if self.worker_init_fn is not None:
                    self.worker_init_fn(0)
                for batch in self._batches_of_stream(base_seed):
                    while not stop.is_set():
                        try:
                            buffer.put((batch, None), timeout=0.1)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
                buffer.put((done, None))
            except BaseException as error:  # handed to the caller, raised there
                buffer.put((None, error))

        thread = threading.Thread(target=produce, name="minigrad-DataLoader-worker-0",
                                  daemon=True)
        thread.start()
        try:
            while True:
                batch, error = buffer.get(timeout=self.timeout or None)
                if error is not None:
                    raise error
                if batch is done:
                    return
                yield batch
        finally:
            stop.set()

    def __del__(self):
        executor = getattr(self, "_executor", None)
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

