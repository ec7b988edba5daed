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
from harness import Budget
from harness.run import replay, runner
from harness.run.replay import table as tables
from harness.run.invariants import observed_concurrency, run_problems
from harness.core.errors import ConfigError
from harness.gate import evaluate, parse_rule, save_baseline, load_baseline
from harness.core.records import FAILED, SIMULATED
from harness.run.replay.clock import SimulatedActorManager

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
        synthetic_table(**changes), name="toy_replay", dataset="toy", n_classes=10,
        budget=budget or Budget(max_epochs=EPOCHS, num_trials=8), grid={"lr": (1e-3, 1e-1), "units": (32,), "batch_size": (32, 64)},
    )


def comparable(record) -> dict:
    """A record without what differs between two runs by nature: ids, real time, host provenance."""
    out = record.to_dict()
    for key in ("run_id", "started_at", "real_s", "overhead_s_per_trial", "provenance", "decision_s"):
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
    selected = problem.table.row(record.best_config)
    assert record.test_acc == float(problem.table.test_acc[selected, repeat, record.best_epoch - 1])
    assert record.best_val_acc == float(problem.table.val_acc[selected, repeat, record.best_epoch - 1])
    # One virtual worker: the simulated clock is the sum of the epochs replayed, with no idle time.
    assert record.wallclock_s == pytest.approx(sum(e.epoch_s for t in record.trials for e in t.epochs))
    assert observed_concurrency(record) == 1
    # The searcher's own seconds, per trial, beside the clock (never on it: the line above holds without them).
    from ray.tune.search import Searcher

    if isinstance(strategy.setup(problem, problem.budget, 1).search_alg, Searcher):
        assert len(record.decision_s) == len(record.trials) and min(record.decision_s) >= 0
        assert record.searcher_s > 0 and record.decision_s[0] > 0  # the first suggestion is a proposal too
    else:
        assert record.decision_s is None  # Ray's variant generator: not timed


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


@pytest.mark.parametrize("name, workers", [("random", 1), ("asha", 1), ("hyperband", 2), ("bohb", 1)])
def test_an_equal_compute_budget_spends_exactly_its_epochs_and_repeats_bit_for_bit(name, workers, ray_local):
    from harness.core.records import CUT_BY_TOTAL

    budget = Budget(max_epochs=EPOCHS, num_trials=None, total_epochs=4 * EPOCHS, max_concurrent_trials=workers)
    first, second = (runner.run(toy_problem(budget), strategies.get(name), seed=2) for _ in range(2))
    assert first.epochs_used == 4 * EPOCHS and first.budget["total_epochs"] == 4 * EPOCHS
    assert all(t.epochs for t in first.trials)  # trials created up front but never started are not kept
    if strategies.get(name).multi_fidelity:  # it spent the epochs on more trials than 4 full ones
        assert len(first.trials) > 4 and any(t.epochs_used < EPOCHS for t in first.trials)
    else:
        assert len(first.trials) == 4 and first.compute_saved == 0.0
    cut = [t for t in first.trials if t.outcome == CUT_BY_TOTAL]
    assert all(t.epochs_used < EPOCHS for t in cut)  # cut by the budget, and counted at what they used
    assert json.dumps(comparable(first), sort_keys=True) == json.dumps(comparable(second), sort_keys=True)


def test_the_searchers_run_on_one_thread_and_the_driver_gets_its_threads_back(ray_local, monkeypatch):
    from ray.tune.search.bayesopt import BayesOptSearch
    from threadpoolctl import threadpool_info

    def threads():
        return {p["filepath"]: p["num_threads"] for p in threadpool_info()}

    seen, suggest = [], BayesOptSearch.suggest
    monkeypatch.setattr(BayesOptSearch, "suggest", lambda self, trial_id: seen.append(threads()) or suggest(self, trial_id))
    before = threads()
    runner.run(toy_problem(), strategies.get("bayes"), seed=0)
    assert len(seen) == 8 and all(set(s.values()) == {1} for s in seen)
    assert threads() == before


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
def _runs(problem, names, seeds, budget=None):
    return [runner.run(problem, strategies.get(n), s, budget) for n in names for s in seeds]


def test_the_gate_passes_unchanged_replays_and_fails_a_strategy_that_explores_less(ray_local, tmp_path):
    problem, seeds = toy_problem(), range(8)
    base = _runs(problem, ["random", "asha"], seeds)
    path = save_baseline(base, tmp_path / "baseline.json")
    rules = [parse_rule(r) for r in ("best_val_acc:-0.01", "compute_saved:-0.05", "wallclock_s:+10%")]

    unchanged = evaluate(_runs(problem, ["random", "asha"], seeds), load_baseline(path), rules)
    assert unchanged.passed and unchanged.family == [], unchanged.report()  # replays repeat bit for bit

    fewer = dataclasses.replace(strategies.get("random"), build=_two_trials)
    worse = evaluate([runner.run(problem, fewer, s) for s in seeds] + _runs(problem, ["asha"], seeds),
                     load_baseline(path), rules)
    assert [(f.strategy, f.rule.metric) for f in worse.regressions] == [("random", "best_val_acc")], worse.report()
    assert "REGRESSION toy_replay/random best_val_acc" in worse.report() and "gate FAILED" in worse.report()


def _two_trials(problem, budget, seed):
    """Random search that samples 2 configurations instead of the budget's: a regression to catch."""
    from strategies._base import TuneSetup, variant_generator

    return TuneSetup(problem.space.to_tune(), variant_generator(seed), None, 2)


# -- recording ------------------------------------------------------------------------------------
TINY_TABLE_BENCHMARK = """
from tests.conftest import tiny_problem
PROBLEM = tiny_problem()
TABLE_LEVELS = {"lr": (3e-3, 3e-2), "units": (16, 64), "batch_size": (64,)}
"""


def test_record_table_sweeps_the_live_benchmark_stores_its_runs_and_resumes(ray_local, tmp_path, monkeypatch):
    from harness.fronts.record_table import record_table
    from harness.core.store import ResultStore

    (tmp_path / "tiny_table_bench.py").write_text(TINY_TABLE_BENCHMARK)
    monkeypatch.syspath_prepend(str(tmp_path))
    lines = []
    out = tmp_path / "tiny.npz"
    t = record_table("tiny_table_bench", out, seeds=[0], concurrency=1, results_dir=tmp_path / "results",
                     progress=lines.append)
    assert (t.n_configs, t.n_repeats, t.max_epochs) == (4, 1, 3)
    assert np.all(np.isfinite(t.val_acc)) and np.all(t.epoch_s > 0)
    assert np.all((t.test_acc > 0.05) & (t.test_acc <= 1))  # held-out test accuracy, every epoch
    assert tables.load(out).fingerprint == t.fingerprint and t.provenance["git_commit"]
    assert any("trial 4/4" in line for line in lines)  # progress, trial by trial
    [sweep] = ResultStore(tmp_path / "results").load_runs("tiny_sweep")
    assert sweep.run_id in t.provenance["sweep_runs"]
    with pytest.raises(ConfigError, match="exists"):
        record_table("tiny_table_bench", out, seeds=[0], concurrency=1, results_dir=tmp_path / "results")

    # A recording killed after seed 0, run again: seed 0 is reused, not retrained; a poisoned
    # (incomplete) sweep of seed 1 is not mistaken for a finished one.
    store = ResultStore(tmp_path / "results")
    store.save(dataclasses.replace(sweep, seed=1, run_id="poisoned", trials=sweep.trials[:2]))
    lines.clear()
    again = record_table("tiny_table_bench", tmp_path / "tiny2.npz", seeds=[0, 1], concurrency=1,
                         results_dir=tmp_path / "results", progress=lines.append)
    assert any(line.startswith("seed 0: reusing its finished sweep") for line in lines)
    assert any("seed 1 (2 of 2)" in line for line in lines)
    np.testing.assert_array_equal(again.val_acc[:, 0], t.val_acc[:, 0])
    assert again.seeds == (0, 1) and "poisoned" not in again.provenance["sweep_runs"]
    with pytest.raises(ConfigError, match="seeds repeat"):
        record_table("tiny_table_bench", tmp_path / "tiny3.npz", seeds=[1, 1], concurrency=1, results_dir=tmp_path / "r")


def test_table_levels_must_cover_the_space():
    from harness.fronts.record_table import table_axes

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
    assert t.n_repeats >= 20 and t.seeds == tuple(range(t.n_repeats))  # one independent recording per seed
    assert np.all(np.isfinite(t.test_acc) == np.isfinite(t.val_acc))
    t.space(SPACE.grid)  # every live grid value is recorded


def test_a_version_1_table_is_refused_with_the_command_that_re_records_it(tmp_path):
    path = synthetic_table().save(tmp_path / "t.npz")
    with np.load(path, allow_pickle=False) as a:
        arrays = {k: a[k].copy() for k in a.files if k != "test_acc"}
    meta = json.loads(str(arrays.pop("meta")))
    meta.update(version=1, provenance={"command": "python -m harness record-table benchmarks/test_digits.py --seeds 0 1 2"})
    np.savez(path, meta=np.array(json.dumps(meta)), **arrays)
    with pytest.raises(tables.TableError, match="table version 1; .*Re-record it: python -m harness record-table "
                                                  "benchmarks/test_digits.py --seeds 0 1 2 --out .*t.npz --force"):
        tables.load(path)


def test_independent_repeats_a_seed_replays_only_its_own():
    t = synthetic_table()
    assert [t.repeat_for(s) for s in range(10)] == list(range(10))
    with pytest.raises(tables.TableError, match="seed 10 has none"):
        t.repeat_for(10)  # 93b1eb7 replayed repeat 10 mod n: the same draw counted twice


REPLAY_BENCHMARK = """
from tests.test_replay import toy_problem
PROBLEM = toy_problem()
STRATEGIES = ["random", "hyperband"]

def test_toy(tuning_case, tuning_run):
    assert tuning_run(tuning_case).clock == "simulated"
"""


EXPLORES_LESS = REPLAY_BENCHMARK + """
import dataclasses
import strategies
from tests.test_replay import _two_trials
strategies._REGISTRY["random"] = dataclasses.replace(strategies.get("random"), build=_two_trials)
"""


def test_the_gate_option_fails_a_regressed_session_and_refuses_an_unlike_one(session, tmp_path):
    baseline = tmp_path / "baseline.json"
    made = session("--seeds", "8", "--save-baseline", str(baseline), module=REPLAY_BENCHMARK)
    assert made.ret == 0 and baseline.exists()
    made.stdout.fnmatch_lines(["*replays: 16 runs*simulated/real*"])
    same = session("--seeds", "8", "--gate", str(baseline))
    assert same.ret == 0
    same.stdout.fnmatch_lines(["*no gated pair moved*", "*gate passed: 0 regression(s) in 6*"])
    worse = session("--seeds", "8", "--gate", str(baseline), module=EXPLORES_LESS)
    assert worse.ret == 1
    worse.stdout.fnmatch_lines(["REGRESSION toy_replay/random best_val_acc*", "*gate FAILED*"])
    halved = session("--seeds", "8", "--gate", str(baseline), "--budget", "max_epochs=4", module=REPLAY_BENCHMARK)
    assert halved.ret == 2 and "passed" not in halved.stdout.str()  # refused before anything ran
    assert "toy_replay: the budget differs from" in halved.stderr.str() + halved.stdout.str()
    bad = session("--seeds", "2", "--gate", str(baseline), "--gate-rule", "wallclock_s:-1")
    assert bad.ret == 4 and "write wallclock_s:+1" in bad.stderr.str()


def test_a_seed_beyond_the_tables_repeats_is_refused_at_collection(session):
    result = session("--seeds", "11", module=REPLAY_BENCHMARK)
    assert result.ret == 4
    err = result.stderr.str()
    assert "table toy (in memory) records 10 independent repeats (seeds 0..9); seed 10 has none" in err


def test_kendall_tau_between_two_rankings(ray_local):
    from harness.evaluate.agreement import agreement

    problem = toy_problem()
    score = {"random": 0.9, "asha": 0.8, "hyperband": 0.7}
    runs = [dataclasses.replace(r, best_val_acc=score[r.strategy] + r.seed / 1000,
                                test_acc=score[r.strategy] - 0.01 + r.seed / 1000)
            for r in _runs(problem, list(score), range(3))]
    renamed = [dataclasses.replace(r, benchmark="copy") for r in runs]
    same = agreement(runs, renamed)
    assert same.tau_mean[0] == pytest.approx(1.0) and same.seeds == (0, 1, 2)
    assert same.tau_test[0] == pytest.approx(1.0) and same.ceiling_test is not None  # the same on held-out accuracy
    flipped = [dataclasses.replace(r, best_val_acc=1 - r.best_val_acc) for r in renamed]
    assert agreement(runs, flipped).tau_mean[0] == pytest.approx(-1.0)
    # Why: each side's Friedman test over the shared seeds (the scores order the strategies alike on every
    # seed, so both give the textbook chi2 = 6 on 2 df, p = e^-3), and the trials both sides ran alike.
    assert same.friedman_live == pytest.approx(math.exp(-3)) and same.friedman_replay == pytest.approx(math.exp(-3))
    trials = sum(len(r.trials) for r in runs)
    assert same.live_trials == trials and sum(same.shared_trials.values()) == trials and same.shared_max_diff == 0.0
    assert "validation accuracy differs by at most 0" in same.text("live", "copy")
    # The noise ceiling: the live seeds' own rankings against each other (bootstrapped); here every seed orders the
    # strategies alike, so the ceiling is a perfect 1. Identical samples do not differ on held-out accuracy.
    assert same.ceiling == (1.0, 1.0, 1.0) and "Noise ceiling" in same.text("live", "copy")
    assert set(same.differ) <= set(score) and all(p == 1.0 for _, p, _ in same.differ.values())
    assert "no strategy differs significantly" in same.text("live", "copy")
    # Compute used and what it bought, side by side: identical runs are within 10 % on both; a replay that started
    # half the trials is named.
    started = {s: sum(r.trials_started for r in runs if r.strategy == s) / 3 for s in score}
    assert same.trials == {s: (n, n) for s, n in started.items()}
    assert "Trials started a run, live/copy: " in same.text("live", "copy") and "all within 10%" in same.text("live", "copy")
    halved = [dataclasses.replace(r, trials=r.trials[: len(r.trials) // 2]) if r.strategy == "asha" else r for r in renamed]
    assert "not all within 10% (largest gap asha -" in agreement(runs, halved).text("live", "copy")
    moved = [dataclasses.replace(r, trials=tuple(dataclasses.replace(t, config={**t.config, "lr": -1.0}) for t in r.trials))
             for r in renamed]
    apart = agreement(runs, moved)
    assert apart.shared_trials == {} and apart.shared_max_diff is None
    assert "no configuration in common" in apart.text("live", "copy")
    nudged = [dataclasses.replace(r, trials=tuple(
        dataclasses.replace(t, epochs=tuple(dataclasses.replace(e, val_acc=e.val_acc + 0.25) for e in t.epochs))
        for t in r.trials)) for r in renamed]
    assert agreement(runs, nudged).shared_max_diff == pytest.approx(0.25)
    # A replayed trial that failed before its first epoch has nothing to compare: not counted, and no crash.
    failed = [dataclasses.replace(r, trials=tuple(dataclasses.replace(t, epochs=()) for t in r.trials)) for r in renamed]
    empty = agreement(runs, failed)
    assert empty.shared_trials == {} and "no configuration in common" in empty.text("live", "copy")
    # Epochs pair by number: a replayed trial cut after its first epoch is compared on that epoch alone.
    cut = [dataclasses.replace(r, trials=tuple(dataclasses.replace(t, epochs=t.epochs[:1]) for t in r.trials)) for r in renamed]
    assert agreement(runs, cut).shared_epochs == trials


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


def test_the_cli_report_and_a_pytest_session_write_the_same_report_from_the_same_runs(session, pytester):
    """Both front doors finish through one Session: the same stored runs give the same report.md, word for word."""
    three = REPLAY_BENCHMARK.replace('STRATEGIES = ["random", "hyperband"]', 'STRATEGIES = ["random", "hyperband", "asha"]')
    session("--seeds", "3", module=three).assert_outcomes(passed=9)
    by_pytest = (pytester.path / "results" / "report.md").read_text()
    (pytester.path / "results" / "report.md").unlink()
    done = subprocess.run([sys.executable, "-m", "harness", "report", str(pytester.path / "results")], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (pytester.path / "results" / "report.md").read_text() == by_pytest
    assert "## Verdict" in by_pytest and "toy_replay (3 seeds" in by_pytest
