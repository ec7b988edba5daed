"""Cases at once: 100 digits replays in one process and with ``-n 2`` (pytest-xdist), and a live run's start-up.

Prints, in one run: the wall-clock of ``pytest benchmarks -k "digits and replay" --seeds 10`` serially and
with ``-n 2`` (each a fresh session, Ray's start included), their ratio, and the median start-up of a
live run (wall-clock minus training seconds of a 1-trial, 1-epoch run of the test MLP, 5 runs after the
first in one process, so Ray itself is already up). Goals on a 2-core CPU: ``-n 2`` at most 35 s;
start-up at most 2 s a run. Run: ``pytest benchmarks/test_parallel_speed.py -s`` (about 5 min here).
"""

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

STARTUP = """
import statistics, time
from harness import Budget
from harness.run import runner
import strategies
from tests.conftest import tiny_problem
problem = tiny_problem(budget=Budget(max_epochs=1, num_trials=1))
costs = []
for seed in range(6):
    t0 = time.perf_counter()
    record = runner.run(problem, strategies.get("random"), seed=seed)
    costs.append(time.perf_counter() - t0 - record.train_s)
print("STARTUP", statistics.median(costs[1:]))
"""


def _session_s(tmp_path, *extra: str) -> float:
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "benchmarks", "-k", "digits and replay", "--seeds", "10", "-q",
                           "-p", "no:cacheprovider", "--results-dir", str(tmp_path / f"r{len(extra)}"), *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0 and "100 passed" in done.stdout, done.stdout[-3000:]
    return time.perf_counter() - t0


def test_parallel_speed(tmp_path):
    serial = _session_s(tmp_path)
    parallel = _session_s(tmp_path, "-n", "2")
    out = subprocess.run([sys.executable, "-c", STARTUP], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert "STARTUP" in out.stdout, out.stdout[-2000:] + out.stderr[-2000:]
    startup = float(out.stdout.split("STARTUP")[-1])
    print(f"\n100 digits replays: serial {serial:.1f} s, -n 2 {parallel:.1f} s ({serial / parallel:.2f}x; goal <= 35 s); "
          f"live start-up {startup:.2f} s a run (median of 5, Ray already up; goal <= 2 s)")
