"""Replays: Ray Tune's own searchers and schedulers against a learning-curve table, on a simulated clock.

A replay problem is an ordinary :class:`harness.Problem` whose ``table`` is set. The runner then
uses :class:`TableTrainable`, which looks each epoch up instead of training, and runs
``Tuner.fit`` under :func:`harness.simulation.simulated_actors`. Everything the strategies do is
unchanged; only the trainable and the clock differ from a live run.

How proposals map onto the table: the replay's search space spans each recorded hyperparameter's
levels with the live parameter's kind (a log-uniform learning rate stays log-uniform between the
lowest and highest recorded rate), so every searcher samples as it does live. The trainable then
replays the nearest recorded configuration: nearest level in log space for log-uniform
parameters, nearest level for uniform and integer ones, the same value for choices. The run
record keeps the configuration replayed, so two proposals that snap to one row show as equal.
"""

from __future__ import annotations

import math

from ray import tune

from harness.budget import Budget
from harness.errors import ConfigError
from harness.problem import Problem
from harness.table import LearningCurveTable


def problem(
    table: LearningCurveTable,
    *,
    name: str,
    budget: Budget,
    n_classes: int,
    grid: dict[str, tuple] | None = None,
    grace_epochs: int = 1,
    reduction_factor: int = 3,
    dataset: str = "",
) -> Problem:
    """The replay of ``table`` as a problem; ``grid`` is grid search's grid form (recorded levels)."""
    return Problem(
        name=name,
        load_data=None,
        build_model=None,
        space=table.space(grid),
        budget=budget,
        n_classes=n_classes,
        grace_epochs=grace_epochs,
        reduction_factor=reduction_factor,
        table=table,
        dataset=dataset,
    )


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
