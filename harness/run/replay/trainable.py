"""The replay's trainable: each step is one recorded epoch of the nearest recorded configuration."""

from __future__ import annotations

import math

from ray import tune

from harness.core.errors import ConfigError
from harness.run.replay.table import LearningCurveTable


class TableDecoder:
    """The recorded configuration a proposal replays: the strategy's own decoding, then the nearest row."""

    def __init__(self, table: LearningCurveTable, decode=None) -> None:
        self.table, self.decode = table, decode

    def __call__(self, config: dict) -> dict:
        return self.table.snap(self.decode(config) if self.decode else dict(config))


class TableTrainable(tune.Trainable):
    """Each ``step()`` is one recorded epoch of the nearest recorded configuration (no training).

    A run with seed ``s`` replays the table's repeat recorded with seed ``s``, an independent
    recording; a seed the table lacks is refused at collection. A curve recorded as failed fails here
    at the same epoch, as it did live.
    """

    def setup(self, config: dict, table: LearningCurveTable = None, decode: TableDecoder = None, seed: int = 0) -> None:
        self._table, self._decode = table, decode or TableDecoder(table)
        self._repeat = table.repeat_for(seed)
        self._start(config)

    def _start(self, config: dict) -> None:
        self._row = self._table.row(self._decode(config))
        self._epoch = 0

    def step(self) -> dict:
        r, c, e = self._repeat, self._row, self._epoch
        if e >= self._table.max_epochs:
            raise ConfigError(f"the table records {self._table.max_epochs} epochs; epoch {e + 1} was asked for")
        acc = float(self._table.val_acc[c, r, e])
        if not math.isfinite(acc):
            raise FloatingPointError(f"training loss is not finite at epoch {e + 1} (as recorded)")
        self._epoch += 1
        loss = float(self._table.val_loss[c, r, e])
        test = float(self._table.test_acc[c, r, e])
        return {
            "val_acc": acc,
            "test_acc": test if math.isfinite(test) else None,
            "val_loss": loss if math.isfinite(loss) else None,
            "epoch": self._epoch,
            "epoch_s": float(self._table.epoch_s[c, r, e]),
            "table_row": c,
        }

    def save_checkpoint(self, checkpoint_dir: str) -> dict:
        return {"epoch": self._epoch, "row": self._row}

    def load_checkpoint(self, checkpoint: dict) -> None:
        self._epoch, self._row = checkpoint["epoch"], checkpoint["row"]

    def reset_config(self, new_config: dict) -> bool:
        self._start(new_config)
        return True
