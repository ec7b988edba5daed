"""Fashion-MNIST: the random vs Bayes vs Hyperband vs HyperOpt study's CNN (mads-datasets).

Data: ``$MADS_DATASETS_DIR/fashionmnist/fashionmnist.pt``.
"""

from harness import Budget, Choice, IntRange, LogUniform, Problem, SearchSpace
from harness.run.invariants import assert_sound
from harness.run.live.models import cnn

from datasets.fashion import Fashion

# ----------------------------------------------------------------------------------------------
# Search space of the study: filters randint(2, 16), hidden units 128 or 64, lr logU(1e-4, 3e-3).
SPACE = SearchSpace(
    params={
        "filters": IntRange(2, 16),
        "units": Choice([64, 128]),
        "lr": LogUniform(1e-4, 3e-3),
    },
    grid={"filters": (4, 8, 16), "units": (64, 128), "lr": (1e-3,)},  # 6 points
)

# ----------------------------------------------------------------------------------------------
# Budget: 10 epochs at most, as in the study; 10 trials.
BUDGET = Budget(max_epochs=10, num_trials=10, max_concurrent_trials=1, cpus_per_trial=1)

PROBLEM = Problem(
    name="fashion",
    dataset="fashion",
    load_data=Fashion(),
    build_model=cnn,
    space=SPACE,
    budget=BUDGET,
    n_classes=10,
    grace_epochs=1,
    reduction_factor=3,
)


def test_fashion(tuning_case, tuning_run):
    record = tuning_run(tuning_case)
    assert_sound(record, tuning_case)
