"""What a strategy is: a named factory that builds Ray Tune's searcher and scheduler for a problem.

The harness owns the loop and the budget; a strategy only proposes (searcher) and stops
(scheduler). It also declares what it can handle, so the harness refuses an impossible
combination at collection time, before any training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from harness.errors import ConfigError

if TYPE_CHECKING:
    from harness.budget import Budget
    from harness.problem import Problem


@dataclass(frozen=True)
class TuneSetup:
    """Everything a strategy hands the runner for ``tune.Tuner``.

    ``decode`` maps the configs the searcher proposes back to the problem's declared values
    (``None`` when they already are).
    """

    param_space: dict[str, Any]
    search_alg: Any
    scheduler: Any
    num_samples: int
    decode: Callable[[dict], dict] | None = None


@dataclass(frozen=True)
class Strategy:
    """A registered strategy. ``name`` is its pytest id."""

    name: str
    summary: str
    build: Callable[["Problem", "Budget", int], TuneSetup]
    multi_fidelity: bool = False  # stops trials early, so it should save compute
    grid_only: bool = False  # searches the grid form, not the space
    needs_continuous: bool = False  # a GP over floats: nothing to model on a pure grid
    first_rung: str = "reduction"  # multi-fidelity: "grace" (ASHA) or "reduction" (max_epochs / rf, Hyperband)

    def check(self, problem: "Problem", budget: "Budget") -> None:
        """Raise ConfigError when this strategy cannot run ``problem`` under ``budget``."""
        space = problem.space
        if self.grid_only:
            if not space.grid:
                raise ConfigError(f"strategy {self.name}: problem {problem.name} declares no grid form")
            if budget.num_trials is not None and space.grid_size > budget.num_trials:
                raise ConfigError(
                    f"strategy {self.name}: the grid of {problem.name} has {space.grid_size} points "
                    f"but the budget allows {budget.num_trials} trials"
                )
        elif budget.num_trials is None and not self.multi_fidelity and budget.wallclock_s is None:
            raise ConfigError(f"strategy {self.name}: an unlimited number of trials needs wallclock_s")
        if self.multi_fidelity:
            rung = problem.grace_epochs if self.first_rung == "grace" else budget.max_epochs // problem.reduction_factor
            if not 1 <= rung < budget.max_epochs:
                what = f"grace_epochs={problem.grace_epochs}" if self.first_rung == "grace" else (
                    f"max_epochs // reduction_factor = {budget.max_epochs} // {problem.reduction_factor}")
                raise ConfigError(
                    f"strategy {self.name}: {what} leaves no rung below max_epochs={budget.max_epochs} "
                    f"for {problem.name}: no trial could be stopped early"
                )
        if self.needs_continuous and space.is_pure_grid:
            raise ConfigError(
                f"strategy {self.name}: the space of {problem.name} has only categorical choices; "
                "a Gaussian process over floats has nothing to model (use grid, random or optuna-tpe)"
            )

    def setup(self, problem: "Problem", budget: "Budget", seed: int) -> TuneSetup:
        self.check(problem, budget)
        return self.build(problem, budget, seed)


def num_samples(budget: "Budget") -> int:
    """Ray's ``num_samples``: the trial budget, or -1 (until the wall-clock cap) when it has none."""
    return budget.num_trials if budget.num_trials is not None else -1


def variant_generator(seed: int):
    """Ray's own random/grid sampling, seeded: the searcher of grid, random, Hyperband and ASHA.

    It creates every trial up front (PENDING), which synchronous Hyperband needs to fill its
    brackets; the runner's ``tuning_slot`` resource, not this generator, caps how many run at once.
    """
    from ray.tune.search import BasicVariantGenerator

    return BasicVariantGenerator(random_state=seed)


def asha(problem: "Problem", budget: "Budget"):
    """ASHA as in Li et al. (2020): asynchronous successive halving over epochs."""
    from ray.tune.schedulers import ASHAScheduler

    return ASHAScheduler(
        time_attr="training_iteration",
        max_t=budget.max_epochs,
        grace_period=problem.grace_epochs,
        reduction_factor=problem.reduction_factor,
    )


def hyperopt_tpe(problem: "Problem", budget: "Budget", seed: int):
    """HyperOpt's TPE, with a quarter of the trial budget (at least 2) as random start-up points."""
    from ray.tune.search.hyperopt import HyperOptSearch

    n_initial = max(2, (budget.num_trials or 20) // 4)
    return HyperOptSearch(n_initial_points=n_initial, random_state_seed=seed)
