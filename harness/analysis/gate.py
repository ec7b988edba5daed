"""The regression gate: this session's runs against a stored baseline, metric by metric, seed by seed.

A *rule* ``metric:tolerance`` says how much worse a strategy may get before it counts, in the
metric's own worse direction: ``best_acc:-0.01`` (may drop 0.01), ``compute_saved:-0.05``,
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
pushes its mean beyond it; ``benchmarks/test_gate_power.py`` prints how often.

Why this test: with 80 % of seeds regressed, the unchanged seeds' zeros carry no sign and the
mean weighs how far each seed moved; ``benchmarks/test_gate_power.py`` prints its power. With n
seeds the smallest p is 1/2^n, and Holm's first step needs p < alpha/m over m pairs: the report
says when a comparison could never get there, and how many seeds it would need.

Like with like: a baseline recorded from another table, budget, clock or benchmark is refused
(:class:`GateMismatch`), since paired seeds would then compare different experiments.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from harness.errors import ConfigError
from harness.records import RunRecord, latest_per_seed
from harness.analysis.stats import ALPHA, best_case_holm, holm, min_sign_flip_p, seeds_needed, sign_flip_p

FORMAT = "tuning-bench/baseline"
VERSION = 1
# metric -> (how to read it from a run record, True if higher is better)
METRICS = {
    "best_acc": (lambda r: r.best_val_acc, True),
    "test_acc": (lambda r: r.test_acc, True),
    "compute_saved": (lambda r: r.compute_saved, True),
    "wallclock_s": (lambda r: r.wallclock_s, False),
    "epochs_used": (lambda r: float(r.epochs_used), False),
}
DEFAULT_RULES = ("best_acc:-0.01", "compute_saved:-0.05", "wallclock_s:+10%")


class GateMismatch(ConfigError):
    """The session's runs and the baseline are not the same experiment: a one-line refusal."""


@dataclass(frozen=True)
class Rule:
    metric: str
    tolerance: float  # a non-negative amount of worsening allowed
    relative: bool  # tolerance is a fraction of the baseline value

    @property
    def higher_is_better(self) -> bool:
        return METRICS[self.metric][1]

    def allowance(self, base: float) -> float:
        return self.tolerance * abs(base) if self.relative else self.tolerance

    def __str__(self) -> str:
        sign = "-" if self.higher_is_better else "+"
        return f"{self.metric}:{sign}{self.tolerance * 100:g}%" if self.relative else f"{self.metric}:{sign}{self.tolerance:g}"


def parse_rule(text: str) -> Rule:
    """``best_acc:-0.01`` or ``wallclock_s:+10%``; the sign must be the metric's worse direction."""
    metric, sep, tol = text.partition(":")
    metric, tol = metric.strip(), tol.strip()
    if not sep or metric not in METRICS:
        raise ConfigError(f"gate rule {text!r}: expected METRIC:TOLERANCE with METRIC one of {', '.join(METRICS)}")
    higher = METRICS[metric][1]
    worse = "-" if higher else "+"
    if not tol or tol[0] not in "+-":
        raise ConfigError(f"gate rule {text!r}: give the tolerance a sign: {metric}:{worse}{tol or '0.01'}")
    if tol[0] != worse:
        direction = "higher" if higher else "lower"
        raise ConfigError(
            f"gate rule {text!r}: {direction} {metric} is better, so its tolerance is how far it may "
            f"{'drop' if higher else 'grow'}: write {metric}:{worse}{tol[1:]}"
        )
    relative = tol.endswith("%")
    try:
        amount = float(tol[1:-1] if relative else tol[1:])
    except ValueError:
        raise ConfigError(f"gate rule {text!r}: tolerance {tol!r} is not a number") from None
    if not math.isfinite(amount) or amount < 0:
        raise ConfigError(f"gate rule {text!r}: tolerance must be a finite amount >= 0")
    return Rule(metric, amount / 100 if relative else amount, relative)


# -- baselines ----------------------------------------------------------------------------------------
def baseline_from_records(records: Iterable[RunRecord]) -> dict:
    """A baseline: every run's gated metrics, keyed by benchmark, strategy and seed, plus provenance."""
    from harness import provenance

    runs = sorted(latest_per_seed(list(records)), key=lambda r: (r.benchmark, r.strategy, r.seed))
    if not runs:
        raise ConfigError("baseline: no runs to store")
    static = provenance.collect()
    return {
        "format": FORMAT,
        "version": VERSION,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "provenance": {k: static.get(k) for k in ("git_commit", "git_dirty", "device", "versions")},
        "runs": [
            {
                "benchmark": r.benchmark, "strategy": r.strategy, "seed": r.seed, "clock": r.clock,
                "budget": r.budget, "table": r.provenance.get("table", {}).get("fingerprint"),
                "metrics": {m: get(r) for m, (get, _) in METRICS.items()},
            }
            for r in runs
        ],
    }


def save_baseline(records: Iterable[RunRecord], path: str | Path) -> Path:
    from harness.store import write_atomic

    # Replacing a baseline is deliberate (that is how one accepts a change), so it may overwrite.
    return write_atomic(Path(path), json.dumps(baseline_from_records(records), indent=1, sort_keys=True), overwrite=True)


def load_baseline(path: str | Path) -> dict:
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"gate: no baseline at {path} (write one with --save-baseline)") from None
    except ValueError as exc:
        raise ConfigError(f"gate: baseline {path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
        raise ConfigError(f"gate: {path} is not a version-{VERSION} baseline file")
    return data


# -- like with like ------------------------------------------------------------------------------------
IDENTITY = ("clock", "table", "budget")  # what must match, per benchmark, for seeds to pair


def identity(benchmark: str, clock: str, table: str | None, budget: dict) -> dict:
    """What a run was run on, as the baseline stores it."""
    return {"benchmark": benchmark, "clock": clock, "table": table, "budget": dict(budget)}


def record_identity(r: RunRecord) -> dict:
    return identity(r.benchmark, r.clock, r.provenance.get("table", {}).get("fingerprint"), r.budget)


def check_like_with_like(session: list[dict], baseline: dict, where: str = "the baseline") -> None:
    """Raise :class:`GateMismatch` naming the first difference between the session's experiments and the baseline's.

    Every run counts, not one per benchmark: runs of one benchmark that mix budgets (say, the newest run
    of some seeds from a ``--budget`` session) are refused too.
    """
    base: dict[str, list[dict]] = {}
    for entry in baseline["runs"]:
        ident = identity(entry["benchmark"], entry.get("clock"), entry.get("table"), entry["budget"])
        if ident not in base.setdefault(entry["benchmark"], []):
            base[entry["benchmark"]].append(ident)
    mine: dict[str, list[dict]] = {}
    for ident in session:
        if ident not in mine.setdefault(ident["benchmark"], []):
            mine[ident["benchmark"]].append(ident)
    for bench, idents in sorted(mine.items()):
        if bench not in base:
            raise GateMismatch(f"gate: benchmark {bench} is not in {where} (it holds {', '.join(sorted(base))}); "
                               f"gate it against its own baseline, or deselect it")
        for source, found in (("this session's runs", idents), (where, base[bench])):
            if len(found) > 1:
                raise GateMismatch(f"gate: {bench}: {source} mix experiments ({_difference(found[0], found[1], 'another run')}); "
                                   f"gate runs of one budget and table")
        difference = _difference(idents[0], base[bench][0], f"{where}'s")
        if difference:
            raise GateMismatch(f"gate: {bench}: {difference}; compare like with like, or accept the change with --save-baseline")


def _difference(mine: dict, theirs: dict, whose: str) -> str:
    """The first way two run identities differ, in words ('' when they do not)."""
    for key in IDENTITY:
        a, b = mine[key], theirs[key]
        if key == "budget":
            a = {k: v for k, v in a.items() if k != "gpus_per_trial_resolved"}
            b = {k: v for k, v in b.items() if k != "gpus_per_trial_resolved"}
            diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            if diff:
                return f"the budget differs from {whose}: " + ", ".join(f"{k}={a.get(k)} (baseline {b.get(k)})" for k in diff)
        elif a != b:
            return f"{'table fingerprint' if key == 'table' else key} {a} differs from {whose} {b}"
    return ""


# -- the comparison -------------------------------------------------------------------------------------
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

    @property
    def regressions(self) -> list[Finding]:
        return [f for f in self.findings if f.regressed]

    @property
    def family(self) -> list[Finding]:
        return [f for f in self.findings if f.p is not None]

    @property
    def passed(self) -> bool:
        return not self.regressions

    def power_note(self) -> str:
        """What this gate could detect at all, given its family and seeds."""
        m, n = len(self.family), max((f.n for f in self.findings), default=0)
        if not m:
            return f"no gated pair moved on any of {n} paired seeds: nothing to test"
        smallest = min_sign_flip_p(n, "greater")
        text = (f"family: {m} of {len(self.findings)} gated (strategy, metric) pairs moved; Holm's first step needs "
                f"p < {self.alpha / m:.3g}, and {n} paired seeds give at best p = {smallest:.3g}")
        if smallest >= self.alpha / m:
            text += f": this gate cannot fail; it needs >= {seeds_needed(m, self.alpha, 'greater')} seeds"
        return text

    def report(self) -> str:
        lines = []
        for f in self.regressions:
            lines.append(f"REGRESSION {f.line()}")
        for f in (f for f in self.findings if f.worse and not f.regressed):
            lines.append(f"not significant {f.line()}")
        for text in self.unmatched:
            lines.append(f"unmatched: {text}")
        lines.append(self.power_note())
        verdict = "FAILED" if self.regressions else "passed"
        lines.append(
            f"gate {verdict}: {len(self.regressions)} regression(s) in {len(self.findings)} (strategy, metric) comparisons "
            f"at alpha {self.alpha} (one-sided sign-flip tests, Holm over the {len(self.family)} that moved)"
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
    for key in sorted(set(current) & set(base)):
        seeds = sorted(set(current[key]) & set(base[key]))
        for rule in rules:
            get = METRICS[rule.metric][0]
            pairs = [(base[key][s]["metrics"].get(rule.metric), get(current[key][s])) for s in seeds]
            pairs = [(b, c) for b, c in pairs if b is not None and c is not None]
            raw.append((key, rule, [b for b, _ in pairs], [c for _, c in pairs]))
    return GateResult(decide(raw, alpha), alpha, tuple(unmatched))


def decide(raw: list[tuple[tuple, Rule, list[float], list[float]]], alpha: float = ALPHA) -> tuple[Finding, ...]:
    """The gate's verdict on paired numbers: ``raw`` holds ((benchmark, strategy), rule, baseline, current) per pair.

    This is all of the gate's statistics; :func:`evaluate` only pairs records with the baseline, and the power
    benchmark (``benchmarks/test_gate_power.py``) feeds it synthetic numbers.
    """
    changes = {i: worse_changes(rule, b, c) for i, (_, rule, b, c) in enumerate(raw)}
    pvalues = {i: sign_flip_p(d, "greater", "mean") for i, d in changes.items() if any(d)}
    adjusted = holm(pvalues) if pvalues else {}
    return tuple(_finding(key, rule, b, c, i, changes[i], pvalues, adjusted, alpha) for i, (key, rule, b, c) in enumerate(raw))


def worse_changes(rule: Rule, base: list[float], cur: list[float]) -> list[float]:
    """Per seed: how much worse the current value is (> 0 worse, < 0 better, 0 unchanged).

    Relative rules (``%``) use the log ratio, so that long and short runs weigh alike. Why not
    (c - b) / b: for b and c drawn from one distribution it is skewed towards "worse" (E[1/b] >
    1/E[b]), and its sign-flip test raised false alarms (8.8 % at a nominal 5 % with 20 seeds,
    simulated on the digits baseline's wall-clocks); log(c / b) is symmetric under that null.
    """
    sign = 1.0 if rule.higher_is_better else -1.0
    out = []
    for b, c in zip(base, cur):
        if rule.relative and b > 0 and c > 0:
            out.append(sign * math.log(b / c))
        else:
            out.append(sign * (b - c))
    return out


def _finding(key, rule: Rule, base, cur, i, changes, pvalues, adjusted, alpha) -> Finding:
    n = len(base)
    if n == 0:
        return Finding(*key, rule, 0, None, None, None, None, False, False, 0, "no paired seeds")
    bm, cm = statistics.fmean(base), statistics.fmean(cur)
    worse = (bm - cm if rule.higher_is_better else cm - bm) - rule.allowance(bm) > 0
    p, p_holm = pvalues.get(i), adjusted.get(i)
    significant = p_holm is not None and p_holm < alpha
    changed = sum(d != 0 for d in changes)
    note = ""
    if worse:
        note = "worse beyond the tolerance" + ("" if significant else ", not consistently across seeds")
        best = best_case_holm(pvalues, i, min_sign_flip_p(changed, "greater")) if p is not None else 1.0
        if not significant and best >= alpha:
            m = len(pvalues)
            note = (f"worse beyond the tolerance, but {changed} changed seeds could never reach significance "
                    f"(best p = 1/2^{changed}; Holm over {m} pairs needs >= {seeds_needed(m, alpha, 'greater')} "
                    f"changed seeds)")
    return Finding(*key, rule, n, bm, cm, p, p_holm, worse, worse and significant, changed, note)
