"""Flowers: the Ray Tune study's CNN on five classes of flower photos (mads-datasets).

Data: ``$MADS_DATASETS_DIR/flowers/flower_photos/<class>/*.jpg`` (downloaded by mads-datasets when
absent and the network allows; otherwise these cases skip and say where to put it).
"""

import os

from harness import Budget, Choice, LogUniform, Problem, SearchSpace, Uniform
from harness.run.invariants import assert_sound
from harness.run.live.models import cnn

from datasets.flowers import Flowers

# The study used 224 x 224; images are decoded once at this size, the budget knob on a CPU.
IMAGE_SIZE = int(os.environ.get("FLOWERS_IMAGE_SIZE", "64"))

# ----------------------------------------------------------------------------------------------
# Search space of the study. The grid form (9 points, within the 10-trial budget) crosses depth
# with the learning rate and fixes the rest at the space's middle.
SPACE = SearchSpace(
    params={
        "conv_layers": Choice([2, 3, 4]),
        "filters": Choice([16, 32, 64]),
        "units": Choice([64, 128, 256]),
        "dropout": Uniform(0.1, 0.5),
        "lr": LogUniform(1e-4, 1e-2),
        "batch_size": Choice([16, 32]),
    },
    grid={
        "conv_layers": (2, 3, 4),
        "filters": (32,),
        "units": (128,),
        "dropout": (0.3,),
        "lr": (1e-4, 1e-3, 1e-2),
        "batch_size": (32,),
    },
)

# ----------------------------------------------------------------------------------------------
# Budget of the study: 10 trials of at most 10 epochs; ASHA grace 2 epochs, reduction factor 3.
# The study gave each trial half a GPU: with a GPU present, "auto" gives 1/concurrency of it.
BUDGET = Budget(max_epochs=10, num_trials=10, max_concurrent_trials=1, cpus_per_trial=1)

PROBLEM = Problem(
    name="flowers",
    dataset="flowers",
    load_data=Flowers(image_size=IMAGE_SIZE),
    build_model=cnn,
    space=SPACE,
    budget=BUDGET,
    n_classes=5,
    grace_epochs=2,
    reduction_factor=3,
)


def test_flowers(tuning_case, tuning_run):
    record = tuning_run(tuning_case)
    assert_sound(record, tuning_case)
