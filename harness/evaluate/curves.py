"""Per-run anytime measures from the trial traces: best-so-far curves, time to target, and AUC."""

from __future__ import annotations

from dataclasses import dataclass

from harness.core.records import RunRecord


@dataclass(frozen=True)
class Point:
    elapsed_s: float  # driver wall-clock since the run started
    epochs: int  # cumulative epochs trained by all trials so far
    best: float  # best validation accuracy seen so far


def best_so_far(record: RunRecord) -> list[Point]:
    """The run's best-so-far accuracy after every epoch of every trial, in the order results arrived."""
    epochs = sorted((e for t in record.trials for e in t.epochs), key=lambda e: e.elapsed_s)
    points, best = [], float("-inf")
    for i, e in enumerate(epochs, start=1):
        best = max(best, e.val_acc)
        points.append(Point(e.elapsed_s, i, best))
    return points


def time_to_target(record: RunRecord, target: float) -> tuple[float | None, int | None]:
    """First wall-clock (s) and cumulative epoch at which the best-so-far reaches ``target``."""
    for p in best_so_far(record):
        if p.best >= target:
            return p.elapsed_s, p.epochs
    return None, None


def budget_epochs(record: RunRecord) -> int:
    """The epochs the budget allows: num_trials x max_epochs (or the run's full epochs without a trial cap)."""
    n = record.budget.get("num_trials")
    return n * record.budget["max_epochs"] if n else record.epochs_full


def auc(record: RunRecord) -> float:
    """Area under best-so-far accuracy over cumulative epochs, divided by the budget's epochs.

    1.0 would be perfect accuracy from the first epoch; a strategy that finishes early keeps its
    final best-so-far for the rest of the budget, so saved epochs are not counted against it.
    """
    total = budget_epochs(record)
    if total <= 0:
        return 0.0
    area, prev_epoch, level = 0.0, 0, 0.0
    for p in best_so_far(record):
        area += level * (min(p.epochs, total) - prev_epoch)
        prev_epoch, level = min(p.epochs, total), p.best
    area += level * (total - prev_epoch)
    return area / total


def total_epochs(record: RunRecord) -> int:
    """The compute a run's budget allows, in epochs: its ``total_epochs`` cap (an equal-compute budget), else
    num_trials x max_epochs, else the epochs it used."""
    cap = record.budget.get("total_epochs")
    return int(cap) if cap else budget_epochs(record)


def incumbent_test_acc(record: RunRecord, epochs: int) -> float | None:
    """Held-out test accuracy of the run's incumbent after its first ``epochs`` epochs (in arrival order):
    the epoch with the best validation accuracy so far (the first, on ties). None before any result."""
    arrived = sorted((e for t in record.trials for e in t.epochs), key=lambda e: e.elapsed_s)[:max(epochs, 0)]
    best = max(arrived, key=lambda e: e.val_acc, default=None)  # max keeps the first of equal values
    return best.test_acc if best is not None else None
