"""The Ray Tune trainable for your own training function: one epoch your function yields per ``step()``.

``train(config, seed)`` is a generator (or returns an iterator) of one dict of metrics per epoch. The trainable
turns the objective's metric into the harness's score (``Objective.score``: higher is better), keeps every number
the function reported as it was, and times each epoch. A generator cannot be saved, so a pausing scheduler
(Hyperband, BOHB) that resumes a trial makes the function train its first epochs again, silently; the seconds
that costs are charged to the trial's next epoch, so the clock pays what a live run pays.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from typing import Any, Callable

from ray import tune

from harness.core.problem import Objective


def _number(value: Any) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value


class FunctionTrainable(tune.Trainable):
    def setup(self, config: dict, train: Callable = None, objective: dict | None = None,
              decode: Callable[[dict], dict] | None = None, seed: int = 0, torch_threads: int = 1) -> None:
        self._train, self._decode, self._seed = train, decode, seed
        self._objective = Objective.from_dict(objective)
        self._threads = max(1, torch_threads)
        self._start(config)

    def _start(self, config: dict) -> None:
        self._config = self._decode(config) if self._decode else dict(config)
        self._epoch, self._catch_up_s = 0, 0.0
        self._epochs = self._begin()

    def _begin(self):
        # Every configuration of a run starts from the same global random state, as on the built-in path.
        random.seed(self._seed)
        try:
            import numpy

            numpy.random.seed(self._seed % 2**32)
        except ImportError:
            pass
        try:
            import torch

            torch.manual_seed(self._seed)
            torch.set_num_threads(self._threads)
        except ImportError:
            pass
        return iter(self._train(dict(self._config), self._seed))

    def _next(self) -> dict:
        name = getattr(self._train, "__qualname__", repr(self._train))
        try:
            reported = next(self._epochs)
        except StopIteration:
            raise RuntimeError(f"{name} stopped after {self._epoch} epochs; it must yield one dict of metrics per "
                               "epoch for as many epochs as the budget's max_epochs") from None
        if not isinstance(reported, dict):
            raise TypeError(f"{name} yielded {type(reported).__name__}; yield a dict of metrics per epoch, "
                            f"e.g. {{{self._objective.metric!r}: 0.42}}")
        return reported

    def step(self) -> dict:
        t0 = time.perf_counter()
        reported = self._next()
        objective = self._objective
        value = _number(reported.get(objective.metric))
        if objective.metric not in reported:
            raise KeyError(f"the training function reported {sorted(reported)}, not the objective's metric "
                           f"{objective.metric!r}")
        if value is None or not math.isfinite(value):
            raise FloatingPointError(f"{objective.metric} is {reported.get(objective.metric)!r} at epoch {self._epoch + 1}")
        held_out = _number(reported.get(objective.test_metric)) if objective.test_metric else None
        self._epoch += 1
        epoch_s = time.perf_counter() - t0 + self._catch_up_s
        self._catch_up_s = 0.0
        # finite numbers only: a record is strict JSON, and one NaN would make the run unsavable
        numbers = {str(k): v for k, v in ((k, _number(v)) for k, v in reported.items()) if v is not None and math.isfinite(v)}
        return {
            "val_acc": objective.score(value),  # the score every searcher and scheduler maximises
            "test_acc": objective.score(held_out) if held_out is not None and math.isfinite(held_out) else None,
            "val_loss": numbers.get("val_loss"),
            "train_loss": numbers.get("train_loss"),
            "metrics": numbers,  # what the function reported, in its own names and directions
            "epoch": self._epoch,
            "epoch_s": epoch_s,
        }

    def save_checkpoint(self, checkpoint_dir: str) -> dict | None:
        with open(os.path.join(checkpoint_dir, "epoch.json"), "w") as f:
            json.dump({"epoch": self._epoch}, f)
        return None

    def load_checkpoint(self, checkpoint: str | dict) -> None:
        with open(os.path.join(checkpoint, "epoch.json")) as f:
            epoch = json.load(f)["epoch"]
        t0 = time.perf_counter()
        self._epochs, self._epoch = self._begin(), 0
        for _ in range(epoch):  # no state to restore: train the same epochs again (same seed, same result)
            self._next()
            self._epoch += 1
        self._catch_up_s = time.perf_counter() - t0

    def reset_config(self, new_config: dict) -> bool:
        self._start(new_config)
        return True
