"""HyperOpt's Tree-structured Parzen Estimator (Ray's HyperOptSearch), FIFO."""

from strategies._base import Strategy, TuneSetup, hyperopt_tpe, num_samples


def build(problem, budget, seed):
    return TuneSetup(problem.space.to_tune(), hyperopt_tpe(problem, budget, seed), None, num_samples(budget))


STRATEGY = Strategy("hyperopt", "HyperOptSearch (TPE), FIFO", build)
