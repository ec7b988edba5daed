"""Does a replay rank strategies as live runs do? Kendall's tau between two benchmarks' rankings.

Both rankings use the seeds the two benchmarks share: the mean best accuracy per strategy, and
the average rank per strategy over those seeds (rank 1 = best, as in the report).

Tau alone cannot say why two rankings differ, so the agreement also reports:

* each side's Friedman test over the shared seeds: where the live runs cannot reject that all
  strategies perform alike, tau ranks differences the live data do not support;
* the trials both sides ran on the same configuration (same strategy and seed; a replay records the
  recorded configuration it replayed): their validation accuracy, epoch by epoch, tells the replay's
  own fidelity apart from the table's coverage of the live space;
* **the noise ceiling**: what tau would be if the replay were the live process itself. Two independent bootstrap
  samples of the live seeds (whole seeds, every strategy's run of a seed together, as many seeds as were compared)
  give two rankings of the same process; their tau, over ``CEILING_PAIRS`` pairs, is what seed noise alone leaves
  of a perfect agreement. Judge tau against its median, not against 1;
* per strategy, the two-sided Mann-Whitney test of live against replay held-out test accuracy (two independent
  samples: a replay seed is not the live seed's twin), Holm over the strategies.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field

from harness.evaluate import stats
from harness.evaluate.summary import benchmark_ranks, run_accuracy, run_test_accuracy
from harness.core.records import RunRecord, latest_per_seed

CEILING_PAIRS = 1000
COMPUTE_TOLERANCE = 0.10  # the issue's goal: compute used per strategy within 10 % of the live runs'


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
    friedman_live: float | None = None  # Friedman p over the shared seeds
    friedman_replay: float | None = None
    live_trials: int = 0  # trials of the compared live runs
    shared_trials: dict[str, int] = field(default_factory=dict)  # per strategy, live trials on a configuration the
    # replay of the same (strategy, seed) also ran
    shared_epochs: int = 0  # epochs (by number) both sides recorded for those trials
    shared_max_diff: float | None = None  # the largest |live - replay| validation accuracy over those epochs
    ceiling: tuple[float, float, float] | None = None  # tau of the live process with itself: median, quartiles
    differ: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # strategy -> (live - replay mean
    # held-out test accuracy, Mann-Whitney p, Holm p)
    # strategy -> (live, replay) means a run of: epochs used, trials started, the searcher's seconds (None: not timed)
    epochs: dict[str, tuple[float, float]] = field(default_factory=dict)
    trials: dict[str, tuple[float, float]] = field(default_factory=dict)
    searcher: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    # The same on held-out test accuracy, the score the verdict and the omnibus rank on: (tau, p), and its ceiling
    tau_test: tuple[float, float] | None = None
    ceiling_test: tuple[float, float, float] | None = None

    def text(self, live: str, replay: str) -> str:
        head = f"{'strategy':16} {live + ' acc':>16} {replay + ' acc':>20} {live + ' rank':>16} {replay + ' rank':>20}"
        lines = [head]
        for s in sorted(self.strategies, key=lambda s: self.live_rank[s]):
            lines.append(f"{s:16} {self.live_mean[s]:16.4f} {self.replay_mean[s]:20.4f} "
                         f"{self.live_rank[s]:16.2f} {self.replay_rank[s]:20.2f}")
        for what, tau in (("mean best accuracy", self.tau_mean), ("average rank", self.tau_rank)):
            lines.append(f"Kendall's tau on {what}: " + (f"{tau[0]:.3f} (p = {tau[1]:.3g})" if tau else "undefined"))
        if self.ceiling:
            median, low, high = self.ceiling
            lines.append(f"Noise ceiling: were {replay} the {live} process itself, tau on mean best accuracy would be "
                         f"{median:.3f} (median; quartiles {low:.3f} to {high:.3f}; {CEILING_PAIRS} pairs of "
                         f"bootstrap samples of the {live} seeds)"
                         + (f"; the observed tau is {self.tau_mean[0] / median:.2f} of it." if self.tau_mean and median > 0
                            else "."))
        if self.tau_test:
            line = f"On mean held-out test accuracy (what the verdict ranks): tau {self.tau_test[0]:.3f} (p = {self.tau_test[1]:.3g})"
            if self.ceiling_test:
                median, low, high = self.ceiling_test
                line += (f"; its noise ceiling {median:.3f} (quartiles {low:.3f} to {high:.3f})"
                         + (f", so {self.tau_test[0] / median:.2f} of it" if median > 0 else ""))
            lines.append(line + ".")
        lines.append(f"{len(self.strategies)} strategies, {len(self.seeds)} shared seeds: {list(self.seeds)}")
        if self.differ:
            moved = [f"{s} {d:+.4f} (Holm p = {h:.2g})" for s, (d, p, h) in sorted(self.differ.items())
                     if h < stats.ALPHA]
            lines.append(f"Held-out test accuracy, {live} against {replay} per strategy (two-sided Mann-Whitney, Holm "
                         f"over {len(self.differ)} strategies): "
                         + ("; ".join(moved) if moved else "no strategy differs significantly") + ".")
        lines += self.compute_lines(live, replay)
        lines += self.explanation(live, replay)
        return "\n".join(lines) + "\n"

    def compute_lines(self, live: str, replay: str, tolerance: float = COMPUTE_TOLERANCE) -> list[str]:
        """Compute used and what it bought, live against replay, per strategy, and the searcher's own seconds."""
        if not self.epochs:
            return []
        out = []
        for what, figures in (("epochs used", self.epochs), ("trials started", self.trials)):
            gaps = {s: (r - l) / l if l else (0.0 if r == l else float("inf")) for s, (l, r) in figures.items()}
            worst = max(gaps, key=lambda s: abs(gaps[s]))
            fixed = len({round(v, 6) for pair in figures.values() for v in pair}) == 1
            parts = ", ".join(f"{s} {l:.0f}/{r:.0f}" for s, (l, r) in sorted(figures.items()))
            verdict = ("the same everywhere: the budget fixes it, so it tells nothing" if fixed else
                       f"{'all' if abs(gaps[worst]) <= tolerance else 'not all'} within {tolerance:.0%} (largest gap "
                       f"{worst} {gaps[worst]:+.1%})")
            out.append(f"{what.capitalize()} a run, {live}/{replay}: {parts}; {verdict}.")
        timed = {s: v for s, v in self.searcher.items() if v[0] is not None or v[1] is not None}
        if timed:
            def show(x):
                return "not timed" if x is None else f"{x:.1f} s"
            out.append(f"The searcher's own seconds a run, {live}/{replay} (real seconds, over the runs that timed "
                       f"them; not on a replay's clock): "
                       + ", ".join(f"{s} {show(l)}/{show(r)}" for s, (l, r) in sorted(timed.items())) + ".")
        return out

    def explanation(self, live: str, replay: str, alpha: float = stats.ALPHA) -> list[str]:
        """Why the rankings agree or not, in words: the live test, then the replay's fidelity and coverage."""
        k, n_seeds = len(self.strategies), len(self.seeds)
        out = []
        for name, p in ((live, self.friedman_live), (replay, self.friedman_replay)):
            if p is None:
                out.append(f"{name}: no Friedman test (it needs 3 strategies and 2 seeds).")
            else:
                found = "rejects" if p < alpha else "cannot reject"
                out.append(f"{name}: the Friedman test {found} that all {k} strategies perform alike "
                           f"(p = {p:.3g}, {n_seeds} seeds).")
        if self.friedman_live is not None and self.friedman_live >= alpha:
            out.append("Tau therefore ranks live differences that the live runs do not show to be real.")
        if not self.shared_trials:
            out.append(f"No {live} trial ran a configuration that the {replay} run of the same strategy and seed ran: "
                       "there is no configuration in common on which to check the replay's fidelity.")
        else:
            where = ", ".join(f"{s} {count}" for s, count in sorted(self.shared_trials.items(), key=lambda kv: -kv[1]))
            out.append(f"{sum(self.shared_trials.values())} of {self.live_trials} {live} trials ({where}) ran a "
                       f"configuration that the {replay} run of the same strategy and seed also ran; over their "
                       f"{self.shared_epochs} epochs, validation accuracy differs by at most {self.shared_max_diff:.3g}.")
        return out


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
        """One side's mean best accuracy and average rank per strategy, and its Friedman p, over the shared seeds."""
        by_strategy = {s: {k: runs[(s, k)] for k in seeds} for s in strategies}
        mean = {s: statistics.fmean(run_accuracy(r) for r in by_strategy[s].values()) for s in strategies}
        friedman = stats.friedman_p([[run_accuracy(by_strategy[s][k]) for s in strategies] for k in seeds])
        return mean, benchmark_ranks(by_strategy, run_accuracy), friedman

    (lm, lr, lf), (rm, rr, rf) = summary(a), summary(b)
    live_trials, shared, epochs, diff = _shared_trials([(a[(s, k)], b[(s, k)]) for s in strategies for k in seeds])
    values = [[run_accuracy(a[(s, k)]) for s in strategies] for k in seeds]
    return Agreement(
        tuple(strategies), tuple(seeds), lm, rm, lr, rr,
        stats.kendall_tau([lm[s] for s in strategies], [rm[s] for s in strategies]),
        stats.kendall_tau([lr[s] for s in strategies], [rr[s] for s in strategies]),
        lf, rf, live_trials, shared, epochs, diff, noise_ceiling(values), _differ(a, b, strategies, seeds),
        *_spent(a, b, strategies, seeds), *_on_test(a, b, strategies, seeds),
    )


def _on_test(a: dict, b: dict, strategies: list[str], seeds: list[int]):
    """Kendall's tau between the two sides' mean held-out test accuracies, and its noise ceiling."""
    live = [[run_test_accuracy(a[(s, k)]) for s in strategies] for k in seeds]
    replay = [[run_test_accuracy(b[(s, k)]) for s in strategies] for k in seeds]
    means = [[statistics.fmean(col) for col in zip(*side)] for side in (live, replay)]
    return stats.kendall_tau(*means), noise_ceiling(live)


def _spent(a: dict, b: dict, strategies: list[str], seeds: list[int]) -> tuple[dict, dict, dict]:
    """Per strategy, (live, replay) means a run of epochs used, trials started and the searcher's seconds (over the
    runs that timed them: runs recorded before schema 6 did not; None when none did)."""
    def mean(runs, value):
        values = [v for v in map(value, runs) if v is not None]
        return statistics.fmean(values) if values else None

    out: tuple[dict, dict, dict] = ({}, {}, {})
    for s in strategies:
        sides = ([a[(s, k)] for k in seeds], [b[(s, k)] for k in seeds])
        for figures, value in zip(out, (lambda r: r.epochs_used, lambda r: r.trials_started, lambda r: r.searcher_s)):
            figures[s] = tuple(mean(runs, value) for runs in sides)
    return out


def noise_ceiling(values: list[list[float]], pairs: int = CEILING_PAIRS, seed: int = 0) -> tuple[float, float, float] | None:
    """Kendall's tau between the strategy means of two independent bootstrap samples of the seeds (rows of
    ``values``, one column per strategy): median and quartiles over ``pairs`` pairs. None below 2 seeds."""
    import numpy as np

    x = np.asarray(values, dtype=float)
    n = len(x)
    if n < 2 or x.shape[1] < 2:
        return None
    rng = np.random.default_rng(seed)
    taus = []
    for _ in range(pairs):
        first, second = x[rng.integers(0, n, n)].mean(0), x[rng.integers(0, n, n)].mean(0)
        tau = stats.kendall_tau(list(first), list(second))
        if tau is not None and tau[0] == tau[0]:  # undefined (nan) when a side ties every strategy
            taus.append(tau[0])
    if not taus:
        return None
    low, median, high = np.percentile(taus, [25, 50, 75])
    return float(median), float(low), float(high)


def _differ(a: dict, b: dict, strategies: list[str], seeds: list[int]) -> dict[str, tuple[float, float, float]]:
    """Per strategy: live minus replay mean held-out test accuracy, the two-sided Mann-Whitney p, and its Holm p."""
    from scipy.stats import mannwhitneyu

    out, raw = {}, {}
    for s in strategies:
        x = [run_test_accuracy(a[(s, k)]) for k in seeds]
        y = [run_test_accuracy(b[(s, k)]) for k in seeds]
        if len(set(x) | set(y)) < 2:
            continue  # every value equal: nothing to test
        raw[s] = float(mannwhitneyu(stats.tie_rounded(x), stats.tie_rounded(y), alternative="two-sided").pvalue)
        out[s] = (statistics.fmean(x) - statistics.fmean(y), raw[s])
    adjusted = stats.holm(raw)
    return {s: (d, p, adjusted[s]) for s, (d, p) in out.items()}


def _shared_trials(pairs: list[tuple[RunRecord, RunRecord]]) -> tuple[int, dict[str, int], int, float | None]:
    """Live trials, those on a configuration the paired replay also ran, their common epochs, and the
    largest validation-accuracy difference over those epochs (the replay's own fidelity)."""

    def key(trial):
        return json.dumps(trial.config, sort_keys=True, default=str)

    total = epochs = 0
    shared: dict[str, int] = {}
    worst = None
    for live, replay in pairs:
        replayed = {key(t): t for t in replay.trials}
        total += len(live.trials)
        for trial in live.trials:
            twin = replayed.get(key(trial))
            replayed_acc = {e.epoch: e.val_acc for e in twin.epochs} if twin else {}
            common = [(e.val_acc, replayed_acc[e.epoch]) for e in trial.epochs if e.epoch in replayed_acc]
            if not common:  # no such configuration, or a trial that failed before its first epoch
                continue
            shared[live.strategy] = shared.get(live.strategy, 0) + 1
            epochs += len(common)
            worst = max([worst or 0.0] + [abs(x - y) for x, y in common])
    return total, shared, epochs, worst
