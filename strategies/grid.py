"""Grid search over the problem's declared grid form, every point once."""

from strategies._base import Strategy, TuneSetup


def build(problem, budget, seed):
    from ray.tune.search import BasicVariantGenerator

    # The grid is exhaustive, so the seed changes nothing here but the trials' own seeds.
    return TuneSetup(problem.space.to_grid(), BasicVariantGenerator(random_state=seed), None, num_samples=1)


STRATEGY = Strategy("grid", "every point of the grid form, FIFO", build, grid_only=True)
