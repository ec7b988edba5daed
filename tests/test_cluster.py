"""A real Ray cluster on loopback, started the ordinary way (``ray start``, which in Ray 2.60 turns token
authentication on by itself), used through ``--ray-address`` by a live case and a replay.

Each node runs ``ray start --block`` in a session of its own; at the end the test stops exactly
those process groups, by their ids (never ``ray stop``, which would stop every Ray on the machine).

A second node: Ray 2.60 refuses to add a node to a cluster whose head keeps to 127.0.0.1
(``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``), and with multi-node clusters enabled it replaces a node's
127.0.0.1 by the machine's routable address. Where that address is not loopback (192.0.2.2 here),
the two-node test is skipped with that reason, since tests talk to 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

RAY = Path(sys.executable).parent / "ray"

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

TRAINABLE_NODES = """
import json, ray
from ray._private import state
ray.init(address={address!r}, log_to_driver=False)
nodes = [n["NodeID"] for n in ray.nodes() if n["Alive"]]
trainables = [a["Address"]["NodeID"] for a in state.actors().values() if "Trainable" in a["ActorClassName"]]
print(json.dumps({{"nodes": nodes, "trainables": trainables}}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def routable_node_ip() -> str:
    """The address Ray 2.60 gives a node of a multi-node cluster on this machine (it never keeps 127.0.0.1)."""
    code = "from ray._common.network_utils import node_ip_address_from_perspective as f; print(f())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd="/")
    return out.stdout.strip()


def start_cluster(tmp_path, nodes: int, cpus: int = 1, slots: tuple[str, ...] = ("tuning_slot",)):
    if not RAY.exists():
        pytest.skip(f"no `ray` command beside {sys.executable}: the cluster test starts nodes with it")
    port = free_port()
    address = f"127.0.0.1:{port}"
    # One node: the head keeps to 127.0.0.1 (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, as the harness's local Ray).
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_USAGE_STATS_ENABLED": "0", "TUNING_BENCH_OFFLINE": "1",
           "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0" if nodes == 1 else "1"}
    env.pop("RAY_AUTH_MODE", None)  # as a user would: ray start turns token authentication on by itself
    started: list[subprocess.Popen] = []
    logs = tmp_path / "ray-logs"
    logs.mkdir()

    def start(name: str, *args: str) -> None:
        log = open(logs / f"{name}.log", "w")
        node_env = env if name == "head" else {**env, "RAY_AUTH_MODE": "token"}
        started.append(subprocess.Popen([str(RAY), "start", "--block", "--node-ip-address", "127.0.0.1", "--num-cpus", str(cpus),
                                         *args], env=node_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))

    try:
        start("head", "--head", "--port", str(port), "--resources", json.dumps({s: 1 for s in slots}),
              "--include-dashboard", "false", "--disable-usage-stats")
        wait_for(lambda: answers(port), 90, f"the head at {address}")
        if nodes == 2:
            start("worker", "--address", address)  # joining nodes need RAY_AUTH_MODE=token, as Ray documents
        yield address, env, logs
    finally:
        for proc in reversed(started):  # ray start --block stops what it started on SIGINT; the group, by id
            if group_alive(proc.pid):
                os.killpg(proc.pid, signal.SIGINT)
        for proc in started:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            deadline = time.monotonic() + 15
            while group_alive(proc.pid) and time.monotonic() < deadline:
                time.sleep(0.5)
            if group_alive(proc.pid):
                os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def one_node_cluster(tmp_path):
    yield from start_cluster(tmp_path, 1)


@pytest.fixture
def cluster_for_two_workers(tmp_path):
    """One loopback node with a slot for each of two pytest-xdist workers (and the plain one)."""
    yield from start_cluster(tmp_path, 1, cpus=2, slots=("tuning_slot", "tuning_slot_gw0", "tuning_slot_gw1"))


@pytest.fixture
def two_node_cluster(tmp_path):
    ip = routable_node_ip()
    if not ip.startswith("127."):
        pytest.skip(f"a second node: Ray 2.60 puts multi-node cluster nodes on this machine's routable address {ip}, "
                    f"never 127.0.0.1, and tests talk to 127.0.0.1 only (a loopback pair needs network namespaces)")
    yield from start_cluster(tmp_path, 2)


def run_session(address: str, env: dict, tmp_path) -> tuple[subprocess.CompletedProcess, list[dict]]:
    folder = tmp_path / "session"
    folder.mkdir()
    shutil.copy(ROOT / "conftest.py", folder / "conftest.py")
    (folder / "test_live.py").write_text(LIVE)
    (folder / "test_replayed.py").write_text(REPLAY)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--rootdir={folder}", "--results-dir",
         str(folder / "results"), "--ray-address", address, "--seeds", "1", str(folder)],
        cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    records = [json.loads(p.read_text()) for p in sorted((folder / "results").glob("*/runs/*/*.json"))]
    return result, records


def test_ray_address_works_with_token_authentication(one_node_cluster, tmp_path):
    address, env, logs = one_node_cluster
    assert "RAY_AUTH_MODE" not in env
    refused = subprocess.run([sys.executable, "-c", f"import ray; ray.init(address={address!r})"],
                             env={**env, "RAY_AUTH_MODE": "disabled"}, capture_output=True, text=True, timeout=120, cwd="/")
    assert refused.returncode != 0 and "InvalidAuthToken" in refused.stderr  # the head does require the token
    result, records = run_session(address, env, tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "2 passed" in result.stdout
    assert {r["benchmark"] for r in records} == {"tiny", "toy_replay"}
    assert all(r["provenance"]["ray_address"] == address for r in records)


def query(address: str, env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", TRAINABLE_NODES.format(address=address)], env={**env, "RAY_AUTH_MODE": "token"},
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_two_node_loopback_cluster_runs_trials_on_both_nodes(two_node_cluster, tmp_path):
    address, env, logs = two_node_cluster
    wait_for(lambda: len(query(address, env)["nodes"]) == 2, 90, "two live nodes")
    result, records = run_session(address, env, tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    seen = query(address, env)
    assert set(seen["trainables"]) == set(seen["nodes"]), seen  # the live trials ran on both nodes
    assert {r["benchmark"] for r in records} == {"tiny", "toy_replay"}


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

    from harness.run.invariants import observed_concurrency
    from harness.core.records import RunRecord

    address, env, logs = cluster_for_two_workers
    folder = tmp_path / "session"
    folder.mkdir()
    shutil.copy(ROOT / "conftest.py", folder / "conftest.py")
    (folder / "test_capped.py").write_text(CAPPED)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--rootdir={folder}", "--results-dir",
         str(folder / "results"), "--ray-address", address, "--seeds", "2", "-n", "2", str(folder)],
        cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    records = [RunRecord.from_dict(json.loads(p.read_text())) for p in sorted((folder / "results").glob("tiny/runs/*/*.json"))]
    assert len(records) == 2
    spans = []
    for r in records:
        assert observed_concurrency(r) == 1  # each case within its own cap of 1
        start = datetime.fromisoformat(r.started_at).timestamp()
        spans.append((start, start + r.wallclock_s))
    (a0, a1), (b0, b1) = sorted(spans)
    assert b0 < a1, f"the two cases did not overlap: {spans}"  # they ran at once, one per worker slot
