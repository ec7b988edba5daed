"""From run records to the comparison: per-strategy statistics, tests against a reference, and the
omnibus Friedman/Nemenyi analysis. Pure functions of a list of RunRecords.

Which test says what:

* against the reference, per benchmark and per metric (best validation accuracy, the score the
  search maximised; held-out test accuracy of the configuration it selected, which is not biased
  by how many configurations a strategy saw): a two-sided exact Wilcoxon signed-rank test over
  the seeds both ran, paired by seed, ties enumerated exactly; Holm over the strategies compared
  on that metric. The direction ("better"/"worse") is the sign of the signed-rank statistic, the
  paired differences the test measured; A12 is reported as the (unpaired) effect size.
* across strategies: one Friedman test per clock (live runs and replays are never pooled: a
  replay of a problem is not an independent block beside its live runs), blocks = (benchmark,
  seed), on best validation accuracy, with Nemenyi's critical difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from harness.evaluate import curves, equal_compute, paired, stats
from harness.core.objective import ACCURACY, Objective
from harness.core.records import REAL, SIMULATED, RunRecord, latest_per_seed

DEFAULT_REFERENCE = "random"
DEFAULT_TARGET_FRACTION = 0.98


VAL, TEST = "best_val_acc", "test_acc"  # the two accuracies compared against the reference
METRIC_NAMES = {VAL: "best validation accuracy", TEST: "held-out test accuracy"}


@dataclass(frozen=True)
class VersusReference:
    reference: str
    n_pairs: int
    p_raw: float | None
    p_holm: float | None
    a12: float | None  # P(this strategy's value beats the reference's), over paired seeds (unpaired effect size)
    verdict: str  # "better", "worse", "no significant difference", "too few seeds (...)", "reference"
    metric: str = VAL
    direction: float | None = None  # W+ - W-: > 0 when the paired differences favour this strategy


@dataclass(frozen=True)
class StrategyStats:
    benchmark: str
    strategy: str
    seeds: tuple[int, ...]
    failed_runs: int  # runs in which no trial produced a result
    best_val_acc: stats.Summary
    wallclock_s: stats.Summary
    compute_saved: stats.Summary
    ttt_s: stats.Summary  # time to target, over the seeds that reached it
    ttt_epochs: stats.Summary
    reached: int  # seeds whose best-so-far reached the target
    auc: stats.Summary
    avg_rank: float | None = None
    versus: VersusReference | None = None  # on best validation accuracy
    test_acc: stats.Summary = stats.Summary(0, None, None, None, None)
    versus_test: VersusReference | None = None  # on held-out test accuracy
    objective: Objective = ACCURACY  # what best_val_acc and test_acc are scores of (accuracy, or a declared metric)


@dataclass(frozen=True)
class Omnibus:
    strategies: tuple[str, ...]
    n_blocks: int
    avg_ranks: tuple[float, ...] = ()
    friedman_p: float | None = None
    cd: float | None = None
    statement: str = ""
    clock: str = REAL  # live runs and replays each get their own test
    benchmarks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Analysis:
    rows: list[StrategyStats]
    targets: dict[str, float]  # benchmark -> target accuracy
    omnibus: list[Omnibus]  # one per clock
    reference: str
    target_fraction: float
    alpha: float
    notes: list[str] = field(default_factory=list)
    runs: list[RunRecord] = field(default_factory=list)
    anytime: dict[str, equal_compute.Anytime] = field(default_factory=dict)  # benchmark -> ranks over the budget
    to_match: dict[str, list[equal_compute.ToMatch]] = field(default_factory=dict)  # benchmark -> vs the reference


def analyse(
    records: list[RunRecord],
    reference: str = DEFAULT_REFERENCE,
    target_fraction: float = DEFAULT_TARGET_FRACTION,
    target: float | None = None,
    alpha: float = stats.ALPHA,
) -> Analysis:
    """Everything the report shows, from the newest run of each (benchmark, strategy, seed)."""
    runs = latest_per_seed(records)
    notes: list[str] = []
    by_bench: dict[str, dict[str, dict[int, RunRecord]]] = {}
    for r in runs:
        by_bench.setdefault(r.benchmark, {}).setdefault(r.strategy, {})[r.seed] = r

    targets, rows = {}, []
    for bench, by_strategy in sorted(by_bench.items()):
        accs = [r.best_val_acc for s in by_strategy.values() for r in s.values() if r.best_val_acc is not None]
        best = max(accs, default=0.0)
        # A fraction of the best score, on the worse side of it (a negative score, minus a minimised metric, divides).
        targets[bench] = target if target is not None else (target_fraction * best if best >= 0 else best / target_fraction)
        ranks = benchmark_ranks(by_strategy)
        versus = _versus_reference(bench, by_strategy, reference, alpha, notes, VAL)
        versus_test = _versus_reference(bench, by_strategy, reference, alpha, [], TEST)
        for name, seeds in sorted(by_strategy.items()):
            rows.append(_strategy_stats(bench, name, seeds, targets[bench], ranks.get(name), versus.get(name),
                                        versus_test.get(name)))
        missing = {n: sorted(set().union(*[set(s) for s in by_strategy.values()]) - set(s)) for n, s in by_strategy.items()}
        for name, seeds in missing.items():
            if seeds:
                notes.append(f"{bench}: {name} has no run for seed(s) {seeds}; paired tests use the seeds it shares")
    clocks = {r.benchmark: r.clock for r in runs}
    omnibus = [_omnibus({b: s for b, s in by_bench.items() if clocks[b] == clock}, alpha, clock)
               for clock in sorted(set(clocks.values()))]
    anytime = {b: a for b, s in by_bench.items() if (a := equal_compute.anytime(s)) is not None}
    matched = {b: equal_compute.to_match(s, reference) for b, s in by_bench.items()}
    return Analysis(rows, targets, omnibus, reference, target_fraction, alpha, notes, runs, anytime, matched)


def worst(r: RunRecord) -> float:
    """What a run that found nothing scores: accuracy 0, or for an unbounded objective minus infinity (it ranks last;
    a mean or interval over it is unbounded, as it should be)."""
    bounds = r.objective.score_bounds
    return bounds[0] if bounds else -math.inf


def run_accuracy(r: RunRecord) -> float:
    # A run in which every trial failed found nothing: it ranks and pairs as the worst score.
    return r.best_val_acc if r.best_val_acc is not None else worst(r)


def run_test_accuracy(r: RunRecord) -> float:
    """Held-out test score of the run's selected configuration: what ranks and the omnibus test use, since
    best validation accuracy is biased upward by how many configurations a strategy saw. A failed run (or one
    without a test split) counts as the worst (``worst``)."""
    return r.test_acc if r.best_val_acc is not None and r.test_acc is not None else worst(r)


def metric_value(r: RunRecord, metric: str) -> float | None:
    """A run's score on ``metric``; a run where every trial failed found nothing and counts as the worst."""
    if r.best_val_acc is None:
        return worst(r)
    return r.best_val_acc if metric == VAL else r.test_acc


def _strategy_stats(bench, name, seeds: dict[int, RunRecord], target, avg_rank, versus, versus_test) -> StrategyStats:
    ok = [r for r in seeds.values() if r.best_val_acc is not None]
    hits = [curves.time_to_target(r, target) for r in ok]
    reached = [h for h in hits if h[0] is not None]
    # A run that never reached the target counts at its end (a lower bound), never dropped: a mean over the
    # runs that reached it alone would favour strategies whose runs end early.
    restricted = [(h[0] if h[0] is not None else r.wallclock_s, h[1] if h[1] is not None else r.epochs_used)
                  for h, r in zip(hits, ok)]
    unit = next(iter(seeds.values())).objective.score_bounds  # [0, 1] for accuracy; a declared objective's own
    return StrategyStats(
        benchmark=bench,
        strategy=name,
        seeds=tuple(sorted(seeds)),
        failed_runs=len(seeds) - len(ok),
        best_val_acc=stats.summarize([r.best_val_acc for r in ok], bounds=unit),
        wallclock_s=stats.summarize([r.wallclock_s for r in seeds.values()], log=True),
        compute_saved=stats.summarize([r.compute_saved for r in seeds.values()], bounds=(0.0, 1.0)),
        ttt_s=stats.summarize([t for t, _ in restricted], log=True),
        ttt_epochs=stats.summarize([e for _, e in restricted], log=True),
        reached=len(reached),
        auc=stats.summarize([curves.auc(r) for r in ok] if unit == (0.0, 1.0) else [], bounds=unit),  # floor at 0
        avg_rank=avg_rank,
        versus=versus,
        test_acc=stats.summarize([r.test_acc for r in ok], bounds=unit),
        versus_test=versus_test,
        objective=next(iter(seeds.values())).objective,
    )


def _complete_blocks(by_strategy: dict[str, dict[int, RunRecord]]) -> list[int]:
    common = set.intersection(*(set(s) for s in by_strategy.values())) if by_strategy else set()
    return sorted(common)


def benchmark_ranks(by_strategy: dict[str, dict[int, RunRecord]], value=None) -> dict[str, float]:
    """Each strategy's average rank (1 = best) over the seeds every strategy ran, on ``value(run)``
    (default: held-out test accuracy)."""
    value = value or run_test_accuracy
    names = sorted(by_strategy)
    seeds = _complete_blocks(by_strategy)
    if len(names) < 2 or not seeds:
        return {}
    ranks = stats.average_ranks([[value(by_strategy[n][s]) for n in names] for s in seeds])
    return {n: float(r) for n, r in zip(names, ranks)}


def _versus_reference(bench, by_strategy, reference, alpha, notes, metric=VAL) -> dict[str, VersusReference]:
    if reference not in by_strategy:
        if len(by_strategy) > 1 and metric == VAL:
            notes.append(f"{bench}: the reference strategy {reference!r} has no runs; no paired tests")
        return {}
    ref = by_strategy[reference]
    raw: dict[str, tuple] = {}
    for name, seeds in by_strategy.items():
        if name == reference:
            continue
        common = [s for s in sorted(set(seeds) & set(ref))
                  if metric_value(seeds[s], metric) is not None and metric_value(ref[s], metric) is not None]
        x, y = [metric_value(seeds[s], metric) for s in common], [metric_value(ref[s], metric) for s in common]
        differing = sum(a != b for a, b in zip(x, y))
        p, direction = stats.signed_rank_test(x, y) if differing else (None, 0.0)
        raw[name] = (len(common), differing, p, direction, stats.a12(x, y) if common else None)
    judged = paired.judge({n: p for n, (_, _, p, _, _) in raw.items()}, {n: d for n, (_, d, _, _, _) in raw.items()}, alpha)
    out = {reference: VersusReference(reference, len(ref), None, None, None, "reference", metric)}
    for name, (n, differing, p, direction, a) in raw.items():
        j = judged[name]
        if not n:
            verdict = f"no paired seeds with {METRIC_NAMES[metric]}"
        elif not differing:
            verdict = "identical to the reference on every seed"
        elif j.significant:
            verdict = "better" if direction > 0 else "worse"
        elif not j.reachable:
            # Even the most extreme signs could not pass Holm over these comparisons: say so, not "no difference".
            verdict = f"too few seeds to test ({differing} of {n} differ; Holm over {j.m} comparisons needs {j.needed})"
        else:
            verdict = "no significant difference"
        out[name] = VersusReference(reference, n, p, j.p_holm, a, verdict, metric, direction)
    return out


def seeds_for_a_verdict(k_strategies: int, alpha: float = stats.ALPHA) -> int:
    """Differing seeds a strategy needs before Holm over ``k_strategies - 1`` comparisons can call it different."""
    return stats.seeds_needed(max(k_strategies - 1, 1), alpha)


def _omnibus(by_bench, alpha, clock: str) -> Omnibus:
    """Friedman over blocks = (benchmark, seed) of one clock, for the strategies present in every block."""
    benches = tuple(sorted(by_bench))
    names = sorted(set.intersection(*(set(s) for s in by_bench.values()))) if by_bench else []
    blocks = []
    for bench, by_strategy in sorted(by_bench.items()):
        common = set.intersection(*(set(by_strategy[n]) for n in names)) if names else set()
        blocks += [[run_test_accuracy(by_strategy[n][s]) for n in names] for s in sorted(common)]
    what = "replays (simulated clock)" if clock == SIMULATED else "live runs"
    if len(names) < 3:
        return Omnibus(tuple(names), len(blocks), clock=clock, benchmarks=benches,
                       statement=f"{what}: the Friedman test needs at least 3 strategies; there are {len(names)}")
    if len(blocks) < 2:
        return Omnibus(tuple(names), len(blocks), clock=clock, benchmarks=benches,
                       statement=f"{what}: the Friedman test needs at least 2 blocks (benchmark x seed); there are {len(blocks)}")
    ranks = tuple(float(r) for r in stats.average_ranks(blocks))
    p = stats.friedman_p(blocks)
    cd = stats.nemenyi_cd(len(names), len(blocks), alpha)
    where = f"{what} of {', '.join(benches)}, {len(blocks)} blocks (benchmark x seed), on held-out test accuracy"
    if p is not None and p < alpha:
        statement = (f"{where}: Friedman p = {p:.3g} < {alpha}: the strategies differ; average ranks closer than "
                     f"CD = {cd:.2f} are not significantly different (Nemenyi)")
    else:
        statement = f"{where}: Friedman p = {p:.3g} >= {alpha}: no significant difference among the strategies"
    return Omnibus(tuple(names), len(blocks), ranks, p, cd, statement, clock, benches)
