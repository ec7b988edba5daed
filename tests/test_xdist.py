"""pytest -n 2: each worker runs its own cases; the controller reads every run back and reports, gates and
stores the baseline over all of them. Replays give the same records as a serial session, bit for bit."""

import json
import os

import pytest

from harness.run import ray_session
from harness.run.ray_session import XDIST_COUNT_ENV, XDIST_WORKER_ENV
from tests.test_replay import REPLAY_BENCHMARK

STUDY = REPLAY_BENCHMARK + """
from harness import Hypothesis
HYPOTHESIS = Hypothesis("How many runs?", lambda runs: f"{len(runs)} runs.")
"""


def _records(root):
    out = {}
    for path in root.glob("toy_replay/runs/*/*.json"):
        record = json.loads(path.read_text())
        out[(record["strategy"], record["seed"])] = record
    return out


def test_two_workers_replay_bit_for_bit_what_one_process_replays(session, pytester, tmp_path):
    serial = session("--seeds", "3", "--results-dir", str(tmp_path / "serial"), module=STUDY)
    assert serial.ret == 0
    baseline = tmp_path / "baseline.json"
    parallel = session("-n", "2", "--seeds", "3", "--results-dir", str(tmp_path / "parallel"),
                       "--save-baseline", str(baseline), "-p", "no:randomly")
    assert parallel.ret == 0, parallel.stdout.str()[-3000:]
    out = parallel.stdout.str()
    assert "created: 2/2 workers" in out
    # The controller's summary covers both workers' runs: 2 strategies x 3 seeds.
    assert "replays: 6 runs" in out and "baseline written" in out
    assert len(json.loads(baseline.read_text())["runs"]) == 6
    a, b = _records(tmp_path / "serial"), _records(tmp_path / "parallel")
    assert len(a) == 6 and set(a) == set(b)
    volatile = ("run_id", "started_at", "real_s", "provenance", "decision_s")
    for key in a:
        assert {k: v for k, v in a[key].items() if k not in volatile} == {k: v for k, v in b[key].items() if k not in volatile}
    report = (tmp_path / "parallel" / "report.md").read_text()
    assert "- toy_replay (3 seeds, " in report and "replayed over the 18 configurations" in report  # every worker's runs
    # The study's answer, from every worker's runs, by the controller (which imports the module by its file).
    assert (tmp_path / "parallel" / "toy_replay" / "hypothesis.md").read_text() == "**How many runs?** 6 runs.\n"


def test_local_rays_split_the_cpus_between_xdist_workers(monkeypatch):
    monkeypatch.setattr(ray_session.os, "cpu_count", lambda: 8)
    shares = {}
    for workers in ("1", "2", "3", "16"):
        monkeypatch.setenv(ray_session.XDIST_COUNT_ENV, workers)
        shares[workers] = ray_session.local_cpus()
    monkeypatch.delenv(ray_session.XDIST_COUNT_ENV)
    # One process alone lets Ray count the CPUs itself; several take an equal share, never less than one.
    assert shares == {"1": None, "2": 4, "3": 2, "16": 1} and ray_session.local_cpus() is None


def test_under_xdist_a_test_keeps_the_worker_count_but_not_the_worker_name(request):
    workerinput = getattr(request.config, "workerinput", None)
    if workerinput is None:
        pytest.skip("checks what a test sees under pytest -n N, the README's test command")
    # tests/conftest.py: sessions a test starts are no worker (no name), but still share the machine (the count).
    assert XDIST_WORKER_ENV not in os.environ and os.environ.get(XDIST_COUNT_ENV) == str(workerinput["workercount"])
