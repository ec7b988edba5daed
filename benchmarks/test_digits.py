"""Digits: every strategy tunes a small CNN on scikit-learn's 8x8 handwritten digits (offline).

Run: ``pytest benchmarks -k digits`` (all strategies x 3 seeds), ``-k "digits and asha"``, or
``--seeds 5 --budget num_trials=20``. Measured here: 2 cores, no GPU; see the README for figures.
"""

from harness import Budget, Choice, IntRange, LogUniform, Problem, SearchSpace, Uniform
from harness.run.invariants import assert_sound
from harness.run.live.models import cnn

from datasets import digits

# ----------------------------------------------------------------------------------------------
# Search space: in the spirit of the seed studies (learning rate, filters, hidden units, dropout,
# batch size, depth). The grid form has 12 points, the same number of trials every strategy gets.
SPACE = SearchSpace(
    params={
        "lr": LogUniform(1e-4, 1e-1),  # Adam learning rate
        "filters": Choice([8, 16, 32]),  # filters of the first conv layer, doubled per layer
        "conv_layers": IntRange(1, 2),
        "units": Choice([32, 64, 128]),  # hidden units of the fully-connected layer
        "dropout": Uniform(0.0, 0.5),
        "batch_size": Choice([32, 64, 128]),
    },
    grid={
        "lr": (3e-4, 3e-3, 3e-2),
        "filters": (8, 32),
        "conv_layers": (2,),
        "units": (32, 128),
        "dropout": (0.25,),
        "batch_size": (32,),
    },
)

# Learning-curve table: the levels `python -m harness record-table` trains for the replay benchmark
# (test_digits_replay.py), 7 x 2 x 2 x 2 x 2 x 2 = 224 configurations including every grid value, each
# recorded 20 times independently. Dropout keeps two levels (0 and the grid's 0.25): an epoch costs about
# 0.16 s here, and a third level would make the 20 repeats take 2 hours instead of 80 minutes.
TABLE_LEVELS = {
    "lr": (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1),  # half decades
    "filters": (8, 32),
    "conv_layers": (1, 2),
    "units": (32, 128),
    "dropout": (0.0, 0.25),
    "batch_size": (32, 128),
}

# ----------------------------------------------------------------------------------------------
# Budget: what every strategy gets. 12 trials of at most 9 epochs (~0.04 s an epoch on one core),
# one trial at a time so that a seed repeats exactly; ASHA/Hyperband/BOHB rungs at 1, 3, 9 epochs.
BUDGET = Budget(max_epochs=9, num_trials=12, max_concurrent_trials=1, cpus_per_trial=1)

PROBLEM = Problem(
    name="digits",
    dataset="digits",
    load_data=digits.load,
    build_model=cnn,
    space=SPACE,
    budget=BUDGET,
    n_classes=digits.N_CLASSES,
    grace_epochs=1,
    reduction_factor=3,
)


def test_digits(tuning_case, tuning_run):
    record = tuning_run(tuning_case)
    assert_sound(record, tuning_case)
