"""A whole benchmark session through pytest: records, pytest-benchmark JSON, and the comparison table."""

import json


def test_a_session_writes_records_benchmark_json_and_the_table(session, pytester):
    result = session("--strategies", "random,asha", "--seeds", "2", "--benchmark-json", "bench.json", "-p", "no:randomly")
    result.assert_outcomes(passed=4)
    out = result.stdout.str()
    assert "tuning comparison (mean ± sd over seeds" in out and "Friedman test needs at least 3 strategies" in out
    assert "tiny-asha-seed1: trial 6/6" in out  # the per-trial progress display

    results = pytester.path / "results" / "tiny"
    runs = sorted(p.relative_to(results).parts[1:] for p in results.glob("runs/*/*.json"))
    assert [r[0] for r in runs] == ["asha", "asha", "random", "random"]
    table = (results / "comparison.md").read_text()
    assert "| tiny | asha | 2 |" in table and "| tiny | random | 2 | " in table
    assert (results / "comparison.csv").read_text().count("\n") == 3

    report = pytester.path / "results"
    assert {"report.md", "report.html", "summary.csv"} <= {p.name for p in report.iterdir()}
    assert len(list((report / "plots").glob("*.png"))) == 5  # anytime, time split, 2 best-so-far, accuracy vs compute; no CD diagram with two strategies

    bench = json.loads((pytester.path / "bench.json").read_text())
    names = sorted(b["name"] for b in bench["benchmarks"])
    assert names == [f"test_tiny[tiny-{s}-seed{n}]" for s in ("asha", "random") for n in (0, 1)]
    info = bench["benchmarks"][0]["extra_info"]
    assert {"best_val_acc", "compute_saved", "epochs_used", "record"} <= set(info)


def test_a_second_session_keeps_the_first_sessions_runs(session, pytester):
    for _ in range(2):
        session("--strategies", "random", "--seeds", "1").assert_outcomes(passed=1)
    assert len(list((pytester.path / "results" / "tiny" / "runs" / "random").glob("*.json"))) == 2


STUDY = """
from harness import Hypothesis
from tests.conftest import tiny_problem
PROBLEM = tiny_problem()
HYPOTHESIS = Hypothesis("Is the tiny problem learnable?", lambda runs: f"{len(runs)} run(s), best {max(r.best_val_acc for r in runs):.2f}.")

def test_tiny(tuning_case, tuning_run):
    tuning_run(tuning_case)
"""


def test_a_study_answers_its_hypothesis_in_the_report(session, pytester):
    session("--strategies", "random", "--seeds", "1", module=STUDY).assert_outcomes(passed=1)
    answer = (pytester.path / "results" / "tiny" / "hypothesis.md").read_text()
    assert answer.startswith("**Is the tiny problem learnable?** 1 run(s), best 0.")
    assert "## Hypotheses" in (pytester.path / "results" / "report.md").read_text() and answer.strip() in \
        (pytester.path / "results" / "report.md").read_text()


def test_a_benchmark_module_sets_its_default_seeds_and_the_option_overrides_them(session):
    module = "SEEDS = 2\n" + GOOD_SEEDLESS
    default = session("--strategies", "random", "--collect-only", "-q", module=module)
    assert "2 tests collected" in default.stdout.str()
    chosen = session("--strategies", "random", "--seeds", "4", "--collect-only", "-q")
    assert "4 tests collected" in chosen.stdout.str()


GOOD_SEEDLESS = """
from tests.conftest import tiny_problem
PROBLEM = tiny_problem()

def test_tiny(tuning_case, tuning_run):
    tuning_run(tuning_case)
"""


ALL_FAIL = """
from harness import Budget, Choice, SearchSpace
from tests.conftest import tiny_problem
from tests.test_end_to_end import crashing_mlp

SPACE = SearchSpace({"poison": Choice([1]), "lr": Choice([0.01])}, {"poison": (1,), "lr": (0.01,)})
# max_failures=0: a raising model fails again when retried (tests/test_end_to_end.py tests the retry itself)
PROBLEM = tiny_problem(space=SPACE, build_model=crashing_mlp, budget=Budget(max_epochs=2, num_trials=2), max_failures=0)

def test_tiny(tuning_case, tuning_run):
    tuning_run(tuning_case)
"""


def test_a_run_whose_trials_all_failed_fails_with_the_cause_and_is_never_resumed(session, pytester):
    first = session("--strategies", "random", "--seeds", "1", module=ALL_FAIL)
    first.assert_outcomes(failed=1)
    assert "tiny-random-seed0: all 2 trials failed; the first: " in first.stdout.str()
    assert "model construction failed on purpose" in first.stdout.str()
    again = session("--strategies", "random", "--seeds", "1", "--resume", module=ALL_FAIL)
    again.assert_outcomes(failed=1)  # trained again: a failed run is kept as data, never reused
    assert len(list((pytester.path / "results" / "tiny" / "runs" / "random").glob("*.json"))) == 2
