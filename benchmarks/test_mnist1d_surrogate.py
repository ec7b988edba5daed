"""MNIST-1D through a surrogate of its whole live space: every strategy, every proposal its own predicted curves.

Run: ``pytest benchmarks -k "mnist1d and surrogate" --seeds 10``. Unlike ``test_mnist1d_replay.py``, whose table holds
160 configurations (one level of dropout, weight decay and batch size), each proposal here keeps its own values of all
eight parameters: a random forest fitted on ``datasets/tables/mnist1d_design.npz`` (480 configurations spread over the
live space by ``python -m harness record-design``, each trained live for 27 epochs) predicts its validation and
held-out curves and epoch seconds at once, and the run's seed adds one recorded residual (``harness/run/replay/
surrogate.py``). How far this stands for live tuning is measured, not assumed: ``python -m harness surrogate-fidelity
benchmarks/test_mnist1d.py`` on held-out design parts, and ``python -m harness agreement mnist1d mnist1d_surrogate``
against live runs. The first holds; against the 100 recorded live runs it agrees no better than the table replay
(docs/replays.md), so the main job stays the table replay.
"""

from pathlib import Path

import pytest

from harness.run import replay
from harness.run.invariants import assert_sound
from harness.run.replay.surrogate import SurrogateTable, load_design

from benchmarks.test_mnist1d import PROBLEM as LIVE

DESIGN_FILE = Path(__file__).resolve().parent.parent / "datasets" / "tables" / "mnist1d_design.npz"

if not DESIGN_FILE.exists():
    pytest.skip(f"{DESIGN_FILE} is not recorded yet (python -m harness record-design benchmarks/test_mnist1d.py "
                f"--out {DESIGN_FILE})", allow_module_level=True)
DESIGN, META = load_design(DESIGN_FILE, LIVE.space)
PROBLEM = replay.replay_of(LIVE, SurrogateTable(DESIGN, "mnist1d", META["provenance"], source=str(DESIGN_FILE)),
                           name="mnist1d_surrogate")
SEEDS = 10


def test_mnist1d_surrogate(tuning_case, tuning_run):
    assert_sound(tuning_run(tuning_case), tuning_case)
