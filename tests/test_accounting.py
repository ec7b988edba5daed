"""Budget accounting: outcomes of every final state, compute saved, and the soundness checks."""

from types import SimpleNamespace

import pytest

from harness import Budget
from harness.run.invariants import observed_concurrency, run_problems
from harness.core.records import ABANDONED, COMPLETED, CUT_BY_WALLCLOCK, FAILED, REAL, STOPPED_EARLY, EpochRecord
from harness.run.live.backend import resolve_gpus
from harness.run.backend import real_arrival_s
from harness.run.recorder import Recorder, RunFacts, run_record

from tests.conftest import tiny_problem


def _record(problem, strategy, seed, budget, started_at, wallclock_s, real_s, trials, gpus, address):
    """A live run's record, as the runner builds it."""
    backend = SimpleNamespace(gpus=gpus, clock_name=REAL, provenance=lambda place: {"deterministic": True})
    facts = RunFacts("run", started_at, wallclock_s, real_s, address)
    return run_record(problem, strategy.name, seed, budget, backend, None, facts, trials)


def fake_trial(trial_id, status):
    return SimpleNamespace(trial_id=trial_id, status=status, config={"lr": 0.01}, get_error=lambda: "boom\nValueError: x")


def recorder_with(epochs_by_trial, statuses):
    """A recorder fed results one trial after another, each epoch 0.1 s later on the driver's clock."""
    rec = Recorder(None, "t", None, real_arrival_s)
    rec.t0 = 0.0
    clock = iter(0.1 * i for i in range(1, 1000))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("harness.run.recorder.time.perf_counter", lambda: next(clock))
        for trial_id, n in epochs_by_trial.items():
            for e in range(1, n + 1):
                result = {"epoch": e, "val_acc": 0.5 + e / 10, "epoch_s": 0.1}
                rec.on_trial_result(0, [], fake_trial(trial_id, "RUNNING"), result)
    for t, status in statuses.items():
        if status == "TERMINATED":
            rec.on_trial_complete(0, [], fake_trial(t, status))
        elif status == "ERROR":
            rec.on_trial_error(0, [], fake_trial(t, status))
    rec.on_experiment_end([fake_trial(t, s) for t, s in statuses.items()])
    return rec


def test_every_final_state_gets_an_outcome():
    budget = Budget(max_epochs=3, num_trials=5)
    rec = recorder_with({"a": 3, "b": 1, "c": 2, "d": 1}, {"a": "TERMINATED", "b": "TERMINATED", "c": "PAUSED", "d": "ERROR", "e": "PENDING"})
    outcomes = {t.trial_id: t.outcome for t in rec.trial_records(budget, None, wallclock_cut=False)}
    assert outcomes == {"a": COMPLETED, "b": STOPPED_EARLY, "c": ABANDONED, "d": FAILED, "e": CUT_BY_WALLCLOCK}
    cut = {t.trial_id: t.outcome for t in rec.trial_records(budget, None, wallclock_cut=True)}
    assert cut["c"] == CUT_BY_WALLCLOCK
    failed = [t for t in rec.trial_records(budget, None, False) if t.outcome == FAILED][0]
    assert failed.error == "ValueError: x"


def test_the_wallclock_cap_is_not_counted_as_compute_saved():
    budget = Budget(max_epochs=3, num_trials=4, wallclock_s=10)
    rec = recorder_with({"a": 3, "b": 1, "c": 2}, {"a": "TERMINATED", "b": "TERMINATED", "c": "RUNNING"})
    # Tune terminates trials still running or pending at the cap without a completion event
    rec.on_experiment_end([fake_trial("a", "TERMINATED"), fake_trial("b", "TERMINATED"),
                           fake_trial("c", "TERMINATED"), fake_trial("d", "TERMINATED")])
    trials = rec.trial_records(budget, None, wallclock_cut=True)
    assert {t.trial_id: t.outcome for t in trials} == {"a": COMPLETED, "b": STOPPED_EARLY, "c": CUT_BY_WALLCLOCK, "d": CUT_BY_WALLCLOCK}
    problem = tiny_problem(budget=budget)
    record = _record(problem, SimpleNamespace(name="random"), 0, budget, "2026", 10.0, 10.0, trials, 0.0, "local")
    assert (record.epochs_used, record.epochs_full) == (6, 3 + 3 + 2 + 0)  # only b's early stop saved epochs
    assert record.compute_saved == pytest.approx(2 / 8)


def test_compute_saved_matches_recorded_epochs():
    problem = tiny_problem(budget=Budget(max_epochs=3, num_trials=4))
    rec = recorder_with({"a": 3, "b": 1, "c": 1, "d": 3}, dict.fromkeys("abcd", "TERMINATED"))
    trials = rec.trial_records(problem.budget, None, False)
    record = _record(problem, SimpleNamespace(name="asha"), 0, problem.budget, "2026-01-01T00:00:00", 2.0, 2.0, trials, 0.0, "local")
    assert (record.epochs_used, record.epochs_full) == (8, 12)
    assert record.compute_saved == 1 - 8 / 12
    assert record.best_val_acc == 0.8 and record.best_trial_id in {"a", "d"}
    assert record.overhead_s_per_trial == pytest.approx((2.0 - 0.8) / 4)
    assert run_problems(record, 0.1, multi_fidelity=True) == []
    problems = run_problems(record, 0.1, multi_fidelity=False)
    assert any("FIFO" in p for p in problems)


def test_soundness_flags_paused_trials_and_poor_accuracy():
    problem = tiny_problem(budget=Budget(max_epochs=3, num_trials=2))
    rec = recorder_with({"a": 1, "b": 1}, {"a": "PAUSED", "b": "TERMINATED"})
    trials = rec.trial_records(problem.budget, None, False)
    record = _record(problem, SimpleNamespace(name="hyperband"), 0, problem.budget, "2026", 1.0, 1.0, trials, 0.0, "local")
    problems = " ".join(run_problems(record, 0.5, multi_fidelity=True))  # best 0.6 < 0.75
    assert "ended PAUSED" in problems and "not well above chance" in problems


def test_gpu_share_is_automatic_and_refused_without_a_gpu():
    from harness import ConfigError

    assert resolve_gpus(Budget(max_epochs=1, num_trials=1, max_concurrent_trials=2), gpus_available=1) == 0.5
    assert resolve_gpus(Budget(max_epochs=1, num_trials=1), gpus_available=0) == 0.0
    with pytest.raises(ConfigError, match="no GPU"):
        resolve_gpus(Budget(max_epochs=1, num_trials=1, gpus_per_trial=0.5), gpus_available=0)


def test_observed_concurrency_from_traces():
    from dataclasses import replace

    problem = tiny_problem(budget=Budget(max_epochs=3, num_trials=2))
    rec = recorder_with({"a": 2, "b": 2}, {"a": "TERMINATED", "b": "TERMINATED"})
    a, b = rec.trial_records(problem.budget, None, False)
    ep = lambda t0: (EpochRecord(1, 0.8, 0.1, 0.1, 0.5, t0 + 0.5), EpochRecord(2, 0.9, 0.1, 0.1, 0.5, t0 + 1.0))
    sequential = [replace(a, epochs=ep(0.0)), replace(b, epochs=ep(1.0))]
    overlapping = [replace(a, epochs=ep(0.0)), replace(b, epochs=ep(0.6))]
    for trials, expected in ((sequential, 1), (overlapping, 2)):
        record = _record(problem, SimpleNamespace(name="random"), 0, problem.budget, "2026", 2.0, 2.0, trials, 0.0, "local")
        assert observed_concurrency(record) == expected
    assert any("2 trials ran at once" in p for p in run_problems(record, 0.1, multi_fidelity=False))


def test_a_retried_trial_keeps_the_attempt_that_counts_the_node_it_ran_on_and_its_retry(tmp_path):
    """Tune retries a failed trial (problem.max_failures) from the start and requeues it last: the record keeps the
    retry's epochs once each, the node of its last result, one line for the lost attempt, and the creation order."""
    from harness.core.records import RunRecord

    error = tmp_path / "error.txt"
    error.write_text("Failure # 1 (occurred at 2026-01-01_00-00-00)\nThe actor is dead because its node has died.\n")
    a = SimpleNamespace(trial_id="a", status="RUNNING", config={"lr": 0.01}, error_file=str(error), get_error=lambda: None)
    b = fake_trial("b", "RUNNING")
    rec = Recorder(None, "t", None, real_arrival_s)
    rec.on_trial_start(0, [a, b], a)

    def epochs(trial, numbers, node):
        for e in numbers:
            rec.on_trial_result(0, [], trial, {"epoch": e, "val_acc": 0.5 + e / 10, "epoch_s": 0.1, "node_ip": node})

    epochs(a, [1, 2], "10.0.0.2")
    epochs(b, [1, 2, 3], "10.0.0.1")
    rec.on_trial_recover(0, [b, a], a)  # the node of a was lost after its epoch 2
    epochs(a, [1, 2, 3], "10.0.0.1")  # the retry starts again on the node left
    a.status = b.status = "TERMINATED"
    rec.on_trial_complete(0, [b, a], b)
    rec.on_trial_complete(0, [b, a], a)
    rec.on_experiment_end([b, a])  # Tune's list: the retried trial last
    budget = Budget(max_epochs=3, num_trials=2)
    trials = rec.trial_records(budget, None, False)
    assert [t.trial_id for t in trials] == ["a", "b"]  # the order Tune created them in
    first = trials[0]
    assert [e.epoch for e in first.epochs] == [1, 2, 3] and first.outcome == COMPLETED and first.node == "10.0.0.1"
    assert first.retries == ("attempt 1 on 10.0.0.2 failed after epoch 2: The actor is dead because its node has died.",)
    assert trials[1].retries == () and trials[1].node == "10.0.0.1"
    # A failure before any result: the node is the one the error names, the error its last line.
    error.write_text(error.read_text() + "Failure # 2 (occurred at 2026-01-01_00-00-09)\n"
                     "ray::ResourceTrainable.train() (pid=7, ip=10.0.0.3, actor_id=ab)\n  File x, line 1\n"
                     "FloatingPointError: training loss is nan at epoch 1\n")
    c = SimpleNamespace(trial_id="c", status="RUNNING", config={"lr": 0.1}, error_file=str(error), get_error=lambda: None)
    rec.on_trial_recover(0, [a, b, c], c)
    assert rec._retries["c"] == ["attempt 1 on 10.0.0.3 failed after epoch 0: FloatingPointError: training loss is nan at epoch 1"]
    record = _record(tiny_problem(budget=budget), SimpleNamespace(name="random"), 0, budget, "2026", 1.0, 1.0, trials,
                     0.0, "10.0.0.1:6379")
    assert record.provenance["max_failures"] == 1 and record.epochs_used == 6
    assert RunRecord.from_dict(record.to_dict()) == record  # retries come back as a tuple
    old = record.to_dict()
    old["schema_version"] = 3
    for t in old["trials"]:
        del t["node"], t["retries"]
    assert [(t.node, t.retries) for t in RunRecord.from_dict(old).trials] == [(None, ()), (None, ())]  # older records load


def test_max_failures_is_a_problems_and_not_negative():
    from harness.core.errors import ConfigError

    assert tiny_problem().max_failures == 1
    assert tiny_problem(max_failures=0).fingerprint == tiny_problem().fingerprint  # retries do not change what is measured
    with pytest.raises(ConfigError, match="max_failures"):
        tiny_problem(max_failures=-1)


def test_decision_seconds_follow_the_trials_the_records_keep():
    budget = Budget(max_epochs=3, num_trials=3)
    rec = recorder_with({"a": 3, "b": 1}, {"a": "TERMINATED", "b": "TERMINATED"})
    rec.searcher = SimpleNamespace(seconds={"b": 0.25, "a": 0.5, "gone": 9.0})
    with pytest.raises(RuntimeError, match="trial_records first"):
        rec.decision_s()  # before the records choose their trials, any order would be a guess
    assert [t.trial_id for t in rec.trial_records(budget, None, wallclock_cut=False)] == ["a", "b"]
    assert rec.decision_s() == (0.5, 0.25)
    rec.searcher = None
    assert rec.decision_s() is None  # Ray's variant generator: not timed
