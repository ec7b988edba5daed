"""scikit-learn's digits: 1,797 real 8x8 handwritten digits that ship inside the package (offline)."""

from __future__ import annotations

from harness.run.live.data import DataSplits

from datasets._cache import cached
from datasets._common import split

N_CLASSES = 10
VALID_FRAC = 0.2
TEST_FRAC = 0.2


def load(seed: int) -> DataSplits:
    """Digits as uint8 images (N, 1, 8, 8) scaled to 0..255, split 60/20/20 by ``seed``."""
    from importlib.metadata import version

    data = cached("digits", {"scikit-learn": version("scikit-learn")}, _decode)
    return split(data, seed, N_CLASSES, VALID_FRAC, TEST_FRAC)


def _decode() -> dict:
    import torch
    from sklearn.datasets import load_digits

    bunch = load_digits()  # pixel values 0..16
    x = (torch.tensor(bunch.images, dtype=torch.float32) * (255.0 / 16.0)).round().to(torch.uint8).unsqueeze(1)
    return {"x": x, "y": torch.tensor(bunch.target, dtype=torch.int64)}
