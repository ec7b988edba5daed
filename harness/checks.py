"""What every benchmark run must satisfy. Returns the problems found, so a failure names them all."""

from __future__ import annotations

from harness.records import CUT_BY_WALLCLOCK, FAILED, OUTCOMES, RunRecord

TERMINAL_STATES = ("TERMINATED", "ERROR")


def well_above_chance(chance: float) -> float:
    """The accuracy a tuned run must reach: halfway from chance to perfect."""
    return chance + (1.0 - chance) / 2


def run_problems(record: RunRecord, chance: float, multi_fidelity: bool) -> list[str]:
    problems = []
    for t in record.trials:
        if t.outcome not in OUTCOMES:
            problems.append(f"trial {t.trial_id}: unknown outcome {t.outcome!r}")
        if t.final_state not in TERMINAL_STATES and t.outcome != CUT_BY_WALLCLOCK:
            problems.append(f"trial {t.trial_id}: ended {t.final_state} ({t.outcome}), not a terminal state")
        if t.epochs_used > record.budget["max_epochs"]:
            problems.append(f"trial {t.trial_id}: {t.epochs_used} epochs exceed max_epochs")
    if record.epochs_used != sum(t.epochs_used for t in record.trials):
        problems.append("epochs_used does not match the recorded traces")
    if record.epochs_full and abs(record.compute_saved - (1 - record.epochs_used / record.epochs_full)) > 1e-12:
        problems.append("compute_saved does not match epochs_used / epochs_full")
    bar = well_above_chance(chance)
    if record.best_val_acc is None or record.best_val_acc < bar:
        problems.append(f"best val_acc {record.best_val_acc} is not well above chance ({chance:.3f}; needs {bar:.3f})")
    cut = record.count(CUT_BY_WALLCLOCK) + record.count(FAILED)
    if multi_fidelity and not record.compute_saved > 0:
        problems.append(f"an early-stopping strategy saved no compute ({record.compute_saved})")
    if not multi_fidelity and not cut and record.compute_saved != 0:
        problems.append(f"a FIFO strategy reports compute saved {record.compute_saved}; it stops no trial early")
    return problems


def assert_sound(record: RunRecord, chance: float, multi_fidelity: bool) -> None:
    problems = run_problems(record, chance, multi_fidelity)
    assert not problems, f"{record.benchmark}-{record.strategy}-seed{record.seed}: " + "; ".join(problems)
