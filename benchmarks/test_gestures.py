"""Gestures: the BatchNorm x learning-rate study on accelerometer series (mads-datasets).

Series are padded to the longest with a mask channel; the GRU reads them packed to their lengths.
Data: ``$MADS_DATASETS_DIR/gestures/gestures-dataset/**/<class 1..20>/*.txt``.
"""

from harness import Budget, Choice, LogUniform, Problem, SearchSpace
from harness.run.invariants import assert_sound
from harness.run.live.models import sequence

from datasets.gestures import Gestures

# ----------------------------------------------------------------------------------------------
# BatchNorm on/off as a grid axis crossed with the learning rate, 20 samples.
SPACE = SearchSpace(
    params={"batchnorm": Choice([True, False]), "lr": LogUniform(1e-4, 1e-1)},
    grid={"batchnorm": (True, False), "lr": (1e-4, 1e-3, 1e-2, 1e-1)},  # 8 points
)

BUDGET = Budget(max_epochs=10, num_trials=20, max_concurrent_trials=1, cpus_per_trial=1)

PROBLEM = Problem(
    name="gestures",
    dataset="gestures",
    load_data=Gestures(),
    build_model=sequence,
    space=SPACE,
    budget=BUDGET,
    n_classes=20,
)


def test_gestures(tuning_case, tuning_run):
    record = tuning_run(tuning_case)
    assert_sound(record, tuning_case)
