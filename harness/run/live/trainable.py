"""The Ray Tune trainable: one real PyTorch epoch per ``step()``, validation accuracy reported each epoch.

It is a class trainable so that pausing schedulers (Hyperband, BOHB) checkpoint and resume a
trial instead of retraining it, and so that ``reset_config`` lets Ray reuse the actor.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any, Callable

from ray import tune

from harness.run.live.training import evaluate, expand_inputs, pick_device, train_epoch

# Decoded data sets, kept per worker process so that reused actors do not load them again.
_DATA_CACHE: dict[tuple, Any] = {}


class EpochTrainable(tune.Trainable):
    """Trains ``build_model(config)`` on ``load_data(seed)``; every ``step()`` is one epoch."""

    def setup(
        self,
        config: dict,
        load_data: Callable[[int], Any] = None,
        build_model: Callable[[dict, tuple, int], Any] = None,
        decode: Callable[[dict], dict] | None = None,
        seed: int = 0,
        torch_threads: int = 1,
    ) -> None:
        import torch

        torch.set_num_threads(max(1, torch_threads))
        self._build_model, self._decode, self._seed = build_model, decode, seed
        self._device = pick_device()
        key = (getattr(load_data, "__qualname__", None) or repr(load_data), load_data.__module__, seed, str(self._device))
        if key not in _DATA_CACHE:
            _DATA_CACHE.clear()  # one data set per worker: a new one replaces the old
            _DATA_CACHE[key] = expand_inputs(load_data(seed).to(self._device))
        self._data = _DATA_CACHE[key]
        self._start(config)

    def _start(self, config: dict) -> None:
        import torch

        self._config = self._decode(config) if self._decode else dict(config)
        # The one place per trial that seeds global state: weights start the same for a given run seed,
        # so two configs of one run differ by their hyperparameters, not by their initial draw.
        torch.manual_seed(self._seed)
        self._batch_gen = torch.Generator(device="cpu").manual_seed(self._seed)
        self._model = self._build_model(self._config, self._data.input_shape, self._data.n_classes).to(self._device)
        if self._device.type == "cuda" and len(self._data.input_shape) == 3:
            self._model = self._model.to(memory_format=torch.channels_last)
        self._optimizer = make_optimizer(self._config, self._model.parameters())
        self._epoch = 0

    def step(self) -> dict:
        t0 = time.perf_counter()
        train_loss = train_epoch(
            self._model, self._optimizer, self._data.x_train, self._data.y_train,
            int(self._config.get("batch_size", 32)), self._batch_gen, augmented=self._data.augment,
        )
        if not math.isfinite(train_loss):
            raise FloatingPointError(f"training loss is {train_loss} at epoch {self._epoch + 1}")
        val_loss, val_acc = evaluate(self._model, self._data.x_valid, self._data.y_valid)
        # Held-out test accuracy is recorded every epoch but never reported as the metric: the run
        # selects on val_acc, and test_acc at the selected epoch is what it is judged on.
        test_acc = None if self._data.x_test is None else evaluate(self._model, self._data.x_test, self._data.y_test)[1]
        self._epoch += 1
        return {
            "val_acc": val_acc,
            "test_acc": test_acc,
            "val_loss": val_loss,
            "train_loss": train_loss,
            "epoch": self._epoch,
            "epoch_s": time.perf_counter() - t0,
            "device": str(self._device),
        }

    def save_checkpoint(self, checkpoint_dir: str) -> dict | None:
        import torch

        state = {
            "model": self._model.state_dict(),
            "optimizer": self._optimizer.state_dict(),
            "epoch": self._epoch,
            "batch_gen": self._batch_gen.get_state(),
        }
        torch.save(state, os.path.join(checkpoint_dir, "state.pt"))
        return None

    def load_checkpoint(self, checkpoint: str | dict) -> None:
        import torch

        state = torch.load(os.path.join(checkpoint, "state.pt"), map_location=self._device, weights_only=False)
        self._model.load_state_dict(state["model"])
        self._optimizer.load_state_dict(state["optimizer"])
        self._epoch = state["epoch"]
        self._batch_gen.set_state(state["batch_gen"])

    def reset_config(self, new_config: dict) -> bool:
        self._start(new_config)
        return True


OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")


def make_optimizer(config: dict, params):
    """The optimizer a config names (``optimizer``, default Adam) at learning rate ``lr`` and ``weight_decay``
    (default 0; AdamW keeps its own default, 0.01)."""
    import torch

    name = str(config.get("optimizer", "adam")).lower()
    lr, decay = float(config.get("lr", 1e-3)), float(config.get("weight_decay", 0.0))
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=decay if "weight_decay" in config else 0.01)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=decay)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=decay)
    raise ValueError(f"unknown optimizer {name!r}; known: {', '.join(OPTIMIZERS)}")
