"""The PyTorch examples of the documents in ../shared/seeds/ run with only the imports changed.

Each model class below is the document's code, verbatim except for the imports (and, for
003, the flatten size: the document's ``64 * 6 * 6`` is wrong for 32x32 input, where two
2x2 poolings leave 8x8, so it is ``64 * 8 * 8``).  Each test builds the model, runs one
training step on random data of the right shape, then trains 50 steps on one fixed small
batch and checks that the loss stays finite and drops.

The documents' imports ``torch``, ``torch.nn``, ``torch.nn.functional`` and ``torch.optim``
become ``minigrad``, ``minigrad.nn``, ``minigrad.nn.functional`` and ``minigrad.optim``.
"""

# The documents' code is kept verbatim: super(Net, self) and unused loop variables.
# ruff: noqa: UP008, B007

from __future__ import annotations

import math

import pytest

import minigrad as torch
import minigrad.optim as optim

STEPS = 50


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """Run these tests with one BLAS thread.

    On a busy 2-core machine OpenBLAS's worker threads wait for a CPU at every small GEMM:
    test_000 took 27 s with the default threads and 3 s with one (measured while other
    test runs shared the machine).  The models' results do not depend on it.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # an optional speed-up: threadpoolctl comes with scikit-learn
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _train(net, criterion, optimizer, batch, steps=STEPS):
    """The documents' loop over a loader that yields the same fixed batch every epoch."""
    trainloader = [batch]
    losses = []
    for epoch in range(steps):  # loop over the dataset multiple times
        running_loss = 0.0
        for i, data in enumerate(trainloader, 0):
            inputs, labels = data
            optimizer.zero_grad()

            outputs = net(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()

            running_loss += loss.item()
        losses.append(running_loss / len(trainloader))
    return losses


def _evaluate(net, test_loader):
    """The documents' evaluation loop (001, 003)."""
    correct = 0
    total = 0
    with torch.no_grad():
        for data in test_loader:
            images, labels = data
            outputs = net(images)
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    return 100 * correct / total


def _check_training(net, criterion, optimizer, batch, random_batch):
    # one step on fresh random data of the right shape
    first = _train(net, criterion, optimizer, random_batch, steps=1)
    assert len(first) == 1 and math.isfinite(first[0])
    assert all(p.grad is not None for p in net.parameters())
    # then 50 steps on one fixed batch
    losses = _train(net, criterion, optimizer, batch)
    assert all(math.isfinite(v) for v in losses), losses
    head, tail = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert tail < 0.8 * head, losses
    return losses


def _batch(shape, classes=10, n=8):
    return torch.randn(n, *shape), torch.randint(0, classes, (n,))


# -- 000: the MNIST CNN (conv, dropout, max_pool2d, log_softmax, SGD with momentum) ----------
def test_000_mnist_cnn():
    import minigrad.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = self.conv1(x)
            x = nn.functional.relu(x)
            x = self.conv2(x)
            x = nn.functional.relu(x)
            x = nn.functional.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = torch.flatten(x, 1)
            x = self.fc1(x)
            x = nn.functional.relu(x)
            x = self.dropout2(x)
            x = self.fc2(x)
            output = nn.functional.log_softmax(x, dim=1)
            return output

    torch.manual_seed(0)
    net = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)

    assert net(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    _check_training(net, criterion, optimizer, _batch((1, 28, 28)), _batch((1, 28, 28)))


# -- 001: an MLP with a train and an evaluation loop ------------------------------------
def test_001_mlp_train_and_eval():
    import minigrad.nn as nn


    # 定义模型
    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.fc1 = nn.Linear(784, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = torch.flatten(x, 1)
            x = torch.relu(self.fc1(x))
            x = self.fc2(x)
            return x

    torch.manual_seed(1)
    net = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

    batch = _batch((1, 28, 28), n=16)
    _check_training(net, criterion, optimizer, batch, _batch((1, 28, 28), n=16))
    accuracy = _evaluate(net, [batch])
    assert accuracy == 100.0  # 50 steps memorise 16 samples
    assert 0 <= _evaluate(net, [_batch((1, 28, 28), n=16)]) <= 100


# -- 003: the CIFAR-10 CNN (flatten size corrected to 64 * 8 * 8) --------------------------
def test_003_cifar10_cnn():

    # 创建一个简单的卷积神经网络
    class SimpleCNN(torch.nn.Module):
        def __init__(self):
            super(SimpleCNN, self).__init__()
            self.conv1 = torch.nn.Conv2d(3, 32, 3, padding=1)
            self.conv2 = torch.nn.Conv2d(32, 64, 3, padding=1)
            self.fc1 = torch.nn.Linear(64 * 8 * 8, 128)
            self.fc2 = torch.nn.Linear(128, 10)

        def forward(self, x):
            x = torch.nn.functional.relu(self.conv1(x))
            x = torch.nn.functional.max_pool2d(x, 2, 2)
            x = torch.nn.functional.relu(self.conv2(x))
            x = torch.nn.functional.max_pool2d(x, 2, 2)
            x = x.view(-1, 64 * 8 * 8)
            x = torch.nn.functional.relu(self.fc1(x))
            x = torch.nn.functional.dropout(x, 0.5)
            x = self.fc2(x)
            return x

    torch.manual_seed(3)
    model = SimpleCNN()
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)

    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    batch = _batch((3, 32, 32))
    _check_training(model, criterion, optimizer, batch, _batch((3, 32, 32)))
    assert 0 <= _evaluate(model, [batch]) <= 100


# -- 004: the MLP of the framework comparison (F.relu) ------------------------------------
def test_004_mlp():
    import minigrad.nn as nn
    import minigrad.nn.functional as F


    # 定义一个简单的神经网络
    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.fc1 = nn.Linear(784, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = F.relu(self.fc1(x))
            x = self.fc2(x)
            return x

    torch.manual_seed(4)
    # 创建一个神经网络实例
    net = Net()

    # 定义一个损失函数和优化器
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.01)

    fixed = _batch((784,), n=16)
    random_batch = _batch((784,), n=16)
    # one step on random data, in the document's order (forward, loss, zero_grad, backward, step)
    train_loader = [random_batch]
    for i, (images, labels) in enumerate(train_loader):
        # 前向传播
        outputs = net(images)
        # 计算损失
        loss = criterion(outputs, labels)
        # 后向传播
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert math.isfinite(loss.item())

    losses = []
    train_loader = [fixed]
    for epoch in range(STEPS):
        for i, (images, labels) in enumerate(train_loader):
            outputs = net(images)
            loss = criterion(outputs, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    assert all(math.isfinite(v) for v in losses)
    assert sum(losses[-5:]) / 5 < 0.8 * sum(losses[:5]) / 5, losses
