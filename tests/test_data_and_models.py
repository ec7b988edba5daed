import pytest
import torch

from harness.run.live.models import cnn, mlp

from datasets import digits
from datasets._splits import split_indices


def test_digits_splits_are_seeded_disjoint_and_complete():
    a, b, c = digits.load(0), digits.load(0), digits.load(1)
    assert torch.equal(a.y_valid, b.y_valid) and not torch.equal(a.y_valid, c.y_valid)
    assert len(a.y_train) + len(a.y_valid) + len(a.y_test) == 1797
    assert a.input_shape == (1, 8, 8) and a.n_classes == 10
    assert a.x_train.dtype == torch.uint8 and int(a.x_train.max()) == 255  # 0..16 scaled to the uint8 range
    from harness.run.live.training import as_input

    assert float(as_input(a.x_train).max()) == 1.0
    train, valid, test = split_indices(100, 3, 0.2, 0.1)
    assert len(set(train) | set(valid) | set(test)) == 100 and (len(valid), len(test)) == (20, 10)
    with pytest.raises(ValueError, match="training part"):
        split_indices(100, 3, 0.6, 0.5)


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"conv_layers": 4, "filters": 4, "batchnorm": True, "fc_layers": 2, "units": 16},
        {"conv_layers": 2, "kernel_size": 2, "padding": 0, "dropout": 0.3},
    ],
)
def test_cnn_builds_for_the_space_and_classifies(config):
    model = cnn(config, (1, 8, 8), 10)
    assert model(torch.zeros(5, 1, 8, 8)).shape == (5, 10)
    assert mlp({"units": 8}, (1, 8, 8), 3)(torch.zeros(2, 1, 8, 8)).shape == (2, 3)


def test_cnn_refuses_a_depth_that_consumes_the_image():
    with pytest.raises(ValueError, match="shrink"):
        cnn({"conv_layers": 4, "kernel_size": 3, "padding": 0}, (1, 8, 8), 10)


def test_deep_unpadded_cnn_on_cifar_sized_input_stays_valid():
    # 4 conv layers, kernel 3, no padding on 32x32: pooling after every layer would shrink the map to nothing
    model = cnn({"conv_layers": 4, "kernel_size": 3, "padding": 0, "filters": 4}, (3, 32, 32), 10)
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    digits_model = cnn({"conv_layers": 2}, (1, 8, 8), 10)  # padded 3x3 still pools to 2x2 as before
    assert sum(isinstance(m, torch.nn.MaxPool2d) for m in digits_model) == 2
