"""Bayesian optimisation with a Gaussian process (Ray's BayesOptSearch), FIFO.

BayesOptSearch takes floats only, so the problem's space is searched through its continuous
encoding (log10 for log-scaled values, rounded ints, floored choice indices) and decoded per trial.
"""

from strategies._base import Strategy, TuneSetup, num_samples


def build(problem, budget, seed):
    from ray.tune.search.bayesopt import BayesOptSearch

    # A quarter of the trials (at least 2) as random start-up points before the GP leads.
    steps = max(2, (budget.num_trials or 20) // 4)
    search = BayesOptSearch(random_state=seed, random_search_steps=steps)
    return TuneSetup(
        problem.space.to_continuous(), search, None, num_samples(budget), decode=problem.space.decode_continuous
    )


STRATEGY = Strategy("bayes", "GP Bayesian optimisation (BayesOptSearch), FIFO", build, needs_continuous=True)
