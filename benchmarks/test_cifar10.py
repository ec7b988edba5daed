"""CIFAR-10: the grid / Hyperband / BOHB study's CNN (torchvision's python batches).

Data: ``$CIFAR10_DIR/cifar-10-batches-py/`` (downloaded by torchvision when absent and possible).
"""

from harness import Budget, IntRange, Problem, SearchSpace
from harness.run.invariants import assert_sound
from harness.run.live.models import cnn

from datasets.cifar10 import Cifar10

# ----------------------------------------------------------------------------------------------
# The study's Hyperband space (hidden 254-512, filters 100-200, kernel 2-3, padding 0-1) joined
# with its grid axes (FC layers {2, 4} x conv layers {2, 3, 4} x filters {64, 128, 152} x kernel
# {2, 3}): the filter range starts at 64 so that the grid's points lie in the space.
SPACE = SearchSpace(
    params={
        "units": IntRange(254, 512),
        "filters": IntRange(64, 200),
        "kernel_size": IntRange(2, 3),
        "padding": IntRange(0, 1),
        "fc_layers": IntRange(2, 4),
        "conv_layers": IntRange(2, 4),
    },
    grid={
        "units": (256,),
        "filters": (64, 128, 152),
        "kernel_size": (2, 3),
        "padding": (1,),
        "fc_layers": (2, 4),
        "conv_layers": (2, 3, 4),
    },  # 36 points
)

# ----------------------------------------------------------------------------------------------
# Budget: 10 epochs at most, Hyperband grace 3 epochs; 36 trials so that the grid runs whole.
BUDGET = Budget(max_epochs=10, num_trials=36, max_concurrent_trials=1, cpus_per_trial=1)

PROBLEM = Problem(
    name="cifar10",
    dataset="cifar10",
    load_data=Cifar10(),
    build_model=cnn,
    space=SPACE,
    budget=BUDGET,
    n_classes=10,
    grace_epochs=3,
    reduction_factor=3,
)


def test_cifar10(tuning_case, tuning_run):
    record = tuning_run(tuning_case)
    assert_sound(record, tuning_case)
