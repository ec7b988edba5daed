"""Random search: Ray's BasicVariantGenerator, seeded, FIFO."""

from strategies._base import Strategy, TuneSetup, num_samples, variant_generator


def build(problem, budget, seed):
    return TuneSetup(problem.space.to_tune(), variant_generator(seed), None, num_samples(budget))


STRATEGY = Strategy("random", "seeded random sampling, FIFO", build)
