"""Replays: Ray Tune's own searchers and schedulers against a learning-curve table, on a simulated clock.

A replay problem is a :class:`harness.core.problem.ReplayProblem`: a table instead of data and a model. The runner then
uses :class:`TableTrainable`, which looks each epoch up instead of training, and runs
``Tuner.fit`` under :func:`harness.run.replay.clock.simulated_actors` (its trainable: ``harness.run.replay.trainable``). Everything the strategies do is
unchanged; only the trainable and the clock differ from a live run.

How proposals map onto the table: the replay's search space spans each recorded hyperparameter's
levels with the live parameter's kind (a log-uniform learning rate stays log-uniform between the
lowest and highest recorded rate), so every searcher samples as it does live. The trainable then
replays the nearest recorded configuration: nearest level in log space for log-uniform
parameters, nearest level for uniform and integer ones, the same value for choices. The run
record keeps the configuration replayed, so two proposals that snap to one row show as equal.
"""

from __future__ import annotations

from harness.run.backend import Backend
from harness.core.budget import Budget
from harness.core.problem import ACCURACY, BaseProblem, Objective, ReplayProblem
from harness.core.records import SIMULATED
from harness.run.replay.table import LearningCurveTable


def problem(
    table: LearningCurveTable,
    *,
    name: str,
    dataset: str,
    budget: Budget,
    n_classes: int | None,
    grid: dict[str, tuple] | None = None,
    grace_epochs: int = 1,
    reduction_factor: int = 3,
    objective: Objective = ACCURACY,
) -> ReplayProblem:
    """The replay of ``table`` as a problem; ``grid`` is grid search's grid form (recorded levels)."""
    return ReplayProblem(
        name=name,
        space=table.space(grid),
        budget=budget,
        n_classes=n_classes,
        objective=objective,
        grace_epochs=grace_epochs,
        reduction_factor=reduction_factor,
        table=table,
        dataset=dataset,
    )


def replay_of(live: BaseProblem, table: LearningCurveTable, name: str) -> ReplayProblem:
    """The replay of a live benchmark's problem: its data set, budget, grid form and schedule, against ``table``."""
    return problem(table, name=name, dataset=live.dataset, budget=live.budget, n_classes=live.n_classes,
                   objective=live.objective, grid=live.space.grid, grace_epochs=live.grace_epochs, reduction_factor=live.reduction_factor)


class ReplayBackend(Backend):
    """Recorded epochs on a simulated clock: a replay takes a fraction of a second and repeats bit for bit."""

    clock_name = SIMULATED
    ordinal_trial_ids = True  # Tune's random trial ids would make two identical replays differ
    shows_progress = False
    # None: Tune keeps every checkpoint in the (temporary) folder. With num_to_keep set, Tune snapshots the whole
    # experiment state each time a trial checkpoints, which at equal compute (150+ trials) was a third of a replay.
    checkpoints_kept = None

    @staticmethod
    def arrival_s(result: dict, t0: float) -> float:
        from harness.run.replay.clock import simulated_arrival_s  # imports Ray

        return simulated_arrival_s(result, t0)

    def __init__(self, problem, setup, seed, budget) -> None:
        super().__init__(problem, setup, seed, budget)
        from harness.run.replay.trainable import TableDecoder

        self._decode = TableDecoder(problem.table, setup.decode)

    @property
    def decode(self):
        return self._decode

    def trainable(self):
        from ray import tune

        from harness.run.replay.trainable import TableTrainable

        return tune.with_parameters(TableTrainable, table=self.problem.table, decode=self._decode, seed=self.seed)

    def clock(self):
        from harness.run.replay.clock import simulated_actors

        return simulated_actors()

    def wallclock_s(self, clock, real_s: float) -> float:
        return clock.makespan_s

    def stopper(self):
        """Tune's stopper: max_epochs per trial, and the wall-clock cap on the simulated clock."""
        if self.budget.wallclock_s is None:
            return super().stopper()
        from ray.tune.stopper import CombinedStopper, MaximumIterationStopper

        from harness.run.replay.clock import SimulatedTimeBudget

        return CombinedStopper(MaximumIterationStopper(self.budget.max_epochs), SimulatedTimeBudget(self.budget.wallclock_s))

    def provenance(self, place) -> dict:
        # A replay's simulated clock orders events exactly, whatever the number of workers.
        return {"deterministic": True, "table": _table_provenance(self.problem.table)}


def _table_provenance(table) -> dict:
    recorded = table.provenance
    return {
        "benchmark": table.benchmark,
        "fingerprint": table.fingerprint,
        "configs": table.n_configs,
        "repeats": table.n_repeats,
        "recorded_commit": recorded.get("git_commit"),
        "recorded_at": recorded.get("recorded_at"),
        "recorded_device": recorded.get("device"),
        **({"kind": table.kind} if getattr(table, "kind", None) else {}),
    }
