"""Real Ray clusters, started the ordinary way (``ray start``) and used through ``--ray-address``: one node on
loopback, and two nodes on two test hosts (network namespaces, ``tests/cluster_hosts.py``).

Each node runs ``ray start --block`` in a session of its own; at the end the test stops exactly those process
groups, by their ids (never ``ray stop``, which would stop every Ray on the machine), kills whatever is left
on its test hosts by pid and deletes them by name, and checks that nothing of its cluster is left: no
process, no namespace, and no ``ray_current_cluster`` file of its own under /tmp/ray (each cluster keeps
Ray's files in a folder of its own, so a later plain ``ray.init()`` never finds it).

A node lost mid-run is here, with the two nodes; the other faults (the head lost, two sessions on one results
folder, a full disk) are in ``test_faults.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from tests.cluster_hosts import (SessionProcess, load_records, made_hosts, run_session, session_folder, started_cluster,
                                 trial_results, wait_for)
from tests.conftest import ROOT

LIVE = """
from harness import Budget
from tests.conftest import tiny_problem
PROBLEM = tiny_problem(budget=Budget(max_epochs=2, num_trials=4, max_concurrent_trials=2, cpus_per_trial=1))
STRATEGIES = ["random"]

def test_live(tuning_case, tuning_run):
    assert tuning_run(tuning_case).best_val_acc > 0.5
"""

REPLAY = """
from tests.test_replay import toy_problem
PROBLEM = toy_problem()
STRATEGIES = ["asha"]

def test_replayed(tuning_case, tuning_run):
    assert tuning_run(tuning_case).clock == "simulated"
"""


# A user's own training function, in a package of the session's folder (the user's repository), not of the tool: the
# cluster's nodes get it only through Ray's working_dir. It reports whether it ran from the copy Ray shipped.
USER_TRAIN = """
import os


def train(config, seed):
    shipped = float("runtime_resources" in os.path.abspath(__file__))
    for epoch in range(1, 100):
        yield {"val_rmse": config["lr"] / epoch, "shipped": shipped}
"""

OWN = """
from harness import Budget, FunctionProblem, LogUniform, Objective, SearchSpace
from userpkg.train import train
PROBLEM = FunctionProblem(name="own", dataset="own", train=train, objective=Objective("val_rmse", "min", None, False),
                          space=SearchSpace(params={"lr": LogUniform(1e-3, 1e-1)}), budget=Budget(max_epochs=2, num_trials=2))
STRATEGIES = ["random"]

def test_own(tuning_case, tuning_run):
    assert tuning_run(tuning_case).best_val_acc < 0
"""


@pytest.fixture
def one_node_cluster(tmp_path):
    yield from started_cluster(tmp_path, token_mode="user")


@pytest.fixture
def cluster_for_two_workers(tmp_path):
    """One loopback node with a slot for each of two pytest-xdist workers (and the plain one)."""
    yield from started_cluster(tmp_path, cpus=2, slots=("tuning_slot", "tuning_slot_gw0", "tuning_slot_gw1"))


@pytest.fixture
def two_hosts():
    yield from made_hosts()


@pytest.fixture
def two_node_cluster(two_hosts, tmp_path):
    """A head on one test host and a worker node on the other, token authentication on, one CPU each."""
    yield from started_cluster(tmp_path, two_hosts, workers=1)


def test_ray_address_works_with_token_authentication(one_node_cluster, tmp_path):
    c = one_node_cluster
    assert "RAY_AUTH_MODE" not in c.env  # as a user would: ray start turned token authentication on
    refused = subprocess.run([sys.executable, "-c", f"import ray; ray.init(address={c.address!r})"],
                             env={**c.env, "RAY_AUTH_MODE": "disabled"}, capture_output=True, text=True, timeout=120, cwd="/")
    assert refused.returncode != 0 and "InvalidAuthToken" in refused.stderr  # the head does require the token
    folder = session_folder(tmp_path, {"test_live": LIVE, "test_replayed": REPLAY, "test_own": OWN})
    (folder / "userpkg").mkdir()
    (folder / "userpkg" / "__init__.py").write_text("")
    (folder / "userpkg" / "train.py").write_text(USER_TRAIN)
    result = run_session(c, folder, "--seeds", "1")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "3 passed" in result.stdout
    records = load_records(folder)
    assert {r["benchmark"] for r in records} == {"tiny", "toy_replay", "own"}
    own = next(r for r in records if r["benchmark"] == "own")
    # The user's package reached the node as Ray's working_dir: its trials ran from the copy Ray shipped.
    assert [e["metrics"]["shipped"] for t in own["trials"] for e in t["epochs"]] == [1.0] * 4
    assert all(r["provenance"]["ray_address"] == c.address for r in records)
    assert {t["node"] for r in records for t in r["trials"]} == {"127.0.0.1"}


TWO_AT_ONCE = """
from harness import Budget
from tests.conftest import tiny_problem
from cluster_models import slow_mlp  # the session folder's own module: the nodes get it through Ray's working_dir
PROBLEM = tiny_problem(build_model=slow_mlp, budget=Budget(max_epochs=6, num_trials=2, max_concurrent_trials=2, cpus_per_trial=1))
STRATEGIES = ["random"]

def test_live(tuning_case, tuning_run):
    assert tuning_run(tuning_case).best_val_acc > 0.5
"""


def test_a_two_node_cluster_runs_trials_on_both_nodes_survives_a_lost_node_and_runs_a_replay(two_node_cluster, tmp_path):
    """Two test hosts, one CPU each: seed 0's two trials run at once, one per node; during seed 1 the worker node's
    processes are all killed while a trial runs there; Tune retries it on the head; then a replay runs."""
    c = two_node_cluster
    head, worker = c.hosts.ips
    plain = subprocess.run([*c.hosts.prefix(1), sys.executable, "-c", f"import ray; ray.init(address={c.address!r})"],
                           env={**c.env, "RAY_AUTH_MODE": "disabled"}, capture_output=True, text=True, timeout=120, cwd="/")
    assert plain.returncode != 0 and "InvalidAuthToken" in plain.stderr  # without the token: refused
    folder = session_folder(tmp_path, {"test_live": TWO_AT_ONCE, "test_replayed": REPLAY})
    shutil.copy(ROOT / "tests" / "cluster_models.py", folder / "cluster_models.py")
    held = c.holds / worker
    held.write_text("")  # every trial on the worker node is held after its first epoch, until let go (cluster_models)
    session = SessionProcess(folder, "--seeds", "2", "-k", "not toy_replay-asha-seed1", cluster=c)  # on the head's host
    try:
        def on_the_worker(but=()):  # (experiment, pid) of a live trial's result from the worker (replays keep none)
            return next(((r["experiment"], r["pid"]) for r in trial_results(folder) if r["node_ip"] == worker
                         and r["experiment"] not in but), None) or session.proc.poll() is not None

        seed0 = wait_for(on_the_worker, 300, "a trial of seed 0 on the worker", every_s=0.2)
        assert session.proc.poll() is None, "the session ended before a trial of seed 0 ran on the worker node"
        held.write_text(str(seed0[1]))  # seed 0's trial let go; seed 1's there stays held until its node is lost
        wait_for(lambda: on_the_worker(but=(seed0[0],)), 300, "a trial of seed 1 on the worker", every_s=0.2)
        assert session.proc.poll() is None, "the session ended before a trial of seed 1 ran on the worker node"
        killed = c.hosts.kill_all(1)  # the worker node lost: every process on its host
        lost_at = time.monotonic()
        held.unlink()
        rc = session.wait()
    finally:
        held.unlink(missing_ok=True)
        session.stop()
    assert rc == 0, session.output[-5000:]
    assert "3 passed" in session.output
    records = {(r["benchmark"], r["seed"]): r for r in load_records(folder)}
    assert set(records) == {("tiny", 0), ("tiny", 1), ("toy_replay", 0)}
    assert all(r["provenance"]["ray_address"] == c.address for r in records.values())
    both, lost = records[("tiny", 0)], records[("tiny", 1)]
    assert sorted(t["node"] for t in both["trials"]) == [head, worker]  # two trials at once, one per node
    assert all(t["retries"] == [] for t in both["trials"])
    # The lost node's trial was retried on the head; nothing lost: every trial has its 6 epochs, once each.
    assert lost["provenance"]["max_failures"] == 1 and len(lost["trials"]) == 2
    assert all(t["outcome"] == "completed" and [e["epoch"] for e in t["epochs"]] == [1, 2, 3, 4, 5, 6] for t in lost["trials"])
    assert both["wallclock_s"] < 60, both["wallclock_s"]  # seed 0 was let go, not held until HOLD_MAX_S ran out
    retried = [t for t in lost["trials"] if t["retries"]]
    assert len(retried) == 1 and retried[0]["node"] == head, lost["trials"]
    assert retried[0]["retries"][0].startswith(f"attempt 1 on {worker} failed after epoch ")
    assert f"a trial's attempt 1 on {worker} failed" in session.output  # the progress line says so as it happens
    assert {t["node"] for t in records[("toy_replay", 0)]["trials"]} == {head}  # the replay, on the head left
    print(f"\nkilled {len(killed)} processes on the worker's host; a node loss added "
          f"{lost['wallclock_s'] - both['wallclock_s']:.1f} s to a {both['wallclock_s']:.1f} s run "
          f"(seed 1: {lost['wallclock_s']:.1f} s); retried: {retried[0]['retries'][0]}; "
          f"the session went on for {time.monotonic() - lost_at:.1f} s after the loss")


def test_a_client_turns_token_mode_on_when_a_token_is_at_hand(tmp_path):
    code = ("import os; from harness.run.ray_session import _use_the_clusters_token; _use_the_clusters_token(); "
            "print(os.environ.get('RAY_AUTH_MODE'))")
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    none = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert none.stdout.strip().splitlines()[-1] == "None"  # no token: left as it is
    (tmp_path / ".ray").mkdir()
    (tmp_path / ".ray" / "auth_token").write_text("0123456789abcdef0123456789abcdef")
    found = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert found.stdout.strip().splitlines()[-1] == "token", found.stderr[-2000:]
    explicit = subprocess.run([sys.executable, "-c", code], env={**env, "RAY_AUTH_MODE": "disabled"}, capture_output=True,
                              text=True, timeout=120)
    assert explicit.stdout.strip().splitlines()[-1] == "disabled"


CAPPED = """
from harness import Budget
from tests.conftest import tiny_problem
PROBLEM = tiny_problem(budget=Budget(max_epochs=3, num_trials=4, max_concurrent_trials=1, cpus_per_trial=1))
STRATEGIES = ["random"]

def test_capped(tuning_case, tuning_run):
    assert tuning_run(tuning_case).best_val_acc > 0.5
"""


def test_two_workers_run_two_cases_at_once_on_one_cluster_each_within_its_cap(cluster_for_two_workers, tmp_path):
    from datetime import datetime

    from harness.core.records import RunRecord
    from harness.run.invariants import observed_concurrency

    c = cluster_for_two_workers
    folder = session_folder(tmp_path, {"test_capped": CAPPED})
    result = run_session(c, folder, "--seeds", "2", "-n", "2")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    records = [RunRecord.from_dict(r) for r in load_records(folder)]
    assert len(records) == 2
    spans = []
    for r in records:
        assert observed_concurrency(r) == 1  # each case within its own cap of 1
        start = datetime.fromisoformat(r.started_at).timestamp()
        spans.append((start, start + r.wallclock_s))
    (a0, a1), (b0, b1) = sorted(spans)
    assert b0 < a1, f"the two cases did not overlap: {spans}"  # they ran at once, one per worker slot
