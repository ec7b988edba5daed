"""What a strategy is to the harness: a named factory of Ray Tune's searcher and scheduler for a problem.

The harness owns the loop and the budget; a strategy only proposes (searcher) and stops
(scheduler). It also declares what it can handle, so the harness refuses an impossible
combination at collection time, before any training. The strategies themselves live in the
top-level ``strategies/`` folder, one module each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from harness.core.errors import ConfigError

if TYPE_CHECKING:
    from harness.core.budget import Budget
    from harness.core.problem import Problem


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
            if budget.total_epochs is not None and space.grid_size * budget.max_epochs > budget.total_epochs:
                raise ConfigError(
                    f"strategy {self.name}: the grid of {problem.name} needs {space.grid_size} x {budget.max_epochs} "
                    f"epochs but the budget allows total_epochs={budget.total_epochs}"
                )
        elif budget.num_trials is None and budget.wallclock_s is None and budget.total_epochs is None:
            raise ConfigError(f"strategy {self.name}: an unlimited number of trials needs total_epochs or wallclock_s")
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
