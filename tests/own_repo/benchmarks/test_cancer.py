from harness import Budget, Choice, LogUniform, Problem, SearchSpace, Uniform
from harness.run.invariants import assert_sound

from mypkg.cancer import build_model, load

PROBLEM = Problem(
    name="cancer", dataset="breast_cancer", load_data=load, build_model=build_model, n_classes=2,
    space=SearchSpace(params={"lr": LogUniform(1e-3, 1e-1), "width": Choice([16, 64]),
                              "dropout": Uniform(0.0, 0.3), "batch_size": Choice([32])}),
    budget=Budget(max_epochs=5, num_trials=4),
)
STRATEGIES = ["random"]
SEEDS = 1


def test_cancer(tuning_case, tuning_run):
    assert_sound(tuning_run(tuning_case), tuning_case)
