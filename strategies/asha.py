"""ASHA (Li et al. 2020): asynchronous successive halving over random samples, as in the paper."""

from strategies._base import Strategy, TuneSetup, asha, num_samples, variant_generator


def build(problem, budget, seed):
    return TuneSetup(problem.space.to_tune(), variant_generator(seed), asha(problem, budget), num_samples(budget, early_stopping=True))


STRATEGY = Strategy("asha", "ASHAScheduler + random sampling", build, multi_fidelity=True, first_rung="grace")
