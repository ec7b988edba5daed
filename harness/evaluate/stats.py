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
# The excess kurtosis the seed intervals allow for (summarize, t_interval). Results over seeds are not normal: in the
# committed digits baseline the 32 populations (a strategy's 15 seeds of one metric) have sample excess kurtosis -0.96
# to 5.4, a quarter of them above 1.1, and a plain t interval covered 0.918-0.958 there (short of 0.93 in 5 of 12
# cells). With 1.0 every cell covers at least 0.937 (measurements/test_verdict_error.py, section 3; in sample: the
# value was chosen on these populations); on normal data the interval is then 7-40 % wider than Student's at 10 to 3
# seeds (84 % at 2) and covers 0.96-0.97.
EXCESS_KURTOSIS = 1.0


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float | None
    median: float | None
    ci_low: float | None
    ci_high: float | None
    sd: float | None = None  # sample standard deviation (n - 1); None below two values


def summarize(values: Sequence[float], confidence: float = 0.95, *, log: bool = False,
              bounds: tuple[float, float] | None = None) -> Summary:
    """Mean, median, sample sd and a t confidence interval of the mean of ``values``, its degrees of freedom
    reduced for the tails seed results have (``EXCESS_KURTOSIS``; see t_interval).

    Why t and not the bootstrap: at the seed counts this harness runs (3 to 20) a BCa bootstrap
    interval "95 %" covered 80 % at n = 3 and 89 % at n = 10 on normal data; the t interval is
    exact on normal data (conservative with the kurtosis allowance), and ``tests/test_stats.py`` and
    ``measurements/test_verdict_error.py`` measure its coverage on skewed data and on recorded values.
    With fewer than two values there is no interval; with identical values it is that value.

    Intervals stay in the quantity's range: ``log=True`` (times, ratios: positive and right-skewed) gives
    the geometric mean and the t interval of the log values, transformed back, so it never goes below 0;
    ``bounds`` (an accuracy's [0, 1]) clips the interval, which can only raise its coverage of a value
    inside them. ``mean`` is then the geometric mean; ``sd`` stays the plain sample sd.
    """
    xs = [float(v) for v in values if v is not None]
    if not xs:
        return Summary(0, None, None, None, None)
    median, sd = statistics.median(xs), (statistics.stdev(xs) if len(xs) > 1 else None)
    if log and all(x > 0 for x in xs):
        logs = [math.log(x) for x in xs]
        interval = t_interval(logs, confidence, EXCESS_KURTOSIS)
        mean = math.exp(statistics.fmean(logs))
        low, high = (math.exp(interval[0]), math.exp(interval[1])) if interval else (None, None)
    else:
        mean = statistics.fmean(xs)
        low, high = t_interval(xs, confidence, EXCESS_KURTOSIS) or (None, None)
    if bounds is not None and low is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return Summary(len(xs), mean, median, low, high, sd)


RANK_DIGITS = 12  # significant digits kept before ranking: float noise (0.1 + 0.2 vs 0.3) must not break a tie


def tie_rounded(values: Sequence[float]) -> list[float]:
    """``values`` rounded to RANK_DIGITS significant digits, so that equal results rank as ties."""
    return [float(f"{v:.{RANK_DIGITS}g}") for v in values]


def t_interval(values: Sequence[float], confidence: float = 0.95,
               excess_kurtosis: float = 0.0) -> tuple[float, float] | None:
    """The t interval of the mean: mean ± t_{(1+c)/2, df} · sd / sqrt(n); None below two values.

    ``excess_kurtosis`` 0 is Student's interval (df = n - 1). Heavier tails make the sample variance vary more:
    Var(s²) = σ⁴ (2/(n-1) + κ/n) for excess kurtosis κ, so df is that of the scaled χ² with this variance,
    df = 2 / (2/(n-1) + κ/n) (moment matching, as Satterthwaite's; Box 1953 on the t test's robustness).
    """
    from scipy import stats

    xs = [float(v) for v in values]
    n = len(xs)
    if n < 2:
        return None
    mean, sd = statistics.fmean(xs), statistics.stdev(xs)
    half = float(stats.t.ppf((1 + confidence) / 2, interval_df(n, excess_kurtosis))) * sd / math.sqrt(n)
    return mean - half, mean + half


def interval_df(n, excess_kurtosis: float):
    """The t interval's degrees of freedom at ``n`` >= 2 values (a number or a numpy array): n - 1 for excess
    kurtosis 0; see t_interval. Excess kurtosis is at least -2 for any distribution."""
    if excess_kurtosis <= -2:
        raise ValueError(f"excess kurtosis must be above -2, got {excess_kurtosis}")
    return 2 / (2 / (n - 1) + excess_kurtosis / n)


def a12(x: Sequence[float], y: Sequence[float]) -> float:
    """Vargha–Delaney A12: the probability that a draw from x beats one from y (ties count half)."""
    if not x or not y:
        raise ValueError("A12 needs two non-empty samples")
    wins = sum((a > b) + 0.5 * (a == b) for a in x for b in y)
    return wins / (len(x) * len(y))


# -- exact paired tests ----------------------------------------------------------------------------------
EXACT_UP_TO = 20  # sign-flip tests enumerate all 2^n sign patterns up to this many non-zero pairs
MONTE_CARLO_DRAWS = 200_000  # beyond it: seeded random sign patterns


def midranks(values: Sequence[float]) -> list[float]:
    """Ranks 1..n of ``values``, tied values sharing the mean of their ranks."""
    from scipy.stats import rankdata

    return [float(r) for r in rankdata(tie_rounded(values), method="average")]


def sign_flip_p(diffs: Sequence[float], alternative: str = "two-sided", statistic: str = "rank") -> float:
    """Exact p-value of a paired sign-flip (permutation) test that ``diffs`` are symmetric about 0.

    ``statistic="rank"`` is the Wilcoxon signed-rank test (T = sum of the signed midranks of |d|);
    ``"mean"`` is the permutation test on the mean difference. Zeros carry no sign and are dropped
    (Wilcoxon's "wilcox" zero method). Tied magnitudes keep their midranks, and the null
    distribution is enumerated over all 2^n sign patterns of *those* values, so ties are exact, not
    the no-ties table scipy's ``method="exact"`` uses. ``alternative``: "greater" (d tends to be
    positive), "less", or "two-sided". Returns 1.0 when every difference is zero.
    """
    import numpy as np

    d = [float(v) for v in diffs if v != 0]
    if any(not math.isfinite(v) for v in d):
        raise ValueError(f"a sign-flip test needs finite differences, got {[v for v in d if not math.isfinite(v)]}")
    if alternative not in ("greater", "less", "two-sided"):
        raise ValueError(f"alternative must be greater, less or two-sided, got {alternative!r}")
    if statistic not in ("rank", "mean"):
        raise ValueError(f"statistic must be rank or mean, got {statistic!r}")
    if not d:
        return 1.0
    magnitudes = np.array(midranks([abs(v) for v in d]) if statistic == "rank" else [abs(v) for v in d])
    observed = float(np.sum(np.sign(d) * magnitudes))
    null = _sign_flip_null(magnitudes)
    tol = 1e-9 * float(np.sum(magnitudes))  # float sums of the same values may differ in the last bits
    if alternative == "greater":
        hits = null >= observed - tol
    elif alternative == "less":
        hits = null <= observed + tol
    else:
        hits = np.abs(null) >= abs(observed) - tol
    if len(null) == 2 ** len(d):
        return float(np.mean(hits))
    return float((1 + np.sum(hits)) / (1 + len(null)))  # Monte Carlo: never 0 (Phipson and Smyth 2010)


def _sign_flip_null(magnitudes):
    """Every value of sum(±m_i) over the 2^n sign patterns (or MONTE_CARLO_DRAWS seeded random ones)."""
    import numpy as np

    n = len(magnitudes)
    if n <= EXACT_UP_TO:
        subset = np.zeros(1)
        for m in magnitudes:  # sums of every subset of the magnitudes: the ones given a minus sign
            subset = np.concatenate([subset, subset + m])
        return float(np.sum(magnitudes)) - 2.0 * subset
    signs = np.random.default_rng(0).choice((-1.0, 1.0), size=(MONTE_CARLO_DRAWS, n))
    return signs @ magnitudes


def sign_flip_method(n_nonzero: int) -> str:
    """How ``sign_flip_p`` computes p for ``n_nonzero`` non-zero differences, in words for a report."""
    if n_nonzero <= EXACT_UP_TO:
        return "exact"
    return f"Monte Carlo, {MONTE_CARLO_DRAWS} sign patterns; its smallest p is {1 / (MONTE_CARLO_DRAWS + 1):.1g}"


def min_sign_flip_p(n_nonzero: int, alternative: str = "two-sided") -> float:
    """The smallest p a sign-flip test can give with ``n_nonzero`` non-zero pairs: 1/2^n one-sided, 2/2^n two-sided."""
    if n_nonzero < 1:
        return 1.0
    return min(1.0, (1.0 if alternative != "two-sided" else 2.0) / 2**n_nonzero)


def signed_rank_test(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """Two-sided exact Wilcoxon signed-rank test of paired x - y, ties and zeros included.

    Returns ``(p, direction)``: ``direction`` is T = W+ - W-, the sum of the signed midranks, so
    its sign says which of x and y the paired differences favour (the direction the test measured).
    """
    if len(x) != len(y):
        raise ValueError("paired samples must have the same length")
    d = [a - b for a, b in zip(x, y) if a != b]
    if not d:
        return 1.0, 0.0
    ranks = midranks([abs(v) for v in d])
    direction = sum(r if v > 0 else -r for r, v in zip(ranks, d))
    return sign_flip_p(d, "two-sided", "rank"), direction


def seeds_needed(m: int, alpha: float = ALPHA, alternative: str = "two-sided") -> int:
    """The fewest non-zero pairs with which a sign-flip test can pass Holm's first step over ``m`` tests."""
    n = 1
    while min_sign_flip_p(n, alternative) * max(m, 1) >= alpha:
        n += 1
    return n


def best_case_holm(pvalues: dict[str, float], key: str, best_p: float) -> float:
    """The Holm-adjusted p ``key`` would get if its own p were ``best_p``, the others as they are:
    if even that is >= alpha, the comparison could not have been significant with its seeds."""
    return holm({**pvalues, key: best_p})[key]


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
        ranks = rankdata([-v if higher_is_better else v for v in tie_rounded(row)], method="average")
        totals = [t + r for t, r in zip(totals, ranks)]
    return [t / len(blocks) for t in totals]


def friedman_p(blocks: Sequence[Sequence[float]]) -> float | None:
    """Friedman test p-value over blocks (rows) of k >= 3 methods (columns); None when undefined."""
    from scipy import stats

    if not blocks or len(blocks[0]) < 3 or len(blocks) < 2:
        return None
    blocks = [tie_rounded(row) for row in blocks]
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
