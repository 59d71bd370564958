"""What the image datasets share: applying ``transform``/``target_transform``, and the repr."""

from __future__ import annotations

from typing import Any

from minigrad.data.dataset import Dataset


class VisionDataset(Dataset):
    """Base of MNIST, FashionMNIST, CIFAR10 and Digits (as torchvision's ``VisionDataset``).

    Subclasses set ``transform``, ``target_transform`` and ``train`` and call
    ``_transformed(image, target)`` at the end of ``__getitem__``; ``_repr_lines()`` adds
    their own lines to the repr.
    """

    transform = None
    target_transform = None

    def _transformed(self, image: Any, target: Any) -> tuple[Any, Any]:
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def _repr_lines(self) -> list[str]:
        return [f"Root location: {self.root}", f"Split: {'Train' if self.train else 'Test'}"]

    def __repr__(self) -> str:
        lines = [f"Number of datapoints: {len(self)}", *self._repr_lines()]
        return f"Dataset {type(self).__name__}\n" + "\n".join("    " + line for line in lines)
