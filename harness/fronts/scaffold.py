"""``python -m harness new NAME``: a starting benchmark for your own problem, in the folder you run it from.

It writes ``NAME/__init__.py``, ``NAME/train.py`` (a training function to fill in: it trains one configuration and
yields a dict of metrics per epoch) and ``benchmarks/test_NAME.py`` (the problem: the function, its objective, a
search space and a budget). What it writes runs as it is (a made-up curve), so ``pytest benchmarks -k NAME`` works
before a line is changed; replace the curve with your training. It never overwrites a file.
"""

from __future__ import annotations

from pathlib import Path

from harness.core.errors import ConfigError

TRAIN = '''"""{name}: your training function. Ray's workers import it by name from this package."""

import math
import random


def train(config, seed):
    """Trains one configuration; yields a dict of metrics after every epoch.

    Replace the made-up curve below with your data (split by ``seed``), your model and your training loop; keep
    yielding the objective's metric (and, if you have one, the held-out metric) once per epoch. The harness stops
    pulling at the budget's max_epochs, or sooner when a scheduler stops the trial.
    """
    rng = random.Random(seed)
    best = 0.3 + 2.0 * abs(math.log10(config["lr"]) + 2.0)  # made up: best near lr = 1e-2
    epoch = 0
    while True:
        epoch += 1
        loss = best + 1.0 / epoch + 0.02 * rng.random()
        yield {{"val_loss": loss, "test_loss": loss + 0.01 * rng.random()}}
'''

BENCHMARK = '''from harness import Budget, Choice, FunctionProblem, LogUniform, Objective, SearchSpace
from harness.run.invariants import assert_sound

from {name}.train import train

PROBLEM = FunctionProblem(
    name="{name}", dataset="{name}", train=train,
    objective=Objective(metric="val_loss", mode="min", test_metric="test_loss", unit_range=False),
    space=SearchSpace(params={{"lr": LogUniform(1e-4, 1e-1), "width": Choice([32, 64])}}),
    budget=Budget(max_epochs=9, num_trials=None, total_epochs=9 * 8),  # equal compute: 8 full trials' epochs a run
)
STRATEGIES = ["random", "asha", "hyperopt"]  # default: every registered strategy
SEEDS = 8  # the verdict tests its claims in one Holm family: with 3 strategies, about 8 seeds can reach significance


def test_{name}(tuning_case, tuning_run):
    assert_sound(tuning_run(tuning_case), tuning_case)  # trials ended, compute accounted, the budget kept
'''


def new(name: str, where: str | Path = ".") -> list[Path]:
    """Write the starting files for problem ``name`` under ``where``; returns them. Refuses to overwrite."""
    if not name.isidentifier() or not name.islower() or name.startswith("test"):
        raise ConfigError(f"new: {name!r} must be a lower-case Python name (it names a package), not starting with test")
    import importlib.util
    import sys

    root = Path(where)
    files = {root / name / "__init__.py": "", root / name / "train.py": TRAIN.format(name=name),
             root / "benchmarks" / f"test_{name}.py": BENCHMARK.format(name=name)}
    there = [str(p) for p in files if p.exists()]
    if there:
        raise ConfigError(f"new: {', '.join(there)} already exist; nothing written")
    spec = importlib.util.find_spec(name)
    if name in sys.stdlib_module_names or spec is not None:
        raise ConfigError(f"new: a module {name!r} exists already ({spec.origin if spec else 'the standard library'}); "
                          "your package would hide it. Choose another name")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return list(files)
