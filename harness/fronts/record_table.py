"""Recording a learning-curve table: a dedicated sweep of a live benchmark, through the live runner.

The benchmark module names the levels to record (``TABLE_LEVELS``, one tuple per parameter of
its space). The sweep is Ray Tune's grid search over their full product, FIFO (every
configuration trains for ``max_epochs``), once per seed; each sweep is stored as an ordinary run
record (benchmark ``<name>_sweep``), so nothing recorded is lost, and the table is built from them.

Recording is resumable: a seed whose whole sweep is already stored (same problem fingerprint, levels
and epochs, every configuration trained to the end) is not trained again, so a killed
recording rerun with the same command continues with the first seed it lacks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import math
from pathlib import Path
from typing import Callable

from harness.run.replay import table as tables
from harness.core.errors import ConfigError
from harness.core.problem import BaseProblem, Problem
from harness.core.strategy import Strategy, TuneSetup
from harness.session import Options, Session, TuningCase


SWEEP_SUFFIX = "_sweep"  # a sweep's runs are stored as benchmark <name>_sweep, apart from the benchmark's own


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


def _sweep_strategy(axes: dict[str, tables.Axis]) -> Strategy:
    def build(problem, budget, seed):
        from ray import tune
        from ray.tune.search import BasicVariantGenerator

        space = {n: tune.grid_search(list(a.levels)) for n, a in axes.items()}
        return TuneSetup(param_space=space, search_alg=BasicVariantGenerator(random_state=seed), scheduler=None, num_samples=1)

    return Strategy(name="sweep", summary="every table configuration, trained to max_epochs", build=build)


def _levels_key(axes: dict[str, tables.Axis]) -> list:
    return [[name, axis.kind, list(axis.levels)] for name, axis in axes.items()]


def finished_sweep(stored: list, problem: Problem, seed: int, axes: dict[str, tables.Axis], max_epochs: int):
    """The newest of the ``stored`` sweeps (oldest first) of ``seed`` that a table can use as it is, or None.

    It must be of the same problem (fingerprint: data, model, space), levels and epochs, and hold
    every configuration trained to the end (or failed): a cut-short sweep is never reused.
    """
    from harness.core.records import COMPLETED, FAILED

    configs = math.prod(len(a.levels) for a in axes.values())
    for record in reversed(stored):
        if record.seed != seed or record.table_levels != _levels_key(axes):
            continue
        if record.problem_fingerprint != problem.fingerprint:
            continue
        if record.budget.get("max_epochs") != max_epochs or len(record.trials) != configs:
            continue
        whole = all(t.outcome in (COMPLETED, FAILED) for t in record.trials)
        if whole and len({tables._row(axes, t.config) for t in record.trials}) == configs:
            return record
    return None


def record_table(
    benchmark: str,
    out: str | Path,
    seeds: list[int],
    concurrency: int,
    results_dir: str | Path = "results",
    progress: Callable[[str], None] | None = print,
    overwrite: bool = False,
    resume: bool = True,
) -> tables.LearningCurveTable:
    """Sweep ``TABLE_LEVELS`` of a benchmark once per seed, store the runs, and write the table to ``out``.

    With ``resume`` (the default), seeds whose finished sweep is already stored are not trained again.
    """
    problem, axes = _benchmark_levels(benchmark)
    out = Path(out)
    if out.exists() and not overwrite:
        raise ConfigError(f"record-table: {out} exists; pass --force to replace it")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"record-table: seeds repeat: {seeds}; each repeat must be an independent seed")
    configs = math.prod(len(a.levels) for a in axes.values())
    budget = whole_curves_budget(problem, configs, concurrency)
    session = Session(Options(results_dir=str(results_dir)))
    sweeps = session.store.load_runs(problem.name + SWEEP_SUFFIX) if resume else []  # read once, not once per seed
    records = []
    for done, seed in enumerate(seeds):
        stored = finished_sweep(sweeps, problem, seed, axes, budget.max_epochs)
        if stored is not None:
            if progress:
                progress(f"seed {seed}: reusing its finished sweep {stored.run_id[:8]} (recorded {stored.started_at})")
            records.append(stored)
            continue
        if progress:
            progress(f"recording {problem.name}, seed {seed} ({done + 1} of {len(seeds)}): {configs} configurations x "
                     f"{budget.max_epochs} epochs, {concurrency} at a time")
        records.append(_sweep(session, problem, axes, seed, budget, progress))
    command = (f"python -m harness record-table {benchmark} --out {out} --seeds {' '.join(map(str, seeds))} "
               f"--concurrency {concurrency}")
    table = tables.from_records(records, axes, problem.name, provenance=_table_provenance(records, budget, command))
    table.save(out, overwrite=overwrite)
    return table


def live_problem(module, benchmark: str, command: str) -> BaseProblem:
    """The live problem a benchmark module defines (``PROBLEM``); a recording of a replay would record nothing new."""
    problem = getattr(module, "PROBLEM", None)
    if not (isinstance(problem, BaseProblem) and not problem.is_replay):
        raise ConfigError(f"{command}: {benchmark} must define a live PROBLEM")
    return problem


def whole_curves_budget(problem: BaseProblem, trials: int, concurrency: int):
    """The budget of a recording: ``trials`` configurations, every one to ``max_epochs``: no wall-clock cap, and no
    equal-compute total (it would cut the recording short)."""
    return dataclasses.replace(problem.budget, num_trials=trials, max_concurrent_trials=concurrency, wallclock_s=None,
                               total_epochs=None)


def _benchmark_levels(benchmark: str) -> tuple[Problem, dict[str, tables.Axis]]:
    module = load_benchmark(benchmark)
    problem, levels = live_problem(module, benchmark, "record-table"), getattr(module, "TABLE_LEVELS", None)
    if not isinstance(levels, dict):
        raise ConfigError(f"record-table: {benchmark} must define TABLE_LEVELS")
    return problem, table_axes(problem, levels)


def _sweep(session: Session, problem: Problem, axes: dict[str, tables.Axis], seed: int, budget, progress):
    """One seed's sweep, stored as soon as it ends (apart from the benchmark's runs, under ``<name>_sweep``,
    so that its reports do not count a "sweep" strategy)."""
    def as_sweep(record):
        return dataclasses.replace(record, benchmark=problem.name + SWEEP_SUFFIX,
                                   provenance={**record.provenance, "table_levels": _levels_key(axes)})

    record, path = session.run(TuningCase(problem, _sweep_strategy(axes), seed), budget=budget, progress=progress,
                               relabel=as_sweep)
    if progress:
        progress(f"  stored the sweep's run record: {path}")
    return record


def _table_provenance(records: list, budget, command: str) -> dict:
    from harness.core import provenance

    return {
        **provenance.collect(),
        "recorded_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "budget": budget.to_dict(),
        "sweep_runs": [r.run_id for r in records],
        "sweep_commits": sorted({str(r.provenance.get("git_commit")) for r in records}),
        "command": command,
    }
