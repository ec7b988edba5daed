"""scikit-learn's digits: 1,797 real 8x8 handwritten digits that ship inside the package (offline)."""

from __future__ import annotations

from harness.data import DataSplits

from datasets.splits import split_indices

N_CLASSES = 10
VALID_FRAC = 0.2
TEST_FRAC = 0.2


def load(seed: int) -> DataSplits:
    """Digits as float32 images in [0, 1] of shape (N, 1, 8, 8), split 60/20/20 by ``seed``."""
    import torch
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    y = torch.tensor(bunch.target, dtype=torch.int64)
    train, valid, test = (torch.from_numpy(i) for i in split_indices(len(y), seed, VALID_FRAC, TEST_FRAC))
    return DataSplits(x[train], y[train], x[valid], y[valid], N_CLASSES, x[test], y[test])
