"""BOHB (Falkner et al. 2018): TPE-like kernel density model (TuneBOHB) inside HyperBandForBOHB."""

from strategies._base import Strategy, TuneSetup, num_samples


def build(problem, budget, seed):
    from ray.tune.schedulers import HyperBandForBOHB
    from ray.tune.search.bohb import TuneBOHB

    scheduler = HyperBandForBOHB(
        time_attr="training_iteration", max_t=budget.max_epochs, reduction_factor=problem.reduction_factor
    )
    return TuneSetup(problem.space.to_tune(), TuneBOHB(seed=seed), scheduler, num_samples(budget, early_stopping=True))


STRATEGY = Strategy("bohb", "TuneBOHB + HyperBandForBOHB", build, multi_fidelity=True)
