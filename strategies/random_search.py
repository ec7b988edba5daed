"""Random search: Ray's BasicVariantGenerator, seeded, FIFO."""

from strategies._base import Strategy, TuneSetup, num_samples, random_search


def build(problem, budget, seed):
    return TuneSetup(problem.space.to_tune(), random_search(problem, seed), None, num_samples(budget))


STRATEGY = Strategy("random", "seeded random sampling, FIFO", build)
