"""Hyperband (Li et al. 2018): synchronous brackets of successive halving over random samples."""

from strategies._base import Strategy, TuneSetup, num_samples, variant_generator


def build(problem, budget, seed):
    from ray.tune.schedulers import HyperBandScheduler

    scheduler = HyperBandScheduler(
        time_attr="training_iteration", max_t=budget.max_epochs, reduction_factor=problem.reduction_factor
    )
    return TuneSetup(problem.space.to_tune(), variant_generator(seed), scheduler, num_samples(budget, early_stopping=True))


STRATEGY = Strategy("hyperband", "HyperBandScheduler + random sampling", build, multi_fidelity=True)
