"""Every registered strategy runs through Ray Tune on a tiny real budget and yields a sound record."""

from __future__ import annotations

import pytest

import strategies
from harness import Budget, Choice, SearchSpace
from harness.run import runner
from harness.run.invariants import observed_concurrency, run_problems
from harness.core.records import COMPLETED, FAILED
from harness.core.store import ResultStore

from tests.conftest import tiny_problem


@pytest.mark.parametrize("name", strategies.names())
def test_strategy_runs_end_to_end(name, ray_local, tmp_path):
    problem = tiny_problem()
    strategy = strategies.get(name)
    record = runner.run(problem, strategy, seed=0)
    assert ResultStore(tmp_path).load_runs() == [] and ResultStore(tmp_path).save(record).exists()
    assert ResultStore(tmp_path).load_runs() == [record]  # the record survives its JSON form intact

    expected_trials = problem.space.grid_size if strategy.grid_only else problem.budget.num_trials
    assert record.trials_started == expected_trials
    assert run_problems(record, problem.chance_accuracy, strategy.multi_fidelity) == []
    assert record.epochs_full == expected_trials * problem.budget.max_epochs
    for trial in record.trials:
        assert [e.epoch for e in trial.epochs] == list(range(1, trial.epochs_used + 1))
        assert all(e.epoch_s > 0 and 0 <= e.val_acc <= 1 for e in trial.epochs)
        assert set(problem.space.params) <= set(trial.config)
        assert all(problem.space.params[k].contains(trial.config[k]) for k in problem.space.params)
    assert observed_concurrency(record) == 1
    assert record.provenance["seed"] == 0 and record.provenance["versions"]["ray"]
    # Held-out test accuracy: every epoch, and the selected configuration's at the epoch it was selected.
    assert all(0 <= e.test_acc <= 1 for t in record.trials for e in t.epochs)
    best = next(t for t in record.trials if t.trial_id == record.best_trial_id)
    assert record.best_epoch == best.best_epoch.epoch and record.test_acc == best.best_epoch.test_acc
    assert best.epochs[record.best_epoch - 1].val_acc == record.best_val_acc
    # A live run's clock holds the searcher's own seconds; they are recorded per trial beside it.
    if record.decision_s is not None:
        assert len(record.decision_s) == len(record.trials) and 0 < record.searcher_s < record.wallclock_s


@pytest.mark.parametrize("name", ["random", "asha", "bayes"])
def test_same_seed_same_run(name, ray_local):
    problem = tiny_problem(budget=Budget(max_epochs=2, num_trials=4))  # bayes: 2 random starts, then its GP
    first, second = (runner.run(problem, strategies.get(name), seed=3) for _ in range(2))
    assert [t.config for t in first.trials] == [t.config for t in second.trials]
    assert [[e.val_acc for e in t.epochs] for t in first.trials] == [[e.val_acc for e in t.epochs] for t in second.trials]
    other = runner.run(problem, strategies.get(name), seed=4)
    assert [t.config for t in other.trials] != [t.config for t in first.trials]


def poisoned_mlp(config, input_shape, n_classes):
    """An MLP whose loss is NaN when ``poison`` is set: a trial that must be recorded as failed."""
    from harness.run.live.models import mlp

    model = mlp(config, input_shape, n_classes)
    if config["poison"]:
        import torch

        with torch.no_grad():
            model[-1].bias.fill_(float("nan"))
    return model


def crashing_mlp(config, input_shape, n_classes):
    if config["poison"]:
        raise RuntimeError("model construction failed on purpose")
    from harness.run.live.models import mlp

    return mlp(config, input_shape, n_classes)


@pytest.mark.parametrize("factory, message", [(poisoned_mlp, "loss is nan"), (crashing_mlp, "on purpose")])
def test_a_failing_trial_is_recorded_and_the_run_goes_on(factory, message, ray_local):
    space = SearchSpace({"poison": Choice([0, 1]), "lr": Choice([0.01])}, {"poison": (1, 0), "lr": (0.01,)})
    problem = tiny_problem(space=space, build_model=factory)
    record = runner.run(problem, strategies.get("grid"), seed=0)
    by_poison = {t.config["poison"]: t for t in record.trials}
    assert by_poison[1].outcome == FAILED and by_poison[1].final_state == "ERROR"
    assert message in by_poison[1].error.lower() if message == "loss is nan" else message in by_poison[1].error
    assert by_poison[0].outcome == COMPLETED and by_poison[0].epochs_used == problem.budget.max_epochs
    assert record.best_config["poison"] == 0 and record.best_val_acc > 0.5
    # Tune retries every failure alike (problem.max_failures, 1 by default): the record says the failed one was tried twice.
    assert len(by_poison[1].retries) == problem.max_failures == 1 and by_poison[0].retries == ()
    assert by_poison[1].retries[0].startswith("attempt 1 on 127.0.0.1 failed after epoch 0: ")
    assert by_poison[1].retries[0].endswith(by_poison[1].error)  # both attempts failed alike


def test_a_live_runs_ray_experiment_folder_is_kept_and_opens_with_tune(ray_local, tmp_path):
    from ray import tune

    problem = tiny_problem()
    record = runner.run(problem, strategies.get("hyperband"), seed=0, experiment_dir=tmp_path / "ray")
    folder = tmp_path / "ray" / record.run_id
    assert record.provenance["ray_experiment"] == str(folder.resolve()) and folder.is_dir()
    analysis = tune.ExperimentAnalysis(str(folder))
    assert len(analysis.trials) == record.trials_started
    frame = analysis.dataframe(metric="val_acc", mode="max")
    assert len(frame) == record.trials_started and frame["val_acc"].max() == pytest.approx(record.best_val_acc)
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    print(f"Ray experiment folder of a {record.trials_started}-trial hyperband run: {size / 1e6:.2f} MB")
