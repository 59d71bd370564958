"""Real datasets: MNIST, FashionMNIST, CIFAR10 (official files, verified downloads) and Digits.

Each dataset is ``Dataset(root, train=True, transform=None, target_transform=None, ...)`` and
returns ``(image, target)`` pairs like torchvision's: MNIST images as ``(28, 28)`` uint8 NumPy
arrays, CIFAR-10 images as ``(32, 32, 3)`` uint8 (HWC), both ready for ``transforms.ToTensor()``.
``Digits`` (scikit-learn's bundled 8 x 8 digits) needs no download.
"""

from minigrad.data.datasets.cifar import CIFAR10
from minigrad.data.datasets.digits import Digits
from minigrad.data.datasets.mnist import MNIST, FashionMNIST

__all__ = ["CIFAR10", "MNIST", "Digits", "FashionMNIST"]
