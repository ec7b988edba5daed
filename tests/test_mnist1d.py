"""MNIST-1D: the generated arrays are the paper's, split by seed with the test signals held out, and the
generator leaves the caller's global random state alone; the Conv1d and GRU families fit its shape."""

import random

import numpy as np
import pytest

from datasets import mnist1d
from harness.run.live.models import conv1d, gru


@pytest.fixture(scope="module")
def generated():
    return mnist1d.generate()


def test_the_generated_arrays_are_the_papers(generated):
    assert mnist1d.matches_paper(generated) == []
    assert generated["x"].shape == (4000, 1, 40) and generated["x_test"].shape == (1000, 1, 40)
    assert np.bincount(generated["y"].numpy()).tolist()[:3] == [398, 396, 411]


def test_a_changed_array_is_not_the_papers(generated):
    shifted = {**generated, "x": generated["x"] + 1e-3}
    assert {"x_sum", "x_weighted", "x_head"} <= {w.split(":")[0] for w in mnist1d.matches_paper(shifted)}
    relabelled = {**generated, "y_test": generated["y_test"].roll(1)}
    assert [w.split(":")[0] for w in mnist1d.matches_paper(relabelled)] == ["y_test"]


def test_generating_leaves_the_global_generators_as_they_were():
    random.seed(7)
    np.random.seed(7)
    mnist1d.generate()
    assert random.random() == random.Random(7).random()
    assert np.random.random() == np.random.RandomState(7).random_sample()


def test_splits_by_seed_keep_the_papers_test_signals(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNING_BENCH_CACHE", str(tmp_path))
    a, b = mnist1d.load(0), mnist1d.load(1)
    assert (len(a.x_train), len(a.x_valid), len(a.x_test)) == (3200, 800, 1000)
    assert bool((a.x_test == b.x_test).all()) and not bool((a.x_valid == b.x_valid).all())
    assert mnist1d.load(0).y_valid.tolist() == a.y_valid.tolist()  # the same seed, the same split


@pytest.mark.parametrize("build, config", [
    (conv1d, {"conv_layers": 3, "channels": 16, "kernel_size": 5, "batchnorm": True}),
    (conv1d, {"conv_layers": 2, "channels": 8, "kernel_size": 3}),
    (gru, {"units": 6}),
])
def test_the_signal_families_map_a_batch_to_class_scores(build, config):
    import torch

    model = build(config, (1, 40), 10)
    assert model(torch.zeros(5, 1, 40)).shape == (5, 10)
