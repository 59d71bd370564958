"""One seeded source of random numbers: ``manual_seed(s)`` makes every draw repeatable.

All of minigrad's random draws (``rand``, ``randn``, ``randint``, dropout masks, weight
initialisation, shuffling) come from ``default_generator`` unless a ``generator=`` is
passed.  Numbers are drawn with NumPy's PCG64 on the host, so the same seed gives the
same numbers on every device.
"""

from __future__ import annotations

import numpy


class Generator:
    """A random number generator with PyTorch's interface around NumPy's PCG64."""

    def __init__(self, device="cpu"):
        self.device = device
        self.manual_seed(numpy.random.SeedSequence().entropy % (2**63))

    def manual_seed(self, seed: int) -> Generator:
        if not isinstance(seed, (int, numpy.integer)):
            raise TypeError(f"manual_seed: expected an int seed, got {type(seed).__name__}")
        self._seed = int(seed)
        self.numpy = numpy.random.Generator(numpy.random.PCG64(self._seed))
        return self

    def initial_seed(self) -> int:
        return self._seed

    def seed(self) -> int:
        """Re-seed from fresh entropy and return the new seed."""
        self.manual_seed(numpy.random.SeedSequence().entropy % (2**63))
        return self._seed

    def get_state(self) -> dict:
        return self.numpy.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.numpy.bit_generator.state = state


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed minigrad's default generator (and CuPy's, if CuPy is loaded); returns it."""
    default_generator.manual_seed(seed)
    from minigrad.backend import cuda

    cupy = cuda.cupy_if_loaded()
    if cupy is not None and cuda.device_count() > 0:
        cupy.random.seed(int(seed) % (2**32))
    return default_generator


def initial_seed() -> int:
    return default_generator.initial_seed()


def numpy_generator(generator: Generator | None = None) -> numpy.random.Generator:
    """The NumPy generator behind ``generator`` (or behind the default one)."""
    return (generator or default_generator).numpy
