import dataclasses

import pytest

import strategies
from harness import Budget, Choice, ConfigError, SearchSpace
from strategies import Strategy

from tests.conftest import TINY_SPACE, tiny_problem
from tests.strategy_contract import StrategyContract

MISSION = {"grid", "random", "bayes", "hyperband", "hyperopt", "bohb", "asha", "hyperopt-asha", "optuna-gp", "optuna-tpe"}


class TestEveryRegisteredStrategy(StrategyContract):
    """The contract (tests/strategy_contract.py), run over every registered strategy: registering is enough."""


def test_every_strategy_of_the_mission_is_registered():
    assert MISSION <= set(strategies.names())  # more may be registered; each then runs the contract above


def test_duplicates_are_refused_and_unknown_names_listed():
    clash = dataclasses.replace(strategies.get("asha"))
    with pytest.raises(ConfigError, match="registered twice"):
        strategies.register(clash)
    with pytest.raises(ConfigError, match="unknown strategy 'nope'.*asha"):
        strategies.get("nope")


def test_only_bayes_encodes_its_proposals():
    problem = tiny_problem()
    encoded = [n for n in strategies.names() if strategies.get(n).setup(problem, problem.budget, 0).decode is not None]
    assert encoded == ["bayes"]  # a GP over floats: choices are encoded, then decoded back


def test_bayes_refuses_a_pure_grid():
    grid_only = SearchSpace({"a": Choice([1, 2]), "b": Choice([3, 4])}, {"a": (1, 2), "b": (3, 4)})
    with pytest.raises(ConfigError, match="bayes.*only categorical"):
        strategies.get("bayes").check(tiny_problem(space=grid_only), Budget(max_epochs=3, num_trials=4))


def test_grid_refuses_more_points_than_trials_and_a_missing_grid():
    problem = tiny_problem()
    with pytest.raises(ConfigError, match="6 points but the budget allows 4"):
        strategies.get("grid").check(problem, Budget(max_epochs=3, num_trials=4))
    no_grid = tiny_problem(space=SearchSpace(dict(TINY_SPACE.params)))
    with pytest.raises(ConfigError, match="no grid form"):
        strategies.get("grid").check(no_grid, no_grid.budget)


def test_a_new_strategy_is_one_registration():
    extra = Strategy("test-only", "for this test", build=lambda p, b, s: None)
    try:
        assert strategies.register(extra) is extra and "test-only" in strategies.names()
    finally:
        strategies._REGISTRY.pop("test-only")


def test_early_stopping_needs_a_rung_below_max_epochs():
    problem = tiny_problem(grace_epochs=3)
    with pytest.raises(ConfigError, match="asha: grace_epochs=3 leaves no rung below max_epochs=3"):
        strategies.get("asha").check(problem, problem.budget)
    with pytest.raises(ConfigError, match="hyperband: max_epochs // reduction_factor = 2 // 3"):
        strategies.get("hyperband").check(tiny_problem(), Budget(max_epochs=2, num_trials=4))
    strategies.get("random").check(problem, problem.budget)  # FIFO strategies do not care
