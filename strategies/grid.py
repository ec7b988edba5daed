"""Grid search over the problem's declared grid form, every point once."""

from strategies._base import Strategy, TuneSetup, variant_generator


def build(problem, budget, seed):
    # The grid is exhaustive, so the seed changes nothing here but the trials' own seeds.
    return TuneSetup(problem.space.to_grid(), variant_generator(seed), None, num_samples=1)


STRATEGY = Strategy("grid", "every point of the grid form, FIFO", build, grid_only=True)
