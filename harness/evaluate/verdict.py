"""The verdict in words: per benchmark, only the claims its paired tests support, each with its test, p and seeds.

Three questions, each against the reference strategy, paired by seed, with Holm over the strategies
asked (one family per question and benchmark):

* **sooner**: does a strategy reach the target accuracy sooner? A two-sided signed-rank test on the
  per-seed log time ratio; a seed on which only one of the two reached the target ranks above every
  seed on which both did, in favour of the one that reached it (``sooner_differences``). The effect is
  the time ratio (strategy / reference), the geometric mean over the seeds on which both reached the
  target, with its 95 % Student-t interval on the log scale.
* **compute**: does a strategy save compute (epochs its trials did not train because a scheduler
  stopped them)? The same test on the fraction saved; the effect is its mean and 95 % interval.
* **accuracy**: is a strategy more (or less) accurate on held-out test accuracy? The report's signed-
  rank test on test accuracy of the selected configuration (``summary``).

Signed-rank tests are exact (every sign pattern enumerated) up to 20 differing seeds and Monte Carlo
beyond (``stats.sign_flip_p``). Holm controls the error rate within each question of each benchmark,
not across questions or benchmarks. Where no test passes, the verdict says "no significant
difference"; where the seeds could never be enough under Holm, it says that instead. Across problems, it repeats the Friedman tests over
(benchmark x seed) blocks, one per clock, with the average ranks the critical-difference diagram draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.evaluate import curves, paired, stats
from harness.evaluate.summary import Analysis, StrategyStats
from harness.core.records import SIMULATED, RunRecord


@dataclass(frozen=True)
class PairedTest:
    """One strategy against the reference on one question."""

    strategy: str
    n_pairs: int
    differing: int
    p: float | None  # None: no seed differs
    direction: float  # > 0: the strategy is the better one (sooner, saves more, more accurate)
    effect: tuple[float, float | None, float | None] | None  # estimate and 95% interval, on the effect's scale
    means: tuple[float, float] | None = None  # the strategy's and the reference's means, where they say more
    both_reached: int = 0  # time to target: the seeds on which both reached it (those the ratio is over)


def verdict(analysis: Analysis) -> list[str]:
    """The verdict as lines of text: one paragraph per benchmark, then the comparison across problems."""
    lines = []
    for bench in sorted(analysis.targets):
        lines.append(benchmark_verdict(analysis, bench))
    for om in analysis.omnibus:
        ranks = ", ".join(f"{s} {r:.2f}" for r, s in sorted(zip(om.avg_ranks, om.strategies)))
        lines.append(f"Across problems: {om.statement}" + (f"; average ranks (1 = best): {ranks}" if ranks else "") + ".")
    return lines


def benchmark_verdict(analysis: Analysis, bench: str) -> str:
    """One benchmark's verdict in sentences."""
    by_strategy = _by_strategy(analysis.runs, bench)
    reference, alpha = analysis.reference, analysis.alpha
    seeds = len({r.seed for r in analysis.runs if r.benchmark == bench})
    clock = "simulated" if any(r.clock == SIMULATED for r in by_strategy.get(reference, {}).values()) else "real"
    head = (f"{bench} ({seeds} seeds, {clock} clock{_replayed_from(analysis.runs, bench)}; against {reference}, "
            f"target accuracy {analysis.targets[bench]:.4f}):")
    if reference not in by_strategy or len(by_strategy) < 2:
        return f"{head} no comparison: the reference {reference!r} and at least one other strategy are needed."
    target = analysis.targets[bench]
    sooner = _holm(_sooner_tests(by_strategy, reference, target), analysis.alpha)
    compute = _holm(_compute_tests(by_strategy, reference), analysis.alpha)
    rows = [r for r in analysis.rows if r.benchmark == bench and r.strategy != reference]
    sentences = [
        _sooner_sentence(sooner, reference, alpha),
        _compute_sentence(compute, reference, alpha),
        _accuracy_sentence(rows, reference, alpha),
    ]
    return f"{head} " + " ".join(s for s in sentences if s)


def _replayed_from(runs: list[RunRecord], bench: str) -> str:
    """For a replay, the table it searched: its verdict holds for the table's recorded configurations,
    which can be coarser than the live space (``python -m harness agreement`` compares the two)."""
    tables = {}
    for r in runs:
        table = r.table if r.benchmark == bench and r.clock == SIMULATED else None
        if table:
            tables[table.fingerprint] = table
    if not tables:
        return ""
    if len(tables) > 1:
        return f", over {len(tables)} different recorded tables"
    (table,) = tables.values()
    configs = f"the {table.configs} configurations" if table.configs else "the configurations"
    return f", over {configs} recorded in the {table.benchmark or 'replayed'} table"


def _by_strategy(runs: list[RunRecord], bench: str) -> dict[str, dict[int, RunRecord]]:
    out: dict[str, dict[int, RunRecord]] = {}
    for r in runs:
        if r.benchmark == bench:
            out.setdefault(r.strategy, {})[r.seed] = r
    return out


def _sooner_tests(by_strategy, reference: str, target: float) -> list[PairedTest]:
    ref = by_strategy[reference]
    times = {(n, s): curves.time_to_target(r, target)[0] for n, seeds in by_strategy.items() for s, r in seeds.items()}
    out = []
    for name in sorted(by_strategy):
        if name == reference:
            continue
        common = sorted(set(by_strategy[name]) & set(ref))
        pairs = [(times[(name, s)], times[(reference, s)]) for s in common]
        diffs = sooner_differences(pairs)
        p, direction = stats.signed_rank_test(diffs, [0.0] * len(diffs))  # > 0: this strategy was sooner
        both = [math.log(max(a, 1e-9) / max(b, 1e-9)) for a, b in pairs if a is not None and b is not None]
        differing = sum(d != 0 for d in diffs)
        out.append(PairedTest(name, len(pairs), differing, p if differing else None, direction, _ratio(both),
                              both_reached=len(both)))
    return out


def sooner_differences(pairs: list[tuple[float | None, float | None]]) -> list[float]:
    """Per seed, how much sooner the strategy reached the target than the reference: log(t_ref / t_strategy).

    ``None`` is "never reached". A seed on which only one of the two reached it gets a difference
    larger than every seed on which both did (so it ranks above them all), signed for the one that
    reached it; a seed on which neither did is a tie (0).
    """
    both = [math.log(max(b, 1e-9) / max(a, 1e-9)) for a, b in pairs if a is not None and b is not None]
    beyond = max((abs(d) for d in both), default=0.0) + 1.0
    out = []
    for a, b in pairs:
        if a is not None and b is not None:
            out.append(math.log(max(b, 1e-9) / max(a, 1e-9)))
        else:
            out.append(0.0 if a is None and b is None else beyond if a is not None else -beyond)
    return out


def _ratio(log_ratios: list[float]) -> tuple[float, float | None, float | None] | None:
    """Geometric-mean ratio and its 95% interval, from per-seed log ratios."""
    if not log_ratios:
        return None
    mean = sum(log_ratios) / len(log_ratios)
    interval = stats.t_interval(log_ratios)
    return math.exp(mean), *(tuple(math.exp(v) for v in interval) if interval else (None, None))


def _compute_tests(by_strategy, reference: str) -> list[PairedTest]:
    ref = by_strategy[reference]
    out = []
    for name in sorted(by_strategy):
        if name == reference:
            continue
        common = sorted(set(by_strategy[name]) & set(ref))
        mine = [by_strategy[name][s].compute_saved for s in common]
        theirs = [ref[s].compute_saved for s in common]
        p, direction = stats.signed_rank_test(mine, theirs)
        diffs = [a - b for a, b in zip(mine, theirs)]
        interval = stats.t_interval(diffs)
        effect = (sum(diffs) / len(diffs), *(interval or (None, None))) if diffs else None
        means = (sum(mine) / len(mine), sum(theirs) / len(theirs)) if diffs else None
        out.append(_test(name, mine, theirs, p, direction, effect, means))
    return out


def _test(name, mine, theirs, p, direction, effect, means=None) -> PairedTest:
    differing = sum(a != b for a, b in zip(mine, theirs))
    return PairedTest(name, len(mine), differing, p if differing else None, direction, effect, means)


def _holm(tests: list[PairedTest], alpha: float) -> list[tuple[PairedTest, paired.Judged]]:
    """Each test with its judgement in the family of tests with a p (``harness.evaluate.paired``)."""
    judged = paired.judge({t.strategy: t.p for t in tests}, {t.strategy: t.differing for t in tests}, alpha)
    return [(t, judged[t.strategy]) for t in tests]


def _where(test: PairedTest, j: paired.Judged) -> str:
    return f"signed-rank test, Holm p = {j.p_holm:.2g} over {j.m}, {test.n_pairs} seeds"


def _sooner_sentence(tests, reference: str, alpha: float) -> str:
    found = []
    for t, j in tests:
        if not j.significant:
            continue
        when = "sooner" if t.direction > 0 else "later"
        ratio = _ratio_text(t.effect, t.both_reached)
        found.append(f"{t.strategy} reaches the target {when} than {reference}{ratio} ({_where(t, j)})")
    if found:
        return "Time to target: " + "; ".join(found) + "."
    return "Time to target: " + _nothing(tests)


def _ratio_text(effect, both: int) -> str:
    if effect is None:
        return " (no seed on which both reached it, so no time ratio)"
    ratio, low, high = effect
    interval = f", 95% CI {low:.2f}-{high:.2f}" if low is not None else ""
    return f", time ratio {ratio:.2f}{interval} on the {both} seeds both reached it"


def _compute_sentence(tests, reference: str, alpha: float) -> str:
    found = []
    for t, j in tests:
        if not j.significant or t.effect is None:
            continue
        (_, low, high), (mine, theirs) = t.effect, t.means
        interval = f"; difference 95% CI {100 * low:+.0f} to {100 * high:+.0f} points" if low is not None else ""
        more = "more" if t.direction > 0 else "less"
        found.append(f"{t.strategy} saves {more} compute than {reference}: {mine:.0%} of its trials' epochs against "
                     f"{theirs:.0%}{interval} ({_where(t, j)})")
    if found:
        return "Compute: " + "; ".join(found) + "."
    return "Compute: " + _nothing(tests)


def _accuracy_sentence(rows: list[StrategyStats], reference: str, alpha: float) -> str:
    found, tests = [], [r.versus_test for r in rows if r.versus_test is not None]
    for r in rows:
        v = r.versus_test
        if v is not None and v.verdict in ("better", "worse"):
            word = "more" if v.verdict == "better" else "less"
            found.append(f"{r.strategy} is {word} accurate than {reference} (mean {r.test_acc.mean:.4f}; "
                         f"signed-rank test, Holm p = {v.p_holm:.2g}, {v.n_pairs} seeds)")
    if found:
        return "Held-out test accuracy: " + "; ".join(found) + "."
    tested = [v for v in tests if v.p_raw is not None]
    if not tested:
        return f"Held-out test accuracy: no strategy differs from {reference} on any seed."
    if all(v.verdict.startswith("too few") for v in tested):
        m = len(tested)
        return (f"Held-out test accuracy: too few seeds to find a difference ({max(v.n_pairs for v in tested)} seeds; "
                f"Holm over {m} comparisons needs {stats.seeds_needed(m, alpha)} differing seeds).")
    n = max(v.n_pairs for v in tested)
    return (f"Held-out test accuracy: no significant difference from {reference} (signed-rank tests, Holm over "
            f"{len(tested)}, {n} seeds).")


def _nothing(tests) -> str:
    """What to say when no test of a family passed: no difference, or too few seeds to find one."""
    moved = [(t, j) for t, j in tests if j.p is not None]
    if not moved:
        return "no strategy differs from the reference on any seed."
    n, m = max(t.n_pairs for t, _ in moved), moved[0][1].m
    if paired.none_reachable({t.strategy: j for t, j in moved}):
        return f"too few seeds to find a difference ({n} seeds; {moved[0][1].too_few()})."
    return f"no significant difference (signed-rank tests, Holm over {m}, {n} seeds)."
