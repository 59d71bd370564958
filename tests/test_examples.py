"""The examples: the README's main job must learn, repeatably, and resume exactly."""

import pytest

pytest.importorskip("sklearn")

from minigrad.examples import tensors_only, train  # noqa: E402


def test_tensors_only_example_learns():
    before, after, loss = tensors_only.train(epochs=5, quiet=True)
    assert before < 0.3  # an untrained network is near chance (10 classes)
    assert after > 0.9
    assert loss < 0.3


def test_tensors_only_example_is_repeatable():
    assert tensors_only.train(epochs=1, quiet=True) == tensors_only.train(epochs=1, quiet=True)


def test_default_demo_reaches_97_percent_on_digits():
    history = train.train(quiet=True)  # digits + CNN, the defaults
    assert history["test_accuracy"][-1] >= 0.97, history["test_accuracy"]


def test_mlp_reaches_95_percent_on_digits():
    history = train.train(model="mlp", epochs=15, quiet=True)
    assert history["test_accuracy"][-1] >= 0.95, history["test_accuracy"]


def test_lstm_learns_on_digits():
    history = train.train(model="lstm", epochs=3, quiet=True)
    assert history["loss"][-1] < history["loss"][0]


def test_resumed_training_repeats_uninterrupted_training(tmp_path):
    straight = train.train(model="mlp", epochs=3, quiet=True)
    train.train(model="mlp", epochs=2, out=str(tmp_path), quiet=True)
    resumed = train.train(model="mlp", epochs=3, resume=str(tmp_path / "checkpoint.mg"),
                          quiet=True)
    assert resumed == straight
    assert (tmp_path / "training.png").exists()
