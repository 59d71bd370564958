"""Image transforms (``minigrad/data/transforms.py``) against NumPy references, and the
seeding of the random ones."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import minigrad
from minigrad.data import transforms as T

sides = st.integers(1, 6)


@given(st.data(), sides, sides, st.sampled_from([None, 1, 3, 4]))
def test_to_tensor_uint8_scales_to_unit_interval(data, h, w, c):
    shape = (h, w) if c is None else (h, w, c)
    image = data.draw(arrays(np.uint8, shape))
    out = T.ToTensor()(image)
    reference = (image.reshape(h, w, -1).astype(np.float64) / 255.0).transpose(2, 0, 1)
    assert out.shape == reference.shape and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), reference, rtol=1e-6, atol=1e-7)
    assert out.numpy().min() >= 0 and out.numpy().max() <= 1


def test_to_tensor_extremes_and_float_input():
    image = np.array([[[0, 255]]], dtype=np.uint8)  # (1, 1, 2)
    np.testing.assert_array_equal(T.ToTensor()(image).numpy(), [[[0.0]], [[1.0]]])
    floats = np.random.default_rng(0).normal(size=(3, 4, 2)) * 10
    out = T.ToTensor()(floats)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out.numpy(), floats.transpose(2, 0, 1))  # not rescaled
    with pytest.raises(TypeError, match="ToTensor"):
        T.ToTensor()(minigrad.zeros(2, 2))
    with pytest.raises(ValueError, match="ToTensor"):
        T.ToTensor()(np.zeros((1, 2, 3, 4)))


@given(st.data(), st.integers(1, 4), sides, sides)
def test_normalize_per_channel(data, c, h, w):
    x = data.draw(arrays(np.float64, (c, h, w), elements=st.floats(-10, 10)))
    mean = data.draw(st.lists(st.floats(-2, 2), min_size=c, max_size=c))
    std = data.draw(st.lists(st.floats(0.1, 3), min_size=c, max_size=c))
    out = T.Normalize(mean, std)(minigrad.tensor(x))
    reference = np.empty_like(x)
    for k in range(c):
        reference[k] = (x[k] - mean[k]) / std[k]
    np.testing.assert_allclose(out.numpy(), reference, rtol=1e-12, atol=1e-12)


def test_normalize_batch_and_errors():
    x = minigrad.ones(2, 3, 2, 2)
    out = T.Normalize((1.0, 0.0, 0.5), (1.0, 2.0, 0.5))(x)
    np.testing.assert_allclose(out.numpy()[:, :, 0, 0], [[0.0, 0.5, 1.0]] * 2)
    with pytest.raises(ValueError, match="2 values for an input with 3 channels"):
        T.Normalize((0.0, 0.0), (1.0, 1.0))(x)
    with pytest.raises(TypeError, match="float tensor"):
        T.Normalize((0.0,), (1.0,))(minigrad.zeros(1, 2, 2, dtype=minigrad.int64))
    with pytest.raises(ValueError, match="zero"):
        T.Normalize((0.0,), (0.0,))


@given(st.data(), st.integers(1, 3), sides, sides, st.integers(0, 2), st.integers(0, 2**32))
def test_random_crop_is_a_window_of_the_padded_image(data, c, h, w, padding, seed):
    x = np.arange(c * h * w, dtype=np.float64).reshape(c, h, w) + 1
    th = data.draw(st.integers(1, h + 2 * padding))
    tw = data.draw(st.integers(1, w + 2 * padding))
    padded = np.pad(x, ((0, 0), (padding, padding), (padding, padding)))
    minigrad.manual_seed(seed)
    out = T.RandomCrop((th, tw), padding=padding)(minigrad.tensor(x)).numpy()
    windows = [
        padded[:, i : i + th, j : j + tw]
        for i in range(padded.shape[1] - th + 1)
        for j in range(padded.shape[2] - tw + 1)
    ]
    assert out.shape == (c, th, tw)
    assert any(np.array_equal(out, window) for window in windows)
    minigrad.manual_seed(seed)
    again = T.RandomCrop((th, tw), padding=padding)(minigrad.tensor(x)).numpy()
    np.testing.assert_array_equal(out, again)


def test_random_crop_reaches_every_offset_and_modes():
    x = minigrad.tensor(np.arange(16.0).reshape(1, 4, 4))
    minigrad.manual_seed(0)
    corners = {T.RandomCrop(3)(x).numpy()[0, 0, 0] for _ in range(200)}
    assert corners == {0.0, 1.0, 4.0, 5.0}
    edge = T.RandomCrop(6, padding=1, padding_mode="edge")(x).numpy()
    np.testing.assert_array_equal(edge[0], np.pad(x.numpy()[0], 1, mode="edge"))
    filled = T.RandomCrop(6, padding=1, fill=-1)(x).numpy()
    assert filled[0, 0, 0] == -1
    grown = T.RandomCrop(5, pad_if_needed=True)(x)
    assert grown.shape == (1, 5, 5)
    with pytest.raises(ValueError, match=r"larger than the \(padded\) input image size"):
        T.RandomCrop(5)(x)


def test_random_horizontal_flip():
    x = minigrad.tensor(np.arange(6.0).reshape(1, 2, 3))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(x).numpy(), x.numpy()[..., ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(0.0)(x).numpy(), x.numpy())
    minigrad.manual_seed(1)
    flips = [T.RandomHorizontalFlip()(x).numpy()[0, 0, 0] == 2.0 for _ in range(400)]
    assert 150 < sum(flips) < 250  # p = 0.5
    minigrad.manual_seed(1)
    assert flips == [T.RandomHorizontalFlip()(x).numpy()[0, 0, 0] == 2.0 for _ in range(400)]
    with pytest.raises(ValueError, match="p should be in"):
        T.RandomHorizontalFlip(1.5)


def test_compose_and_lambda():
    image = np.full((2, 2, 3), 255, dtype=np.uint8)
    pipeline = T.Compose([
        T.ToTensor(), T.Normalize([0.5] * 3, [0.5] * 3), T.Lambda(lambda t: t * 2),
    ])
    out = pipeline(image)
    assert out.shape == (3, 2, 2)
    np.testing.assert_allclose(out.numpy(), 2.0)
    assert "Normalize" in repr(pipeline)
    with pytest.raises(TypeError, match="callable"):
        T.Lambda(3)
