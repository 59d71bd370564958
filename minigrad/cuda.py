"""``minigrad.cuda``: is a GPU there, how many, wait for it, seed it (as ``torch.cuda``)."""

from minigrad.backend.cuda import device_count, is_available, synchronize


def manual_seed(seed: int) -> None:
    """Seed minigrad's generator (the same one serves every device)."""
    from minigrad.random import manual_seed as seed_all

    seed_all(seed)


manual_seed_all = manual_seed

__all__ = ["device_count", "is_available", "manual_seed", "manual_seed_all", "synchronize"]
