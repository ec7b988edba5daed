"""Building blocks the strategies share: Ray's seeded variant generator, ASHA, TPE, and the start-up rule."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.core.strategy import Strategy, TuneSetup

if TYPE_CHECKING:
    from harness.core.budget import Budget
    from harness.core.problem import Problem

__all__ = ["Strategy", "TuneSetup", "asha", "hyperopt_tpe", "num_samples", "startup_trials", "variant_generator"]


def startup_trials(budget: "Budget") -> int:
    """Random start-up points before a model-based searcher leads: a quarter of the trial budget, at least 2."""
    return max(2, (budget.nominal_trials or 20) // 4)


def num_samples(budget: "Budget", early_stopping: bool = False) -> int:
    """Ray's ``num_samples``: the trial budget; at equal compute (``total_epochs``, no trial count) as many trials as
    the epochs could pay for (``max_epochs`` each without early stopping, at least one each with it; the run ends when
    the epochs are spent, so this only bounds the trials created up front); -1 (until the wall-clock cap) otherwise."""
    if budget.num_trials is not None:
        return budget.num_trials
    if budget.total_epochs is not None:
        return budget.total_epochs if early_stopping else -(-budget.total_epochs // budget.max_epochs)
    return -1


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
    """HyperOpt's TPE, after ``startup_trials(budget)`` random points."""
    from ray.tune.search.hyperopt import HyperOptSearch

    return HyperOptSearch(n_initial_points=startup_trials(budget), random_state_seed=seed)
