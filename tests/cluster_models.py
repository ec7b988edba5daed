"""A model for the cluster tests whose epochs take long enough to be caught mid-run.

The test MLP trains a digits epoch in about 0.1 s, less than a Ray actor takes to start on a second node: a
two-trial run could then finish on the first node before the second node's actor is up (Tune reuses the
first one), and a lost node would lose no trial in flight. ``slow_mlp`` sleeps ``SLEEP_S`` per training
batch (about 17 batches an epoch): a trial of ``n`` epochs then takes about ``n * 17 * SLEEP_S`` seconds.

A test that must lose a node while a trial runs there cannot count on timing alone (on a loaded CI machine a
trial of seed 1 once finished on the worker node before the test's kill reached it). So a trial can be held: once
its first epoch is done and reported, a trial waits while its node has a hold file (named by the node's IP, in the
folder the nodes' environment names in ``HOLDS_ENV``) that does not list the trial's process as let go, at most
``HOLD_MAX_S`` in all. The test writes the file before the session starts and lets seed 0's trial go as soon as it
shows (by the pid its results carry: a class trainable has no Tune context that names its experiment), so no trial
on that node can finish unseen, however slowly the test polls.

Not a ``test_*`` module: Ray's workers import the model builder by name.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

SLEEP_S = 0.03
HOLDS_ENV = "CLUSTER_TEST_HOLDS"
HOLD_MAX_S = 120.0


def slow_mlp(config: dict, input_shape: tuple, n_classes: int):
    from harness.run.live.models import mlp

    return _Slow(mlp(config, input_shape, n_classes))


def _module():
    import torch

    return torch.nn.Module


def _hold_file() -> Path | None:
    folder = os.environ.get(HOLDS_ENV)
    if not folder:
        return None
    import ray

    return Path(folder) / ray.util.get_node_ip_address()


def _held(hold: Path) -> bool:
    """Whether the node's hold file exists and does not let this process (the trial's actor) go."""
    try:
        let_go = hold.read_text().split()
    except FileNotFoundError:
        return False
    return str(os.getpid()) not in let_go


class _Slow(_module()):
    """Wraps a model; every forward pass in training mode sleeps SLEEP_S first, and after the first epoch (the
    first switch to evaluation) waits while its trial is held."""

    def __init__(self, inner) -> None:
        super().__init__()
        self.inner = inner
        self.evaluations = 0
        self.held_s = 0.0

    def train(self, mode: bool = True):
        self.evaluations += not mode
        return super().train(mode)

    def forward(self, x):
        if self.training:
            time.sleep(SLEEP_S)
            if self.evaluations:
                self._wait_while_held()
        return self.inner(x)

    def _wait_while_held(self) -> None:
        hold = _hold_file()
        while hold is not None and self.held_s < HOLD_MAX_S and _held(hold):
            time.sleep(0.05)
            self.held_s += 0.05
