"""Faults a session survives, or ends on with one line, losing no finished run.

- the cluster's head lost during a run: the session ends within seconds, naming the address (exit 2); the finished
  run stays stored as it was, and once the head is back ``--resume`` completes the rest;
- two sessions on one results folder at once: every run of both stored whole, and the report either writes
  covers its own finished runs;
- a full results folder (a small tmpfs): the session ends with one line naming the folder (exit 2), and no part of
  the record it could not write is left behind.

A node lost mid-run (the trial retried on the node left) is in ``test_cluster.py``; a trial that raises or
produces NaN (recorded failed with its error, the run goes on) in ``test_end_to_end.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from tests.cluster_hosts import SessionProcess, load_records, run_session, session_folder, started_cluster, wait_for
from tests.conftest import ROOT

ONE_AT_A_TIME = """
from harness import Budget
from tests.conftest import tiny_problem
PROBLEM = tiny_problem(budget=Budget(max_epochs=3, num_trials=2, max_concurrent_trials=1, cpus_per_trial=1))
STRATEGIES = ["random"]

def test_live(tuning_case, tuning_run):
    assert tuning_run(tuning_case).best_val_acc > 0.5
"""


@pytest.fixture
def loopback_cluster(tmp_path):
    yield from started_cluster(tmp_path)


def test_the_head_lost_ends_the_session_naming_it_and_resume_completes_the_rest(loopback_cluster, tmp_path):
    c = loopback_cluster
    folder = session_folder(tmp_path, {"test_live": ONE_AT_A_TIME})
    session = SessionProcess(folder, "--seeds", "2", cluster=c)
    try:
        def second_run_in_flight():  # Tune made its experiment folder: the run has begun, its actors start
            done = {r["provenance"]["ray_experiment"].rsplit("/", 1)[-1] for r in load_records(folder)}
            experiments = (folder / "results" / "tiny" / "ray").glob("*")
            return bool(done) and any(p.is_dir() and p.name not in done for p in experiments)

        wait_for(lambda: second_run_in_flight() or session.proc.poll() is not None, 300, "the second run to begin",
                 every_s=0.2)
        assert session.proc.poll() is None, "the session ended before its second run was in flight"
        finished = {p: p.read_bytes() for p in (folder / "results").glob("*/runs/*/*.json")}
        c.kill_node("head")  # SIGKILL to the head's process group: GCS, raylet and the head's workers
        lost_at = time.monotonic()
        rc = session.wait(timeout_s=120)
        ended_at = time.monotonic()
    finally:
        session.stop()
    line = f"--ray-address {c.address}: the Ray cluster's head stopped answering during a run"
    assert rc == 2, session.output[-4000:]
    said_at = session.first(line)
    assert said_at is not None, session.output[-4000:]
    assert "Traceback" not in session.output, session.output[-4000:]
    print(f"\nthe head's loss -> the line naming it: {said_at - lost_at:.1f} s; -> the session's exit: {ended_at - lost_at:.1f} s")
    # The finished run is stored as it was; the one in flight is not stored at all.
    assert len(finished) == 1 and {p: p.read_bytes() for p in (folder / "results").glob("*/runs/*/*.json")} == finished
    assert not list((folder / "results").rglob(".*.tmp"))

    c.start_head()  # the cluster back, at the same address
    resumed = run_session(c, folder, "--seeds", "2", "--resume")
    assert resumed.returncode == 0, resumed.stdout[-4000:] + resumed.stderr[-2000:]
    assert "2 passed" in resumed.stdout
    records = sorted(load_records(folder), key=lambda r: r["seed"])
    assert [r["seed"] for r in records] == [0, 1]
    assert all(p.read_bytes() == text for p, text in finished.items())  # the finished run, untouched
    assert all(t["outcome"] == "completed" and len(t["epochs"]) == 3 for r in records for t in r["trials"])


WATCHED = """
import socket, sys, threading, time
from harness.core.errors import ClusterLost
from harness.run.ray_session import watch_cluster

head = socket.socket()
head.bind(("127.0.0.1", 0))
head.listen()
address = "127.0.0.1:%d" % head.getsockname()[1]
threading.Timer(1.0, head.close).start()  # the head lost a second into the run
t0 = time.monotonic()
try:
    with watch_cluster(address):
        {run}
except ClusterLost as exc:
    print("raised after %.1f s: %s" % (time.monotonic() - t0, exc))
"""


@pytest.mark.parametrize("run, how", [
    ("while True: time.sleep(0.05)", "raised"),  # a driver in Python code: ClusterLost comes out of the run
    ("lock = threading.Lock(); lock.acquire(); lock.acquire()", "exited"),  # stuck in C, as in a Ray call: the process exits
])
def test_a_run_whose_head_stops_answering_ends_within_seconds_naming_it(run, how):
    from harness.run.ray_session import HEAD_GRACE_S, HEAD_LOST_EXIT

    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-c", WATCHED.format(run=run)], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    took = time.monotonic() - t0
    line = "the Ray cluster's head stopped answering during a run"
    if how == "raised":
        assert out.returncode == 0 and out.stdout.startswith("raised after ") and line in out.stdout, out.stderr[-2000:]
    else:
        assert out.returncode == HEAD_LOST_EXIT and line in out.stderr and out.stdout == "", out.stderr[-2000:]
        assert took > HEAD_GRACE_S  # it waited its grace for the run to come out first
    print(f"\n{how}: {out.stdout.strip() or out.stderr.strip()} (process {took:.1f} s)")


REPLAYS = """
from tests.test_replay import toy_problem
PROBLEM = toy_problem()
STRATEGIES = ["random", "asha"]

def test_replayed(tuning_case, tuning_run):
    assert tuning_run(tuning_case).clock == "simulated"
"""


def test_two_sessions_on_one_results_folder_lose_nothing_and_each_reports_its_own_runs(tmp_path):
    from harness.core.store import ResultStore

    results = tmp_path / "results"
    folders = [session_folder(tmp_path, {"test_replays": REPLAYS}, name=f"session{i}") for i in (0, 1)]
    sessions = [SessionProcess(folder, "--seeds", "2", results=results) for folder in folders]  # at once, each its own Ray
    try:
        codes = [s.wait(timeout_s=400) for s in sessions]
    finally:
        for s in sessions:
            s.stop()
    assert codes == [0, 0], "\n\n".join(s.output[-3000:] for s in sessions)
    assert all("4 passed" in s.output for s in sessions)
    runs = ResultStore(results).load_runs()  # every file whole: an unreadable one raises
    assert len(runs) == 8 and len({r.run_id for r in runs}) == 8
    assert sorted((r.strategy, r.seed) for r in runs) == sorted([(s, seed) for s in ("asha", "random") for seed in (0, 1)] * 2)
    assert all(len(r.trials) == 8 and r.best_val_acc is not None for r in runs)
    stray = [p for p in results.rglob("*") if p.is_file() and (p.name.startswith(".") or p.suffix == ".tmp")]
    assert stray == []
    # The report on disk is one session's whole report (written last): its own runs, 2 seeds of each strategy.
    assert (results / "report.md").stat().st_size > 0
    rows = [line.split(",") for line in (results / "summary.csv").read_text().splitlines()]
    seeds = {row[1]: row[rows[0].index("n_seeds")] for row in rows[1:]}
    assert seeds == {"random": "2", "asha": "2"}


REPLAY_ONE = """
from tests.test_replay import toy_problem
PROBLEM = toy_problem()
STRATEGIES = ["random"]

def test_replayed(tuning_case, tuning_run):
    assert tuning_run(tuning_case).clock == "simulated"
"""


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs of the test's own, mounted and unmounted by its path (root only)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a full disk: mounting a small tmpfs needs root and `mount`")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"a full disk: `mount -t tmpfs` failed here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True, timeout=60)
    assert not os.path.ismount(disk)


def test_a_full_results_folder_ends_the_session_naming_it_and_leaves_no_partial_record(small_disk, tmp_path):
    results = small_disk / "results"
    results.mkdir()
    filler = small_disk / "filler"
    with open(filler, "wb") as fh:  # fill the disk, then free a few KiB: less than one record
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    os.truncate(filler, filler.stat().st_size - 6 * 1024)
    folder = session_folder(tmp_path, {"test_replayed": REPLAY_ONE})
    session = SessionProcess(folder, "--seeds", "2", results=results)
    rc = session.wait(timeout_s=300)
    assert rc == 2, session.output[-4000:]
    lines = [line for line in session.output.splitlines() if f"--results-dir {results}: No space left on device" in line]
    assert len(lines) == 1, session.output[-4000:]
    assert "toy_replay-random-seed1" not in session.output  # the session ended at the first case
    assert "Traceback" not in session.output, session.output[-4000:]
    left = [str(p.relative_to(results)) for p in results.rglob("*") if p.is_file()]
    assert left == [], left  # no record, no part of one, no report
    print(f"\n{lines[0].strip()}")
