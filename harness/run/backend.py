"""What a live run and a replay do differently, behind one interface that the runner drives.

A backend supplies the trainable and its GPU share, the clock, Tune's stopping rule and time
budget, where Tune keeps its experiment folder, and the provenance particular to it. The live backend
(``harness.run.live.backend``) trains in Ray actors on the real clock; the replay backend
(``harness.run.replay.backend``) looks epochs up in a learning-curve table on a simulated clock. This is
syne-tune's split between its local and simulator backends, applied to Ray Tune.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:
    from harness.core.budget import Budget
    from harness.core.problem import Problem
    from harness.core.strategy import TuneSetup


@dataclass(frozen=True)
class ExperimentPlace:
    """Where Tune writes the experiment: ``storage_path``/``name``; ``kept`` when it outlives the run."""

    storage_path: str
    name: str
    kept: bool = False
    loggers: list = field(default_factory=list)  # Tune's result loggers, for a kept folder


def real_arrival_s(result: dict, t0: float) -> float:
    """A live result's arrival: real seconds since the run started (``t0``, a ``time.perf_counter()``)."""
    return time.perf_counter() - t0


class Backend:
    """The base: a temporary experiment folder, no time budget, progress lines shown."""

    clock_name = ""  # records.REAL or records.SIMULATED
    ordinal_trial_ids = False  # name trials t000, t001... (repeatable) instead of Tune's random ids
    shows_progress = True
    gpus = 0.0  # each trial's GPU share
    arrival_s = staticmethod(real_arrival_s)  # (result, t0) -> the seconds at which the result arrived
    checkpoints_kept: int | None = 1  # a pausing scheduler resumes a trial from its latest checkpoint only

    def __init__(self, problem: "Problem", setup: "TuneSetup", seed: int, budget: "Budget") -> None:
        self.problem, self.setup, self.seed, self.budget = problem, setup, seed, budget

    @property
    def decode(self):
        """Maps a trial's config to the configuration the run record keeps."""
        return self.setup.decode

    def trainable(self) -> Any:
        raise NotImplementedError

    def clock(self) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()

    def wallclock_s(self, clock: Any, real_s: float) -> float:
        return real_s

    def stopper(self) -> Any:
        return {"training_iteration": self.budget.max_epochs}

    def time_budget_s(self) -> float | None:
        return None

    def slot(self, ray_address: str | None) -> str:
        """The custom resource whose share caps concurrent trials (harness.run.ray_session.SLOT)."""
        from harness.run.ray_session import SLOT

        return SLOT

    @contextlib.contextmanager
    def place(self, experiment_dir, run_id: str, label: str) -> Iterator[ExperimentPlace]:
        # ignore_cleanup_errors: after Ctrl-C, Tune may still be writing into the folder as it is removed,
        # and the OSError of that clean-up must not replace the KeyboardInterrupt.
        with tempfile.TemporaryDirectory(prefix="tune-", ignore_cleanup_errors=True) as folder:
            yield ExperimentPlace(folder, label)

    def provenance(self, place: ExperimentPlace) -> dict:
        return {}
