"""Fashion-MNIST grid study: an MLP over hidden units, depth, batch size, learning rate and optimizer.

The original ran 61 grid points by hand; this grid form has 48. Its "epochs" axis is the budget's
max_epochs here: the multi-fidelity strategies decide how many each trial gets.
Data: ``$MADS_DATASETS_DIR/fashionmnist/fashionmnist.pt``.
"""

from harness import Budget, Choice, IntRange, LogUniform, Problem, SearchSpace
from harness.run.invariants import assert_sound
from harness.run.live.models import mlp

from datasets.fashion import Fashion

SPACE = SearchSpace(
    params={
        "units": Choice([64, 128, 256]),
        "fc_layers": IntRange(1, 3),
        "batch_size": Choice([32, 64]),
        "lr": LogUniform(1e-4, 1e-1),
        "optimizer": Choice(["sgd", "adam", "adamw", "rmsprop"]),
    },
    grid={
        "units": (64, 128, 256),
        "fc_layers": (1, 2),
        "batch_size": (32, 64),
        "lr": (1e-3,),
        "optimizer": ("sgd", "adam", "adamw", "rmsprop"),
    },
)

BUDGET = Budget(max_epochs=5, num_trials=48, max_concurrent_trials=1, cpus_per_trial=1)

PROBLEM = Problem(
    name="fashion_grid",
    dataset="fashion",
    load_data=Fashion(),
    build_model=mlp,
    space=SPACE,
    budget=BUDGET,
    n_classes=10,
)


def test_fashion_grid(tuning_case, tuning_run):
    record = tuning_run(tuning_case)
    assert_sound(record, tuning_case)
