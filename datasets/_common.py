"""What the data-set loaders share: seeded splits of cached tensors into DataSplits."""

from __future__ import annotations

from harness.run.live.data import DataSplits

from datasets._splits import split_indices


def split(data: dict, seed: int, n_classes: int, valid_frac: float, test_frac: float, augment: bool = False) -> DataSplits:
    """Cut ``data`` ({"x", "y"}, optionally {"x_test", "y_test"}) into train/valid/test by ``seed``.

    A data set that ships its own test split keeps it; the rest is split train/valid.
    """
    import torch

    x, y = data["x"], data["y"]
    has_test = "x_test" in data
    train, valid, test = split_indices(len(y), seed, valid_frac, 0.0 if has_test else test_frac)
    train, valid, test = (torch.from_numpy(i) for i in (train, valid, test))
    x_test, y_test = (data["x_test"], data["y_test"]) if has_test else (x[test], y[test])
    return DataSplits(x[train], y[train], x[valid], y[valid], n_classes, x_test, y_test, augment=augment)
