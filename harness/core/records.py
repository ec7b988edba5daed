"""Run records: frozen dataclasses with units in their names, and their JSON form.

One :class:`RunRecord` per (benchmark, strategy, seed) run, holding every trial's per-epoch trace.

``val_acc``, ``best_val_acc`` and ``test_acc`` hold the problem's *score*: accuracy for a classification problem
(the built-in path); for a problem with its own objective (``harness.core.objective``), its metric oriented so that
higher is better (the negative of a minimised metric). ``RunRecord.objective`` says which; each epoch's ``metrics``
keep what a training function of your own reported, in its own names and directions.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any

from harness.core.objective import Objective

# 2 added clock and real_s; 3 added held-out test accuracy (per epoch, and of the selected configuration);
# 4 added each trial's node and retries; 5 each epoch's reported metrics (a training function of your own) and the
# objective in provenance. Older records read as real-clock runs without test accuracy, trials whose node is unknown
# (None) and that were never retried, and classification runs judged on accuracy. 6 added the searcher's decision
# seconds per trial (None before, and for searchers that are not timed).
SCHEMA_VERSION = 6
READ_VERSIONS = (1, 2, 3, 4, 5, 6)


class Clock(enum.StrEnum):
    """Whose seconds a run's times are in. A StrEnum: records store (and compare equal to) the plain string."""

    REAL = "real"
    SIMULATED = "simulated"  # a replay: recorded epoch seconds on virtual workers


class Outcome(enum.StrEnum):
    """A trial's outcome once the run is over. Every trial gets exactly one."""

    COMPLETED = "completed"  # trained for max_epochs
    STOPPED_EARLY = "stopped_early"  # a scheduler stopped it before max_epochs
    FAILED = "failed"  # raised, or produced a non-finite loss
    ABANDONED = "abandoned"  # left PAUSED by Hyperband/BOHB when its bracket never filled
    CUT_BY_WALLCLOCK = "cut_by_wallclock"  # still running or pending when wallclock_s ran out
    CUT_BY_TOTAL = "cut_by_total_epochs"  # still running or pending when the run's total_epochs were spent


REAL, SIMULATED = Clock.REAL, Clock.SIMULATED
COMPLETED, STOPPED_EARLY, FAILED, ABANDONED, CUT_BY_WALLCLOCK, CUT_BY_TOTAL = Outcome
OUTCOMES = tuple(Outcome)


@dataclass(frozen=True)
class TableRef:
    """The learning-curve table a replay looked its epochs up in, as its record's provenance names it."""

    fingerprint: str
    benchmark: str | None = None
    configs: int | None = None
    repeats: int | None = None
    recorded_commit: str | None = None
    recorded_at: str | None = None
    recorded_device: str | None = None
    kind: str | None = None  # "surrogate": curves predicted for every proposal; None: a learning-curve table


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    val_acc: float
    val_loss: float
    train_loss: float
    epoch_s: float  # time spent training and validating this epoch
    elapsed_s: float  # run clock (see RunRecord.clock) when the driver received this result
    test_acc: float | None = None  # held-out test accuracy after this epoch (never used to select)
    metrics: dict[str, float] | None = None  # what your own training function reported this epoch, as it reported it


@dataclass(frozen=True)
class TrialRecord:
    trial_id: str
    config: dict[str, Any]  # as the model saw it (decoded from the searcher's encoding)
    final_state: str  # Ray's last status: TERMINATED, ERROR, PAUSED, ...
    outcome: str  # one of OUTCOMES
    epochs: tuple[EpochRecord, ...] = ()
    error: str | None = None
    node: str | None = None  # the IP of the Ray node its last result came from (None: no result, or an older record)
    # One line per failed attempt that Ray Tune retried (problem.max_failures): the node it ran on, the epochs it
    # had reported, the error. ``epochs`` hold the attempt that counts: a retry's epochs replace the lost ones.
    retries: tuple[str, ...] = ()

    @property
    def epochs_used(self) -> int:
        return len(self.epochs)

    @property
    def best_val_acc(self) -> float | None:
        return max((e.val_acc for e in self.epochs), default=None)

    @property
    def best_epoch(self) -> EpochRecord | None:
        """The epoch of the best validation accuracy (the first, on ties): where the trial is selected."""
        return max(self.epochs, key=lambda e: e.val_acc, default=None)


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    benchmark: str
    strategy: str
    seed: int
    budget: dict[str, Any]
    started_at: str  # ISO 8601, UTC
    wallclock_s: float  # on the run's clock: real seconds, or simulated seconds for a replay
    best_val_acc: float | None
    best_config: dict[str, Any] | None
    best_trial_id: str | None
    epochs_used: int
    epochs_full: int  # epochs the same trials would use had no scheduler stopped one early
    compute_saved: float  # 1 - epochs_used / epochs_full: what early stopping saved (0 for FIFO)
    train_s: float  # sum of all epochs' epoch_s
    overhead_s_per_trial: float  # slot-seconds not spent in epochs, per trial started
    trials: tuple[TrialRecord, ...]
    provenance: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION
    clock: str = REAL  # SIMULATED for a replay: wallclock_s, elapsed_s and epoch_s are simulated seconds
    real_s: float | None = None  # real seconds the run took (differs from wallclock_s for replays)
    # Held-out test accuracy of the selected configuration (the best_val_acc trial) at the epoch it was
    # selected. Unlike best_val_acc it is not the score the search maximised, so it is not biased upward
    # by how many configurations a strategy saw. None for records older than schema 3, or without a test split.
    test_acc: float | None = None
    best_epoch: int | None = None  # the epoch of best_trial_id at which it was selected
    # Real seconds the searcher spent on each trial (proposing it, taking in its results), in the order of trials;
    # None when the searcher was not timed (Ray's variant generator: grid, random) or the record is older than
    # schema 6. Never on a replay's simulated clock (harness.run.decisions says why); a live clock holds them.
    decision_s: tuple[float, ...] | None = None

    def count(self, outcome: str) -> int:
        return sum(t.outcome == outcome for t in self.trials)

    # -- what provenance says, read in one place (the dict keeps its JSON form; these name its keys) ---------
    @property
    def objective(self) -> Objective:
        """What the run's scores are: accuracy (the default, and every record older than schema 5) or a declared metric."""
        return Objective.from_dict(self.provenance.get("objective"))

    @property
    def table(self) -> TableRef | None:
        """The table a replay looked its epochs up in; None for a live run."""
        found = self.provenance.get("table")
        return TableRef(**found) if found else None

    @property
    def table_fingerprint(self) -> str | None:
        return self.table.fingerprint if self.table else None

    @property
    def problem_fingerprint(self) -> str | None:
        """The problem's fingerprint (data, model, space, budget, schedule, table): what --resume matches."""
        return self.provenance.get("problem_fingerprint")

    @property
    def deterministic(self) -> bool | None:
        """Whether the same seed repeats this run (one trial at a time, or a replay)."""
        return self.provenance.get("deterministic")

    @property
    def table_levels(self) -> list | None:
        """A record-table sweep's recorded levels, ``[[name, kind, levels], ...]``."""
        return self.provenance.get("table_levels")

    @property
    def searcher_s(self) -> float | None:
        """The searcher's real seconds over the whole run (None: not timed)."""
        return None if self.decision_s is None else sum(self.decision_s)

    @property
    def trials_started(self) -> int:
        return len(self.trials)

    def summary(self) -> dict[str, Any]:
        """The flat figures for tables and pytest-benchmark's ``extra_info``."""
        return {
            "benchmark": self.benchmark,
            "strategy": self.strategy,
            "seed": self.seed,
            "best_val_acc": self.best_val_acc,
            "test_acc": self.test_acc,
            "wallclock_s": round(self.wallclock_s, 3),
            "clock": self.clock,
            "epochs_used": self.epochs_used,
            "epochs_full": self.epochs_full,
            "compute_saved": round(self.compute_saved, 4),
            "trials_started": self.trials_started,
            **{f"trials_{o}": self.count(o) for o in OUTCOMES},
            "overhead_s_per_trial": round(self.overhead_s_per_trial, 3),
            "best_config": self.best_config,
            "run_id": self.run_id,
        }

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        if data.get("schema_version") not in READ_VERSIONS:
            raise ValueError(f"run record schema {data.get('schema_version')!r}, expected one of {READ_VERSIONS}")
        trials = tuple(
            TrialRecord(**{**t, "epochs": tuple(EpochRecord(**e) for e in t["epochs"]), "retries": tuple(t.get("retries", ()))})
            for t in data["trials"]
        )
        decisions = data.get("decision_s")
        return cls(**{**data, "trials": trials, "decision_s": tuple(decisions) if decisions is not None else None})


def latest_per_seed(records: list["RunRecord"]) -> list["RunRecord"]:
    """The newest run of each (benchmark, strategy, seed): reruns replace older runs in tables only."""
    newest: dict[tuple, RunRecord] = {}
    for r in sorted(records, key=lambda r: r.started_at):
        newest[(r.benchmark, r.strategy, r.seed)] = r
    return list(newest.values())
