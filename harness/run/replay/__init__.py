"""Replays: Ray Tune's own searchers and schedulers against recorded learning curves, on a simulated clock.

* ``table``: the learning-curve table (``datasets/tables/*.npz``): levels, repeats, snapping a proposal to a row;
* ``backend``: the replay backend the runner drives, and ``problem()``, a table as a benchmark problem;
* ``trainable``: the Tune trainable that looks recorded epochs up;
* ``clock``: the simulated actor manager, which orders results as N workers would produce them;

Importing this package does not import Ray; running a replay does.
"""

from harness.run.replay.backend import problem, replay_of

__all__ = ["problem", "replay_of"]
