"""Seeded, deterministic train/valid/test index splits shared by every data set."""

from __future__ import annotations

import numpy as np


def split_indices(n: int, seed: int, valid_frac: float, test_frac: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle ``range(n)`` with its own generator (never the global one) and cut it in three."""
    if not (0 < valid_frac < 1 and 0 <= test_frac < 1 and valid_frac + test_frac < 1):
        raise ValueError(f"split fractions must leave a training part: valid={valid_frac}, test={test_frac}")
    order = np.random.default_rng(seed).permutation(n)
    n_valid = int(round(n * valid_frac))
    n_test = int(round(n * test_frac))
    return order[n_valid + n_test :], order[:n_valid], order[n_valid : n_valid + n_test]
