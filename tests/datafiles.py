"""Tiny data sets in the real on-disk formats, so the real loading code runs offline."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

FLOWER_CLASSES = ("daisy", "dandelion", "roses", "sunflowers", "tulips")


def make_flowers(mads_root: Path, per_class: int = 6, seed: int = 0) -> Path:
    """``flowers/flower_photos/<class>/*.jpg``: small JPEGs of varied sizes, one colour cast per class."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    folder = mads_root / "flowers" / "flower_photos"
    for c, name in enumerate(FLOWER_CLASSES):
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            h, w = rng.integers(20, 40, size=2)
            img = rng.integers(0, 80, size=(h, w, 3), dtype=np.uint8)
            img[..., c % 3] += np.uint8(120 + 30 * (c // 3))  # a learnable class signal
            Image.fromarray(img).save(folder / name / f"{i}.jpg", quality=90)
    return folder


def make_fashion(mads_root: Path, n_train: int = 200, n_test: int = 50, seed: int = 0) -> Path:
    """``fashionmnist/fashionmnist.pt``: the dict mads-datasets loads, uint8 images with a class signal."""
    import torch

    rng = np.random.default_rng(seed)

    def part(n):
        y = rng.integers(0, 10, size=n)
        x = rng.integers(0, 60, size=(n, 28, 28)).astype(np.uint8)
        for i, label in enumerate(y):
            x[i, 2 * label : 2 * label + 6, :] = 220
        return torch.from_numpy(x), torch.from_numpy(y)

    path = mads_root / "fashionmnist" / "fashionmnist.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    (xt, yt), (xs, ys) = part(n_train), part(n_test)
    torch.save({"traindata": xt, "trainlabels": yt, "testdata": xs, "testlabels": ys}, path)
    return path


def make_gestures(mads_root: Path, per_class: int = 4, classes: int = 20, seed: int = 0) -> Path:
    """``gestures/gestures-dataset/<subject>/<class 1..20>/*.txt``: 6+ numeric columns, varied lengths."""
    rng = np.random.default_rng(seed)
    folder = mads_root / "gestures" / "gestures-dataset"
    for c in range(1, classes + 1):
        for i in range(per_class):
            d = folder / f"subject{i % 2}" / str(c)
            d.mkdir(parents=True, exist_ok=True)
            steps = int(rng.integers(10, 30))
            t = np.arange(steps)[:, None]
            xyz = np.sin(t * (0.2 + 0.1 * c) + np.arange(3)) + 0.05 * rng.standard_normal((steps, 3))
            stamps = np.column_stack([t, t, t]).astype(float)  # the 3 leading columns mads drops
            np.savetxt(d / f"g{i}.txt", np.column_stack([stamps, xyz]), fmt="%.5f")
    return folder


def make_cifar10(root: Path, per_batch: int = 20, seed: int = 0) -> Path:
    """``cifar-10-batches-py/``: python pickles of {"data": (N, 3072) uint8, "labels": [...]}.

    The published batches are Python 2 pickles whose keys torchvision reads (latin1) as these str keys.
    """
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = rng.integers(0, 10, size=per_batch)
        data = rng.integers(0, 80, size=(per_batch, 3, 32, 32)).astype(np.uint8)
        for i, label in enumerate(labels):
            data[i, label % 3, 3 * label : 3 * label + 4, :] = 230
        with open(folder / name, "wb") as fh:
            pickle.dump({"data": data.reshape(per_batch, -1), "labels": labels.tolist(), "batch_label": name}, fh)
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({"label_names": [f"c{i}" for i in range(10)]}, fh)
    return folder
