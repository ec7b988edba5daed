"""MNIST-1D: every strategy tunes a Conv1d on the paper's 1-D signals (offline), where the choice matters.

Run: ``pytest benchmarks/test_mnist1d.py`` (all strategies x 3
seeds; 1-8 min a case here: about 13 min a seed of all ten with ``-n 2`` on 2 quiet cores), or replayed from the recorded table: ``pytest benchmarks -k "mnist1d and replay" --seeds 10``.
After 27 epochs, accuracy ranges from chance to over 90 % with the learning rate, BatchNorm and the
architecture, so a search that finds the good region, and early stopping that drops the rest, pay.
"""

from harness import Budget, Choice, IntRange, LogUniform, Problem, SearchSpace, Uniform
from harness.run.invariants import assert_sound
from harness.run.live.models import conv1d

from datasets import mnist1d

# ----------------------------------------------------------------------------------------------
# Search space: the Conv1d family (depth, channels, kernel, BatchNorm, dropout) and its optimiser
# (Adam's lr over three decades, weight decay, batch size). The grid form has 24 points, the trials
# every strategy gets.
SPACE = SearchSpace(
    params={
        "lr": LogUniform(1e-4, 1e-1),
        "conv_layers": IntRange(2, 3),  # stride-2 convolutions: 40 -> 10 or 5 steps
        "channels": Choice([16, 32]),
        "kernel_size": Choice([3, 5]),
        "batchnorm": Choice([False, True]),
        "dropout": Uniform(0.0, 0.3),  # before the classifier
        "weight_decay": Choice([0.0, 1e-4, 1e-3]),
        "batch_size": Choice([64, 128, 256]),
    },
    grid={
        "lr": (5e-4, 5e-3, 5e-2),
        "conv_layers": (2, 3),
        "channels": (16, 32),
        "kernel_size": (5,),
        "batchnorm": (False, True),
        "dropout": (0.0,),
        "weight_decay": (0.0,),
        "batch_size": (128,),
    },
)

# Learning-curve table (test_mnist1d_replay.py): 10 x 2 x 2 x 2 x 2 = 160 configurations, the grid's
# included, 27 epochs, each recorded 10 times independently. The learning rate gets ten levels (thirds
# of a decade) because it decides most of the accuracy; dropout, weight decay and batch size keep one
# level each, since an epoch costs about 0.19 s here at batch 128 and the 10 repeats take about 75 min.
TABLE_LEVELS = {
    "lr": (1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 1e-1),
    "conv_layers": (2, 3),
    "channels": (16, 32),
    "kernel_size": (3, 5),
    "batchnorm": (False, True),
    "dropout": (0.0,),
    "weight_decay": (0.0,),
    "batch_size": (128,),
}

# ----------------------------------------------------------------------------------------------
# Budget: equal compute. Every strategy may train 648 epochs in all (24 full trials of 27 epochs, the grid's
# 24 points), one trial at a time so that a seed repeats exactly; an early-stopping strategy (ASHA/Hyperband/BOHB
# rungs at 1, 3, 9 and 27 epochs) spends what it saves on more trials.
BUDGET = Budget(max_epochs=27, num_trials=None, total_epochs=24 * 27, max_concurrent_trials=1, cpus_per_trial=1)

PROBLEM = Problem(
    name="mnist1d",
    dataset="mnist1d",
    load_data=mnist1d.load,
    build_model=conv1d,
    space=SPACE,
    budget=BUDGET,
    n_classes=mnist1d.N_CLASSES,
    grace_epochs=1,
    reduction_factor=3,
)


def test_mnist1d(tuning_case, tuning_run):
    record = tuning_run(tuning_case)
    assert_sound(record, tuning_case)
