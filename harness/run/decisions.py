"""The searcher's own time: seconds spent deciding what to try next, per trial, measured on the driver.

A model-based searcher thinks between trials: a BayesOpt suggestion fits a Gaussian process and runs L-BFGS-B from
ten starts (0.4-0.7 s here), BOHB and Optuna refit their density models. A live run pays those seconds on its
wall-clock; a replay's simulated clock counts recorded epochs only, so the seconds are measured here, in live runs
and replays alike, and recorded beside the clock (``RunRecord.decision_s``, one entry per trial) instead of on it:
they are real seconds of this machine, so charging them to the simulated clock would make two replays of one seed
differ, and the gate compare noise.

:class:`TimedSearcher` wraps any Ray Tune ``Searcher`` (inside Ray's own ``ConcurrencyLimiter``, as a ``Searcher``
itself) and charges to a trial every call made for it: ``suggest`` (the proposal), ``on_trial_result`` and
``on_trial_complete`` (taking its results in). Ray's variant generator (grid, random search) is not a ``Searcher``
and is not timed: it draws a configuration in microseconds.
"""

from __future__ import annotations

import time
from typing import Any

# Importing harness set Ray's environment first (harness/__init__), so Ray may be imported here.
from ray.tune.search import Searcher  # noqa: E402
from ray.tune.search.util import _set_search_properties_backwards_compatible  # noqa: E402


class TimedSearcher(Searcher):
    """``searcher`` as it is, with the seconds of every call made for a trial added up per trial id."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        self.seconds: dict[str, float] = {}
        # Seconds of suggestions that proposed nothing (a searcher that waits for results, as BOHB does, is asked
        # at every step of Tune's loop): charged to the next trial it does propose, whose wait they were.
        self._pending = 0.0
        super().__init__(metric=searcher.metric, mode=searcher.mode)

    def _timed(self, trial_id: str, call, *args, **kwargs):
        start = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            self.seconds[trial_id] = self.seconds.get(trial_id, 0.0) + time.perf_counter() - start

    # the decisions, timed
    def suggest(self, trial_id: str) -> dict | None:
        start = time.perf_counter()
        suggestion = self.searcher.suggest(trial_id)
        self._pending += time.perf_counter() - start
        if isinstance(suggestion, dict):  # not None (nothing yet) nor Searcher.FINISHED
            self.seconds[trial_id] = self.seconds.get(trial_id, 0.0) + self._pending
            self._pending = 0.0
        return suggestion

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        self._timed(trial_id, self.searcher.on_trial_result, trial_id, result)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        self._timed(trial_id, self.searcher.on_trial_complete, trial_id, result=result, error=error)

    # everything else, passed through
    @property
    def metric(self) -> str:
        return self.searcher.metric

    @property
    def mode(self) -> str:
        return self.searcher.mode

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict, **spec) -> bool:
        return _set_search_properties_backwards_compatible(self.searcher.set_search_properties, metric, mode, config,
                                                           **spec)

    def set_max_concurrency(self, max_concurrent: int) -> bool:
        return self.searcher.set_max_concurrency(max_concurrent)

    def add_evaluated_point(self, *args: Any, **kwargs: Any):
        return self.searcher.add_evaluated_point(*args, **kwargs)

    def get_state(self) -> dict:  # a wrapper's own state: Tune saves the wrapped searcher on its own (save_to_dir)
        return {"seconds": dict(self.seconds), "_pending": self._pending}

    def set_state(self, state: dict) -> None:
        self.seconds, self._pending = dict(state.get("seconds", {})), state.get("_pending", 0.0)

    def save(self, checkpoint_path: str) -> None:
        self.searcher.save(checkpoint_path)

    def restore(self, checkpoint_path: str) -> None:
        self.searcher.restore(checkpoint_path)

    def on_pause(self, trial_id: str) -> None:  # BOHB's: HyperBandForBOHB pauses and resumes trials through these
        self.searcher.on_pause(trial_id)

    def on_unpause(self, trial_id: str) -> None:
        self.searcher.on_unpause(trial_id)


def timed(search_alg) -> tuple[object, TimedSearcher | None]:
    """``search_alg`` with its base searcher timed, and the timer; ``(search_alg, None)`` when it has no ``Searcher``.

    A strategy's own wrappers (Ray's ``ConcurrencyLimiter``, ``Repeater``: searchers with a ``.searcher``) stay
    outermost, so that Tune still sees them (it checks for a limiter before adding its own); the timer goes around
    the searcher at the bottom of that chain.
    """
    if not isinstance(search_alg, Searcher):
        return search_alg, None
    if not hasattr(search_alg, "searcher"):
        timer = TimedSearcher(search_alg)
        return timer, timer
    holder = search_alg
    while isinstance(getattr(holder.searcher, "searcher", None), Searcher):
        holder = holder.searcher
    holder.searcher = timer = TimedSearcher(holder.searcher)
    return search_alg, timer
