from harness import Budget, Choice, FunctionProblem, LogUniform, Objective, SearchSpace
from harness.run.invariants import assert_sound

from mypkg.regression import train

PROBLEM = FunctionProblem(
    name="diabetes", dataset="diabetes", train=train,
    objective=Objective(metric="val_rmse", mode="min", test_metric="test_rmse", unit_range=False),
    space=SearchSpace(params={"lr": LogUniform(1e-3, 1e-1), "width": Choice([8, 32])}),
    budget=Budget(max_epochs=9, num_trials=None, total_epochs=36),  # equal compute: 36 epochs a run
)
STRATEGIES = ["random", "asha"]
SEEDS = 2


def test_mine(tuning_case, tuning_run):
    assert_sound(tuning_run(tuning_case), tuning_case)  # trials ended, compute accounted, the budget kept
