"""Shared test set-up: hypothesis profiles and the gpu marker.

Profiles (choose with the environment variable MINIGRAD_HYPOTHESIS_PROFILE):
  ci        derandomized and bounded: the same examples every run (the default under CI=true)
  dev       random examples, a moderate number (the default elsewhere)
  thorough  many examples, for hunting bugs before a release
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

_common = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("ci", max_examples=25, derandomize=True, print_blob=True, **_common)
settings.register_profile("dev", max_examples=25, **_common)
settings.register_profile("thorough", max_examples=500, **_common)
settings.load_profile(
    os.environ.get("MINIGRAD_HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
)


def _gpu_available() -> bool:
    from minigrad.backend import cuda

    return cuda.is_available()


def pytest_collection_modifyitems(config, items):
    gpu_items = [item for item in items if item.get_closest_marker("gpu") is not None]
    if gpu_items and not _gpu_available():
        skip = pytest.mark.skip(reason="no NVIDIA GPU with CuPy on this machine")
        for item in gpu_items:
            item.add_marker(skip)
