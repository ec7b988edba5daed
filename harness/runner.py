"""Runs one (problem, strategy, budget, seed) through Ray Tune and turns what happened into a RunRecord."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import math
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from harness import provenance
from harness.budget import Budget
from harness.errors import ConfigError
from harness.problem import METRIC, MODE, Problem
from harness.records import (
    ABANDONED,
    COMPLETED,
    CUT_BY_WALLCLOCK,
    FAILED,
    REAL,
    SIMULATED,
    STOPPED_EARLY,
    EpochRecord,
    RunRecord,
    TrialRecord,
)
from harness.ray_session import SLOT, cluster_gpus, ensure_ray
from harness.simulation import SIM_TIME_KEY, simulated_actors

# Importing harness set Ray's environment first (harness/__init__), so Ray may be imported here.
from ray.tune import Callback  # noqa: E402
from ray.tune.stopper import CombinedStopper, MaximumIterationStopper, Stopper  # noqa: E402


def resolve_gpus(budget: Budget, gpus_available: float) -> float:
    """The GPU share per trial: as the budget says, or automatically an equal share when there is a GPU."""
    if budget.gpus_per_trial is None:
        return 1.0 / budget.max_concurrent_trials if gpus_available >= 1 else 0.0
    if budget.gpus_per_trial > 0 and gpus_available <= 0:
        raise ConfigError(f"budget: gpus_per_trial={budget.gpus_per_trial} but no GPU is available")
    return budget.gpus_per_trial


def slot_share(budget: Budget) -> float:
    """A trial's share of the one ``tuning_slot``, rounded down to Ray's 1e-4 resource precision."""
    return math.floor(10_000 / budget.max_concurrent_trials) / 10_000


def _is_searcher(search_alg) -> bool:
    from ray.tune.search import Searcher

    return isinstance(search_alg, Searcher)


def run(
    problem: Problem,
    strategy,
    seed: int,
    budget: Budget | None = None,
    *,
    ray_address: str | None = None,
    progress: Callable[[str], None] | None = None,
    experiment_dir: str | Path | None = None,
) -> RunRecord:
    """Tune ``problem`` with ``strategy`` under ``budget`` (default: the problem's) and record the run.

    A replay problem (``problem.table`` set) runs the same way on a simulated clock; see ``harness.replay``.
    With ``experiment_dir``, a live run keeps Ray Tune's own experiment folder at
    ``<experiment_dir>/<run id>/`` (per-trial result.json and progress.csv, experiment state,
    checkpoints), which ``tune.ExperimentAnalysis`` and ``tune.Tuner.restore`` open; otherwise it
    lives in a temporary folder for the length of the run.
    """
    from ray import tune

    budget = budget or problem.budget
    setup = strategy.setup(problem, budget, seed)
    address = ensure_ray(ray_address)
    if problem.is_replay:
        from harness.replay import TableDecoder, TableTrainable

        gpus, decode = 0.0, TableDecoder(problem.table, setup.decode)
        trainable = tune.with_parameters(TableTrainable, table=problem.table, decode=decode, seed=seed)
        clock, progress = simulated_actors(), None  # a replay takes a fraction of a second
    else:
        from harness.trainable import EpochTrainable

        gpus, decode = resolve_gpus(budget, cluster_gpus()), setup.decode
        trainable = tune.with_parameters(
            EpochTrainable,
            load_data=problem.load_data,
            build_model=problem.build_model,
            decode=setup.decode,
            seed=seed,
            torch_threads=max(1, int(budget.cpus_per_trial)),
        )
        clock = contextlib.nullcontext()
    trainable = tune.with_resources(trainable, {"cpu": budget.cpus_per_trial, "gpu": gpus, SLOT: slot_share(budget)})
    recorder = _Recorder(progress, label=f"{problem.name}-{strategy.name}-seed{seed}", total=budget.num_trials)
    started_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")
    run_id = uuid.uuid4().hex
    keep = experiment_dir is not None and not problem.is_replay
    if keep:
        Path(experiment_dir).mkdir(parents=True, exist_ok=True)
    # ignore_cleanup_errors: after Ctrl-C, Tune may still be writing into the folder as it is removed, and the
    # OSError of that clean-up must not replace the KeyboardInterrupt.
    storage_cm = contextlib.nullcontext(str(Path(experiment_dir).resolve())) if keep else \
        tempfile.TemporaryDirectory(prefix="tune-", ignore_cleanup_errors=True)
    with _interruptible(), clock as simulated, storage_cm as storage:
        tuner = tune.Tuner(
            trainable,
            param_space=setup.param_space,
            tune_config=tune.TuneConfig(
                metric=METRIC,
                mode=MODE,
                search_alg=setup.search_alg,
                scheduler=setup.scheduler,
                num_samples=setup.num_samples,
                # Searchers also get Ray's limiter, so that they wait for results before proposing more.
                max_concurrent_trials=budget.max_concurrent_trials if _is_searcher(setup.search_alg) else None,
                reuse_actors=True,  # trial start-up otherwise dominates small trials
                time_budget_s=budget.wallclock_s if not problem.is_replay else None,
            ),
            run_config=tune.RunConfig(
                name=run_id if keep else f"{problem.name}-{strategy.name}-seed{seed}",
                storage_path=storage,
                stop=_stop_rule(budget, problem.is_replay),
                callbacks=[recorder, *_result_loggers(keep)],
                # Pausing schedulers resume a trial from its latest checkpoint only: older ones would just fill the folder.
                checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
                failure_config=tune.FailureConfig(max_failures=0, fail_fast=False),
                verbose=0,
            ),
        )
        _seed_global_generators(seed)
        recorder.t0 = time.perf_counter()
        tuner.fit()
        real_s = time.perf_counter() - recorder.t0
        trials = recorder.trial_records(
            budget, decode, wallclock_cut=budget.wallclock_s is not None, ordinal_ids=problem.is_replay
        )
    wallclock_s = simulated.makespan_s if problem.is_replay else real_s
    record = _record(problem, strategy, seed, budget, started_at, wallclock_s, real_s, trials, gpus, address, run_id)
    if keep:
        record = dataclasses.replace(record, provenance={**record.provenance, "ray_experiment": str(Path(storage) / run_id)})
    return record


def _result_loggers(keep: bool) -> list:
    """Tune's JSON and CSV result loggers for a kept experiment folder (the harness turns Tune's automatic ones off)."""
    if not keep:
        return []
    from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback

    return [JsonLoggerCallback(), CSVLoggerCallback()]


@contextlib.contextmanager
def _interruptible():
    """Ctrl-C during a run raises KeyboardInterrupt out of it, whatever Ray Tune makes of it in between.

    Tune's own SIGINT handler is off (harness.ray_session), so SIGINT raises KeyboardInterrupt wherever the
    driver is; this also notes it, so that an error it causes on the way out (a clean-up, a wrapped
    exception) is still reported as the interruption it was, and the run is never stored.
    """
    import signal
    import threading

    seen: list[int] = []
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if main else None

    def interrupted(signum, frame):
        seen.append(signum)
        raise KeyboardInterrupt

    if main:
        signal.signal(signal.SIGINT, interrupted)
    try:
        yield
    except BaseException as exc:
        if seen and not isinstance(exc, KeyboardInterrupt):
            raise KeyboardInterrupt(f"interrupted ({type(exc).__name__} on the way out: {exc})") from exc
        raise
    else:
        if seen:
            raise KeyboardInterrupt("interrupted")
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)


def _seed_global_generators(seed: int) -> None:
    """Seed the driver's global generators: some searchers draw from them (hpbandster's BOHB uses numpy's)."""
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)


def _stop_rule(budget: Budget, replay: bool):
    """Tune's stopper: max_epochs per trial; a replay's wall-clock cap is on the simulated clock."""
    if not replay or budget.wallclock_s is None:
        return {"training_iteration": budget.max_epochs}
    return CombinedStopper(MaximumIterationStopper(budget.max_epochs), _SimulatedTimeBudget(budget.wallclock_s))


class _SimulatedTimeBudget(Stopper):
    """Ends the whole replay once a result arrives at or after ``cap_s`` simulated seconds."""

    def __init__(self, cap_s: float) -> None:
        self.cap_s, self.reached = cap_s, False

    def __call__(self, trial_id, result) -> bool:
        self.reached = self.reached or result.get(SIM_TIME_KEY, 0.0) >= self.cap_s
        return False

    def stop_all(self) -> bool:
        return self.reached


def _record(problem, strategy, seed, budget, started_at, wallclock_s, real_s, trials, gpus, address, run_id=None) -> RunRecord:
    epochs_used = sum(t.epochs_used for t in trials)
    epochs_full = sum(full_epochs(t, budget) for t in trials)
    train_s = sum(e.epoch_s for t in trials for e in t.epochs)
    slots = min(budget.max_concurrent_trials, max(len(trials), 1))
    best = max((t for t in trials if t.epochs), key=lambda t: t.best_val_acc, default=None)
    selected = best.best_epoch if best else None
    return RunRecord(
        run_id=run_id or uuid.uuid4().hex,
        benchmark=problem.name,
        strategy=strategy.name,
        seed=seed,
        budget={**budget.to_dict(), "gpus_per_trial_resolved": gpus},
        started_at=started_at,
        wallclock_s=wallclock_s,
        best_val_acc=best.best_val_acc if best else None,
        best_config=best.config if best else None,
        best_trial_id=best.trial_id if best else None,
        epochs_used=epochs_used,
        epochs_full=epochs_full,
        compute_saved=1.0 - epochs_used / epochs_full if epochs_full else 0.0,
        train_s=train_s,
        overhead_s_per_trial=max(0.0, wallclock_s * slots - train_s) / max(len(trials), 1),
        trials=tuple(trials),
        provenance=provenance.collect(
            seed=seed,
            budget=budget.to_dict(),
            ray_address=address,
            # A replay's simulated clock orders events exactly, whatever the number of workers.
            deterministic=problem.is_replay or budget.max_concurrent_trials == 1,
            grace_epochs=problem.grace_epochs,
            reduction_factor=problem.reduction_factor,
            problem_fingerprint=problem.fingerprint,
            **({"table": _table_provenance(problem.table)} if problem.is_replay else {}),
        ),
        clock=SIMULATED if problem.is_replay else REAL,
        real_s=real_s,
        test_acc=selected.test_acc if selected else None,
        best_epoch=selected.epoch if selected else None,
    )


def _table_provenance(table) -> dict:
    recorded = table.provenance
    return {
        "benchmark": table.benchmark,
        "fingerprint": table.fingerprint,
        "configs": table.n_configs,
        "repeats": table.n_repeats,
        "recorded_commit": recorded.get("git_commit"),
        "recorded_at": recorded.get("recorded_at"),
        "recorded_device": recorded.get("device"),
    }


def full_epochs(trial: TrialRecord, budget: Budget) -> int:
    """Epochs the trial would have used had no scheduler stopped it early.

    Only a scheduler's decision saves compute: a completed, early-stopped or abandoned trial counts
    at ``max_epochs``; a failed trial or one cut by the wall-clock cap counts at what it used.
    """
    if trial.outcome in (COMPLETED, STOPPED_EARLY, ABANDONED):
        return budget.max_epochs
    return trial.epochs_used


def _finite(x: Any) -> float | None:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _plain(value: Any) -> Any:
    """Configs as plain JSON values: searchers (BOHB, BayesOpt) hand out numpy scalars."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    return value


def _error_text(trial) -> str:
    try:
        err = trial.get_error()
    except Exception as exc:  # the error file is best effort; the state is what counts
        return f"{type(exc).__name__} reading the trial's error: {exc}"
    text = str(err) if err is not None else "unknown error"
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:500] if lines else text[:500]


class _Recorder(Callback):
    """Collects every result of every trial, and every trial's final state, on the driver."""

    def __init__(self, progress: Callable[[str], None] | None, label: str, total: int | None) -> None:
        self.t0 = time.perf_counter()
        self._progress, self._label, self._total = progress, label, total
        self._epochs: dict[str, list[EpochRecord]] = {}
        self._finished: set[str] = set()  # trials Tune reported complete or errored, as opposed to cut off
        self._trials: list = []
        self._done = 0

    def __getstate__(self):
        # Ray pickles the tuner's state, callbacks included; the progress writer stays on the driver.
        return {**self.__dict__, "_progress": None}

    def on_trial_result(self, iteration, trials, trial, result, **info):
        self._epochs.setdefault(trial.trial_id, []).append(
            EpochRecord(
                epoch=int(result["epoch"]),
                val_acc=float(result[METRIC]),
                val_loss=_finite(result.get("val_loss")),
                train_loss=_finite(result.get("train_loss")),
                epoch_s=float(result["epoch_s"]),
                elapsed_s=float(result.get(SIM_TIME_KEY, time.perf_counter() - self.t0)),
                test_acc=_finite(result.get("test_acc")),
            )
        )

    def on_trial_complete(self, iteration, trials, trial, **info):
        self._finished.add(trial.trial_id)
        self._tick(trial, "done")

    def on_trial_error(self, iteration, trials, trial, **info):
        self._finished.add(trial.trial_id)
        self._tick(trial, "FAILED")

    def _tick(self, trial, what: str) -> None:
        self._done += 1
        if self._progress:
            epochs = self._epochs.get(trial.trial_id, [])
            acc = max((e.val_acc for e in epochs), default=float("nan"))
            of = f"/{self._total}" if self._total else ""
            elapsed = time.perf_counter() - self.t0
            eta = ""
            if self._total and self._total >= self._done:
                eta = f", about {elapsed / self._done * (self._total - self._done):.0f}s to go"
            self._progress(
                f"{self._label}: trial {self._done}{of} {what} after {len(epochs)} epochs, "
                f"best val_acc {acc:.3f}, {elapsed:.1f}s{eta}"
            )

    def on_experiment_end(self, trials, **info):
        self._trials = list(trials)

    def trial_records(self, budget: Budget, decode, wallclock_cut: bool, ordinal_ids: bool = False) -> list[TrialRecord]:
        """One record per trial, in the order Tune created them.

        ``ordinal_ids`` names trials by that order ("t000", "t001", ...) instead of Tune's random ids,
        so that a replay's record repeats bit for bit.
        """
        out = []
        for index, trial in enumerate(self._trials):
            epochs = tuple(self._epochs.get(trial.trial_id, ()))
            state = trial.status
            error = None
            if state == "ERROR":
                outcome, error = FAILED, _error_text(trial)
            elif len(epochs) >= budget.max_epochs:
                outcome = COMPLETED
            elif state == "TERMINATED" and (trial.trial_id in self._finished or not wallclock_cut):
                outcome = STOPPED_EARLY  # a scheduler's decision
            elif state == "PAUSED" and not wallclock_cut:
                outcome = ABANDONED
            else:
                # Tune terminates whatever is running or pending when time_budget_s runs out,
                # without a completion event: that is the cap, not a scheduler saving compute.
                outcome = CUT_BY_WALLCLOCK
            config = _plain(decode(trial.config) if decode else dict(trial.config))
            trial_id = f"t{index:03d}" if ordinal_ids else trial.trial_id
            out.append(TrialRecord(trial_id, config, state, outcome, epochs, error))
        return out
