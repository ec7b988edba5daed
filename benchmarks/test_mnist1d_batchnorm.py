"""BatchNorm x learning rate (the gestures study of the seed studies), offline on MNIST-1D's Conv1d.

Does BatchNorm keep accuracy at high learning rates?

BatchNorm {on, off} is a grid axis, crossed with 20 learning rates drawn log-uniformly from 1e-4 to
1e-1 (one from each of 20 equal log-width strata, so the range is covered evenly): 40 trials of 9
epochs, grid search. Both BatchNorm settings train at the same 20 rates, so each rate gives a pair.

Run: ``pytest benchmarks/test_mnist1d_batchnorm.py --seeds 3`` (about 2 min a seed here); the answer
is written to ``results/mnist1d_batchnorm/hypothesis.md`` and shown in report.md.
"""

import math

import numpy as np

from harness import Budget, Choice, Hypothesis, LogUniform, Problem, SearchSpace
from harness.evaluate.stats import min_sign_flip_p, seeds_needed, signed_rank_test, summarize
from harness.run.invariants import assert_sound
from harness.core.records import FAILED
from harness.run.live.models import conv1d

from datasets import mnist1d

HIGH_LR = 1e-2  # the hypothesis is about learning rates above this


def stratified_log_uniform(low: float, high: float, n: int, seed: int) -> tuple[float, ...]:
    """``n`` values, one drawn log-uniformly within each of ``n`` equal log-width strata of [low, high]."""
    u = (np.arange(n) + np.random.default_rng(seed).uniform(size=n)) / n
    return tuple(float(f"{v:.3g}") for v in 10 ** (math.log10(low) + u * (math.log10(high) - math.log10(low))))


LEARNING_RATES = stratified_log_uniform(1e-4, 1e-1, 20, seed=0)

# The Conv1d of test_mnist1d.py at its middle setting; only BatchNorm and the learning rate vary.
SPACE = SearchSpace(
    params={"batchnorm": Choice([False, True]), "lr": LogUniform(1e-4, 1e-1),
            "conv_layers": Choice([3]), "channels": Choice([32]), "kernel_size": Choice([5]), "batch_size": Choice([128])},
    grid={"batchnorm": (False, True), "lr": LEARNING_RATES,
          "conv_layers": (3,), "channels": (32,), "kernel_size": (5,), "batch_size": (128,)},
)
BUDGET = Budget(max_epochs=9, num_trials=40, max_concurrent_trials=1, cpus_per_trial=1)

PROBLEM = Problem(
    name="mnist1d_batchnorm",
    dataset="mnist1d",
    load_data=mnist1d.load,
    build_model=conv1d,
    space=SPACE,
    budget=BUDGET,
    n_classes=mnist1d.N_CLASSES,
)
STRATEGIES = ["grid"]


def final_test_accuracy(trial) -> float | None:
    """Held-out test accuracy after the trial's last epoch (no selection among epochs); 0 for a trial that
    failed (a diverged loss), which is what a learning rate too high for it is worth."""
    if not trial.epochs or trial.outcome == FAILED:
        return 0.0
    return trial.epochs[-1].test_acc


def paired_differences(records, high: bool) -> list[float]:
    """BatchNorm on minus off, one difference per (seed, learning rate) above (or at most) HIGH_LR."""
    diffs = []
    for record in records:
        by_key = {(t.config["lr"], bool(t.config["batchnorm"])): final_test_accuracy(t) for t in record.trials}
        for lr in sorted({lr for lr, _ in by_key}):
            on, off = by_key.get((lr, True)), by_key.get((lr, False))
            if on is not None and off is not None and (lr > HIGH_LR) == high:
                diffs.append(on - off)
    return diffs


def answer(records) -> str:
    """The seed is the unit: the (seed, learning rate) pairs of one seed share its data split and initial weights, so
    they are not independent. Each seed contributes its mean difference; the test is over those seed means."""
    parts = []
    seeds = sorted({r.seed for r in records})
    for high in (True, False):
        per_seed = [d for d in (paired_differences([r], high) for r in records) if d]
        if not per_seed:
            continue
        means = [sum(d) / len(d) for d in per_seed]
        where = f"lr > {HIGH_LR:g}" if high else f"lr <= {HIGH_LR:g}"
        s = summarize(means)
        interval = f" [{s.ci_low:+.3f}, {s.ci_high:+.3f}]" if s.ci_low is not None else ""
        differing = sum(m != 0 for m in means)
        p, _ = signed_rank_test(means, [0.0] * len(means))
        floor = min_sign_flip_p(differing)
        test = (f"two-sided signed-rank test over the {len(means)} seed means, p = {p:.2g}"
                + (f", the smallest p {len(means)} seeds allow (a test at 0.05 needs >= {seeds_needed(1)} seeds)"
                   if floor >= 0.05 else ""))
        pairs = sum(len(d) for d in per_seed)
        parts.append(f"at {where}, BatchNorm changes held-out test accuracy by {s.mean:+.3f}{interval} "
                     f"(mean over seeds of each seed's mean over its learning rates; {test}; "
                     f"{sum(x > 0 for d in per_seed for x in d)} of {pairs} (seed, lr) pairs higher with it)")
    return ("; ".join(parts) + f". Seeds {seeds}; accuracy is the test accuracy after the last of "
            f"{BUDGET.max_epochs} epochs.")


HYPOTHESIS = Hypothesis("Does BatchNorm keep accuracy at learning rates above 1e-2?", answer)


def test_mnist1d_batchnorm(tuning_case, tuning_run):
    record = tuning_run(tuning_case)
    assert_sound(record, tuning_case)
