"""MNIST-1D, replayed: every strategy against the recorded MNIST-1D learning-curve table, on a simulated clock.

Run: ``pytest benchmarks -k "mnist1d and replay" --seeds 10`` (at most 10: the table's independent
repeats, one per seed). Each run is Ray Tune's own searcher and scheduler, with a trainable that looks
epochs up in ``datasets/tables/mnist1d.npz`` (160 Conv1d configurations x 10 repeats x 27 epochs,
recorded on a 2-core CPU by ``python -m harness record-table benchmarks/test_mnist1d.py``). Wall-clock
figures are simulated seconds: the recorded epoch times, on ``max_concurrent_trials`` virtual workers.

How proposals map onto the table: the learning rate stays log-uniform from 1e-4 to 1e-1 and replays
the nearest of its ten recorded levels (thirds of a decade) in log space; depth, channels, kernel and
BatchNorm keep their two recorded levels each. Dropout, weight decay and batch size were recorded at
one level (0, 0 and 128), which every replay uses. Grid search uses the live grid form, all recorded.
"""

from pathlib import Path

from harness.run import replay
from harness.run.invariants import assert_sound
from harness.run.replay import table

from benchmarks.test_mnist1d import PROBLEM as LIVE

TABLE = table.load(Path(__file__).resolve().parent.parent / "datasets" / "tables" / "mnist1d.npz")

PROBLEM = replay.replay_of(LIVE, TABLE, name="mnist1d_replay")


SEEDS = 10  # every independent repeat of the table: with fewer, Holm over 9 comparisons cannot find a difference


def test_mnist1d_replay(tuning_case, tuning_run):
    record = tuning_run(tuning_case)
    assert_sound(record, tuning_case)
