"""The contract every registered strategy keeps, as a reusable test class (Optuna's ``pytest_samplers`` habit).

A strategy's author registers it (one module under ``strategies/`` defining ``STRATEGY``); the
``strategy`` fixture below is parametrized over the registry, so the new strategy runs these tests with
no list to edit. To hold a strategy kept elsewhere to the same contract, subclass :class:`StrategyContract`
and override the ``strategy`` fixture to return it.
"""

from __future__ import annotations

import re

import pytest

import strategies
from harness import Budget, ConfigError

from tests.conftest import TINY_SPACE, tiny_problem


class StrategyContract:
    @pytest.fixture(params=strategies.names())
    def strategy(self, request):
        return strategies.get(request.param)

    def test_its_name_is_a_pytest_id_and_it_says_what_it_does(self, strategy):
        assert re.fullmatch(r"[a-z][a-z0-9-]*", strategy.name) and strategy.summary.strip()

    def test_setup_hands_ray_tune_what_the_budget_allows(self, strategy):
        problem = tiny_problem()
        setup = strategy.setup(problem, problem.budget, seed=0)
        if strategy.grid_only:  # the grid's points, each once
            assert setup.num_samples == 1 and set(setup.param_space) == set(TINY_SPACE.grid)
        else:
            assert setup.num_samples == problem.budget.num_trials
        assert (setup.scheduler is not None) == strategy.multi_fidelity  # only early stopping brings a scheduler

    def test_its_proposals_decode_to_the_declared_parameters(self, strategy):
        problem = tiny_problem()
        setup = strategy.setup(problem, problem.budget, seed=0)
        if setup.decode is not None:
            encoded = {name: 0.5 for name in setup.param_space}
            assert set(setup.decode(encoded)) == set(problem.space.params)

    def test_what_it_cannot_run_is_refused_before_training(self, strategy):
        no_rung = Budget(max_epochs=1, num_trials=6)  # nothing below max_epochs to stop at
        few_trials = Budget(max_epochs=3, num_trials=TINY_SPACE.grid_size - 1)  # fewer trials than grid points
        for budget, refused in ((no_rung, strategy.multi_fidelity), (few_trials, strategy.grid_only)):
            problem = tiny_problem(budget=budget)
            if refused:
                with pytest.raises(ConfigError, match=f"strategy {strategy.name}"):
                    strategy.check(problem, budget)
            else:
                strategy.check(problem, budget)
