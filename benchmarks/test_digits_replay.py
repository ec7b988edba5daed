"""Digits, replayed: every strategy against the recorded digits learning-curve table, on a simulated clock.

Run: ``pytest benchmarks -k "digits and replay" --seeds 12`` (at most 20: the table's independent
repeats, one per seed). Each run is Ray Tune's own
searcher and scheduler, with a trainable that looks epochs up in ``datasets/tables/digits.npz``
(recorded on a 2-core CPU by ``python -m harness record-table benchmarks/test_digits.py``), so a
run takes a fraction of a second. Wall-clock figures are simulated seconds: the recorded epoch
times, on ``max_concurrent_trials`` virtual workers.

How proposals map onto the table: each parameter keeps its live kind over the recorded range
(lr stays log-uniform from 1e-4 to 1e-1, dropout uniform from 0 to 0.5), and a proposal replays
the nearest recorded level: lr in log space, dropout and conv_layers linearly, and the choices
(filters, units, batch_size) among their recorded values. Grid search uses the live grid form,
whose values are all recorded.
"""

from pathlib import Path

from harness.run import replay
from harness.run.replay import table
from harness.run.invariants import assert_sound

from benchmarks.test_digits import PROBLEM as LIVE

TABLE = table.load(Path(__file__).resolve().parent.parent / "datasets" / "tables" / "digits.npz")

PROBLEM = replay.replay_of(LIVE, TABLE, name="digits_replay")


def test_digits_replay(tuning_case, tuning_run):
    record = tuning_run(tuning_case)
    assert_sound(record, tuning_case)
