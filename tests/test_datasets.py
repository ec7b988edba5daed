"""The real loaders on tiny files in the real formats: decoding, caching, splits, and every failure path."""

from __future__ import annotations

import pytest
import torch

from datasets._files import CACHE_ENV, CIFAR_ENV, MADS_ENV, OFFLINE_ENV, DataCorrupt, DataMissing
from datasets.cifar10 import Cifar10
from datasets.fashion import Fashion
from datasets.flowers import Flowers
from datasets.gestures import Gestures
from tests import datafiles


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(OFFLINE_ENV, "1")
    monkeypatch.setenv(MADS_ENV, str(tmp_path / "mads"))
    monkeypatch.setenv(CIFAR_ENV, str(tmp_path / "cifar"))
    return tmp_path


def test_flowers_decodes_jpegs_once_to_uint8(isolated, monkeypatch):
    datafiles.make_flowers(isolated / "mads")
    loader = Flowers(image_size=16)
    splits = loader(0)
    assert splits.x_train.dtype == torch.uint8 and splits.input_shape == (3, 16, 16) and splits.augment
    assert splits.n_classes == 5 and len(splits.y_train) + len(splits.y_valid) + len(splits.y_test) == 30
    assert len(list((isolated / "cache").glob("flowers16-*.pt"))) == 1
    monkeypatch.setattr(Flowers, "_decode", lambda self: pytest.fail("decoded again instead of using the cache"))
    again = loader(0)
    assert torch.equal(again.x_valid, splits.x_valid)
    assert not torch.equal(loader(1).y_valid, splits.y_valid) or not torch.equal(loader(1).x_valid, splits.x_valid)


def test_fashion_keeps_its_test_split(isolated):
    datafiles.make_fashion(isolated / "mads", n_train=200, n_test=50)
    splits = Fashion()(3)
    assert splits.input_shape == (1, 28, 28) and splits.x_train.dtype == torch.uint8
    assert (len(splits.y_train), len(splits.y_valid), len(splits.y_test)) == (180, 20, 50)


def test_gestures_pad_with_a_mask_channel(isolated):
    datafiles.make_gestures(isolated / "mads", per_class=3)
    splits = Gestures()(0)
    x = torch.cat([splits.x_train, splits.x_valid, splits.x_test])
    assert x.shape[1] == 4 and splits.n_classes == 20 and len(x) == 60
    mask = x[:, 3]
    assert set(mask.unique().tolist()) == {0.0, 1.0}  # padded to the longest series
    assert torch.all(x[:, :3][mask[:, None].expand(-1, 3, -1) == 0] == 0)


def test_cifar10_reads_python_batches(isolated):
    datafiles.make_cifar10(isolated / "cifar", per_batch=20)
    splits = Cifar10()(0)
    assert splits.input_shape == (3, 32, 32) and len(splits.y_test) == 20 and splits.augment
    assert len(splits.y_train) + len(splits.y_valid) == 100


@pytest.mark.parametrize(
    "loader, where, variable",
    [
        (Flowers, "flowers/flower_photos", MADS_ENV),
        (Fashion, "fashionmnist/fashionmnist.pt", MADS_ENV),
        (Gestures, "gestures/gestures-dataset", MADS_ENV),
        (Cifar10, "cifar-10-batches-py/data_batch_1", CIFAR_ENV),
    ],
)
def test_missing_data_names_the_path_and_the_variable(loader, where, variable):
    with pytest.raises(DataMissing) as err:
        loader()(0)
    assert where in str(err.value) and variable in str(err.value)


def test_a_truncated_jpeg_is_named(isolated):
    folder = datafiles.make_flowers(isolated / "mads")
    bad = folder / "roses" / "2.jpg"
    bad.write_bytes(bad.read_bytes()[:40])
    with pytest.raises(DataCorrupt, match="roses/2.jpg"):
        Flowers(image_size=16)(0)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"not a torch file at all", "not a readable Fashion-MNIST tensor file"),
        ("wrong-keys", "expected a dict with"),
        ("wrong-shape", "must be \\(N, 28, 28\\)"),
    ],
)
def test_a_bad_fashion_file_is_named(isolated, content, message):
    path = datafiles.make_fashion(isolated / "mads")
    if content == "wrong-keys":
        torch.save({"images": torch.zeros(3, 28, 28)}, path)
    elif content == "wrong-shape":
        torch.save({"traindata": torch.zeros(3, 32, 32), "trainlabels": torch.zeros(3), "testdata": torch.zeros(1, 28, 28),
                    "testlabels": torch.zeros(1)}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(DataCorrupt, match=message) as err:
        Fashion()(0)
    assert "fashionmnist.pt" in str(err.value)


def test_a_bad_gesture_file_and_a_truncated_cifar_batch_are_named(isolated):
    folder = datafiles.make_gestures(isolated / "mads", per_class=1)
    bad = sorted(folder.rglob("*.txt"))[0]
    bad.write_text("1 2 3\n4 5 6 x\n")
    with pytest.raises(DataCorrupt, match=bad.name):
        Gestures()(0)
    cifar = datafiles.make_cifar10(isolated / "cifar")
    batch = cifar / "data_batch_3"
    batch.write_bytes(batch.read_bytes()[:100])
    with pytest.raises(DataCorrupt, match="data_batch"):
        Cifar10()(0)


def test_a_corrupt_cache_file_is_named(isolated):
    datafiles.make_fashion(isolated / "mads")
    Fashion()(0)
    (cache,) = (isolated / "cache").glob("fashion-*.pt")
    cache.write_bytes(b"garbage")
    with pytest.raises(DataCorrupt, match="delete it to rebuild"):
        Fashion()(0)


def test_augmentation_is_batched_seeded_and_shape_preserving():
    from harness.run.live.training import augment

    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    a = augment(x, torch.Generator().manual_seed(0))
    b = augment(x, torch.Generator().manual_seed(0))
    assert a.shape == x.shape and torch.equal(a, b)
    # each output row is a (possibly flipped, shifted) row of the zero-padded input
    padded = torch.nn.functional.pad(x, (4, 4, 4, 4))
    row = a[0, 0, 3]
    assert any(torch.equal(row, padded[0, 0, r, c : c + 8]) or torch.equal(row, padded[0, 0, r, c : c + 8].flip(0))
               for r in range(16) for c in range(9))
