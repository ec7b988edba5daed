"""The regression gate: this session's runs against a stored baseline, metric by metric, seed by seed.

A *rule* ``metric:tolerance`` says how much worse a strategy may get before it counts, in the
metric's own worse direction: ``best_val_acc:-0.01`` (may drop 0.01), ``compute_saved:-0.05``,
``wallclock_s:+10%`` (may grow 10 %). A strategy regresses on a metric only when both hold:

* **consistent**: the per-seed changes (current - baseline, paired by seed, in the metric's worse
  direction; log ratios for a ``%`` rule) are significantly worse than "no change": a
  one-sided exact sign-flip permutation test on their mean (all 2^n sign patterns; ties and
  zero changes are exact), Holm-corrected over the *family*; and
* **large**: the mean over the paired seeds is worse than the baseline's by more than the tolerance.

The family is every (benchmark, strategy, metric) pair that moved: a pair whose every paired
change is exactly zero (compute saved of a FIFO strategy, or a strategy a change did not touch,
since replays repeat bit for bit) has p = 1 whatever happens and is left out. Leaving it out
depends only on the magnitudes of the changes, which the sign-flip test conditions on anyway,
so when nothing changed the family-wise false-alarm rate stays at alpha.

What the test's null is: "no change", not "a change within the tolerance". The tolerance is a
practical threshold on the mean. Testing the shortfall beyond the tolerance instead would make
every unchanged seed count against a regression (as -tolerance), and with noise on every pair the
gate's power for a 0.03 drop on 80 % of 12 seeds fell from 0.88 to 0.22 (simulated on the digits
baseline). The price: a real, consistent change just inside the tolerance can fail when noise
pushes its mean beyond it; ``measurements/test_gate_power.py`` prints how often.

Why this test: with 80 % of seeds regressed, the unchanged seeds' zeros carry no sign and the
mean weighs how far each seed moved; ``measurements/test_gate_power.py`` prints its power. With n
seeds the smallest p is 1/2^n, and Holm's first step needs p < alpha/m over m pairs: the report
says when a comparison could never get there, and how many seeds it would need.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Iterable

from harness.core.records import RunRecord, latest_per_seed
from harness.evaluate import paired
from harness.evaluate.stats import ALPHA, min_sign_flip_p, seeds_needed, sign_flip_p
from harness.gate.baseline import check_like_with_like, record_identity
from harness.gate.rules import METRICS, Rule, worse_changes


@dataclass(frozen=True)
class Finding:
    benchmark: str
    strategy: str
    rule: Rule
    n: int  # paired seeds
    base_mean: float | None
    current_mean: float | None
    p: float | None  # one-sided sign-flip p, before correction; None when nothing moved (not in the family)
    p_holm: float | None
    worse: bool  # the mean is worse than the baseline's by more than the tolerance
    regressed: bool  # ... and consistently so across the paired seeds
    changed: int = 0  # seeds whose value changed at all
    note: str = ""

    @property
    def change(self) -> float | None:
        if self.base_mean is None or self.current_mean is None:
            return None
        return self.current_mean - self.base_mean

    def line(self) -> str:
        head = f"{self.benchmark}/{self.strategy} {self.rule.metric}"
        if self.change is None:
            return f"{head}: {self.note}"
        text = (f"{head}: {self.base_mean:.4g} -> {self.current_mean:.4g} ({self.change:+.4g}; rule {self.rule}), "
                f"{self.changed} of {self.n} paired seeds changed")
        if self.p is not None:
            text += f", one-sided sign-flip p = {self.p:.3g} (Holm {self.p_holm:.3g})"
        return text + (f"; {self.note}" if self.note else "")


@dataclass(frozen=True)
class GateResult:
    findings: tuple[Finding, ...]
    alpha: float
    unmatched: tuple[str, ...]  # runs or baseline entries with nothing to pair with
    failed_runs: tuple[str, ...] = ()  # "benchmark/strategy seed s": a run that found nothing (every trial failed)

    @property
    def regressions(self) -> list[Finding]:
        return [f for f in self.findings if f.regressed]

    @property
    def family(self) -> list[Finding]:
        return [f for f in self.findings if f.p is not None]

    @property
    def inconclusive(self) -> bool:
        """Some pair moved, but with these seeds no change could ever be significant: the gate cannot tell."""
        m, n = len(self.family), max((f.n for f in self.findings), default=0)
        return m > 0 and min_sign_flip_p(n, "greater") >= self.alpha / m

    @property
    def passed(self) -> bool:
        """No regression, no failed run, and a family the seeds could have tested (nothing moved also passes)."""
        return not self.regressions and not self.failed_runs and not self.inconclusive

    def power_note(self) -> str:
        """What this gate could detect at all, given its family and seeds."""
        m, n = len(self.family), max((f.n for f in self.findings), default=0)
        if not m:
            return f"no gated pair moved on any of {n} paired seeds: nothing to test"
        smallest = min_sign_flip_p(n, "greater")
        text = (f"family: {m} of {len(self.findings)} gated (strategy, metric) pairs moved; Holm's first step needs "
                f"p < {self.alpha / m:.3g}, and {n} paired seeds give at best p = {smallest:.3g}")
        if smallest >= self.alpha / m:
            text += f": no change could be significant, so the gate is inconclusive; it needs >= {seeds_needed(m, self.alpha, 'greater')} seeds"
        return text

    def report(self) -> str:
        lines = []
        for run in self.failed_runs:
            lines.append(f"REGRESSION {run}: every trial failed, where the baseline's run found a result")
        for f in self.regressions:
            lines.append(f"REGRESSION {f.line()}")
        for f in (f for f in self.findings if f.worse and not f.regressed):
            lines.append(f"not significant {f.line()}")
        for text in self.unmatched:
            lines.append(f"unmatched: {text}")
        lines.append(self.power_note())
        verdict = ("FAILED" if self.regressions or self.failed_runs else
                   "INCONCLUSIVE (not passed: pairs moved, and these seeds could not show a regression)"
                   if self.inconclusive else "passed")
        lines.append(
            f"gate {verdict}: {len(self.regressions) + len(self.failed_runs)} regression(s) in {len(self.findings)} "
            f"(strategy, metric) comparisons at alpha {self.alpha} (one-sided sign-flip tests, Holm over the "
            f"{len(self.family)} that moved; a failed run is a regression by itself)"
        )
        return "\n".join(lines) + "\n"


def evaluate(records: Iterable[RunRecord], baseline: dict, rules: Iterable[Rule], alpha: float = ALPHA) -> GateResult:
    """Compare ``records`` (the newest run per benchmark, strategy and seed) against ``baseline``.

    Raises :class:`GateMismatch` when the runs are not the baseline's experiment (see the module docstring).
    """
    rules = list(rules)
    runs = latest_per_seed(list(records))
    check_like_with_like([record_identity(r) for r in runs], baseline)
    current: dict[tuple, dict[int, RunRecord]] = {}
    for r in runs:
        current.setdefault((r.benchmark, r.strategy), {})[r.seed] = r
    base: dict[tuple, dict[int, dict]] = {}
    for entry in baseline["runs"]:
        base.setdefault((entry["benchmark"], entry["strategy"]), {})[int(entry["seed"])] = entry
    unmatched = [f"{b}/{s}: no baseline" for (b, s) in sorted(set(current) - set(base))]
    unmatched += [f"{b}/{s}: in the baseline, not run" for (b, s) in sorted(set(base) - set(current))
                  if b in {k[0] for k in current}]

    raw: list[tuple[tuple, Rule, list[float], list[float]]] = []
    failed = []
    for key in sorted(set(current) & set(base)):
        seeds = sorted(set(current[key]) & set(base[key]))
        # A run whose every trial failed is the worst outcome, never a missing pair to drop.
        failed += [f"{key[0]}/{key[1]} seed {s}" for s in seeds if current[key][s].best_val_acc is None
                   and base[key][s]["metrics"].get("best_val_acc") is not None]
        for rule in rules:
            get = METRICS[rule.metric][0]
            pairs = [(base[key][s]["metrics"].get(rule.metric), get(current[key][s])) for s in seeds]
            pairs = [(b, c) for b, c in pairs if b is not None and c is not None]
            raw.append((key, rule, [b for b, _ in pairs], [c for _, c in pairs]))
    return GateResult(decide(raw, alpha), alpha, tuple(unmatched), tuple(failed))


def decide(raw: list[tuple[tuple, Rule, list[float], list[float]]], alpha: float = ALPHA) -> tuple[Finding, ...]:
    """The gate's verdict on paired numbers: ``raw`` holds ((benchmark, strategy), rule, baseline, current) per pair.

    This is all of the gate's statistics; :func:`evaluate` only pairs records with the baseline, and the power
    benchmark (``measurements/test_gate_power.py``) feeds it synthetic numbers.
    """
    changes = {i: worse_changes(rule, b, c) for i, (_, rule, b, c) in enumerate(raw)}
    pvalues = {i: sign_flip_p(d, "greater", "mean") if any(d) else None for i, d in changes.items()}
    judged = paired.judge(pvalues, {i: sum(x != 0 for x in d) for i, d in changes.items()}, alpha, "greater")
    return tuple(_finding(key, rule, b, c, judged[i]) for i, (key, rule, b, c) in enumerate(raw))


def _finding(key, rule: Rule, base, cur, j: paired.Judged) -> Finding:
    n = len(base)
    if n == 0:
        return Finding(*key, rule, 0, None, None, None, None, False, False, 0, "no paired seeds")
    bm, cm = statistics.fmean(base), statistics.fmean(cur)
    worse = (bm - cm if rule.higher_is_better else cm - bm) - rule.allowance(bm) > 0
    note = ""
    if worse:
        note = "worse beyond the tolerance" + ("" if j.significant else ", not consistently across seeds")
        if not j.significant and not j.reachable:
            note = (f"worse beyond the tolerance, but {j.differing} changed seeds could never reach significance "
                    f"(best p = 1/2^{j.differing}; Holm over {j.m} pairs needs >= {j.needed} changed seeds)")
    return Finding(*key, rule, n, bm, cm, j.p, j.p_holm, worse, worse and j.significant, j.differing, note)
