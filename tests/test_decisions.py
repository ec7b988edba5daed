"""The searcher's own seconds: timed per trial, without changing what the searcher or Tune sees."""

import time

from ray.tune.search import ConcurrencyLimiter, Searcher

from harness.run.decisions import TimedSearcher, timed


class Slow(Searcher):
    """Proposes {"x": n} after 10 ms, but nothing (None) while ``waiting``; records what it is told."""

    def __init__(self):
        super().__init__(metric="val_acc", mode="max")
        self.waiting, self.told, self.n = False, [], 0

    def suggest(self, trial_id):
        time.sleep(0.01)
        if self.waiting:
            return None
        self.n += 1
        return {"x": self.n}

    def on_trial_complete(self, trial_id, result=None, error=False):
        time.sleep(0.005)
        self.told.append((trial_id, result))


def test_each_trial_is_charged_its_proposal_its_wait_and_taking_in_its_result():
    base = Slow()
    alg, timer = timed(base)
    assert alg is timer and timer.searcher is base and timer.metric == "val_acc" and timer.mode == "max"
    assert alg.suggest("a") == {"x": 1}
    base.waiting = True
    assert alg.suggest("b") is None and alg.suggest("b2") is None  # nothing proposed: no trial charged yet
    base.waiting = False
    assert alg.suggest("c") == {"x": 2}
    alg.on_trial_complete("a", result={"val_acc": 0.5})
    assert base.told == [("a", {"val_acc": 0.5})]  # passed through as it came
    assert set(timer.seconds) == {"a", "c"}
    assert 0.015 <= timer.seconds["a"] < 0.1  # its proposal (10 ms) and taking in its result (5 ms)
    assert 0.03 <= timer.seconds["c"] < 0.2  # two empty asks (the wait) and its own proposal: 3 x 10 ms


def test_a_strategys_own_limiter_stays_outermost_so_tune_still_sees_it():
    base = Slow()
    limiter = ConcurrencyLimiter(base, max_concurrent=2)
    alg, timer = timed(limiter)
    assert alg is limiter and isinstance(limiter.searcher, TimedSearcher) and timer.searcher is base
    assert limiter.max_concurrent == 2 and alg.suggest("a") == {"x": 1} and "a" in timer.seconds


def test_ray_variant_generator_is_not_timed():
    from ray.tune.search.basic_variant import BasicVariantGenerator

    generator = BasicVariantGenerator()
    assert timed(generator) == (generator, None)
