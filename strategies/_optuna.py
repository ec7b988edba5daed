"""Ray's OptunaSearch around one of Optuna's samplers: the shared factory of optuna-gp and optuna-tpe."""

from __future__ import annotations

from strategies._base import Strategy, TuneSetup, num_samples, startup_trials


def optuna_strategy(name: str, sampler: str, summary: str) -> Strategy:
    """A strategy running Optuna's ``sampler`` ("gp" or "tpe"), seeded, FIFO.

    Optuna's samplers handle integer and categorical parameters natively, where BayesOptSearch
    needs the continuous encoding.
    """

    def build(problem, budget, seed):
        import optuna
        from ray.tune.search.optuna import OptunaSearch

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        n_startup = startup_trials(budget)
        if sampler == "gp":
            # GPSampler fits its GP with torch, which it imports on first use; importing it here, before the run,
            # lets the runner's one-thread limit (harness.run.runner._one_thread) cover torch's thread pool too.
            import torch  # noqa: F401

            chosen = optuna.samplers.GPSampler(seed=seed, n_startup_trials=n_startup)
        else:
            chosen = optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup)
        return TuneSetup(problem.space.to_tune(), OptunaSearch(sampler=chosen), None, num_samples(budget))

    return Strategy(name, summary, build)
