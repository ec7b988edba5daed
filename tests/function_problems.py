"""Training functions of a user's own kind for the tests (not a ``test_*`` module: Ray's workers import them by name)."""

import math
import random


def rmse_curve(config, seed):
    """A made-up regression: RMSE falls towards a floor that is lowest at lr = 1e-2; the seed adds a little noise."""
    rng = random.Random(seed * 1000 + round(1e6 * config["lr"]))
    floor = 0.3 + abs(math.log10(config["lr"]) + 2)
    epoch = 0
    while True:
        epoch += 1
        value = floor + 1.0 / epoch + 0.01 * rng.random()
        yield {"val_rmse": value, "test_rmse": value + 0.02}
