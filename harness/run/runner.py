"""Runs one (problem, strategy, budget, seed) through Ray Tune, live or replayed, and returns its RunRecord.

The runner is the same for both: what differs (trainable, GPU share, clock, stopping rule, experiment
folder, provenance) comes from the problem's backend, ``harness.run.live.backend`` or ``harness.run.replay.backend``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import time
import uuid
from pathlib import Path
from typing import Callable

# torch before Ray (the recorder below imports Ray, and with it grpc and protobuf): a driver that first imported torch
# after Ray, under load in pytest-xdist workers, failed in torch._C's import ("SystemError: bad call flags") and then
# crashed in the garbage collector. Every run imports torch anyway (provenance names the device).
import torch  # noqa: E402, F401

from harness.run.backend import Backend, ExperimentPlace
from harness.core.budget import Budget
from harness.run.ray_session import ensure_ray, watch_cluster
from harness.core.problem import METRIC, MODE, Problem
from harness.run.recorder import Recorder, RunFacts, TotalEpochsStopper, run_record
from harness.core.records import RunRecord


def run(
    problem: Problem,
    strategy,
    seed: int,
    budget: Budget | None = None,
    *,
    ray_address: str | None = None,
    progress: Callable[[str], None] | None = None,
    experiment_dir: str | Path | None = None,
) -> RunRecord:
    """Tune ``problem`` with ``strategy`` under ``budget`` (default: the problem's) and record the run.

    With ``experiment_dir``, a live run keeps Tune's experiment folder at ``<experiment_dir>/<run id>/``.
    """
    budget = budget or problem.budget
    setup = strategy.setup(problem, budget, seed)
    address = ensure_ray(ray_address)
    backend = backend_for(problem)(problem, setup, seed, budget)
    label, run_id = f"{problem.name}-{strategy.name}-seed{seed}", uuid.uuid4().hex
    recorder = Recorder(progress if backend.shows_progress else None, label, budget.num_trials, backend.arrival_s,
                        problem.objective)
    recorder.cap = TotalEpochsStopper(budget.total_epochs) if budget.total_epochs is not None else None
    started_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")
    # On a cluster, a head that stops answering ends the run at once with ClusterLost, naming it (watch_cluster).
    with watch_cluster(ray_address, progress), _interruptible(), _one_thread(), backend.clock() as clock, \
            backend.place(experiment_dir, run_id, label) as place:
        tuner = _tuner(backend, place, recorder, backend.slot(ray_address))
        _seed_global_generators(seed)
        recorder.t0 = time.perf_counter()
        _fit(tuner, recorder.cap)
        real_s = time.perf_counter() - recorder.t0
        trials = recorder.trial_records(budget, backend.decode, budget.wallclock_s is not None, backend.ordinal_trial_ids)
    facts = RunFacts(run_id, started_at, backend.wallclock_s(clock, real_s), real_s, address, recorder.decision_s())
    return run_record(problem, strategy.name, seed, budget, backend, place, facts, trials)


def backend_for(problem: Problem) -> type[Backend]:
    """The replay backend for a problem with a learning-curve table, the live one otherwise."""
    if problem.is_replay:
        from harness.run.replay.backend import ReplayBackend

        return ReplayBackend
    from harness.run.live.backend import LiveBackend

    return LiveBackend


def slot_share(budget: Budget) -> float:
    """A trial's share of the one ``tuning_slot``, rounded down to Ray's 1e-4 resource precision."""
    return math.floor(10_000 / budget.max_concurrent_trials) / 10_000


def _tuner(backend: Backend, place: ExperimentPlace, recorder: Recorder, slot: str):
    from ray import tune
    from ray.tune.search import Searcher

    from harness.run.decisions import timed

    setup, budget = backend.setup, backend.budget
    search_alg, recorder.searcher = timed(setup.search_alg)  # the searcher's seconds per trial, measured
    # The slot share in a bundle of its own: the slot lives on the head, and a trial's CPUs and GPUs may be on any
    # node (one bundle holding both would tie every trial to the head). PACK keeps both on one node when it can.
    resources = tune.PlacementGroupFactory([{"CPU": budget.cpus_per_trial, "GPU": backend.gpus}, {slot: slot_share(budget)}])
    return tune.Tuner(
        tune.with_resources(backend.trainable(), resources),
        param_space=setup.param_space,
        tune_config=tune.TuneConfig(
            metric=METRIC,
            mode=MODE,
            search_alg=search_alg,
            scheduler=setup.scheduler,
            num_samples=setup.num_samples,
            # Searchers also get Ray's limiter, so that they wait for results before proposing more.
            max_concurrent_trials=budget.max_concurrent_trials if isinstance(search_alg, Searcher) else None,
            reuse_actors=True,  # trial start-up otherwise dominates small trials
            time_budget_s=backend.time_budget_s(),
        ),
        run_config=tune.RunConfig(
            name=place.name,
            storage_path=place.storage_path,
            stop=_stopper(backend, recorder.cap),
            callbacks=[recorder, *place.loggers],
            # The backend says how many checkpoints a trial keeps (harness.run.backend.Backend.checkpoints_kept).
            checkpoint_config=tune.CheckpointConfig(num_to_keep=backend.checkpoints_kept),
            # A failed trial (its node lost, its worker killed, or its own error) is retried max_failures times.
            failure_config=tune.FailureConfig(max_failures=backend.problem.max_failures, fail_fast=False),
            verbose=0,
        ),
    )


def _fit(tuner, cap) -> None:
    """``tuner.fit()``; the recorder already holds the run when it returns.

    When an equal-compute budget ends the experiment (``stop_all``), trials that were still pending never got a
    folder, and Tune 2.60 fails building its ResultGrid from them ("Should not access `trial_fs_path` without
    setting `trial_dir_name`") after the experiment has ended. The harness does not use that grid: its recorder
    has every result and every trial's final state (``on_experiment_end``), so that one error is let pass.
    """
    try:
        tuner.fit()
    except RuntimeError as exc:
        if not (cap is not None and cap.reached and "trial_dir_name" in str(exc)):
            raise


def _stopper(backend: Backend, cap):
    """The backend's stopping rule, with the run's total-epochs cap beside it when the budget has one."""
    stop = backend.stopper()
    if cap is None:
        return stop
    from ray.tune.stopper import CombinedStopper, MaximumIterationStopper

    # The cap first: CombinedStopper stops asking at the first stopper that says stop, and the cap counts every epoch.
    return CombinedStopper(cap, MaximumIterationStopper(stop["training_iteration"]) if isinstance(stop, dict) else stop)


@contextlib.contextmanager
def _interruptible():
    """Ctrl-C during a run raises KeyboardInterrupt out of it, whatever Ray Tune makes of it in between.

    Tune's own SIGINT handler is off (harness.run.ray_session), so SIGINT raises KeyboardInterrupt wherever the
    driver is; this also notes it, so that an error it causes on the way out (a clean-up, a wrapped
    exception) is still reported as the interruption it was, and the run is never stored.
    """
    import signal
    import threading

    seen: list[int] = []
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if main else None

    def interrupted(signum, frame):
        seen.append(signum)
        raise KeyboardInterrupt

    if main:
        signal.signal(signal.SIGINT, interrupted)
    try:
        yield
    except BaseException as exc:
        if seen and not isinstance(exc, KeyboardInterrupt):
            raise KeyboardInterrupt(f"interrupted ({type(exc).__name__} on the way out: {exc})") from exc
        raise
    else:
        if seen:
            raise KeyboardInterrupt("interrupted")
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)


def _one_thread():
    """Run the driver's thread pools (BLAS, OpenMP: the searchers' numpy, scipy, scikit-learn, torch) on one thread.

    The GP searchers fit and optimise on a few dozen points, where extra threads only wait on each other
    and on Ray's workers for the cores. Measured under load here, 2 seeds each, records identical: a
    BayesOptSearch replay on MNIST-1D took 164.5 s of real time with OpenBLAS's default threads and 52.9 s
    with one; Optuna's GPSampler (torch) 27-29 s and 21 s. On a quiet machine bayes gains about 10 %. It covers
    the libraries loaded when the run starts (strategies/_optuna.py imports torch for this). Trials run in
    Ray's workers, which it does not touch.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _seed_global_generators(seed: int) -> None:
    """Seed the driver's global generators: some searchers draw from them (hpbandster's BOHB uses numpy's)."""
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
