"""Learning-curve tables, replays on the simulated clock, and the regression gate."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys

import numpy as np
import pytest

import strategies
from harness import Budget, replay, runner
from harness import table as tables
from harness.checks import observed_concurrency, run_problems
from harness.errors import ConfigError
from harness.gate import evaluate, parse_rule, save_baseline, load_baseline
from harness.records import FAILED, SIMULATED
from harness.simulation import SimulatedActorManager

from tests.conftest import ROOT, tiny_problem

PARAMS = {
    "lr": tables.Axis("log", (1e-3, 1e-2, 1e-1)),
    "units": tables.Axis("int", (16, 32, 64)),
    "batch_size": tables.Axis("choice", (32, 64)),
}
EPOCHS = 9


def synthetic_table(failed_row: int | None = None, **changes) -> tables.LearningCurveTable:
    """18 configurations x 10 independent repeats x 9 epochs: saturating curves, a different ceiling per configuration."""
    rng = np.random.default_rng(7)
    configs, repeats = 18, 10
    ceiling = rng.uniform(0.5, 0.97, (configs, repeats, 1))
    epochs = np.arange(1, EPOCHS + 1)
    acc = (ceiling * (1 - np.exp(-epochs / 3.0))).astype(np.float32)
    secs = np.broadcast_to(rng.uniform(0.1, 0.5, (configs, 1, 1)), acc.shape).astype(np.float32).copy()
    loss = (1 - acc).astype(np.float32)
    test = np.clip(acc - rng.normal(0.02, 0.01, acc.shape), 0, 1).astype(np.float32)
    if failed_row is not None:
        for a in (acc, loss, secs, test):
            a[failed_row, :, 4:] = np.nan
    fields = dict(benchmark="toy", params=PARAMS, seeds=tuple(range(repeats)), val_acc=acc, val_loss=loss, epoch_s=secs,
                  test_acc=test, provenance={"git_commit": "abc"})
    return tables.LearningCurveTable(**{**fields, **changes})


def toy_problem(budget: Budget | None = None, **changes):
    return replay.problem(
        synthetic_table(**changes), name="toy_replay", n_classes=10,
        budget=budget or Budget(max_epochs=EPOCHS, num_trials=8), grid={"lr": (1e-3, 1e-1), "units": (32,), "batch_size": (32, 64)},
    )


def comparable(record) -> dict:
    """A record without what differs between two runs by nature: ids, real time, host provenance."""
    out = record.to_dict()
    for key in ("run_id", "started_at", "real_s", "overhead_s_per_trial", "provenance"):
        out.pop(key)
    return out


# -- the table format ---------------------------------------------------------------------------
def test_table_round_trips_through_its_file(tmp_path):
    t = synthetic_table(failed_row=3)
    path = t.save(tmp_path / "t.npz")
    back = tables.load(path)
    assert back.params == t.params and back.seeds == t.seeds and back.provenance == t.provenance
    for k in tables.ARRAYS:
        np.testing.assert_array_equal(getattr(back, k), getattr(t, k))
    assert back.fingerprint == t.fingerprint
    with pytest.raises(Exception, match="exists"):
        t.save(path)  # a table is not overwritten by accident


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m, a: m.update(version=99), "version 99"),
        (lambda m, a: m.update(format="something else"), "format"),
        (lambda m, a: a.update(epoch_s=-a["epoch_s"]), "non-negative"),
        (lambda m, a: a.update(val_acc=a["val_acc"][:5]), "share one"),
        (lambda m, a: m["params"][0].update(levels=[1e-3, 1e-2]), "levels make"),
        (lambda m, a: m["params"].append(m["params"][0]), "listed twice"),
        (lambda m, a: a["val_acc"].__setitem__((0, 0, 2), np.nan), "gap"),
        (lambda m, a: a["val_acc"].__setitem__((0, 0, 2), 1.5), "outside"),
        (lambda m, a: m.update(seeds=[0]), "seeds listed"),
    ],
)
def test_bad_table_files_are_refused_with_the_reason(tmp_path, change, message):
    path = synthetic_table().save(tmp_path / "t.npz")
    with np.load(path, allow_pickle=False) as a:
        arrays = {k: a[k].copy() for k in a.files}
    meta = json.loads(str(arrays.pop("meta")))
    change(meta, arrays)
    np.savez(path, meta=np.array(json.dumps(meta)), **arrays)
    with pytest.raises(tables.TableError, match=message) as err:
        tables.load(path)
    assert str(path) in str(err.value)


def test_missing_and_foreign_files_name_the_file(tmp_path):
    with pytest.raises(tables.TableError, match="no such table file"):
        tables.load(tmp_path / "absent.npz")
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(tables.TableError, match="junk.npz: not a learning-curve table"):
        tables.load(tmp_path / "junk.npz")


def test_proposals_snap_to_the_nearest_recorded_level():
    t = synthetic_table()
    # log axis: 3e-3 is nearer 1e-3 than 1e-2 in log space (0.48 vs 0.52 decades); linear would say 1e-2
    assert t.snap({"lr": 3e-3, "units": 20, "batch_size": 64}) == {"lr": 1e-3, "units": 16, "batch_size": 64}
    assert t.snap({"lr": 4e-3, "units": 25, "batch_size": 32}) == {"lr": 1e-2, "units": 32, "batch_size": 32}
    assert t.snap({"lr": 5.0, "units": 1000, "batch_size": 32})["lr"] == 1e-1  # beyond the range: the end level
    assert t.snap({"lr": 1e-2, "units": 24, "batch_size": 32})["units"] == 16  # a tie goes to the lower level
    with pytest.raises(tables.TableError, match="not one of the recorded levels"):
        t.snap({"lr": 1e-2, "units": 16, "batch_size": 48})
    rows = {t.row(c) for c in t.configs()}
    assert rows == set(range(t.n_configs))  # product order: every configuration has its own row


def test_the_replay_space_spans_the_levels_with_the_live_kinds():
    space = synthetic_table().space()
    assert (space.params["lr"].low, space.params["lr"].high) == (1e-3, 1e-1)
    assert type(space.params["lr"]).__name__ == "LogUniform"
    assert (space.params["units"].low, space.params["units"].high) == (16, 64)
    assert space.params["batch_size"].values == (32, 64)
    with pytest.raises(tables.TableError, match="not recorded levels"):
        synthetic_table().space({"lr": (3e-3,), "units": (16,), "batch_size": (32,)})
    with pytest.raises(ConfigError, match="exceeds the 9 epochs"):
        toy_problem(Budget(max_epochs=EPOCHS + 1, num_trials=4))


# -- replays --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", strategies.names())
def test_every_strategy_replays_the_table_it_was_given(name, ray_local):
    problem = toy_problem()
    record = runner.run(problem, strategies.get(name), seed=1)
    strategy = strategies.get(name)
    assert record.clock == SIMULATED and record.provenance["table"]["fingerprint"] == problem.table.fingerprint
    assert run_problems(record, problem.chance_accuracy, strategy.multi_fidelity, bar=0.3) == []
    repeat = problem.table.repeat_for(1)
    for trial in record.trials:
        row = problem.table.row(trial.config)
        assert trial.config == problem.table.snap(trial.config)  # the record names the configuration replayed
        for e in trial.epochs:
            assert e.val_acc == float(problem.table.val_acc[row, repeat, e.epoch - 1])
            assert e.epoch_s == float(problem.table.epoch_s[row, repeat, e.epoch - 1])
    # One virtual worker: the simulated clock is the sum of the epochs replayed, with no idle time.
    assert record.wallclock_s == pytest.approx(sum(e.epoch_s for t in record.trials for e in t.epochs))
    assert observed_concurrency(record) == 1


def test_virtual_workers_run_trials_side_by_side(ray_local):
    flat = synthetic_table()
    same_time = dataclasses.replace(flat, epoch_s=np.full_like(flat.epoch_s, 0.5))
    problem = dataclasses.replace(toy_problem(), table=same_time)
    records = {n: runner.run(problem, strategies.get("random"), 0, Budget(max_epochs=EPOCHS, num_trials=8,
                                                                          max_concurrent_trials=n)) for n in (1, 3)}
    # 8 FIFO trials of 9 epochs x 0.5 s: 36 s on one worker; ceil(8 / 3) = 3 waves of 4.5 s on three.
    assert records[1].wallclock_s == pytest.approx(36.0)
    assert records[3].wallclock_s == pytest.approx(13.5)
    assert observed_concurrency(records[3]) == 3
    assert records[3].provenance["deterministic"] is True


@pytest.mark.parametrize("name, workers", [("hyperband", 3), ("bohb", 1), ("asha", 2), ("bayes", 1)])
def test_same_seed_same_replay_bit_for_bit(name, workers, ray_local):
    problem = toy_problem(Budget(max_epochs=EPOCHS, num_trials=10, max_concurrent_trials=workers))
    first, second = (runner.run(problem, strategies.get(name), seed=4) for _ in range(2))
    assert json.dumps(comparable(first), sort_keys=True) == json.dumps(comparable(second), sort_keys=True)


REPLAY_IN_A_FRESH_PROCESS = """
import json, sys
sys.path.insert(0, {root!r})
from tests.test_replay import Budget, comparable, runner, strategies, toy_problem
problem = toy_problem(Budget(max_epochs=9, num_trials=10, max_concurrent_trials=3))
print(json.dumps(comparable(runner.run(problem, strategies.get("hyperband"), seed=2)), sort_keys=True))
"""


def test_a_replay_repeats_in_another_process():
    # Another process means other memory addresses and another string-hash seed: the two things
    # that reorder Tune's sets of trials, had the simulation not pinned their order.
    outs = []
    for hash_seed in ("1", "2"):
        proc = subprocess.run(
            [sys.executable, "-c", REPLAY_IN_A_FRESH_PROCESS.format(root=str(ROOT))],
            capture_output=True, text=True, timeout=300, cwd=ROOT,
            env={**__import__("os").environ, "PYTHONHASHSEED": hash_seed},
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        outs.append(proc.stdout.strip().splitlines()[-1])
    assert outs[0] == outs[1]


def test_a_failure_recorded_in_the_table_fails_the_replayed_trial(ray_local):
    problem = toy_problem(failed_row=0)
    grid = {"lr": (1e-3,), "units": (16,), "batch_size": (32,)}  # row 0 only
    problem = dataclasses.replace(problem, space=problem.table.space(grid))
    record = runner.run(problem, strategies.get("grid"), seed=0)
    [trial] = record.trials
    assert trial.outcome == FAILED and trial.epochs_used == 4 and "not finite" in trial.error


def test_the_simulated_manager_still_matches_rays():
    """The simulation overrides RayActorManager's Ray-facing methods: if Ray renames them, fail here."""
    from ray.air.execution._internal.actor_manager import RayActorManager
    from ray.tune.execution import tune_controller

    assert tune_controller.RayActorManager is RayActorManager
    for method in ("next", "_try_start_actors", "_try_kill_actor", "cleanup", "add_actor", "get_live_actors_resources",
                   "remove_actor", "schedule_actor_task", "_enqueue_cached_actor_tasks", "_actor_start_resolved"):
        assert callable(getattr(RayActorManager, method)), method
        assert method in SimulatedActorManager.__dict__ or method in RayActorManager.__dict__
    manager = SimulatedActorManager()
    for attr in ("_live_actors_to_ray_actors_resources", "_pending_actors_to_attrs", "_live_actors_to_kill",
                 "_resource_request_to_pending_actors", "_tracked_actors_to_state_futures"):
        assert hasattr(manager, attr), attr


# -- the gate -------------------------------------------------------------------------------------
def test_rules_know_each_metrics_direction():
    assert parse_rule("best_acc:-0.01").tolerance == 0.01
    rule = parse_rule("wallclock_s:+10%")
    assert rule.relative and rule.tolerance == pytest.approx(0.1) and rule.allowance(50.0) == pytest.approx(5.0)
    with pytest.raises(ConfigError, match="write best_acc:-0.01"):
        parse_rule("best_acc:+0.01")
    with pytest.raises(ConfigError, match="write wallclock_s:\\+5%"):
        parse_rule("wallclock_s:-5%")
    with pytest.raises(ConfigError, match="METRIC:TOLERANCE"):
        parse_rule("accuracy:-0.01")
    with pytest.raises(ConfigError, match="give the tolerance a sign"):
        parse_rule("best_acc:0.01")


def _runs(problem, names, seeds, budget=None):
    return [runner.run(problem, strategies.get(n), s, budget) for n in names for s in seeds]


def test_the_gate_fails_a_halved_budget_and_passes_an_unchanged_one(ray_local, tmp_path):
    problem, seeds = toy_problem(), range(8)
    base = _runs(problem, ["random", "asha"], seeds)
    path = save_baseline(base, tmp_path / "baseline.json")
    rules = [parse_rule(r) for r in ("best_acc:-0.01", "compute_saved:-0.05", "wallclock_s:+10%")]

    unchanged = evaluate(_runs(problem, ["random", "asha"], seeds), load_baseline(path), rules)
    assert unchanged.passed, unchanged.report()

    halved = dataclasses.replace(problem.budget, max_epochs=problem.budget.max_epochs // 2)
    worse = evaluate(_runs(problem, ["random", "asha"], seeds, halved), load_baseline(path), rules)
    assert not worse.passed
    flagged = {(f.strategy, f.rule.metric) for f in worse.regressions}
    assert ("random", "best_acc") in flagged and ("asha", "best_acc") in flagged
    text = worse.report()
    assert "REGRESSION toy_replay/random best_acc" in text and "p = 0.0039" in text and "gate FAILED" in text


def test_one_bad_seed_is_noise_not_a_regression(ray_local, tmp_path):
    problem = toy_problem()
    base = _runs(problem, ["random"], range(8))
    baseline = json.loads(save_baseline(base, tmp_path / "b.json").read_text())
    baseline["runs"][0]["metrics"]["best_acc"] += 0.5  # one seed now looks far worse than before
    result = evaluate(base, baseline, [parse_rule("best_acc:-0.01")])
    assert result.passed
    [finding] = result.findings
    assert finding.change < -0.01 and "not consistently" in finding.note


def test_the_gate_command_exits_by_its_verdict(ray_local, tmp_path):
    from harness.store import ResultStore

    problem = toy_problem()
    store = ResultStore(tmp_path / "results")
    for r in _runs(problem, ["random"], range(7)):
        store.save(r)
    baseline = tmp_path / "b.json"

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, cwd=ROOT, timeout=120)

    assert cli("baseline", "--results-dir", str(tmp_path / "results"), "--benchmark", "toy_replay", "--out", str(baseline)).returncode == 0
    ok = cli("gate", "--baseline", str(baseline), "--results-dir", str(tmp_path / "results"))
    assert ok.returncode == 0 and "gate passed" in ok.stdout
    data = json.loads(baseline.read_text())
    for entry in data["runs"]:
        entry["metrics"]["best_acc"] += 0.05  # as if every seed used to be 0.05 better
    baseline.write_text(json.dumps(data))
    bad = cli("gate", "--baseline", str(baseline), "--results-dir", str(tmp_path / "results"))
    assert bad.returncode == 1 and "REGRESSION toy_replay/random best_acc" in bad.stdout
    usage = cli("gate", "--baseline", str(baseline), "--rule", "best_acc:+1")
    assert usage.returncode == 2 and "write best_acc:-1" in usage.stderr


# -- recording ------------------------------------------------------------------------------------
TINY_TABLE_BENCHMARK = """
from tests.conftest import tiny_problem
PROBLEM = tiny_problem()
TABLE_LEVELS = {"lr": (3e-3, 3e-2), "units": (16, 64), "batch_size": (64,)}
"""


def test_record_table_sweeps_the_live_benchmark_and_stores_its_runs(ray_local, tmp_path, monkeypatch):
    from harness.recording import record_table
    from harness.store import ResultStore

    (tmp_path / "tiny_table_bench.py").write_text(TINY_TABLE_BENCHMARK)
    monkeypatch.syspath_prepend(str(tmp_path))
    lines = []
    out = tmp_path / "tiny.npz"
    t = record_table("tiny_table_bench", out, seeds=[0], concurrency=1, results_dir=tmp_path / "results",
                     progress=lines.append)
    assert (t.n_configs, t.n_repeats, t.max_epochs) == (4, 1, 3)
    assert np.all(np.isfinite(t.val_acc)) and np.all(t.epoch_s > 0)
    assert tables.load(out).fingerprint == t.fingerprint and t.provenance["git_commit"]
    assert any("trial 4/4" in line for line in lines)  # progress, trial by trial
    [sweep] = ResultStore(tmp_path / "results").load_runs("tiny_sweep")
    assert sweep.run_id in t.provenance["sweep_runs"]
    with pytest.raises(ConfigError, match="exists"):
        record_table("tiny_table_bench", out, seeds=[0], concurrency=1, results_dir=tmp_path / "results")


def test_table_levels_must_cover_the_space():
    from harness.recording import table_axes

    with pytest.raises(ConfigError, match="missing \\['batch_size'\\]"):
        table_axes(tiny_problem(), {"lr": (3e-3,), "units": (16,)})
    with pytest.raises(ConfigError, match="outside"):
        table_axes(tiny_problem(), {"lr": (1.0,), "units": (16,), "batch_size": (64,)})


def test_the_shipped_digits_table_loads_and_covers_the_live_grid():
    from benchmarks.test_digits import SPACE, TABLE_LEVELS

    t = tables.load(ROOT / "datasets" / "tables" / "digits.npz")
    assert {n: a.levels for n, a in t.params.items()} == {n: tuple(v) for n, v in TABLE_LEVELS.items()}
    assert t.n_configs == math.prod(len(v) for v in TABLE_LEVELS.values()) >= 200
    assert t.max_epochs == 9 and t.provenance.get("git_commit")
    t.space(SPACE.grid)  # every live grid value is recorded


REPLAY_BENCHMARK = """
from tests.test_replay import toy_problem
PROBLEM = toy_problem()
STRATEGIES = ["random", "hyperband"]

def test_toy(tuning_case, tuning_run):
    assert tuning_run(tuning_case).clock == "simulated"
"""


def test_the_gate_option_fails_the_session_on_a_halved_budget(session, tmp_path):
    baseline = tmp_path / "baseline.json"
    made = session("--seeds", "8", "--save-baseline", str(baseline), module=REPLAY_BENCHMARK)
    assert made.ret == 0 and baseline.exists()
    made.stdout.fnmatch_lines(["*replays: 16 runs*simulated/real*"])
    same = session("--seeds", "8", "--gate", str(baseline))
    assert same.ret == 0
    same.stdout.fnmatch_lines(["*gate passed: 0 regression(s) in 6*"])
    halved = session("--seeds", "8", "--gate", str(baseline), "--budget", "max_epochs=4")
    assert halved.ret == 1
    halved.stdout.fnmatch_lines(["REGRESSION toy_replay/random best_acc*p = 0.0039*", "*gate FAILED*"])
    bad = session("--seeds", "2", "--gate", str(baseline), "--gate-rule", "wallclock_s:-1")
    assert bad.ret == 4 and "write wallclock_s:+1" in bad.stderr.str()


def test_kendall_tau_between_two_rankings(ray_local):
    from harness.fidelity import agreement

    problem = toy_problem()
    score = {"random": 0.9, "asha": 0.8, "hyperband": 0.7}
    runs = [dataclasses.replace(r, best_val_acc=score[r.strategy] + r.seed / 1000)
            for r in _runs(problem, list(score), range(3))]
    renamed = [dataclasses.replace(r, benchmark="copy") for r in runs]
    same = agreement(runs, renamed)
    assert same.tau_mean[0] == pytest.approx(1.0) and same.seeds == (0, 1, 2)
    flipped = [dataclasses.replace(r, best_val_acc=1 - r.best_val_acc) for r in renamed]
    assert agreement(runs, flipped).tau_mean[0] == pytest.approx(-1.0)


def _no_row(self, config):
    raise KeyError("no such row")


def test_a_trainable_that_fails_to_start_fails_its_trial_not_the_run(ray_local, monkeypatch):
    monkeypatch.setattr(tables.LearningCurveTable, "row", _no_row)  # TableTrainable.setup raises
    record = runner.run(toy_problem(Budget(max_epochs=3, num_trials=2)), strategies.get("random"), seed=0)
    assert [t.outcome for t in record.trials] == [FAILED, FAILED]
    assert all("no such row" in t.error for t in record.trials)


def test_a_wallclock_cap_is_on_the_simulated_clock(ray_local):
    problem = toy_problem(Budget(max_epochs=EPOCHS, num_trials=8, wallclock_s=5.0))
    record = runner.run(problem, strategies.get("random"), seed=0)
    last_epoch = max(e.epoch_s for t in record.trials for e in t.epochs)
    # The first result past the cap ends the run; the epoch its trial had already begun still runs
    # out before the actor stops, as a Ray actor finishes its current call.
    assert 5.0 <= record.wallclock_s < 5.0 + 2 * last_epoch
    assert {t.outcome for t in record.trials} >= {"cut_by_wallclock"}
    assert record.compute_saved == 0.0  # the cap saves nothing: a cut trial counts at what it used


def test_a_budget_beyond_the_table_is_refused_at_collection(session):
    result = session("--budget", "max_epochs=12", module=REPLAY_BENCHMARK)
    assert result.ret == 4
    assert "budget max_epochs=12 exceeds the 9 epochs its table records" in result.stderr.str()
