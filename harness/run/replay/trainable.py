"""The replay's trainable: each step is one recorded epoch of the nearest recorded configuration."""

from __future__ import annotations

import math

from ray import tune

from harness.core.errors import ConfigError


class TableDecoder:
    """The recorded configuration a proposal replays: the strategy's own decoding, then the nearest row (a surrogate
    snaps nothing: it predicts the configuration itself)."""

    def __init__(self, table, decode=None) -> None:
        self.table, self.decode = table, decode

    def __call__(self, config: dict) -> dict:
        return self.table.snap(self.decode(config) if self.decode else dict(config))


class TableTrainable(tune.Trainable):
    """Each ``step()`` is one recorded epoch of the nearest recorded configuration (no training).

    A run with seed ``s`` replays the table's repeat recorded with seed ``s``, an independent
    recording; a seed the table lacks is refused at collection. A curve recorded as failed fails here
    at the same epoch, as it did live.
    """

    def setup(self, config: dict, table=None, decode: TableDecoder = None, seed: int = 0) -> None:
        """``table``: a LearningCurveTable, or anything with its replay interface (a surrogate: ``repeat_for``,
        ``curves_for``, ``snap``, ``max_epochs``)."""
        self._table, self._decode = table, decode or TableDecoder(table)
        self._repeat = table.repeat_for(seed)
        self._start(config)

    def _start(self, config: dict) -> None:
        self._config = config
        self._curves = self._table.curves_for(self._decode(config), self._repeat)
        self._epoch = 0

    def step(self) -> dict:
        curves, e = self._curves, self._epoch
        if e >= self._table.max_epochs:
            raise ConfigError(f"the table records {self._table.max_epochs} epochs; epoch {e + 1} was asked for")
        acc = float(curves.val_acc[e])
        if not math.isfinite(acc):
            raise FloatingPointError(f"training loss is not finite at epoch {e + 1} (as recorded)")
        self._epoch += 1
        loss = float(curves.val_loss[e])
        test = float(curves.test_acc[e])
        return {
            "val_acc": acc,
            "test_acc": test if math.isfinite(test) else None,
            "val_loss": loss if math.isfinite(loss) else None,
            "epoch": self._epoch,
            "epoch_s": float(curves.epoch_s[e]),
            "table_row": curves.row,
        }

    def save_checkpoint(self, checkpoint_dir: str) -> dict:
        return {"epoch": self._epoch, "config": self._config}

    def load_checkpoint(self, checkpoint: dict) -> None:
        self._start(checkpoint["config"])
        self._epoch = checkpoint["epoch"]

    def reset_config(self, new_config: dict) -> bool:
        self._start(new_config)
        return True
