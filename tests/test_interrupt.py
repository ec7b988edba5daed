"""Ctrl-C ends a session as pytest does and poisons nothing; --resume finishes it; bad data fails fast."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.core.records import RunRecord

from tests.conftest import ROOT

LIVE = """
from tests.conftest import tiny_problem
PROBLEM = tiny_problem()
STRATEGIES = ["random", "asha"]

def test_tiny(tuning_case, tuning_run):
    assert tuning_run(tuning_case).best_val_acc > 0.5
"""

# A real SIGINT, sent by the process to itself in the middle of the replay of random's seed 2
# (at its 3rd trial's 5th epoch), when INTERRUPT_REPLAY is set.
REPLAY = """
import os, signal
from harness.run.replay.trainable import TableTrainable
from tests.test_replay import toy_problem
PROBLEM = toy_problem()
STRATEGIES = ["random", "asha", "hyperband"]

if os.environ.get("INTERRUPT_REPLAY"):
    step, calls = TableTrainable.step, {"n": 0}

    def interrupting_step(self):
        calls["n"] += 1
        if calls["n"] == int(os.environ["INTERRUPT_REPLAY"]):
            os.kill(os.getpid(), signal.SIGINT)
        return step(self)

    TableTrainable.step = interrupting_step

def test_toy(tuning_case, tuning_run):
    assert tuning_run(tuning_case).clock == "simulated"
"""


def make_session(folder: Path, module: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "conftest.py", folder / "conftest.py")
    (folder / "test_case.py").write_text(module)
    return folder


def pytest_command(folder: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--rootdir={folder}",
            "--results-dir", str(folder / "results"), str(folder / "test_case.py"), *args]


def env(**extra) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def stored(folder: Path) -> list[RunRecord]:
    return [RunRecord.from_dict(json.loads(p.read_text())) for p in sorted((folder / "results").glob("*/runs/*/*.json"))]


def assert_sound(records: list[RunRecord]) -> None:
    for r in records:  # a finished run: every trial ended, something was learned
        assert r.best_val_acc is not None and r.best_val_acc > 0.5, r.run_id
        assert all(t.final_state in ("TERMINATED", "ERROR") and t.epochs for t in r.trials), r.run_id


def test_ctrl_c_ends_a_live_session_with_nothing_poisoned_and_resume_finishes_it(tmp_path):
    folder = make_session(tmp_path / "s", LIVE)
    proc = subprocess.Popen(pytest_command(folder, "--seeds", "2"), cwd=folder, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 240
    while not list((folder / "results").glob("*/runs/*/*.json")) and time.monotonic() < deadline:
        time.sleep(0.2)  # until the first case is stored
    assert proc.poll() is None, proc.communicate()[0][-3000:]
    time.sleep(2.0)  # well into the second case's trials
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2, out[-3000:]  # pytest's "interrupted"
    assert time.monotonic() - sent < 30
    assert "KeyboardInterrupt" in out and "the run in flight was discarded" in out
    first = stored(folder)
    assert 1 <= len(first) < 4  # the finished runs, and not the interrupted one
    assert_sound(first)

    resumed = subprocess.run(pytest_command(folder, "--seeds", "2", "--resume"), cwd=folder, env=env(),
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stdout[-3000:]
    final = stored(folder)
    assert len(final) == 4 and {r.run_id for r in first} <= {r.run_id for r in final}  # finished runs not rerun
    assert sorted((r.strategy, r.seed) for r in final) == [("asha", 0), ("asha", 1), ("random", 0), ("random", 1)]
    assert_sound(final)


def test_an_interrupted_then_resumed_replay_session_reports_as_an_uninterrupted_one(tmp_path):
    whole = make_session(tmp_path / "whole", REPLAY)
    done = subprocess.run(pytest_command(whole, "--seeds", "4"), cwd=whole, env=env(), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-3000:]

    cut = make_session(tmp_path / "cut", REPLAY)
    # Cases run hyperband, asha, random... in id order; the 200th epoch replayed falls inside a later case.
    first = subprocess.run(pytest_command(cut, "--seeds", "4", "--save-baseline", str(cut / "b.json")), cwd=cut,
                           env=env(INTERRUPT_REPLAY="200"), capture_output=True, text=True, timeout=600)
    assert first.returncode == 2, first.stdout[-3000:]
    assert not (cut / "b.json").exists()  # a partial session is no baseline
    partial = stored(cut)
    assert 0 < len(partial) < 12
    again = subprocess.run(pytest_command(cut, "--seeds", "4", "--resume"), cwd=cut, env=env(), capture_output=True,
                           text=True, timeout=600)
    assert again.returncode == 0, again.stdout[-3000:]
    assert len(stored(cut)) == 12
    assert (cut / "results" / "summary.csv").read_text() == (whole / "results" / "summary.csv").read_text()


CORRUPT = """
import dataclasses
from pathlib import Path
from datasets.fashion import Fashion
from tests.conftest import tiny_problem
ROOT = Path(__file__).parent / "mads"
PROBLEM = tiny_problem(load_data=Fashion(root=ROOT), dataset="fashion")
STRATEGIES = ["random", "asha"]

def test_tiny(tuning_case, tuning_run):
    tuning_run(tuning_case)
"""


def test_a_corrupt_data_file_fails_each_case_at_once_with_its_line(tmp_path):
    folder = make_session(tmp_path / "c", CORRUPT)
    (folder / "mads" / "fashionmnist").mkdir(parents=True)
    (folder / "mads" / "fashionmnist" / "fashionmnist.pt").write_bytes(b"PK\x03\x04 truncated")
    start = time.monotonic()
    result = subprocess.run(pytest_command(folder, "--seeds", "2", "-rf"), cwd=folder,
                            env=env(TUNING_BENCH_CACHE=str(tmp_path / "cache"), COLUMNS="500"), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 1, result.stdout[-3000:]
    fails = [ln for ln in result.stdout.splitlines() if ln.startswith("FAILED")]
    assert len(fails) == 4 and all("DataCorrupt:" in ln and "fashionmnist.pt" in ln for ln in fails)
    assert "best val_acc None" not in result.stdout and time.monotonic() - start < 60  # no trial ever started
    assert not stored(folder)
