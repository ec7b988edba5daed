"""Recording a learning-curve table: a dedicated sweep of a live benchmark, through the live runner.

The benchmark module names the levels to record (``TABLE_LEVELS``, one tuple per parameter of
its space). The sweep is Ray Tune's grid search over their full product, FIFO (every
configuration trains for ``max_epochs``), once per seed; each sweep is stored as an ordinary run
record (benchmark ``<name>_sweep``), so nothing recorded is lost, and the table is built from them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import math
from pathlib import Path
from typing import Callable

from harness import table as tables
from harness.errors import ConfigError
from harness.problem import Problem


def load_benchmark(spec: str):
    """A benchmark module from a dotted name or a path such as ``benchmarks/test_digits.py``."""
    name = spec[:-3].replace("/", ".").replace("\\", ".") if spec.endswith(".py") else spec
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"record-table: cannot import benchmark {spec!r} ({exc})") from None


def table_axes(problem: Problem, levels: dict[str, tuple]) -> dict[str, tables.Axis]:
    missing = sorted(set(problem.space.params) - set(levels))
    extra = sorted(set(levels) - set(problem.space.params))
    if missing or extra:
        raise ConfigError(f"TABLE_LEVELS must name every parameter of {problem.name} once; missing {missing}, unknown {extra}")
    try:
        return {n: tables.Axis.for_param(problem.space.params[n], levels[n]) for n in problem.space.params}
    except tables.TableError as exc:
        raise ConfigError(f"TABLE_LEVELS of {problem.name}: {exc}") from None


def _sweep_strategy(axes: dict[str, tables.Axis]):
    from strategies._base import Strategy, TuneSetup, variant_generator

    def build(problem, budget, seed):
        from ray import tune

        space = {n: tune.grid_search(list(a.levels)) for n, a in axes.items()}
        return TuneSetup(param_space=space, search_alg=variant_generator(seed), scheduler=None, num_samples=1)

    return Strategy(name="sweep", summary="every table configuration, trained to max_epochs", build=build)


def record_table(
    benchmark: str,
    out: str | Path,
    seeds: list[int],
    concurrency: int,
    results_dir: str | Path = "results",
    progress: Callable[[str], None] | None = print,
    overwrite: bool = False,
) -> tables.LearningCurveTable:
    """Sweep ``TABLE_LEVELS`` of a benchmark once per seed, store the runs, and write the table to ``out``."""
    from harness import provenance, runner
    from harness.store import ResultStore

    module = load_benchmark(benchmark)
    problem, levels = getattr(module, "PROBLEM", None), getattr(module, "TABLE_LEVELS", None)
    if not isinstance(problem, Problem) or not isinstance(levels, dict):
        raise ConfigError(f"record-table: {benchmark} must define PROBLEM and TABLE_LEVELS")
    out = Path(out)
    if out.exists() and not overwrite:
        raise ConfigError(f"record-table: {out} exists; pass --force to replace it")
    axes = table_axes(problem, levels)
    configs = math.prod(len(a.levels) for a in axes.values())
    budget = dataclasses.replace(problem.budget, num_trials=configs, max_concurrent_trials=concurrency, wallclock_s=None)
    store = ResultStore(results_dir)
    records = []
    for seed in seeds:
        if progress:
            progress(f"recording {problem.name}, seed {seed}: {configs} configurations x {budget.max_epochs} epochs, "
                     f"{concurrency} at a time")
        record = runner.run(problem, _sweep_strategy(axes), seed, budget, progress=progress)
        # Stored apart from the benchmark's own runs, so that its reports do not count a "sweep" strategy.
        path = store.save(dataclasses.replace(record, benchmark=f"{problem.name}_sweep"))
        if progress:
            progress(f"  stored the sweep's run record: {path}")
        records.append(record)
    meta = {
        **provenance.collect(),
        "recorded_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "budget": budget.to_dict(),
        "sweep_runs": [r.run_id for r in records],
        "command": f"python -m harness record-table {benchmark} --seeds {' '.join(map(str, seeds))} "
                   f"--concurrency {concurrency}",
    }
    table = tables.from_records(records, axes, problem.name, provenance=meta)
    table.save(out, overwrite=overwrite)
    return table
