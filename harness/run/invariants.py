"""What every benchmark run must satisfy. Returns the problems found, so a failure names them all."""

from __future__ import annotations

from harness.core.records import CUT_BY_TOTAL, CUT_BY_WALLCLOCK, OUTCOMES, RunRecord

TERMINAL_STATES = ("TERMINATED", "ERROR")


def well_above_chance(chance: float) -> float:
    """The accuracy a tuned run must reach: halfway from chance to perfect."""
    return chance + (1.0 - chance) / 2


def observed_concurrency(record: RunRecord) -> int:
    """The most trials that were training at once, from the traces (driver clock).

    Each epoch is active from its start (the result's arrival minus ``epoch_s``) to its arrival.
    A trial that takes over a slot (or resumes after a pause) cannot start before the driver has
    handled the previous result on that slot, so sequential epochs never appear to overlap.
    """
    events = []
    for t in record.trials:
        for e in t.epochs:
            events += [(e.elapsed_s - e.epoch_s, 1), (e.elapsed_s, -1)]
    active = peak = 0
    for _, step in sorted(events, key=lambda e: (e[0], e[1])):  # an end before a start at the same instant
        active += step
        peak = max(peak, active)
    return peak


def run_problems(record: RunRecord, chance: float | None, multi_fidelity: bool, bar: float | None = None) -> list[str]:
    """Everything wrong with ``record``; ``bar`` is the accuracy to reach (default: well above chance)."""
    problems = []
    for t in record.trials:
        if t.outcome not in OUTCOMES:
            problems.append(f"trial {t.trial_id}: unknown outcome {t.outcome!r}")
        if t.final_state not in TERMINAL_STATES and t.outcome not in (CUT_BY_WALLCLOCK, CUT_BY_TOTAL):
            problems.append(f"trial {t.trial_id}: ended {t.final_state} ({t.outcome}), not a terminal state")
        if t.epochs_used > record.budget["max_epochs"]:
            problems.append(f"trial {t.trial_id}: {t.epochs_used} epochs exceed max_epochs")
    if record.epochs_used != sum(t.epochs_used for t in record.trials):
        problems.append("epochs_used does not match the recorded traces")
    total = record.budget.get("total_epochs")
    if total is not None and record.epochs_used > total:
        problems.append(f"{record.epochs_used} epochs used exceed the budget's total_epochs={total}")
    if record.epochs_full and abs(record.compute_saved - (1 - record.epochs_used / record.epochs_full)) > 1e-12:
        problems.append("compute_saved does not match epochs_used / epochs_full")
    concurrency = observed_concurrency(record)
    if concurrency > record.budget["max_concurrent_trials"]:
        problems.append(f"{concurrency} trials ran at once; the budget allows {record.budget['max_concurrent_trials']}")
    if record.best_val_acc is None:
        problems.append("no trial reported a result")
    elif chance is not None or bar is not None:  # a declared objective has no chance level: it names its own bar
        bar = well_above_chance(chance) if bar is None else bar
        if record.best_val_acc < bar:
            problems.append(f"best val_acc {record.best_val_acc} is not well above chance ({chance:.3f}; needs {bar:.3f})"
                            if chance is not None else f"best score {record.best_val_acc} is below the bar {bar}")
    if multi_fidelity and not record.compute_saved > 0:
        problems.append(f"an early-stopping strategy saved no compute ({record.compute_saved})")
    if not multi_fidelity and record.compute_saved != 0:
        problems.append(f"a FIFO strategy reports compute saved {record.compute_saved}; it stops no trial early")
    return problems


def assert_sound(record: RunRecord, case) -> None:
    """Assert a benchmark case's run is sound: terminal trials, honest accounting, a real accuracy."""
    problems = run_problems(record, case.problem.chance_accuracy, case.strategy.multi_fidelity, case.accuracy_bar)
    assert not problems, f"{record.benchmark}-{record.strategy}-seed{record.seed}: " + "; ".join(problems)
