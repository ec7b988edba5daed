"""The regression gate on synthetic records: power where it must fail, silence where nothing changed,
like-with-like refusals, and what it says when the seeds cannot suffice. No Ray, no training."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from harness.gate import DEFAULT_RULES, GateMismatch, evaluate, load_baseline, parse_rule, save_baseline
from harness.core.records import COMPLETED, SIMULATED, EpochRecord, RunRecord, TrialRecord

from tests.conftest import ROOT

RULES = [parse_rule(r) for r in DEFAULT_RULES]
STRATEGIES = ["grid", "random", "bayes", "hyperband", "hyperopt", "bohb", "asha", "hyperopt-asha", "optuna-gp", "optuna-tpe"]
MULTI_FIDELITY = {"hyperband", "bohb", "asha", "hyperopt-asha"}
CI_SEEDS = 15


def record(strategy, seed, best, saved=0.0, wall=10.0, benchmark="digits_replay", table="fp", max_epochs=9):
    epochs = (EpochRecord(1, best, 0.1, 0.1, wall, wall, best - 0.01),)
    return RunRecord(
        run_id=f"{benchmark}-{strategy}-{seed}", benchmark=benchmark, strategy=strategy, seed=seed,
        budget={"max_epochs": max_epochs, "num_trials": 12, "max_concurrent_trials": 1, "gpus_per_trial_resolved": 0.0},
        started_at=f"2026-11-24T10:00:{seed:02d}", wallclock_s=wall, best_val_acc=best, best_config={}, best_trial_id="t",
        epochs_used=9, epochs_full=9, compute_saved=saved, train_s=wall, overhead_s_per_trial=0.0,
        trials=(TrialRecord("t", {}, "TERMINATED", COMPLETED, epochs),), provenance={"table": {"fingerprint": table}},
        clock=SIMULATED, test_acc=best - 0.01,
    )


def session(seeds=CI_SEEDS, benchmark="digits_replay", change=None, rng_seed=0, **kwargs):
    """Ten strategies with seed-to-seed spread; ``change(strategy, seed, values) -> values`` alters some."""
    rng = np.random.default_rng(rng_seed)
    out = []
    for s_index, strategy in enumerate(STRATEGIES):
        for seed in range(seeds):
            values = {
                "best": float(np.round(rng.normal(0.97, 0.01), 3)),
                "saved": float(rng.uniform(0.3, 0.7)) if strategy in MULTI_FIDELITY else 0.0,
                "wall": float(rng.lognormal(1.5, 0.25)),
            }
            if change is not None:
                values = change(strategy, seed, dict(values))
            out.append(record(strategy, seed, values["best"], values["saved"], values["wall"], benchmark, **kwargs))
    return out


def baseline_of(records, tmp_path):
    return load_baseline(save_baseline(records, tmp_path / "baseline.json"))


def test_an_unchanged_run_passes_and_the_family_leaves_out_pairs_that_cannot_move(tmp_path):
    base = session()
    result = evaluate(session(), baseline_of(base, tmp_path), RULES)
    assert result.passed and len(result.findings) == 30
    assert result.family == []  # replays repeat bit for bit: nothing moved, nothing to test
    changed = session(change=lambda s, seed, v: {**v, "wall": v["wall"] * 1.01})  # every wall-clock moved a little
    moved = evaluate(changed, baseline_of(base, tmp_path), RULES)
    assert len(moved.family) == 10  # the FIFO strategies' compute_saved (always 0) never enters the family
    assert "family: 10 of 30 gated" in moved.report()


def test_a_collapse_on_every_seed_fails_with_nine_seeds(tmp_path):
    # 93b1eb7 passed this (Holm p = 0.0586 over 30 pairs) and called it "not consistently across seeds".
    base = session(seeds=9)
    collapsed = session(seeds=9, change=lambda s, seed, v: {**v, "best": 0.50} if s == "random" else v)
    result = evaluate(collapsed, baseline_of(base, tmp_path), RULES)
    [finding] = result.regressions
    assert (finding.strategy, finding.rule.metric) == ("random", "best_val_acc") and finding.p == pytest.approx(1 / 512)
    assert "REGRESSION digits_replay/random best_val_acc" in result.report()


def test_a_drop_on_nine_seeds_and_a_tiny_gain_on_one_fails(tmp_path):
    base = session(seeds=10)

    def change(s, seed, v):
        if s == "random":
            v["best"] += 0.001 if seed == 0 else -0.05
        return v

    result = evaluate(session(seeds=10, change=change), baseline_of(base, tmp_path), RULES)
    assert [(f.strategy, f.rule.metric) for f in result.regressions] == [("random", "best_val_acc")]


@pytest.mark.parametrize("metric, strategy, drop", [("best", "random", 0.03), ("saved", "asha", 0.10)])
def test_a_drop_on_80_percent_of_the_ci_seeds_fails(tmp_path, metric, strategy, drop):
    base = session()
    regressed = set(range(CI_SEEDS)[: int(round(0.8 * CI_SEEDS))])

    def change(s, seed, v):
        if s == strategy and seed in regressed:
            v[metric] -= drop
        return v

    result = evaluate(session(change=change), baseline_of(base, tmp_path), RULES)
    rule = "best_val_acc" if metric == "best" else "compute_saved"
    assert [(f.strategy, f.rule.metric) for f in result.regressions] == [(strategy, rule)]


def test_a_drop_fails_even_when_every_other_pair_moves_too(tmp_path):
    # The family is then all 24 movable pairs: 10 strategies x 3 rules less the 6 FIFO compute_saved.
    base = session()
    regressed = set(range(10))

    def change(s, seed, v):
        v = {**v, "wall": v["wall"] * (1.02 if (seed + len(s)) % 2 else 0.98),
             "best": v["best"] + (0.002 if (seed * 7 + len(s)) % 3 == 0 else -0.002 if (seed + len(s)) % 3 == 1 else 0.0)}
        if s in MULTI_FIDELITY:
            v["saved"] += 0.01 if seed % 2 else -0.01
        if s == "random" and seed in regressed:
            v["best"] -= 0.03
        return v

    result = evaluate(session(change=change), baseline_of(base, tmp_path), RULES)
    assert len(result.family) == 24
    assert [(f.strategy, f.rule.metric) for f in result.regressions] == [("random", "best_val_acc")]


def test_two_gated_benchmarks_can_still_fail(tmp_path):
    # 60 pairs: under 93b1eb7's family even 10 of 10 seeds worse could never pass Holm.
    base = session(seeds=10) + session(seeds=10, benchmark="other_replay")
    every = session(seeds=10, change=lambda s, seed, v: {**v, "best": v["best"] - 0.05} if s == "asha" else v)
    result = evaluate(every + session(seeds=10, benchmark="other_replay"), baseline_of(base, tmp_path), RULES)
    assert [(f.benchmark, f.strategy, f.rule.metric) for f in result.regressions] == [("digits_replay", "asha", "best_val_acc")]


def test_one_bad_seed_is_noise_not_a_regression(tmp_path):
    base = session()
    one = session(change=lambda s, seed, v: {**v, "best": v["best"] - 0.5} if (s, seed) == ("random", 3) else v)
    result = evaluate(one, baseline_of(base, tmp_path), RULES)
    assert result.passed
    [finding] = [f for f in result.findings if f.worse]
    assert "1 changed seeds could never reach significance" in finding.note and "needs >= 5 changed seeds" in finding.note


def test_too_few_seeds_is_inconclusive_never_passed(tmp_path):
    base = session(seeds=4)
    every = session(seeds=4, change=lambda s, seed, v: {**v, "best": v["best"] - 0.2} if s == "random" else v)
    result = evaluate(every, baseline_of(base, tmp_path), RULES)
    assert not result.passed and result.inconclusive and not result.regressions  # 4 seeds: 1/16 can never be < 0.05
    text = result.report()
    assert "4 changed seeds could never reach significance" in text and "needs >= 5 changed seeds" in text
    assert "the gate is inconclusive; it needs >= 5 seeds" in text and "gate INCONCLUSIVE (not passed" in text
    # Runs that repeat bit for bit moved nothing: at 4 seeds that still passes.
    same = evaluate(base, baseline_of(base, tmp_path), RULES)
    assert same.passed and not same.family


def test_a_run_whose_trials_all_failed_is_a_regression(tmp_path):
    import dataclasses

    base = session()
    failed = [dataclasses.replace(r, best_val_acc=None, test_acc=None, best_config=None, best_trial_id=None)
              if (r.strategy, r.seed) == ("random", 3) else r for r in base]
    result = evaluate(failed, baseline_of(base, tmp_path), RULES)
    assert not result.passed and result.failed_runs == ("digits_replay/random seed 3",)
    assert "REGRESSION digits_replay/random seed 3: every trial failed" in result.report()
    assert "gate FAILED: 1 regression(s)" in result.report()


@pytest.mark.parametrize("what, change, message", [
    ("table", dict(table="other"), "table fingerprint other differs from"),
    ("budget", dict(max_epochs=4), "the budget differs from the baseline's: max_epochs=4 (baseline 9)"),
    ("benchmark", dict(benchmark="mnist1d_replay"), "benchmark mnist1d_replay is not in the baseline"),
])
def test_an_unlike_baseline_is_refused_in_one_line(tmp_path, what, change, message):
    base = baseline_of(session(seeds=3), tmp_path)
    kwargs = {k: v for k, v in change.items() if k != "benchmark"}
    runs = session(seeds=3, benchmark=change.get("benchmark", "digits_replay"), **kwargs)
    import re

    with pytest.raises(GateMismatch, match=re.escape(message)) as err:
        evaluate(runs, base, RULES)
    assert "\n" not in str(err.value)


def test_runs_that_mix_budgets_are_refused(tmp_path):
    base = baseline_of(session(seeds=3), tmp_path)
    mixed = session(seeds=3)[:-3] + [record("optuna-tpe", s, 0.97, max_epochs=5) for s in range(3)]
    with pytest.raises(GateMismatch, match="this session's runs mix experiments"):
        evaluate(mixed, base, RULES)


def test_a_live_run_is_not_compared_with_a_replay_baseline(tmp_path):
    import dataclasses

    base = baseline_of(session(seeds=3), tmp_path)
    live = [dataclasses.replace(r, clock="real") for r in session(seeds=3)]
    with pytest.raises(GateMismatch, match="clock real differs from the baseline's simulated"):
        evaluate(live, base, RULES)


def cli(*args):
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_the_gate_command_exits_by_its_verdict(tmp_path):
    from harness.core.store import ResultStore

    store = ResultStore(tmp_path / "results")
    for r in session(seeds=10):
        store.save(r)
    baseline = tmp_path / "b.json"
    assert cli("baseline", "--results-dir", str(tmp_path / "results"), "--benchmark", "digits_replay", "--out", str(baseline)).returncode == 0
    ok = cli("gate", "--baseline", str(baseline), "--results-dir", str(tmp_path / "results"))
    assert ok.returncode == 0 and "gate passed" in ok.stdout
    data = json.loads(baseline.read_text())
    for entry in data["runs"]:
        if entry["strategy"] == "random":
            entry["metrics"]["best_val_acc"] += 0.05  # as if every seed used to be 0.05 better
    baseline.write_text(json.dumps(data))
    bad = cli("gate", "--baseline", str(baseline), "--results-dir", str(tmp_path / "results"))
    assert bad.returncode == 1 and "REGRESSION digits_replay/random best_val_acc" in bad.stdout
    for entry in data["runs"]:
        entry["table"] = "recorded-again"
    baseline.write_text(json.dumps(data))
    unlike = cli("gate", "--baseline", str(baseline), "--results-dir", str(tmp_path / "results"))
    assert unlike.returncode == 2 and unlike.stderr.strip().count("\n") == 0 and "table fingerprint fp differs" in unlike.stderr
    usage = cli("gate", "--baseline", str(baseline), "--rule", "best_val_acc:+1")
    assert usage.returncode == 2 and "write best_val_acc:-1" in usage.stderr


def test_the_gate_command_exits_non_zero_when_it_cannot_tell(tmp_path):
    from harness.core.store import ResultStore

    store = ResultStore(tmp_path / "results")
    for r in session(seeds=3, change=lambda s, seed, v: {**v, "saved": v["saved"] * 0.6} if s == "asha" else v):
        store.save(r)
    baseline = tmp_path / "b.json"
    save_baseline(session(seeds=3), baseline)  # asha's compute saved was 1/0.6 of today's on every seed
    done = cli("gate", "--baseline", str(baseline), "--results-dir", str(tmp_path / "results"))
    assert done.returncode == 1 and "gate INCONCLUSIVE" in done.stdout and "gate passed" not in done.stdout


def test_gate_help_works():
    out = cli("gate", "--help")
    assert out.returncode == 0 and "wallclock_s:+10%" in out.stdout


def test_rules_know_each_metrics_direction():
    assert parse_rule("best_val_acc:-0.01").tolerance == 0.01
    rule = parse_rule("wallclock_s:+10%")
    assert rule.relative and rule.tolerance == pytest.approx(0.1) and rule.allowance(50.0) == pytest.approx(5.0)
    assert parse_rule("test_acc:-0.02").higher_is_better
    with pytest.raises(Exception, match="write best_val_acc:-0.01"):
        parse_rule("best_val_acc:+0.01")
    with pytest.raises(Exception, match="write wallclock_s:\\+5%"):
        parse_rule("wallclock_s:-5%")
    with pytest.raises(Exception, match="METRIC:TOLERANCE"):
        parse_rule("accuracy:-0.01")
    with pytest.raises(Exception, match="give the tolerance a sign"):
        parse_rule("best_val_acc:0.01")


def test_relative_changes_do_not_raise_false_alarms():
    # (c - b) / b is skewed towards "worse" when b and c come from one distribution; the log ratio is not.
    from harness.gate import decide

    rule = parse_rule("wallclock_s:+10%")
    rng = np.random.default_rng(5)
    alarms = 0
    for _ in range(400):
        b, c = rng.lognormal(1.5, 0.4, 20), rng.lognormal(1.5, 0.4, 20)
        [finding] = decide([(("x", "s"), rule, list(b), list(c))], alpha=0.05)
        alarms += finding.p < 0.05
    assert alarms / 400 <= 0.07  # nominal 0.05; the binomial sd at 400 draws is 0.011
