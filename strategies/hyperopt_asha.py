"""HyperOpt's TPE proposing, ASHA stopping: the combination the Flowers study used."""

from strategies._base import Strategy, TuneSetup, asha, hyperopt_tpe, num_samples


def build(problem, budget, seed):
    return TuneSetup(
        problem.space.to_tune(), hyperopt_tpe(problem, budget, seed), asha(problem, budget), num_samples(budget, early_stopping=True)
    )


STRATEGY = Strategy("hyperopt-asha", "HyperOptSearch (TPE) + ASHAScheduler", build, multi_fidelity=True, first_rung="grace")
