"""A model for the cluster tests whose epochs take long enough to be caught mid-run.

The test MLP trains a digits epoch in about 0.1 s, less than a Ray actor takes to start on a second node: a
two-trial run could then finish on the first node before the second node's actor is up (Tune reuses the
first one), and a lost node would lose no trial in flight. ``slow_mlp`` sleeps ``SLEEP_S`` per training
batch (about 17 batches an epoch): a trial of ``n`` epochs then takes about ``n * 17 * SLEEP_S`` seconds.

Not a ``test_*`` module: Ray's workers import the model builder by name.
"""

from __future__ import annotations

import time

SLEEP_S = 0.03


def slow_mlp(config: dict, input_shape: tuple, n_classes: int):
    from harness.run.live.models import mlp

    return _Slow(mlp(config, input_shape, n_classes))


def _module():
    import torch

    return torch.nn.Module


class _Slow(_module()):
    """Wraps a model; every forward pass in training mode sleeps SLEEP_S first."""

    def __init__(self, inner) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x):
        if self.training:
            time.sleep(SLEEP_S)
        return self.inner(x)
