"""Bring your own problem: a repository outside the project, with its own package and training loop, through the
installed plugin.

``tests/own_repo`` is what the README's "Add your problem" section shows, file for file: a regression problem
(scikit-learn's diabetes, a PyTorch MLP) whose own training function yields validation and held-out RMSE each epoch,
declared as minimised, and breast cancer with an MLP on the built-in path. It is copied outside the project and run in
a subprocess, with nothing of the project on the path: the plugin comes from the installed entry point, the problems'
package from the user's own repository.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import Budget, Choice, FunctionProblem, LogUniform, Objective, SearchSpace
from harness.core.errors import ConfigError
from tests.conftest import ROOT

OWN_REPO = Path(__file__).parent / "own_repo"


@pytest.fixture(scope="module")
def own_session(tmp_path_factory):
    repo = tmp_path_factory.mktemp("elsewhere") / "my-repo"
    shutil.copytree(OWN_REPO, repo)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "TUNING_BENCH_RAY"))}
    env.pop("PYTHONPATH", None)  # the project reaches the user's repo only as an installed package
    git = ["git", "-c", "user.name=user", "-c", "user.email=user@example.org"]
    for step in (["init", "-q"], ["add", "."], ["commit", "-qm", "my problem"]):
        subprocess.run(git + step, cwd=repo, check=True, capture_output=True, timeout=60)
    # The plain `pytest` script, as a user types it (not `python -m pytest`, which would put the folder on the path).
    pytest_script = str(Path(sys.executable).parent / "pytest")
    done = subprocess.run([pytest_script, "benchmarks", "-p", "no:cacheprovider", "-q"], cwd=repo,
                          env=env, capture_output=True, text=True, timeout=900)
    return repo, done


def test_a_repo_of_its_own_runs_its_regression_problem_to_records_a_report_and_a_verdict(own_session):
    repo, done = own_session
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "5 passed" in done.stdout  # diabetes: 2 strategies x 2 seeds; breast cancer: 1
    runs = sorted((repo / "results" / "diabetes" / "runs").rglob("*.json"))
    records = [json.loads(p.read_text()) for p in runs]
    assert sorted((r["strategy"], r["seed"]) for r in records) == [("asha", 0), ("asha", 1), ("random", 0), ("random", 1)]
    for r in records:
        assert r["provenance"]["objective"] == {"metric": "val_rmse", "mode": "min", "test_metric": "test_rmse",
                                                "unit_range": False}
        # Provenance names the user's repository and its commit beside the tool's.
        assert r["provenance"]["your_repo"] == str(repo.resolve()) and len(r["provenance"]["your_repo_commit"]) == 40
        epochs = [e for t in r["trials"] for e in t["epochs"]]
        # The function's own numbers are kept as reported; the score every strategy maximised is minus the RMSE.
        assert all(e["metrics"]["val_rmse"] > 0 and e["val_acc"] == -e["metrics"]["val_rmse"] for e in epochs)
        assert all(e["test_acc"] == -e["metrics"]["test_rmse"] for e in epochs)
        assert sum(len(t["epochs"]) for t in r["trials"]) <= 36  # the equal-compute total
        best = min(e["metrics"]["val_rmse"] for e in epochs)
        assert math.isclose(-r["best_val_acc"], best)
    asha = [r for r in records if r["strategy"] == "asha"]
    assert all(r["compute_saved"] > 0 for r in asha)  # a scheduler stopped trials on the minimised metric
    report = (repo / "results" / "report.md").read_text()
    assert "held-out test_rmse" in report and "(lower is better)" in report and "val_rmse" in report
    assert "held-out test_rmse" in done.stdout  # the verdict, in the user's metric
    assert not (ROOT / "results" / "diabetes").exists()  # nothing written into the tool's tree
    (cancer,) = (repo / "results" / "cancer" / "runs").rglob("*.json")
    assert json.loads(cancer.read_text())["best_val_acc"] > 0.75  # the built-in path, from the user's package


def test_the_readme_shows_the_own_repo_file_for_file():
    readme = (ROOT / "README.md").read_text()
    for path in ("mypkg/regression.py", "benchmarks/test_mine.py", "mypkg/cancer.py", "benchmarks/test_cancer.py"):
        block = f"```python\n# {path}\n" + (OWN_REPO / path).read_text() + "```"
        assert block in readme, f"README's {path} differs from tests/own_repo/{path}"


def test_an_objective_and_a_training_function_are_checked_on_construction():
    space = SearchSpace(params={"lr": LogUniform(1e-3, 1e-1), "width": Choice([8, 32])})
    with pytest.raises(ConfigError, match="mode must be 'max' or 'min'"):
        Objective(metric="val_rmse", mode="minimise")
    with pytest.raises(ConfigError, match="train must be a function"):
        FunctionProblem(name="x", dataset="x", train=None, objective=Objective("val_rmse", "min", None, False),
                        space=space, budget=Budget(max_epochs=3, num_trials=2))
    with pytest.raises(ConfigError, match="names its classes"):  # no objective declared: it would be judged on accuracy
        FunctionProblem(name="x", dataset="x", train=print, space=space, budget=Budget(max_epochs=3, num_trials=2))


def test_new_writes_a_starting_benchmark_that_collects_and_never_overwrites(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.pop("PYTHONPATH", None)
    made = subprocess.run([sys.executable, "-m", "harness", "new", "churn"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    assert {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.py")} == {
        "churn/__init__.py", "churn/train.py", "benchmarks/test_churn.py"}
    again = subprocess.run([sys.executable, "-m", "harness", "new", "churn"], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=120)
    assert again.returncode == 2 and "already exist; nothing written" in again.stderr
    collected = subprocess.run([sys.executable, "-m", "pytest", "benchmarks", "--collect-only", "-q", "-p",
                                "no:cacheprovider"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert collected.returncode == 0, collected.stdout[-2000:] + collected.stderr[-2000:]
    assert "24 tests collected" in collected.stdout  # 3 strategies x 8 seeds, through the installed plugin


FUNCTION_TABLE_BENCHMARK = """
from harness import Budget, FunctionProblem, LogUniform, Objective, SearchSpace
from tests.function_problems import rmse_curve

PROBLEM = FunctionProblem(
    name="fn", dataset="made_up", train=rmse_curve,
    objective=Objective(metric="val_rmse", mode="min", test_metric="test_rmse", unit_range=False),
    space=SearchSpace(params={"lr": LogUniform(1e-3, 1e-1)}, grid={"lr": (1e-3, 1e-2, 1e-1)}),
    budget=Budget(max_epochs=4, num_trials=None, total_epochs=16),
)
TABLE_LEVELS = {"lr": (1e-3, 3e-3, 1e-2, 3e-2, 1e-1)}
"""


def test_a_training_function_of_your_own_records_a_table_and_replays_on_its_metric(ray_local, tmp_path, monkeypatch):
    import strategies
    from harness.fronts.record_table import record_table
    from harness.run import runner
    from harness.run.replay import replay_of

    (tmp_path / "fn_table_bench.py").write_text(FUNCTION_TABLE_BENCHMARK)
    monkeypatch.syspath_prepend(str(tmp_path))
    table = record_table("fn_table_bench", tmp_path / "fn.npz", seeds=[0, 1], concurrency=1,
                         results_dir=tmp_path / "results", progress=None)
    assert table.provenance["objective"]["mode"] == "min"
    assert (table.val_acc < 0).all()  # scores: minus the RMSE
    from harness.run.replay import table as tables

    assert tables.load(tmp_path / "fn.npz").fingerprint == table.fingerprint  # reloads, though not in [0, 1]
    import fn_table_bench

    replay = replay_of(fn_table_bench.PROBLEM, table, name="fn_replay")
    record = runner.run(replay, strategies.get("asha"), seed=1)
    assert record.objective.metric == "val_rmse" and record.epochs_used == 16 and record.compute_saved > 0
    best = min(-e.val_acc for t in record.trials for e in t.epochs)
    assert math.isclose(-record.best_val_acc, best) and record.best_config["lr"] == pytest.approx(1e-2)


def test_new_refuses_a_name_that_would_hide_a_module(tmp_path):
    from harness.fronts.scaffold import new

    for taken in ("random", "ray", "harness"):
        with pytest.raises(ConfigError, match="exists already"):
            new(taken, tmp_path)
    assert not list(tmp_path.iterdir())  # nothing written
