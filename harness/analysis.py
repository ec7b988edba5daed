"""From run records to the comparison: per-strategy statistics, tests against a reference, and the
omnibus Friedman/Nemenyi analysis. Pure functions of a list of RunRecords.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness import curves, stats
from harness.compare import latest_per_seed
from harness.records import RunRecord

DEFAULT_REFERENCE = "random"
DEFAULT_TARGET_FRACTION = 0.98


@dataclass(frozen=True)
class VersusReference:
    reference: str
    n_pairs: int
    p_raw: float | None
    p_holm: float | None
    a12: float | None  # P(this strategy's best accuracy beats the reference's), over paired seeds
    verdict: str  # "better", "worse", "no significant difference", "too few seeds (...)", "reference"


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
    versus: VersusReference | None = None


@dataclass(frozen=True)
class Omnibus:
    strategies: tuple[str, ...]
    n_blocks: int
    avg_ranks: tuple[float, ...] = ()
    friedman_p: float | None = None
    cd: float | None = None
    statement: str = ""


@dataclass(frozen=True)
class Analysis:
    rows: list[StrategyStats]
    targets: dict[str, float]  # benchmark -> target accuracy
    omnibus: Omnibus
    reference: str
    target_fraction: float
    alpha: float
    notes: list[str] = field(default_factory=list)
    runs: list[RunRecord] = field(default_factory=list)


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
        targets[bench] = target if target is not None else target_fraction * max(accs, default=0.0)
        ranks = benchmark_ranks(by_strategy)
        versus = _versus_reference(bench, by_strategy, reference, alpha, notes)
        for name, seeds in sorted(by_strategy.items()):
            rows.append(_strategy_stats(bench, name, seeds, targets[bench], ranks.get(name), versus.get(name)))
        missing = {n: sorted(set().union(*[set(s) for s in by_strategy.values()]) - set(s)) for n, s in by_strategy.items()}
        for name, seeds in missing.items():
            if seeds:
                notes.append(f"{bench}: {name} has no run for seed(s) {seeds}; paired tests use the seeds it shares")
    omnibus = _omnibus(by_bench, alpha)
    return Analysis(rows, targets, omnibus, reference, target_fraction, alpha, notes, runs)


def run_accuracy(r: RunRecord) -> float:
    # A run in which every trial failed found nothing: it ranks and pairs as accuracy 0.
    return r.best_val_acc if r.best_val_acc is not None else 0.0


def _strategy_stats(bench, name, seeds: dict[int, RunRecord], target, avg_rank, versus) -> StrategyStats:
    ok = [r for r in seeds.values() if r.best_val_acc is not None]
    hits = [curves.time_to_target(r, target) for r in ok]
    reached = [h for h in hits if h[0] is not None]
    return StrategyStats(
        benchmark=bench,
        strategy=name,
        seeds=tuple(sorted(seeds)),
        failed_runs=len(seeds) - len(ok),
        best_val_acc=stats.summarize([r.best_val_acc for r in ok]),
        wallclock_s=stats.summarize([r.wallclock_s for r in seeds.values()]),
        compute_saved=stats.summarize([r.compute_saved for r in seeds.values()]),
        ttt_s=stats.summarize([h[0] for h in reached]),
        ttt_epochs=stats.summarize([h[1] for h in reached]),
        reached=len(reached),
        auc=stats.summarize([curves.auc(r) for r in ok]),
        avg_rank=avg_rank,
        versus=versus,
    )


def _complete_blocks(by_strategy: dict[str, dict[int, RunRecord]]) -> list[int]:
    common = set.intersection(*(set(s) for s in by_strategy.values())) if by_strategy else set()
    return sorted(common)


def benchmark_ranks(by_strategy: dict[str, dict[int, RunRecord]]) -> dict[str, float]:
    """Each strategy's average rank (1 = best) on accuracy over the seeds every strategy ran."""
    names = sorted(by_strategy)
    seeds = _complete_blocks(by_strategy)
    if len(names) < 2 or not seeds:
        return {}
    ranks = stats.average_ranks([[run_accuracy(by_strategy[n][s]) for n in names] for s in seeds])
    return {n: float(r) for n, r in zip(names, ranks)}


def _versus_reference(bench, by_strategy, reference, alpha, notes) -> dict[str, VersusReference]:
    if reference not in by_strategy:
        if len(by_strategy) > 1:
            notes.append(f"{bench}: the reference strategy {reference!r} has no runs; no paired tests")
        return {}
    ref = by_strategy[reference]
    raw: dict[str, tuple[int, float | None, float]] = {}
    differing: dict[str, int] = {}
    for name, seeds in by_strategy.items():
        if name == reference:
            continue
        common = sorted(set(seeds) & set(ref))
        x, y = [run_accuracy(seeds[s]) for s in common], [run_accuracy(ref[s]) for s in common]
        nonzero = differing[name] = sum(a != b for a, b in zip(x, y))
        testable = nonzero > 0 and stats.min_wilcoxon_p(nonzero) <= alpha
        p = stats.wilcoxon_p(x, y) if testable else None
        raw[name] = (len(common), p, stats.a12(x, y) if common else None)
    adjusted = stats.holm({n: p for n, (_, p, _) in raw.items() if p is not None})
    out = {reference: VersusReference(reference, len(ref), None, None, None, "reference")}
    for name, (n, p, a) in raw.items():
        if p is None:
            tied = n > 0 and a == 0.5 and all(run_accuracy(by_strategy[name][s]) == run_accuracy(ref[s]) for s in set(by_strategy[name]) & set(ref))
            verdict = "identical to the reference on every seed" if tied else (
                f"too few seeds to test (n={n} < {_seeds_needed(alpha)})" if differing[name] == n else
                f"too few differing seeds to test ({differing[name]} of {n} differ; needs {_seeds_needed(alpha)})"
            )
            out[name] = VersusReference(reference, n, None, None, a, verdict)
            continue
        ph = adjusted[name]
        if ph < alpha:
            verdict = "better" if a > 0.5 else "worse"
        else:
            verdict = "no significant difference"
        out[name] = VersusReference(reference, n, p, ph, a, verdict)
    return out


def _seeds_needed(alpha: float) -> int:
    n = 1
    while stats.min_wilcoxon_p(n) > alpha:
        n += 1
    return n


def _omnibus(by_bench, alpha) -> Omnibus:
    """Friedman over blocks = (benchmark, seed) for the strategies present in every block."""
    names = sorted(set.intersection(*(set(s) for s in by_bench.values()))) if by_bench else []
    blocks = []
    for bench, by_strategy in sorted(by_bench.items()):
        common = set.intersection(*(set(by_strategy[n]) for n in names)) if names else set()
        blocks += [[run_accuracy(by_strategy[n][s]) for n in names] for s in sorted(common)]
    if len(names) < 3:
        return Omnibus(tuple(names), len(blocks), statement=f"the Friedman test needs at least 3 strategies; there are {len(names)}")
    if len(blocks) < 2:
        return Omnibus(tuple(names), len(blocks), statement=f"the Friedman test needs at least 2 blocks (benchmark x seed); there are {len(blocks)}")
    ranks = tuple(float(r) for r in stats.average_ranks(blocks))
    p = stats.friedman_p(blocks)
    cd = stats.nemenyi_cd(len(names), len(blocks), alpha)
    if p is not None and p < alpha:
        statement = f"Friedman p = {p:.3g} < {alpha}: the strategies differ; average ranks closer than CD = {cd:.2f} are not significantly different (Nemenyi)"
    else:
        statement = f"Friedman p = {p:.3g} >= {alpha}: no significant difference among the strategies over {len(blocks)} blocks"
    return Omnibus(tuple(names), len(blocks), ranks, p, cd, statement)
