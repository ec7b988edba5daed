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


# -- the import graph: no cycle, no upward import ------------------------------------------------------------
# Data flows down: a module may import its own layer or a lower one, never a higher one. Longest prefix wins.
LAYERS = {
    "harness.core": 0,
    "harness.evaluate": 1, "harness.run.ray_session": 1, "harness.run.backend": 1, "harness.run.recorder": 1,
    "harness.run.invariants": 1,
    "harness.run.live": 2, "harness.run.replay": 2, "harness.gate": 2, "harness.report": 2,
    "harness.run.runner": 3, "harness.run": 3,
    "harness.session": 4,
    "harness.fronts": 5,
    "harness": 6,
}


def _module_name(path, root) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root) -> dict[str, set[str]]:
    """Every harness module -> the harness modules it imports, at module level or inside functions."""
    modules = {_module_name(p, root): p for p in sorted((root / "harness").rglob("*.py"))}
    graph = {}
    for name, path in modules.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                           for a in node.names]
            edges |= {t for t in targets if t in modules and t != name}
        graph[name] = edges
    return graph


def layer(module: str) -> int:
    return LAYERS[max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)]


def upward_imports(graph) -> list[str]:
    # A package's __init__ may re-export its own modules; that is not an upward import.
    return sorted(f"{a} -> {b}" for a, targets in graph.items() for b in targets
                  if layer(b) > layer(a) and not b.startswith(a + "."))


def cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each a cycle of imports."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_harness_has_no_import_cycle_and_no_upward_import():
    graph = import_graph(ROOT)
    assert len(graph) > 40 and "harness.run.runner" in graph["harness.session"]  # it read the real tree
    assert not cycles(graph), cycles(graph)
    assert not upward_imports(graph), upward_imports(graph)


def test_the_import_check_finds_a_cycle_and_an_upward_import_planted_in_a_copy(tmp_path):
    import shutil

    shutil.copytree(ROOT / "harness", tmp_path / "harness")
    space = tmp_path / "harness" / "core" / "space.py"
    space.write_text(space.read_text() + "\nfrom harness.core.problem import Problem  # planted\n")  # problem imports space
    records = tmp_path / "harness" / "core" / "records.py"
    records.write_text(records.read_text() + "\n\ndef planted():\n    from harness.report import tables\n")
    graph = import_graph(tmp_path)
    assert ["harness.core.problem", "harness.core.space"] in cycles(graph)
    assert "harness.core.records -> harness.report.tables" in upward_imports(graph)


def test_the_plugin_is_hooks_only_and_one_module_runs_the_finish_sequence():
    plugin = ROOT / "harness" / "fronts" / "pytest_plugin.py"
    assert len(plugin.read_text().splitlines()) <= 300
    finish = {"analyse", "verdict", "write_report", "save_baseline"}
    callers = {}
    for path in (ROOT / "harness").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in finish:
                    callers.setdefault(name, set()).add(_module_name(path, ROOT))
    # write_report computes the verdict itself only when no caller hands it over (tests call it directly).
    assert callers == {name: {"harness.session"} for name in finish} | {"verdict": {"harness.session", "harness.report.document"}}, callers
