"""The regression gate: this session's runs against a stored baseline, metric by metric, seed by seed.

A *rule* ``metric:tolerance`` says how much worse a strategy may get before it counts, in the
metric's own worse direction: ``best_acc:-0.01`` (may drop 0.01), ``compute_saved:-0.05``,
``wallclock_s:+10%`` (may grow 10 %). A strategy regresses on a metric only when both hold:

* its mean over the paired seeds is worse than the baseline's by more than the tolerance, and
* the paired shortfalls are significant: a one-sided exact Wilcoxon signed-rank test that the
  per-seed change is worse than the tolerance, Holm-corrected over every (strategy, metric) tested.

So one unlucky seed cannot fail CI, and a change that is large but not consistent across seeds is
reported as such rather than failed. With n paired seeds the smallest one-sided p is 1/2^n: the
gate needs enough seeds to ever fail (it says so when it cannot).
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
from harness.records import RunRecord
from harness.stats import holm

FORMAT = "tuning-bench/baseline"
VERSION = 1
# metric -> (how to read it from a run record, True if higher is better)
METRICS = {
    "best_acc": (lambda r: r.best_val_acc, True),
    "compute_saved": (lambda r: r.compute_saved, True),
    "wallclock_s": (lambda r: r.wallclock_s, False),
    "epochs_used": (lambda r: float(r.epochs_used), False),
}
DEFAULT_RULES = ("best_acc:-0.01", "compute_saved:-0.05", "wallclock_s:+10%")
ALPHA = 0.05


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
    from harness.compare import latest_per_seed

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


# -- the comparison -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    benchmark: str
    strategy: str
    rule: Rule
    n: int  # paired seeds
    base_mean: float | None
    current_mean: float | None
    p: float | None  # one-sided, before correction
    p_holm: float | None
    worse: bool  # the mean is worse than the baseline's by more than the tolerance
    regressed: bool  # ... and consistently so across the paired seeds
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
                f"{self.n} paired seeds")
        if self.p is not None:
            text += f", one-sided p = {self.p:.3g} (Holm {self.p_holm:.3g})"
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
    def passed(self) -> bool:
        return not self.regressions

    def report(self) -> str:
        lines = []
        for f in self.regressions:
            lines.append(f"REGRESSION {f.line()}")
        for f in (f for f in self.findings if f.worse and not f.regressed):
            lines.append(f"not significant {f.line()}")
        for text in self.unmatched:
            lines.append(f"unmatched: {text}")
        tested = len(self.findings)
        verdict = "FAILED" if self.regressions else "passed"
        lines.append(
            f"gate {verdict}: {len(self.regressions)} regression(s) in {tested} (strategy, metric) comparisons "
            f"at alpha {self.alpha} (Holm)"
        )
        return "\n".join(lines) + "\n"


def evaluate(records: Iterable[RunRecord], baseline: dict, rules: Iterable[Rule], alpha: float = ALPHA) -> GateResult:
    """Compare ``records`` (the newest run per benchmark, strategy and seed) against ``baseline``."""
    from harness.compare import latest_per_seed

    rules = list(rules)
    current: dict[tuple, dict[int, RunRecord]] = {}
    for r in latest_per_seed(list(records)):
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
    pvalues = {i: p for i, (_, rule, b, c) in enumerate(raw) if (p := _one_sided_p(rule, b, c)) is not None}
    adjusted = holm(pvalues) if pvalues else {}
    findings = []
    for i, (key, rule, b, c) in enumerate(raw):
        findings.append(_finding(key, rule, b, c, pvalues.get(i), adjusted.get(i), alpha))
    return GateResult(tuple(findings), alpha, tuple(unmatched))


def _shortfalls(rule: Rule, base: list[float], cur: list[float]) -> list[float]:
    """Per seed: how much worse than allowed the current value is (> 0 means beyond the tolerance)."""
    sign = 1.0 if rule.higher_is_better else -1.0
    return [sign * (b - c) - rule.allowance(b) for b, c in zip(base, cur)]


def _one_sided_p(rule: Rule, base: list[float], cur: list[float]) -> float | None:
    """P(shortfalls this consistently > 0 | no change beyond the tolerance): exact signed-rank test."""
    from scipy import stats

    x = [v for v in _shortfalls(rule, base, cur) if v != 0.0]
    if len(x) < 1:
        return None
    if all(v < 0 for v in x):
        return 1.0
    return float(stats.wilcoxon(x, alternative="greater", method="exact" if len(x) <= 50 else "approx").pvalue)


def _finding(key, rule: Rule, base: list[float], cur: list[float], p, p_holm, alpha) -> Finding:
    n = len(base)
    if n == 0:
        return Finding(*key, rule, 0, None, None, None, None, False, False, "no paired seeds")
    bm, cm = statistics.fmean(base), statistics.fmean(cur)
    mean_shortfall = (bm - cm if rule.higher_is_better else cm - bm) - rule.allowance(bm)
    worse = mean_shortfall > 0
    significant = p_holm is not None and p_holm < alpha
    note = ""
    if worse:
        note = "worse beyond the tolerance" + ("" if significant else ", not consistently across seeds")
        if 1 / 2**n >= alpha:
            note += f" ({n} seeds can never reach p < {alpha}; run more)"
    return Finding(*key, rule, n, bm, cm, p, p_holm, worse, worse and significant, note)
