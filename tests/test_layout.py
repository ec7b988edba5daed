"""The layout's promises: collecting the benchmarks imports no Ray, and the harness's functions stay short."""

import ast
import subprocess
import sys

from tests.conftest import ROOT

COLLECT_AND_LIST_MODULES = """
import sys, pytest
code = pytest.main(["benchmarks", "--collect-only", "-q", "-p", "no:randomly"])
heavy = sorted(m for m in ("ray", "torch", "optuna", "hyperopt", "bayes_opt", "hpbandster") if m in sys.modules)
print("HEAVY", ",".join(heavy), "CODE", int(code))
"""


def test_collecting_the_benchmarks_imports_neither_ray_nor_torch():
    done = subprocess.run([sys.executable, "-c", COLLECT_AND_LIST_MODULES], cwd=ROOT, capture_output=True, text=True, timeout=120)
    last = done.stdout.strip().splitlines()[-1]
    assert "test_digits_replay.py::test_digits_replay[digits_replay-random-seed0]" in done.stdout  # it did collect
    assert last == "HEAVY  CODE 0", done.stdout[-2000:] + done.stderr[-2000:]


def test_no_function_in_the_harness_is_longer_than_50_lines():
    long = []
    for path in sorted((ROOT / "harness").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 50:
                long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)")
    assert not long, long


def test_the_ci_gates_selection_collects_though_another_tables_repeats_are_fewer():
    # --seeds 15 exceeds mnist1d's 10 repeats; -k deselects it, so it must not refuse the session.
    done = subprocess.run([sys.executable, "-m", "pytest", "benchmarks", "-k", "digits and replay", "--seeds", "15",
                           "--collect-only", "-q", "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "150/" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]
