"""What a run leaves behind: every trial's epochs and outcome, collected on the driver, as one RunRecord."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from harness.core import provenance
from harness.core.budget import Budget
from harness.core.objective import ACCURACY, Objective
from harness.core.problem import METRIC
from harness.core.records import (
    ABANDONED,
    COMPLETED,
    CUT_BY_TOTAL,
    CUT_BY_WALLCLOCK,
    FAILED,
    STOPPED_EARLY,
    EpochRecord,
    RunRecord,
    TrialRecord,
)

# Importing harness set Ray's environment first (harness/__init__), so Ray may be imported here.
from ray.tune import Callback  # noqa: E402
from ray.tune.stopper import Stopper  # noqa: E402


class TotalEpochsStopper(Stopper):
    """Ends the experiment once the run's trials have trained ``total`` epochs together (an equal-compute budget).

    Tune asks it after every result, before the scheduler: the result that spends the last epoch ends the run,
    and whatever is still running or pending then is cut by the budget, not stopped by a scheduler.
    """

    def __init__(self, total: int) -> None:
        self.total, self.spent = total, 0
        self._seen: set = set()  # (trial, epoch): Tune may hand a finished trial's last result over twice

    @property
    def reached(self) -> bool:
        return self.spent >= self.total

    def counts(self, trial_id, result) -> bool:
        """Whether this result's epoch is within the total (results Tune still delivers past it are not)."""
        return (trial_id, result.get("training_iteration")) in self._seen

    def __call__(self, trial_id, result) -> bool:
        key = (trial_id, result.get("training_iteration"))
        if key not in self._seen and not self.reached:
            self._seen.add(key)
            self.spent += 1
        return self.reached  # the epoch that spends the total stops its trial; stop_all ends the rest

    def stop_all(self) -> bool:
        return self.reached


@dataclass(frozen=True)
class RunFacts:
    """What the runner measured of one run, beside its trials."""

    run_id: str
    started_at: str
    wallclock_s: float  # on the backend's clock
    real_s: float
    ray_address: str
    decision_s: tuple[float, ...] | None = None  # the searcher's real seconds per trial (harness.run.decisions)


def run_record(problem, strategy: str, seed: int, budget: Budget, backend, place, facts: RunFacts,
               trials: list[TrialRecord]) -> RunRecord:
    """The run's record: its trials, what they used and saved, the selected configuration, and provenance."""
    epochs_used = sum(t.epochs_used for t in trials)
    epochs_full = sum(full_epochs(t, budget) for t in trials)
    train_s = sum(e.epoch_s for t in trials for e in t.epochs)
    slots = min(budget.max_concurrent_trials, max(len(trials), 1))
    best = max((t for t in trials if t.epochs), key=lambda t: t.best_val_acc, default=None)
    selected = best.best_epoch if best else None
    return RunRecord(
        run_id=facts.run_id,
        benchmark=problem.name,
        strategy=strategy,
        seed=seed,
        budget={**budget.to_dict(), "gpus_per_trial_resolved": backend.gpus},
        started_at=facts.started_at,
        wallclock_s=facts.wallclock_s,
        best_val_acc=best.best_val_acc if best else None,
        best_config=best.config if best else None,
        best_trial_id=best.trial_id if best else None,
        epochs_used=epochs_used,
        epochs_full=epochs_full,
        compute_saved=1.0 - epochs_used / epochs_full if epochs_full else 0.0,
        train_s=train_s,
        overhead_s_per_trial=max(0.0, facts.wallclock_s * slots - train_s) / max(len(trials), 1),
        trials=tuple(trials),
        provenance=provenance.collect(
            seed=seed, budget=budget.to_dict(), ray_address=facts.ray_address, grace_epochs=problem.grace_epochs,
            reduction_factor=problem.reduction_factor, problem_fingerprint=problem.fingerprint,
            max_failures=problem.max_failures,
            **({} if problem.objective.is_default else {"objective": problem.objective.to_dict()}),
            **backend.provenance(place),
        ),
        clock=backend.clock_name,
        real_s=facts.real_s,
        decision_s=facts.decision_s,
        test_acc=selected.test_acc if selected else None,
        best_epoch=selected.epoch if selected else None,
    )


def full_epochs(trial: TrialRecord, budget: Budget) -> int:
    """Epochs the trial would have used had no scheduler stopped it early.

    Only a scheduler's decision saves compute: a completed, early-stopped or abandoned trial counts
    at ``max_epochs``; a failed trial or one cut by the wall-clock cap counts at what it used.
    """
    if trial.outcome in (COMPLETED, STOPPED_EARLY, ABANDONED):
        return budget.max_epochs  # a cut trial (wall-clock or total epochs) counts at what it used
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


def _attempt_error(trial) -> tuple[str, str | None]:
    """The error of the attempt that just failed, as one line (its last, as in ``_error_text``), and the node IP it
    names, if any: Tune appends the error to the trial's local error file, which reaches the experiment's storage
    (where ``get_error`` reads) only later."""
    import re

    path = getattr(trial, "error_file", None)
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace") if path else ""
    except OSError:
        text = ""
    if "Failure #" not in text:
        return _error_text(trial), None
    block = text.rsplit("Failure #", 1)[1].split("\n", 1)[-1]
    lines = [ln.strip() for ln in block.splitlines() if ln.strip()]
    ip = re.search(r"\bip[=:] ?([0-9A-Fa-f.:]+[0-9A-Fa-f])", block)
    return (lines[-1][:300] if lines else "unknown error"), (ip.group(1) if ip else None)


class Recorder(Callback):
    """Collects every result of every trial, and every trial's final state, on the driver."""

    def __init__(self, progress: Callable[[str], None] | None, label: str, total: int | None,
                 arrival_s: Callable[[dict, float], float], objective: Objective = ACCURACY) -> None:
        self.t0 = time.perf_counter()
        self._arrival_s = arrival_s  # the backend's: when a result arrived, in the run's clock
        self._objective = objective  # progress lines show its metric, in its own direction
        self.cap: TotalEpochsStopper | None = None  # the run's total_epochs, when its budget has one
        self._progress, self._label, self._total = progress, label, total
        self._epochs: dict[str, list[EpochRecord]] = {}
        self._finished: set[str] = set()  # trials Tune reported complete or errored, as opposed to cut off
        self._trials: list = []
        self._done = 0
        self._nodes: dict[str, str | None] = {}  # trial -> the node its latest result came from
        self._retries: dict[str, list[str]] = {}  # trial -> one line per failed attempt Tune retried
        self._order: dict[str, int] = {}  # trial -> when it first appeared in Tune's list: Tune requeues a retry last
        self.searcher = None  # the run's search algorithm; a harness.run.decisions.TimedSearcher when it is timed
        self._kept: list[str] | None = None  # Tune's ids of the trials trial_records kept, in their order

    def __getstate__(self):
        # Ray pickles the tuner's state, callbacks included; the progress writer stays on the driver.
        return {**self.__dict__, "_progress": None, "searcher": None}  # Tune saves the searcher itself

    def on_trial_start(self, iteration, trials, trial, **info):
        self._note_order(trials)

    def _note_order(self, trials) -> None:
        for t in trials:
            self._order.setdefault(t.trial_id, len(self._order))

    def on_trial_recover(self, iteration, trials, trial, **info):
        """A failed attempt that Tune retries (problem.max_failures): noted; the retry's epochs replace its own."""
        epochs = self._epochs.get(trial.trial_id, [])
        error, named = _attempt_error(trial)
        node = self._nodes.get(trial.trial_id) or named or "an unknown node"  # no result yet: the node its error names
        retries = self._retries.setdefault(trial.trial_id, [])
        line = f"attempt {len(retries) + 1} on {node} failed after epoch {epochs[-1].epoch if epochs else 0}: {error}"
        retries.append(line)
        if self._progress:
            self._progress(f"{self._label}: a trial's {line}; retried")

    def on_trial_result(self, iteration, trials, trial, result, **info):
        if self.cap is not None and not self.cap.counts(trial.trial_id, result):
            return  # an epoch past the run's total_epochs: trained in flight, never part of the run
        epochs = self._epochs.setdefault(trial.trial_id, [])
        if trial.trial_id in self._retries and epochs and int(result["epoch"]) <= epochs[-1].epoch:
            # A retry restarts from the latest checkpoint, or from the start: its epochs replace the lost attempt's.
            epochs[:] = [e for e in epochs if e.epoch < int(result["epoch"])]
        self._nodes[trial.trial_id] = result.get("node_ip")
        self._epochs.setdefault(trial.trial_id, []).append(
            EpochRecord(
                epoch=int(result["epoch"]),
                val_acc=float(result[METRIC]),
                val_loss=_finite(result.get("val_loss")),
                train_loss=_finite(result.get("train_loss")),
                epoch_s=float(result["epoch_s"]),
                elapsed_s=float(self._arrival_s(result, self.t0)),
                test_acc=_finite(result.get("test_acc")),
                metrics=result.get("metrics"),
            )
        )

    def on_trial_complete(self, iteration, trials, trial, **info):
        if not (self.cap is not None and self.cap.reached):  # a trial ended by the spent budget is cut, not finished
            self._finished.add(trial.trial_id)
        self._tick(trial, "done")

    def on_trial_error(self, iteration, trials, trial, **info):
        self._finished.add(trial.trial_id)
        self._tick(trial, "FAILED")

    def _tick(self, trial, what: str) -> None:
        self._done += 1
        if self._progress:
            epochs = self._epochs.get(trial.trial_id, [])
            best = self._objective.shown(max((e.val_acc for e in epochs), default=float("nan")))
            of = f"/{self._total}" if self._total else ""
            elapsed = time.perf_counter() - self.t0
            eta = ""
            if self._total and self._total >= self._done:
                eta = f", about {elapsed / self._done * (self._total - self._done):.0f}s to go"
            self._progress(
                f"{self._label}: trial {self._done}{of} {what} after {len(epochs)} epochs, "
                f"best {self._objective.metric} {best:.4g}, {elapsed:.1f}s{eta}"
            )

    def on_experiment_end(self, trials, **info):
        self._note_order(trials)
        self._trials = sorted(trials, key=lambda t: self._order[t.trial_id])  # the order Tune created them in

    def decision_s(self) -> tuple[float, ...] | None:
        """The searcher's seconds for each trial trial_records kept, in its order; None when it was not timed."""
        if self._kept is None:  # the seconds follow the records' trials, which trial_records chooses
            raise RuntimeError("Recorder.decision_s needs trial_records first")
        seconds = getattr(self.searcher, "seconds", None)
        return None if seconds is None else tuple(round(seconds.get(t, 0.0), 6) for t in self._kept)

    def trial_records(self, budget: Budget, decode, wallclock_cut: bool, ordinal_ids: bool = False) -> list[TrialRecord]:
        """One record per trial, in the order Tune created them.

        ``ordinal_ids`` names trials by that order ("t000", "t001", ...) instead of Tune's random ids,
        so that a replay's record repeats bit for bit.
        """
        # A budget with a cap (total_epochs, wallclock_s) can end a run while trials are unfinished.
        cut_by = CUT_BY_TOTAL if self.cap is not None and self.cap.reached else CUT_BY_WALLCLOCK
        wallclock_cut = wallclock_cut or cut_by == CUT_BY_TOTAL
        out, self._kept = [], []
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
                # Tune terminates whatever is running or pending when time_budget_s runs out (or the total
                # epochs are spent), without a completion event: that is the cap, not a scheduler saving compute.
                outcome = cut_by
            if outcome == CUT_BY_TOTAL and not epochs:
                continue  # created up front but never started before the epochs were spent: nothing to keep
            config = _plain(decode(trial.config) if decode else dict(trial.config))
            trial_id = f"t{index:03d}" if ordinal_ids else trial.trial_id
            self._kept.append(trial.trial_id)
            out.append(TrialRecord(trial_id, config, state, outcome, epochs, error, self._nodes.get(trial.trial_id),
                                   tuple(self._retries.get(trial.trial_id, ()))))
        return out
