"""Harness start-up: how long ``pytest benchmarks --help`` and collecting every benchmark take.

Prints the median of 3 runs of each (fresh processes). Goal on a 2-core CPU: ``--help`` under 2 s.
Collection imports neither Ray nor torch (``tests/test_layout.py`` checks that), which is what keeps
both short. Run: ``pytest benchmarks/test_harness_startup.py -s``.
"""

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_HELP_S = 2.0


def _median_s(args: list[str], expect: str, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
        times.append(time.perf_counter() - t0)
        assert done.returncode == 0 and expect in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]
    return statistics.median(times)


def test_harness_startup():
    help_s = _median_s(["benchmarks", "--help"], expect="--gate=BASELINE")  # the harness's options are listed
    collect_s = _median_s(["benchmarks", "--collect-only", "-q"], expect="test_digits_replay[digits_replay-random-seed0]")
    verdict = "met" if help_s <= GOAL_HELP_S else "MISSED"
    print(f"\nharness start-up (median of 3 fresh processes): `pytest benchmarks --help` {help_s:.2f} s "
          f"(goal <= {GOAL_HELP_S:.0f} s: {verdict}); collecting every benchmark {collect_s:.2f} s")
