"""A tuning problem: data set, model family, search space, metric, and the budget its benchmark gives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar

from harness.core.budget import Budget
from harness.core.errors import ConfigError
from harness.core.objective import ACCURACY, Objective
from harness.core.records import REAL, SIMULATED
from harness.core.space import SearchSpace

# What every trial reports each epoch and every strategy maximises: the problem's *score*. For a classification
# problem it is the validation accuracy itself; for a problem with its own objective, the objective's metric
# oriented so that higher is better (``Objective.score``). The records keep these names.
METRIC = "val_acc"
MODE = "max"


@dataclass(frozen=True, kw_only=True)
class BaseProblem:
    """What every problem has: a name, the data set it is about, a space, a budget and a schedule.

    ``grace_epochs`` and ``reduction_factor`` configure the multi-fidelity schedulers. ``dataset`` names the
    data set (a module of ``datasets/``) that ``--datasets`` selects by. ``max_failures`` is how often Ray Tune
    retries a trial that fails (its node lost, its worker killed, or its own error: Tune does not tell them apart),
    from its latest checkpoint or from the start; every retry is in the trial's record. It is not part of the
    fingerprint: a retry repeats the trial, it does not change what the run measures.
    """

    name: str
    space: SearchSpace
    budget: Budget
    n_classes: int | None = None  # a classification problem's classes (None: the objective is not an accuracy)
    objective: Objective = ACCURACY
    dataset: str = ""  # required: the data set it trains on (or whose table it replays), e.g. "digits"
    grace_epochs: int = 1
    reduction_factor: int = 3
    max_failures: int = 1

    is_replay: ClassVar[bool] = False
    clock: ClassVar[str] = REAL

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").isalnum():
            raise ConfigError(f"problem: name must be alphanumeric, got {self.name!r}")
        if not self.dataset:
            raise ConfigError(f"problem {self.name}: name its data set (dataset=..., e.g. a module of datasets/)")
        if self.n_classes is not None and self.n_classes < 2:
            raise ConfigError(f"problem {self.name}: needs at least 2 classes, got {self.n_classes}")
        if self.n_classes is None and self.objective.is_default:
            raise ConfigError(f"problem {self.name}: a classification problem names its classes (n_classes=...); "
                              "a problem judged on another metric declares objective=Objective(...)")
        if not 1 <= self.grace_epochs <= self.budget.max_epochs:
            raise ConfigError(
                f"problem {self.name}: grace_epochs {self.grace_epochs} must lie in 1..max_epochs "
                f"({self.budget.max_epochs})"
            )
        if self.reduction_factor < 2:
            raise ConfigError(f"problem {self.name}: reduction_factor must be >= 2, got {self.reduction_factor}")
        if self.max_failures < 0:
            raise ConfigError(f"problem {self.name}: max_failures must be >= 0 (retries of a failed trial), "
                              f"got {self.max_failures}")

    @property
    def table_fingerprint(self) -> str | None:
        """The learning-curve table a replay looks epochs up in; None for a live problem."""
        return None

    def _identity(self) -> dict:
        return {"load_data": None, "build_model": None}

    def worker_functions(self) -> dict[str, Callable]:
        """The functions Ray's workers import by name to train this problem (none for a replay)."""
        return {}

    @property
    def fingerprint(self) -> str:
        """What makes two runs of this problem comparable: name, data, model, space, budget, schedule, table.

        ``--resume`` reuses a stored run only when its record carries the same fingerprint.
        """
        import hashlib
        import json

        identity = {
            "name": self.name, "dataset": self.dataset, "n_classes": self.n_classes,
            **self._identity(),
            "space": {n: [type(p).__name__, repr(p)] for n, p in self.space.params.items()},
            "grid": {n: list(v) for n, v in self.space.grid.items()},
            "budget": self.budget.to_dict(), "grace_epochs": self.grace_epochs, "reduction_factor": self.reduction_factor,
            "table": self.table_fingerprint,
            # Only a declared objective enters the identity, so classification problems keep their fingerprints.
            **({} if self.objective.is_default else {"objective": self.objective.to_dict()}),
        }
        return hashlib.sha256(json.dumps(identity, sort_keys=True, default=repr).encode()).hexdigest()[:16]

    @property
    def chance_accuracy(self) -> float | None:
        """Accuracy by guessing; None when the objective is not a classification accuracy."""
        return 1.0 / self.n_classes if self.n_classes and self.objective.is_default else None


@dataclass(frozen=True, kw_only=True)
class Problem(BaseProblem):
    """A live problem: data and a model family, trained for real.

    ``load_data(seed)`` returns a :class:`harness.run.live.data.DataSplits` whose split depends on the seed
    alone; ``build_model(config, input_shape, n_classes)`` returns a ``torch.nn.Module``. Both must
    be importable module-level functions: Ray pickles them by reference into its workers.
    """

    load_data: Callable[[int], Any]
    build_model: Callable[[dict, tuple, int], Any]

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.n_classes is None or not self.objective.is_default:
            raise ConfigError(f"problem {self.name}: the built-in training loop is classification, judged on accuracy "
                              "(n_classes=..., no objective); for another metric, bring your own training function "
                              "(harness.FunctionProblem)")

    def _identity(self) -> dict:
        return {"load_data": _named(self.load_data), "build_model": _named(self.build_model)}

    def worker_functions(self) -> dict[str, Callable]:
        return {"load_data": self.load_data, "build_model": self.build_model}


def _named(fn) -> str:
    """A function by its import path; a loader object (a dataclass) by its fields."""
    return f"{fn.__module__}.{fn.__qualname__}" if hasattr(fn, "__qualname__") else repr(fn)


@dataclass(frozen=True, kw_only=True)
class FunctionProblem(BaseProblem):
    """A live problem with your own training function: ``train(config, seed)`` trains one configuration and yields
    one dict of metrics per epoch (``{"val_rmse": ..., "test_rmse": ...}``); the harness pulls at most ``max_epochs``
    of them, and a scheduler may stop pulling sooner. ``objective`` names the metric to select on and its direction.
    ``seed`` is the run's seed: let it decide your data split and initial weights. ``train`` must be an importable
    module-level function (Ray pickles it by reference into its workers).
    """

    train: Callable[[dict, int], Any]

    def __post_init__(self) -> None:
        super().__post_init__()
        if not callable(self.train):
            raise ConfigError(f"problem {self.name}: train must be a function train(config, seed) that yields one "
                              f"dict of metrics per epoch, got {self.train!r}")

    def _identity(self) -> dict:
        return {"train": _named(self.train)}

    def worker_functions(self) -> dict[str, Callable]:
        return {"train": self.train}


@dataclass(frozen=True, kw_only=True)
class ReplayProblem(BaseProblem):
    """A replay: a learning-curve table (``harness.run.replay.table``) whose epochs are looked up on a simulated clock."""

    table: Any  # a harness.run.replay.table.LearningCurveTable
    # A replay looks its epochs up in the driver (simulated actors): there is no node to lose, and a failure the table
    # records would only fail again. Retrying would spend simulated time the recorded run never spent.
    max_failures: int = 0

    is_replay: ClassVar[bool] = True
    clock: ClassVar[str] = SIMULATED

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.budget.max_epochs > self.table.max_epochs:
            raise ConfigError(
                f"problem {self.name}: budget max_epochs={self.budget.max_epochs} exceeds the "
                f"{self.table.max_epochs} epochs its table records"
            )

    @property
    def table_fingerprint(self) -> str:
        return self.table.fingerprint
