"""Gate rules: ``METRIC:TOLERANCE``, the metrics a rule may name, and how a change is measured in its worse direction."""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.core.errors import ConfigError

# metric -> (how to read it from a run record, True if higher is better)
METRICS = {
    "best_val_acc": (lambda r: r.best_val_acc, True),
    "test_acc": (lambda r: r.test_acc, True),
    "compute_saved": (lambda r: r.compute_saved, True),
    "wallclock_s": (lambda r: r.wallclock_s, False),
    "epochs_used": (lambda r: float(r.epochs_used), False),
}
DEFAULT_RULES = ("best_val_acc:-0.01", "compute_saved:-0.05", "wallclock_s:+10%")


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
    """``best_val_acc:-0.01`` or ``wallclock_s:+10%``; the sign must be the metric's worse direction."""
    metric, sep, tol = text.partition(":")
    metric, tol = metric.strip(), tol.strip()
    if metric == "best_acc":
        raise ConfigError(f"gate rule {text!r}: best_acc is called best_val_acc now, as in the run records")
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

