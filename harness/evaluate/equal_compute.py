"""What a strategy buys at equal compute: the anytime comparison and the compute needed to match the reference.

* **Anytime** (syne-tune's and HPO-B's rank-over-budget): at each budget fraction f (1/16 ... 1 of the run's
  epochs), each run's *incumbent* is the configuration with the best validation accuracy among the epochs it
  had trained by then, judged by its held-out test accuracy; strategies are ranked per seed (1 = best, a run
  without a result yet ranks last, ties share their mean rank), and the ranks averaged over seeds.
* **Compute to match**: how many epochs a strategy needs to reach the reference's final validation accuracy
  of the same seed, relative to the reference itself. Runs that never reach it are counted, never dropped,
  as COCO's *expected running time* does: ERT = (epochs spent by every run until it reached the target, or
  in full when it never did) / (runs that reached it). The ratio ERT(strategy) / ERT(reference) has a
  95 % percentile interval from a paired bootstrap over seeds on the log scale (2,000 resamples, seeded),
  unbounded above when a resample holds no run that reached it. The test is the exact signed-rank test on
  the per-seed log ratio of epochs, where a run that never reached the target ranks beyond every run that did
  (``sooner_differences``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.core.records import RunRecord
from harness.evaluate import curves, stats

FRACTIONS = (1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0)
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20261202  # fixed: the same runs give the same interval


@dataclass(frozen=True)
class Anytime:
    """Average rank (1 = best) of each strategy on held-out test accuracy at each budget fraction."""

    fractions: tuple[float, ...]
    ranks: dict[str, tuple[float, ...]]  # strategy -> average rank at each fraction
    seeds: int  # seeds every strategy ran: the blocks ranked


def anytime(by_strategy: dict[str, dict[int, RunRecord]], fractions=FRACTIONS) -> Anytime | None:
    names = sorted(by_strategy)
    seeds = sorted(set.intersection(*(set(s) for s in by_strategy.values()))) if names else []
    if len(names) < 2 or not seeds:
        return None
    ranks: dict[str, list[float]] = {n: [] for n in names}
    for f in fractions:
        blocks = []
        for s in seeds:
            values = []
            for n in names:
                r = by_strategy[n][s]
                acc = curves.incumbent_test_acc(r, math.floor(f * curves.total_epochs(r) + 1e-9))
                values.append(acc if acc is not None else -1.0)  # no result yet: below every accuracy
            blocks.append(values)
        for n, rank in zip(names, stats.average_ranks(blocks)):
            ranks[n].append(float(rank))
    return Anytime(tuple(fractions), {n: tuple(v) for n, v in ranks.items()}, len(seeds))


@dataclass(frozen=True)
class ToMatch:
    """One strategy's compute to reach the reference's final validation accuracy, relative to the reference's."""

    strategy: str
    n_pairs: int
    reached: int  # seeds on which this strategy reached the reference's final accuracy
    ratio: float | None  # ERT(strategy) / ERT(reference); inf when it never reached it
    ci_low: float | None
    ci_high: float | None  # inf: some resamples held no run that reached it
    pairs: tuple[tuple[int | None, int], ...]  # per seed: (epochs this strategy needed or None, the reference's)
    spent: tuple[int, ...]  # per seed: epochs this strategy spent until it reached the target, or in full


def to_match(by_strategy: dict[str, dict[int, RunRecord]], reference: str) -> list[ToMatch]:
    ref = by_strategy.get(reference)
    if ref is None:
        return []
    out = []
    for name in sorted(by_strategy):
        if name == reference:
            continue
        seeds = [s for s in sorted(set(by_strategy[name]) & set(ref)) if ref[s].best_val_acc is not None]
        pairs, spent = [], []
        for s in seeds:
            target = ref[s].best_val_acc
            mine, theirs = by_strategy[name][s], curves.epochs_to_reach(ref[s], target)
            hit = curves.epochs_to_reach(mine, target) if mine.best_val_acc is not None else None
            pairs.append((hit, theirs))
            spent.append(hit if hit is not None else mine.epochs_used)
        ratio, low, high = _ert_ratio(pairs, spent)
        out.append(ToMatch(name, len(pairs), sum(h is not None for h, _ in pairs), ratio, low, high, tuple(pairs),
                           tuple(spent)))
    return out


def ert(spent: list[int], hits: list[bool]) -> float:
    """Expected running time: all epochs spent, over the runs that reached the target (inf when none did)."""
    successes = sum(hits)
    return sum(spent) / successes if successes else math.inf


def _ert_ratio(pairs, spent) -> tuple[float | None, float | None, float | None]:
    if not pairs:
        return None, None, None
    ratio = _ratio([h is not None for h, _ in pairs], spent, [b for _, b in pairs])
    if len(pairs) < 2:
        return ratio, None, None
    import numpy as np

    rng = np.random.default_rng(BOOTSTRAP_SEED)
    hits = [h is not None for h, _ in pairs]
    theirs = [b for _, b in pairs]
    logs = []
    for _ in range(BOOTSTRAP_RESAMPLES):
        idx = rng.integers(0, len(pairs), len(pairs))
        r = _ratio([hits[i] for i in idx], [spent[i] for i in idx], [theirs[i] for i in idx])
        logs.append(math.log(r) if 0 < r < math.inf else (math.inf if r == math.inf else -math.inf))
    low = float(np.percentile(logs, 2.5, method="lower"))
    high = float(np.percentile(logs, 97.5, method="higher"))
    return ratio, math.exp(low) if math.isfinite(low) else 0.0, math.exp(high) if math.isfinite(high) else math.inf


def _ratio(hits: list[bool], spent: list[int], theirs: list[int]) -> float:
    mine = ert(spent, hits)
    reference = ert(theirs, [True] * len(theirs))
    return mine / reference if reference > 0 else math.inf


def sooner_differences(pairs: list[tuple[float | None, float | None]]) -> list[float]:
    """Per seed, how much sooner the strategy reached the target than the reference: log(ref / strategy).

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
