"""The live backend: real PyTorch epochs in Ray actors (``EpochTrainable``), on the real clock."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from harness.run.backend import Backend, ExperimentPlace
from harness.core.budget import Budget
from harness.core.errors import ConfigError
from harness.run.ray_session import cluster_gpus, slot_name
from harness.core.records import REAL


def resolve_gpus(budget: Budget, gpus_available: float) -> float:
    """The GPU share per trial: as the budget says, or automatically an equal share when there is a GPU."""
    if budget.gpus_per_trial is None:
        return 1.0 / budget.max_concurrent_trials if gpus_available >= 1 else 0.0
    if budget.gpus_per_trial > 0 and gpus_available <= 0:
        raise ConfigError(f"budget: gpus_per_trial={budget.gpus_per_trial} but no GPU is available")
    return budget.gpus_per_trial


class LiveBackend(Backend):
    clock_name = REAL

    def __init__(self, problem, setup, seed, budget) -> None:
        super().__init__(problem, setup, seed, budget)
        self.gpus = resolve_gpus(budget, cluster_gpus())

    def trainable(self):
        from ray import tune

        from harness.core.problem import FunctionProblem

        if isinstance(self.problem, FunctionProblem):
            from harness.run.live.function_trainable import FunctionTrainable

            return tune.with_parameters(
                FunctionTrainable,
                train=self.problem.train,
                objective=self.problem.objective.to_dict(),
                decode=self.setup.decode,
                seed=self.seed,
                torch_threads=max(1, int(self.budget.cpus_per_trial)),
            )
        from harness.run.live.trainable import EpochTrainable

        return tune.with_parameters(
            EpochTrainable,
            load_data=self.problem.load_data,
            build_model=self.problem.build_model,
            decode=self.setup.decode,
            seed=self.seed,
            torch_threads=max(1, int(self.budget.cpus_per_trial)),
        )

    def time_budget_s(self) -> float | None:
        return self.budget.wallclock_s

    def slot(self, ray_address: str | None) -> str:
        return slot_name(ray_address)  # on a cluster, each pytest-xdist worker's own

    @contextlib.contextmanager
    def place(self, experiment_dir, run_id: str, label: str) -> Iterator[ExperimentPlace]:
        """With ``experiment_dir``, Tune's own folder is kept at ``<experiment_dir>/<run id>/``: per-trial
        result.json and progress.csv, experiment state and checkpoints, which ``tune.ExperimentAnalysis``
        and ``tune.Tuner.restore`` open. Otherwise it is a temporary folder."""
        if experiment_dir is None:
            with super().place(None, run_id, label) as place:
                yield place
            return
        from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback

        folder = Path(experiment_dir).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        # The harness turns Tune's automatic loggers off; a kept folder gets the JSON and CSV ones back.
        yield ExperimentPlace(str(folder), run_id, kept=True, loggers=[JsonLoggerCallback(), CSVLoggerCallback()])

    def provenance(self, place: ExperimentPlace) -> dict:
        kept = {"ray_experiment": str(Path(place.storage_path) / place.name)} if place.kept else {}
        return {"deterministic": self.budget.max_concurrent_trials == 1, **kept}
