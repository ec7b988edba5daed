"""Recording a design over a live benchmark's whole search space, for a surrogate replay.

``record-table`` sweeps a product of levels; this records ``size`` configurations spread over the live space
(``harness.core.design``: the grid's points, then Sobol), every one trained for ``max_epochs`` with FIFO. The
design is split into ``parts``: part ``i`` holds configurations ``i, i + parts, ...`` and is trained under seed
``i`` (its data split and initial weights), so the recorded curves carry the seed-to-seed noise a live seed
varies, and each part is one stored run (benchmark ``<name>_design``): a killed recording, run again with the
same command, trains only the parts it lacks.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from harness.core import design
from harness.core.errors import ConfigError
from harness.core.problem import Problem
from harness.core.strategy import Strategy, TuneSetup
from harness.fronts.record_table import live_problem, load_benchmark, whole_curves_budget
from harness.session import Options, Session, TuningCase

DESIGN_SUFFIX = "_design"


def _fixed_configs(configs: list[dict]) -> Strategy:
    def build(problem, budget, seed):
        from ray.tune.search import BasicVariantGenerator

        # Every trial is one of the given points; the space only names the keys (nothing is sampled).
        return TuneSetup(param_space=problem.space.to_tune(), num_samples=len(configs), scheduler=None,
                         search_alg=BasicVariantGenerator(points_to_evaluate=[dict(c) for c in configs],
                                                          random_state=seed))

    return Strategy(name="design", summary="fixed design configurations, each trained to max_epochs", build=build)


def design_key(configs: list[dict], part: int, parts: int, size: int, design_seed: int) -> dict:
    return {"size": size, "parts": parts, "part": part, "design_seed": design_seed,
            "configs_fingerprint": design.fingerprint(configs)}


def finished_part(stored: list, problem: Problem, key: dict, n_configs: int):
    """The newest stored run of this part that is whole (every configuration trained to the end, or failed)."""
    from harness.core.records import COMPLETED, FAILED

    for record in reversed(stored):
        if record.provenance.get("design") != key or record.problem_fingerprint != problem.fingerprint:
            continue
        if len(record.trials) == n_configs and all(t.outcome in (COMPLETED, FAILED) for t in record.trials):
            return record
    return None


def record_design(benchmark: str, size: int, parts: int, concurrency: int = 1, design_seed: int = 0,
                  results_dir: str = "results", progress: Callable[[str], None] | None = print) -> list:
    """Train every part of the design that is not stored yet; returns every part's run record, part 0 first."""
    problem = live_problem(load_benchmark(benchmark), benchmark, "record-design")
    if not 1 <= parts <= size:
        raise ConfigError(f"record-design: parts must lie in 1..size ({size}), got {parts}")
    configs = design.space_filling(problem.space, size, design_seed)
    session = Session(Options(results_dir=results_dir))
    stored = session.store.load_runs(problem.name + DESIGN_SUFFIX)
    records = []
    for part in range(parts):
        mine = configs[part::parts]
        key = design_key(mine, part, parts, size, design_seed)
        found = finished_part(stored, problem, key, len(mine))
        if found is not None:
            if progress:
                progress(f"part {part + 1} of {parts}: reusing its finished run {found.run_id[:8]}")
            records.append(found)
            continue
        if progress:
            progress(f"recording {problem.name} design part {part + 1} of {parts} (seed {part}): {len(mine)} "
                     f"configurations x {problem.budget.max_epochs} epochs, {concurrency} at a time")
        budget = whole_curves_budget(problem, len(mine), concurrency)

        def as_design(record, key=key):
            return dataclasses.replace(record, benchmark=problem.name + DESIGN_SUFFIX,
                                       provenance={**record.provenance, "design": key})

        record, path = session.run(TuningCase(problem, _fixed_configs(mine), part), budget=budget, progress=progress,
                                   relabel=as_design)
        if progress:
            progress(f"  stored: {path}")
        records.append(record)
    return records


def stored_design(benchmark: str, size: int, parts: int, design_seed: int = 0, results_dir: str = "results") -> list:
    """The finished parts of one design (this size, split and Sobol seed, this problem) that are stored, part 0 first;
    parts of other designs, cut-short parts and older problem fingerprints are left out."""
    from harness.core.store import ResultStore

    problem = load_benchmark(benchmark).PROBLEM
    configs = design.space_filling(problem.space, size, design_seed)
    stored = ResultStore(results_dir).load_runs(problem.name + DESIGN_SUFFIX)
    found = [finished_part(stored, problem, design_key(configs[p::parts], p, parts, size, design_seed),
                           len(configs[p::parts])) for p in range(parts)]
    return [r for r in found if r is not None]


def write_design(benchmark: str, records: list, out: str, command: str) -> int:
    """Every finished part's whole curves as one design file (``harness.run.replay.surrogate``); returns its size."""
    import datetime as dt

    from harness.core import provenance
    from harness.run.replay.surrogate import Design, save_design

    problem = load_benchmark(benchmark).PROBLEM
    design = Design.from_records(problem.space, records)
    save_design(design, out, problem.name, {
        **provenance.collect(), "recorded_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "parts": [r.run_id for r in records], "part_commits": sorted({str(r.provenance.get("git_commit")) for r in records}),
        "budget": records[0].budget if records else None, "command": command,
    })
    return len(design.configs)
