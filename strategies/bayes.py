"""Bayesian optimisation with a Gaussian process (Ray's BayesOptSearch), FIFO.

BayesOptSearch takes floats only, so the problem's space is searched through its continuous
encoding (log10 for log-scaled values, rounded ints, floored choice indices) and decoded per trial.
"""

from strategies._base import Strategy, TuneSetup, num_samples, startup_trials


def build(problem, budget, seed):
    from ray.tune.search.bayesopt import BayesOptSearch

    search = BayesOptSearch(random_state=seed, random_search_steps=startup_trials(budget))
    return TuneSetup(
        problem.space.to_continuous(), search, None, num_samples(budget), decode=problem.space.decode_continuous
    )


STRATEGY = Strategy("bayes", "GP Bayesian optimisation (BayesOptSearch), FIFO", build, needs_continuous=True)
