"""The verdict in words: per benchmark at most eight short lines, the recommendation first, each claim with its
estimate and 95 % interval, then its test, p and seed count.

What is tested, each against the reference strategy and paired by seed:

* **held-out test accuracy** of the configuration each run selected on validation (not biased by how many
  configurations a strategy saw): the exact two-sided signed-rank test; the effect is the mean paired
  difference with its t interval (``stats.summarize``), clipped to [-1, 1];
* **compute to match**: epochs to reach the median of the reference's final validation accuracies, relative to the
  reference's (``equal_compute``): the exact signed-rank test on per-seed log epoch ratios (a run that never reached
  it ranks beyond every seed on which both did), exact when the strategies do not differ; the effect is the ratio of
  expected running times with its bootstrap interval;
* and, across all strategies, the Friedman test on held-out test accuracy (blocks = seeds).

**Error control holds over every claim the verdict makes**: all these p-values, of every benchmark, form one
Holm family, so the chance that any claim in the verdict is a false positive is at most alpha under any
dependence between them. (The report's table tests each column on its own: its Holm holds per column.)
Compute saved is a design figure of the schedulers (an early-stopping strategy saves by construction), so it is
described, never tested. Where the seeds could never reach significance, the verdict still gives each
estimate and interval, and says how many seeds a test would need.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.core.objective import Objective
from harness.core.records import SIMULATED, RunRecord
from harness.evaluate import paired, stats
from harness.evaluate.equal_compute import Anytime, ToMatch
from harness.evaluate.summary import Analysis, run_test_accuracy

ALWAYS_REACHABLE = 64  # a Friedman test's p is not bounded by 2/2^n like a signed-rank test's


@dataclass(frozen=True)
class Claim:
    """One tested comparison of the verdict's family."""

    key: tuple  # (benchmark, question, strategy)
    n: int  # seeds paired
    differing: int
    p: float | None
    direction: float  # > 0: the strategy is the better one
    estimate: float | None = None
    low: float | None = None
    high: float | None = None
    reached: int | None = None  # compute to match: seeds on which the strategy reached the target


def claims_judged(analysis: Analysis) -> tuple[dict[tuple, Claim], dict[tuple, paired.Judged]]:
    """Every claim the verdict tests, by key, and its judgement in the one Holm family they all share."""
    claims = {c.key: c for bench in sorted(analysis.targets) for c in _claims(analysis, bench)}
    judged = paired.judge({k: c.p for k, c in claims.items()}, {k: c.differing for k, c in claims.items()},
                          analysis.alpha)
    return claims, judged


def verdict(analysis: Analysis) -> list[str]:
    """The verdict as lines of text: each benchmark's lines, the comparison across problems, the error control."""
    claims, judged = claims_judged(analysis)
    lines = []
    for bench in sorted(analysis.targets):
        lines += benchmark_verdict(analysis, bench, claims, judged)
    for om in analysis.omnibus:
        if len(om.benchmarks) > 1:  # one benchmark's omnibus is already in its own lines
            ranks = ", ".join(f"{s} {r:.2f}" for r, s in sorted(zip(om.avg_ranks, om.strategies)))
            lines.append(f"Across problems: {om.statement}" + (f"; average ranks (1 = best): {ranks}" if ranks else "") + ".")
    if claims:
        moved = sum(j.p is not None for j in judged.values())
        lines.append(f"Error control: Holm over all {moved} tested claims of this verdict together, so the chance that "
                     f"any of them is a false positive is at most {analysis.alpha}; the report's table tests each "
                     f"column on its own.")
    return lines


# -- the claims -----------------------------------------------------------------------------------------------
def _by_strategy(runs: list[RunRecord], bench: str) -> dict[str, dict[int, RunRecord]]:
    out: dict[str, dict[int, RunRecord]] = {}
    for r in runs:
        if r.benchmark == bench:
            out.setdefault(r.strategy, {})[r.seed] = r
    return out


def _claims(analysis: Analysis, bench: str) -> list[Claim]:
    by_strategy = _by_strategy(analysis.runs, bench)
    reference = analysis.reference
    if reference not in by_strategy or len(by_strategy) < 2:
        return []
    out = [_accuracy_claim(bench, name, by_strategy[name], by_strategy[reference])
           for name in sorted(by_strategy) if name != reference]
    out += [_match_claim(bench, m) for m in analysis.to_match.get(bench, [])]
    names = sorted(by_strategy)
    seeds = sorted(set.intersection(*(set(s) for s in by_strategy.values())))
    p = stats.friedman_p([[run_test_accuracy(by_strategy[n][s]) for n in names] for s in seeds])
    if p is not None:
        out.append(Claim((bench, "omnibus", ""), len(seeds), ALWAYS_REACHABLE, p, 0.0))
    return out


def _accuracy_claim(bench: str, name: str, mine: dict[int, RunRecord], ref: dict[int, RunRecord]) -> Claim:
    seeds = sorted(set(mine) & set(ref))
    x, y = [run_test_accuracy(mine[s]) for s in seeds], [run_test_accuracy(ref[s]) for s in seeds]
    diffs = [a - b for a, b in zip(x, y)]
    differing = sum(d != 0 for d in diffs)
    p, direction = stats.signed_rank_test(x, y) if differing else (None, 0.0)
    unit = next(iter(mine.values())).objective.unit_range  # a difference of two scores in a unit range
    s = stats.summarize(diffs, bounds=(-1.0, 1.0) if unit else None)
    return Claim((bench, "test", name), len(seeds), differing, p, direction, s.mean, s.ci_low, s.ci_high)


def _match_claim(bench: str, m: ToMatch) -> Claim:
    diffs = m.differences  # > 0: this strategy matched the reference sooner than the reference matched it
    differing = sum(d != 0 for d in diffs)
    p, direction = stats.signed_rank_test(diffs, [0.0] * len(diffs)) if differing else (None, 0.0)
    return Claim((bench, "match", m.strategy), m.n_pairs, differing, p, direction, m.ratio, m.ci_low, m.ci_high,
                 m.reached)


# -- the lines ------------------------------------------------------------------------------------------------
def benchmark_verdict(analysis: Analysis, bench: str, claims: dict, judged: dict) -> list[str]:
    """One benchmark's verdict, at most eight lines, the recommendation first."""
    reference = analysis.reference
    runs = [r for r in analysis.runs if r.benchmark == bench]
    seeds = len({r.seed for r in runs})
    head = f"{bench} ({seeds} seeds, {_budget_text(runs)}, {_clock_text(runs)}; reference {reference}):"
    mine = {k: c for k, c in claims.items() if k[0] == bench}
    if not mine:
        return [f"{head} no comparison: the reference {reference!r} and at least one other strategy are needed."]
    test = {k[2]: (c, judged[k]) for k, c in mine.items() if k[1] == "test"}
    match = {k[2]: (c, judged[k]) for k, c in mine.items() if k[1] == "match"}
    words = Words(runs[0].objective)
    lines = [f"{head} {_recommendation(analysis, bench, test, match, words)}"]
    omnibus = mine.get((bench, "omnibus", ""))
    if omnibus is not None:
        j = judged[omnibus.key]
        word = "differ" if j.significant else "are not shown to differ"
        lines.append(f"  The {len(_by_strategy(runs, bench))} strategies {word} on {words.test} "
                     f"(Friedman p = {omnibus.p:.2g}, Holm p = {j.p_holm:.2g}, {omnibus.n} seeds).")
    lines.append("  " + _accuracy_line(test, reference, words))
    if match:
        target = next((m.target for m in analysis.to_match.get(bench, [])), None)
        lines.append("  " + _match_line(match, reference, target, words))
    anytime = analysis.anytime.get(bench)
    if anytime is not None:
        lines.append("  " + _anytime_line(anytime, bench, words))
    saved = _saved_line(analysis, bench)
    if saved:
        lines.append("  " + saved)
    needs = _seeds_line(judged, mine, seeds)
    if needs:
        lines.append("  " + needs)
    return lines[:8]


class Words:
    """How the verdict names and shows a benchmark's objective: accuracy, or a declared metric in its own direction."""

    def __init__(self, objective: Objective) -> None:
        self.objective = objective
        default = objective.is_default
        self.test = "held-out test accuracy" if default else f"held-out {objective.test_metric or 'test metric'}"
        self.val = "validation accuracy" if default else objective.metric
        self.hint = "" if default else f" ({'lower' if objective.mode == 'min' else 'higher'} is better)"
        self.beat = "be more accurate than" if default else "beat"
        self.test_data = "held-out test data" if default else self.test

    def value(self, x: float | None, low: float | None = None, high: float | None = None, signed: bool = False) -> str:
        """A score (or a difference of scores) shown in the metric's own direction, with its interval if any."""
        if x is None:
            return "n/a"
        fmt = "+.3f" if signed else ".3f" if self.objective.unit_range else ".4g"
        if signed and not self.objective.unit_range:
            fmt = "+.4g"
        shown = self.objective.shown
        text = format(shown(x), fmt)
        if low is not None and high is not None:
            a, b = sorted((shown(low), shown(high)))
            text += f" [{format(a, fmt)}, {format(b, fmt)}]"
        return text


def _recommendation(analysis: Analysis, bench: str, test: dict, match: dict, words: Words) -> str:
    reference = analysis.reference
    better = [(c, j) for c, j in test.values() if j.significant and c.direction > 0]
    if better:
        c, j = max(better, key=lambda cj: cj[0].estimate)
        name = c.key[2]
        return (f"use {name}: its {words.test} is {_row(analysis, bench, name, words)}, "
                f"{_diff(c, words)} over {reference}{words.hint} ({_test_text(c, j)}).")
    cheaper = [(c, j) for c, j in match.values() if j.significant and c.direction > 0]
    rows = [r for r in analysis.rows if r.benchmark == bench and r.avg_rank is not None]
    best = min(rows, key=lambda r: r.avg_rank) if rows else None
    text = f"no strategy is shown to {words.beat} {reference} on {words.test_data} at this budget"
    if best is not None and best.strategy in test:
        c, j = test[best.strategy]
        text += (f"; the best ranked is {best.strategy} (average rank {best.avg_rank:.1f}, {words.test} "
                 f"{_row(analysis, bench, best.strategy, words)}; {_diff(c, words)} over {reference}{words.hint}, "
                 f"{_test_text(c, j)})")
    elif best is not None:
        text += f"; {best.strategy}, the reference, ranks best (average rank {best.avg_rank:.1f})"
    if cheaper:
        c, j = min(cheaper, key=lambda cj: cj[0].estimate)
        text += (f". To spend less compute: {c.key[2]} reaches the median of {reference}'s final {words.val} "
                 f"with {_ratio(c)} its epochs ({_test_text(c, j)})")
    return text + "."


def _accuracy_line(test: dict, reference: str, words: Words) -> str:
    what = words.test[0].upper() + words.test[1:]
    found = [(c, j) for c, j in test.values() if j.significant]
    if found:
        parts = [f"{c.key[2]} {_diff(c, words)} ({_test_text(c, j)})"
                 for c, j in sorted(found, key=lambda cj: -cj[0].estimate)]
        return f"{what} against {reference}{words.hint}: " + "; ".join(parts) + "."
    if not test:
        return f"{what}: nothing to compare with {reference}."
    c, j = max(test.values(), key=lambda cj: abs(cj[0].estimate or 0.0))
    if c.p is None:
        return f"{what}: no strategy differs from {reference} on any seed."
    return (f"{what}: no strategy differs significantly from {reference}; the largest difference is "
            f"{c.key[2]}'s {_diff(c, words)}{words.hint} ({_test_text(c, j)}).")


def _match_line(match: dict, reference: str, target: float | None, words: Words) -> str:
    ordered = sorted(match.values(), key=lambda cj: (cj[0].estimate if cj[0].estimate is not None else math.inf))
    parts = []
    for c, j in ordered[:5]:
        reached = f"{c.reached}/{c.n} reached"
        mark = f", Holm p = {j.p_holm:.2g}" if j.p is not None else ""
        parts.append(f"{c.key[2]} {_ratio(c)} ({reached}{mark})")
    more = f"; {len(ordered) - 5} more in the report" if len(ordered) > 5 else ""
    goal = (f"{words.value(target)}, the median of {reference}'s final {words.val}" if target is not None
            else "the target")
    return (f"Epochs to reach {goal}, relative to {reference}'s (expected running time, jackknife bias-corrected "
            f"where every seed can be left out, 95% bootstrap interval; signed-rank tests): "
            + "; ".join(parts) + more + ".")


def _anytime_line(a: Anytime, bench: str, words: Words) -> str:
    def leader(i: int) -> str:
        name = min(a.ranks, key=lambda n: a.ranks[n][i])
        return f"{name} ({a.ranks[name][i]:.1f})"

    picks = [i for i, f in enumerate(a.fractions) if f in (a.fractions[0], 0.25, 1.0)]
    parts = [f"at {_fraction(a.fractions[i])} of the budget {leader(i)}" for i in picks]
    return (f"Best average rank on {words.test} over the budget ({a.seeds} seeds; plots/anytime_{bench}.png): "
            + ", ".join(parts) + ".")


def _saved_line(analysis: Analysis, bench: str) -> str:
    rows = [r for r in analysis.rows if r.benchmark == bench and r.compute_saved.mean]
    if not rows:
        return ""
    parts = ", ".join(f"{r.strategy} {r.compute_saved.mean:.0%}" for r in sorted(rows, key=lambda r: -r.compute_saved.mean))
    trials = _trials_text(analysis, bench)
    return (f"Early stopping skipped {parts} of its trials' full epochs (a design figure of the schedulers, not "
            f"tested){trials}.")


def _seeds_line(judged: dict, mine: dict, seeds: int) -> str:
    moved = {k: j for k, j in judged.items() if k in mine and k[1] != "omnibus" and j.p is not None}
    if not moved or any(j.reachable for j in moved.values()):
        return ""
    j = next(iter(moved.values()))
    return (f"With {seeds} seeds no paired comparison can reach significance: {j.too_few()}; "
            f"the estimates and intervals above still stand.")


# -- formatting -----------------------------------------------------------------------------------------------
def _test_text(c: Claim, j: paired.Judged) -> str:
    if c.p is None:
        return f"equal on all {c.n} seeds"
    return f"signed-rank p = {c.p:.2g}, Holm p = {j.p_holm:.2g} over {j.m} claims, {c.n} seeds"


def _diff(c: Claim, words: Words) -> str:
    if c.low is not None and c.low == c.high and c.n > 1:  # no spread: a t interval of zero width would look certain
        return words.value(c.estimate, signed=True) + f" (alike on all {c.n} seeds, so no interval)"
    return words.value(c.estimate, c.low, c.high, signed=True)


def _ratio(c: Claim) -> str:
    if c.estimate is None:
        return "n/a"
    if math.isinf(c.estimate):
        return "never (it did not reach it)"
    high = "inf" if c.high is not None and math.isinf(c.high) else f"{c.high:.2f}" if c.high is not None else None
    return f"{c.estimate:.2f}x" + (f" [{c.low:.2f}, {high}]" if high is not None else "")


def _row(analysis: Analysis, bench: str, name: str, words: Words) -> str:
    row = next(r for r in analysis.rows if r.benchmark == bench and r.strategy == name)
    s = row.test_acc
    return words.value(s.mean, s.ci_low, s.ci_high)


def _fraction(f: float) -> str:
    return "all" if f == 1.0 else f"1/{round(1 / f)}"


def _budget_text(runs: list[RunRecord]) -> str:
    budget = runs[0].budget
    if budget.get("total_epochs"):
        return f"equal compute: {budget['total_epochs']} epochs a run"
    return f"{budget.get('num_trials')} trials of up to {budget.get('max_epochs')} epochs"


def _clock_text(runs: list[RunRecord]) -> str:
    sim = [r for r in runs if r.clock == SIMULATED]
    if not sim:
        return "real clock"
    tables = {r.table_fingerprint: r.table for r in sim if r.table}
    if len(tables) > 1:
        return f"replayed over {len(tables)} different recorded tables"
    table = next(iter(tables.values()), None)
    if table and table.kind == "surrogate":  # a surrogate: every proposal predicted, none looked up
        return f"replayed through a surrogate fitted on {table.configs} configurations recorded over the live space"
    configs = f"the {table.configs} configurations" if table and table.configs else "the configurations"
    return f"replayed over {configs} recorded in the {(table and table.benchmark) or 'replayed'} table"


def _trials_text(analysis: Analysis, bench: str) -> str:
    runs = [r for r in analysis.runs if r.benchmark == bench]
    if not runs or not runs[0].budget.get("total_epochs"):
        return ""
    per = {}
    for r in runs:
        per.setdefault(r.strategy, []).append(r.trials_started)
    mean = {s: sum(v) / len(v) for s, v in per.items()}
    ref = mean.get(analysis.reference)
    most = max(mean, key=mean.get)
    return (f"; at equal compute that buys more trials ({most} {mean[most]:.0f} a run"
            + (f" against {analysis.reference}'s {ref:.0f})" if ref is not None else ")"))
