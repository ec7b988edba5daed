"""Statistics over seeds and between strategies: plain functions of numbers, on scipy.

Conventions: higher is better unless a function says otherwise; ``None`` means "cannot be
computed from this data" (too few values), never NaN.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Sequence

ALPHA = 0.05


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float | None
    median: float | None
    ci_low: float | None
    ci_high: float | None
    sd: float | None = None  # sample standard deviation (n - 1); None below two values


def summarize(values: Sequence[float], confidence: float = 0.95, seed: int = 0) -> Summary:
    """Mean, median and a bootstrap CI (BCa, 9,999 resamples, seeded) of ``values``.

    With fewer than two values there is no interval; with identical values it is that value.
    """
    xs = [float(v) for v in values if v is not None]
    if not xs:
        return Summary(0, None, None, None, None)
    mean, median = statistics.fmean(xs), statistics.median(xs)
    low, high = bootstrap_ci(xs, confidence, seed) or (None, None)
    sd = statistics.stdev(xs) if len(xs) > 1 else None
    return Summary(len(xs), mean, median, low, high, sd)


def bootstrap_ci(values: Sequence[float], confidence: float = 0.95, seed: int = 0) -> tuple[float, float] | None:
    """``scipy.stats.bootstrap`` CI of the mean, or None for fewer than two values."""
    import numpy as np
    from scipy import stats

    xs = np.asarray(values, dtype=float)
    if len(xs) < 2:
        return None
    if np.all(xs == xs[0]):
        return float(xs[0]), float(xs[0])
    res = stats.bootstrap((xs,), np.mean, confidence_level=confidence, n_resamples=9999, method="BCa", rng=seed)
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if not (math.isfinite(low) and math.isfinite(high)):  # BCa can degenerate on tiny samples
        res = stats.bootstrap((xs,), np.mean, confidence_level=confidence, n_resamples=9999, method="percentile", rng=seed)
        low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return low, high


def a12(x: Sequence[float], y: Sequence[float]) -> float:
    """Vargha–Delaney A12: the probability that a draw from x beats one from y (ties count half)."""
    if not x or not y:
        raise ValueError("A12 needs two non-empty samples")
    wins = sum((a > b) + 0.5 * (a == b) for a in x for b in y)
    return wins / (len(x) * len(y))


def a12_magnitude(a: float) -> str:
    """Vargha and Delaney's (2000) thresholds on |A12 - 0.5|: negligible, small, medium, large."""
    d = abs(a - 0.5)
    return "negligible" if d < 0.06 else "small" if d < 0.14 else "medium" if d < 0.21 else "large"


def min_wilcoxon_p(n: int) -> float:
    """The smallest two-sided p-value the exact signed-rank test can give for n non-zero pairs."""
    return min(1.0, 2.0 / 2**n)


def wilcoxon_p(x: Sequence[float], y: Sequence[float]) -> float:
    """Two-sided Wilcoxon signed-rank p-value for paired samples; 1.0 when every pair is tied."""
    from scipy import stats

    if len(x) != len(y):
        raise ValueError("paired samples must have the same length")
    if all(a == b for a, b in zip(x, y)):
        return 1.0
    return float(stats.wilcoxon(x, y, zero_method="wilcox", alternative="two-sided").pvalue)


def holm(pvalues: dict[str, float]) -> dict[str, float]:
    """Holm–Bonferroni adjusted p-values (step-down, monotone, capped at 1)."""
    order = sorted(pvalues, key=lambda k: pvalues[k])
    m, running, out = len(order), 0.0, {}
    for i, key in enumerate(order):
        running = max(running, min(1.0, (m - i) * pvalues[key]))
        out[key] = running
    return out


def average_ranks(blocks: Sequence[Sequence[float]], higher_is_better: bool = True) -> list[float]:
    """Mean rank of each method over blocks (rank 1 = best; ties share the average rank)."""
    from scipy.stats import rankdata

    if not blocks:
        raise ValueError("no blocks to rank")
    k = len(blocks[0])
    totals = [0.0] * k
    for row in blocks:
        ranks = rankdata([-v if higher_is_better else v for v in row], method="average")
        totals = [t + r for t, r in zip(totals, ranks)]
    return [t / len(blocks) for t in totals]


def friedman_p(blocks: Sequence[Sequence[float]]) -> float | None:
    """Friedman test p-value over blocks (rows) of k >= 3 methods (columns); None when undefined."""
    from scipy import stats

    if not blocks or len(blocks[0]) < 3 or len(blocks) < 2:
        return None
    columns = list(zip(*blocks))
    if all(len(set(row)) == 1 for row in blocks):
        return 1.0  # every block a complete tie: no evidence of any difference
    return float(stats.friedmanchisquare(*columns).pvalue)


def nemenyi_cd(k: int, n_blocks: int, alpha: float = ALPHA) -> float:
    """Nemenyi critical difference of average ranks (Demšar 2006): q_alpha * sqrt(k(k+1) / 6N).

    q_alpha is the studentized range quantile over sqrt(2), which reproduces Demšar's table.
    """
    import numpy as np
    from scipy import stats

    if k < 2 or n_blocks < 1:
        raise ValueError("the critical difference needs k >= 2 methods and N >= 1 blocks")
    q = float(stats.studentized_range.ppf(1 - alpha, k, np.inf)) / math.sqrt(2)
    return q * math.sqrt(k * (k + 1) / (6.0 * n_blocks))


def kendall_tau(x: Sequence[float], y: Sequence[float]) -> tuple[float, float] | None:
    """Kendall's tau-b between two scorings of the same items, with its two-sided p; None below 3 items."""
    from scipy import stats

    if len(x) != len(y):
        raise ValueError("tau needs two scorings of the same items")
    if len(x) < 3:
        return None
    res = stats.kendalltau(x, y)
    if not math.isfinite(res.statistic):
        return None  # one scoring is constant: no ranking to agree with
    return float(res.statistic), float(res.pvalue)
