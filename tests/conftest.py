"""Shared fixtures: a tiny real problem (digits, small MLP) that every strategy can run in seconds."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from harness import Budget, Choice, IntRange, LogUniform, Problem, SearchSpace
from harness.run.live.models import mlp

from datasets import digits

pytest_plugins = ["pytester"]
# A user's own repository, copied out of the project by tests/test_own_problem.py: its benchmark is not ours to collect.
collect_ignore = ["own_repo"]

# Set before Ray starts, so its workers inherit them: decoded data in a throw-away folder, and no
# test ever tries a download (nothing in the tests talks to anything but 127.0.0.1).
os.environ.setdefault("TUNING_BENCH_CACHE", tempfile.mkdtemp(prefix="tuning-bench-cache-"))
os.environ["TUNING_BENCH_OFFLINE"] = "1"

TINY_SPACE = SearchSpace(
    params={"lr": LogUniform(3e-3, 3e-2), "units": IntRange(16, 64), "batch_size": Choice([32, 64])},
    grid={"lr": (3e-3, 1e-2, 3e-2), "units": (32, 64), "batch_size": (64,)},
)
TINY_BUDGET = Budget(max_epochs=3, num_trials=6, max_concurrent_trials=1, cpus_per_trial=1)


def tiny_problem(**changes) -> Problem:
    fields = dict(
        name="tiny", dataset="digits", load_data=digits.load, build_model=mlp, space=TINY_SPACE, budget=TINY_BUDGET, n_classes=10
    )
    return Problem(**{**fields, **changes})


@pytest.fixture(autouse=True)
def _not_an_xdist_worker_below(monkeypatch):
    """Under ``pytest tests -n N``, the sessions and clusters a test starts are not xdist workers themselves.

    pytest-xdist sets ``PYTEST_XDIST_WORKER`` in each of its workers; inherited, it made a test's own
    pytest session take itself for worker gw1 (slot ``tuning_slot_gw1``, benchmark JSON off). The
    worker count stays: a Ray that a test starts, in this process or below it, still shares the
    machine with the other workers, so it takes its share of the CPUs (``local_cpus``), not all of them.
    """
    from harness.run.ray_session import XDIST_WORKER_ENV

    monkeypatch.delenv(XDIST_WORKER_ENV, raising=False)


@pytest.fixture(scope="session")
def ray_local():
    """One local Ray (loopback, no dashboard) for the whole test session; shut down by the plugin."""
    from harness.run.ray_session import ensure_ray

    return ensure_ray()


ROOT = Path(__file__).resolve().parent.parent

GOOD_BENCHMARK = """
from tests.conftest import tiny_problem
PROBLEM = tiny_problem()

def test_tiny(tuning_case, tuning_run):
    assert tuning_run(tuning_case).best_val_acc > 0.5
"""


@pytest.fixture
def session(pytester, monkeypatch):
    """A copy of the project's plugin setup in pytester's folder, with a tiny benchmark module."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    shutil.copy(ROOT / "conftest.py", pytester.path / "conftest.py")
    pytester.makepyfile(test_tiny=GOOD_BENCHMARK)

    def run(*args, module: str | None = None):
        if module is not None:
            pytester.makepyfile(test_tiny=module)
        return pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", f"--rootdir={pytester.path}", "--results-dir", str(pytester.path / "results"), *args
        )

    return run


