"""Does a replay rank strategies as live runs do? Kendall's tau between two benchmarks' rankings.

Both rankings use the seeds the two benchmarks share: the mean best accuracy per strategy, and
the average rank per strategy over those seeds (rank 1 = best, as in the report).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from harness.analysis import stats
from harness.analysis.summary import benchmark_ranks, run_accuracy
from harness.records import RunRecord, latest_per_seed


@dataclass(frozen=True)
class Agreement:
    strategies: tuple[str, ...]
    seeds: tuple[int, ...]
    live_mean: dict[str, float]
    replay_mean: dict[str, float]
    live_rank: dict[str, float]
    replay_rank: dict[str, float]
    tau_mean: tuple[float, float] | None  # (tau, p) on mean best accuracy
    tau_rank: tuple[float, float] | None  # (tau, p) on average rank

    def text(self, live: str, replay: str) -> str:
        head = f"{'strategy':16} {live + ' acc':>16} {replay + ' acc':>20} {live + ' rank':>16} {replay + ' rank':>20}"
        lines = [head]
        for s in sorted(self.strategies, key=lambda s: self.live_rank[s]):
            lines.append(f"{s:16} {self.live_mean[s]:16.4f} {self.replay_mean[s]:20.4f} "
                         f"{self.live_rank[s]:16.2f} {self.replay_rank[s]:20.2f}")
        for what, tau in (("mean best accuracy", self.tau_mean), ("average rank", self.tau_rank)):
            lines.append(f"Kendall's tau on {what}: " + (f"{tau[0]:.3f} (p = {tau[1]:.3g})" if tau else "undefined"))
        lines.append(f"{len(self.strategies)} strategies, {len(self.seeds)} shared seeds: {list(self.seeds)}")
        return "\n".join(lines) + "\n"


def agreement(live: list[RunRecord], replay: list[RunRecord]) -> Agreement:
    def by_key(records):
        return {(r.strategy, r.seed): r for r in latest_per_seed(records)}

    a, b = by_key(live), by_key(replay)
    strategies = sorted({s for s, _ in a} & {s for s, _ in b})
    seeds = sorted(seed for seed in {k for _, k in a} & {k for _, k in b}
                   if all((s, seed) in a and (s, seed) in b for s in strategies))
    if len(strategies) < 2 or not seeds:
        raise ValueError("the two benchmarks share fewer than 2 strategies or no complete seed")

    def summary(runs):
        by_strategy = {s: {k: runs[(s, k)] for k in seeds} for s in strategies}
        mean = {s: statistics.fmean(run_accuracy(r) for r in by_strategy[s].values()) for s in strategies}
        return mean, benchmark_ranks(by_strategy)

    (lm, lr), (rm, rr) = summary(a), summary(b)
    return Agreement(
        tuple(strategies), tuple(seeds), lm, rm, lr, rr,
        stats.kendall_tau([lm[s] for s in strategies], [rm[s] for s in strategies]),
        stats.kendall_tau([lr[s] for s in strategies], [rr[s] for s in strategies]),
    )
