"""Ray Tune on a simulated clock: Tune's own controller, searchers and schedulers, no Ray actors.

A replay (``harness.run.replay.backend``) looks learning curves up in a table instead of training, so the
only real cost of a trial is Ray's machinery around it. Real actors cost about 5 s per
``Tuner.fit`` and deliver results in whatever order the OS runs them. Instead, for the length of
:func:`simulated_actors`, Tune's ``TuneController`` gets :class:`SimulatedActorManager` in place
of ``RayActorManager``:

* every trainable is an ordinary object in the driver process, and each "remote" call on it runs
  at once, in call order per trainable, as Ray runs an actor's tasks;
* a call's result becomes an event at ``start + duration`` on a simulated clock, where a
  ``train`` call lasts the ``epoch_s`` it reports and every other call takes no time;
* ``next()`` hands Tune the earliest event (ties in the order they were scheduled), so Tune sees
  results exactly in the order N workers would have produced them;
* N workers are the runner's ``tuning_slot`` resource, of which the simulated cluster has one.

Everything else, including trial states, pausing, checkpoints, actor reuse and the searcher's
concurrency limiter, is Tune's own code. The manager mirrors ``RayActorManager``'s interface of
Ray 2.60, which pyproject.toml pins; ``tests/test_replay.py`` fails if that interface moves.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import traceback
from typing import Any, Callable, Iterator

from harness.run.ray_session import SLOT

# Importing harness set Ray's environment first (harness/__init__), so Ray may be imported here.
from ray.air.execution._internal import actor_manager as _ray_actor_manager  # noqa: E402
from ray.air.execution._internal.tracked_actor import TrackedActor  # noqa: E402
from ray.air.execution.resources import FixedResourceManager  # noqa: E402
from ray.tune.stopper import Stopper  # noqa: E402
from ray.exceptions import RayActorError, RayTaskError  # noqa: E402

SIM_TIME_KEY = "sim_time_s"  # stamped on every result: the simulated time it arrived


def simulated_arrival_s(result: dict, t0: float) -> float:
    """A replayed result's arrival: the simulated time its epoch ended (the real start ``t0`` does not count)."""
    return result[SIM_TIME_KEY]
DURATION_KEY = "epoch_s"  # a train() result's own length in simulated seconds


class SimFuture:
    """Stands in for an ``ObjectRef``: a finished call and the simulated time it resolves at."""

    __slots__ = ("ready_at", "seq", "value", "error")

    def __init__(self, ready_at: float, seq: int, value: Any = None, error: Exception | None = None) -> None:
        self.ready_at, self.seq, self.value, self.error = ready_at, seq, value, error

    def __lt__(self, other: "SimFuture") -> bool:
        return (self.ready_at, self.seq) < (other.ready_at, other.seq)


class _Method:
    def __init__(self, handle: "SimActorHandle", name: str) -> None:
        self._handle, self._name = handle, name

    def remote(self, *args, **kwargs) -> SimFuture:
        return self._handle._call(self._name, args, kwargs)


class SimActorHandle:
    """An in-process trainable behind Ray's actor-handle syntax: ``handle.train.remote()``."""

    def __init__(self, clock: "SimulatedActorManager", instance: Any) -> None:
        self._clock, self._instance = clock, instance
        self.busy_until = clock.now  # an actor runs one call at a time

    def __getattr__(self, name: str) -> _Method:
        if name.startswith("_") and not name.startswith("__ray_"):
            raise AttributeError(name)
        return _Method(self, name)

    def _call(self, name: str, args: tuple, kwargs: dict) -> SimFuture:
        start = max(self._clock.now, self.busy_until)
        value, error, duration = None, None, 0.0
        try:
            if name in ("__ray_ready__", "__ray_terminate__"):
                value = True
            else:
                value = getattr(self._instance, name)(*args, **kwargs)
                if name == "train" and isinstance(value, dict):
                    duration = max(0.0, float(value.get(DURATION_KEY, 0.0)))
                    value = {**value, SIM_TIME_KEY: start + duration}
        except Exception as exc:  # becomes the task's error, as a failing Ray task would
            error = RayTaskError(name, traceback.format_exc(), exc)
        self.busy_until = start + duration
        return self._clock._future(self.busy_until, value, error)


class _SimEventManager:
    """``RayEventManager``'s interface over :class:`SimFuture` (no ``ray.get``)."""

    def __init__(self) -> None:
        self._tracked: dict[SimFuture, tuple[Callable | None, Callable | None]] = {}

    def track_future(self, future, on_result=None, on_error=None) -> None:
        self._tracked[future] = (on_result, on_error)

    def track_futures(self, futures, on_result=None, on_error=None) -> None:
        for future in futures:
            self.track_future(future, on_result, on_error)

    def discard_future(self, future) -> None:
        self._tracked.pop(future, None)

    def get_futures(self) -> set:
        return set(self._tracked)

    @property
    def num_futures(self) -> int:
        return len(self._tracked)

    def resolve_future(self, future: SimFuture) -> None:
        on_result, on_error = self._tracked.pop(future)
        if future.error is not None:
            if on_error:
                on_error(future.error)
        elif on_result:
            on_result(future.value)


class SimulatedActorManager(_ray_actor_manager.RayActorManager):
    """``RayActorManager`` with in-process actors and a simulated clock (see the module docstring).

    Only the methods that touch Ray are replaced; bookkeeping (pending actors, cached tasks,
    removal, resource accounting with Ray's ``FixedResourceManager``) is Ray's own.
    """

    def __init__(self, resource_manager=None) -> None:
        # Tune passes its placement-group manager; the simulated cluster has its own fixed one:
        # one tuning slot, and no limit on anything else.
        super().__init__(resource_manager=FixedResourceManager(total_resources=_SIM_RESOURCES))
        self._actor_state_events = _SimEventManager()
        self._actor_task_events = _SimEventManager()
        self.now = 0.0
        self._seq = itertools.count()
        self._actor_ids = itertools.count(1)

    def add_actor(self, cls, kwargs, resource_request, *, on_start=None, on_stop=None, on_error=None) -> TrackedActor:
        # Ray numbers actors with random uuids, and Tune keeps them in sets; ordinals keep set order fixed.
        tracked_actor = TrackedActor(next(self._actor_ids), on_start=on_start, on_stop=on_stop, on_error=on_error)
        self._pending_actors_to_attrs[tracked_actor] = cls, kwargs, resource_request
        self._resource_request_to_pending_actors[resource_request].append(tracked_actor)
        self._resource_manager.request_resources(resource_request=resource_request)
        return tracked_actor

    def _future(self, ready_at: float, value: Any, error: Exception | None) -> SimFuture:
        return SimFuture(ready_at, next(self._seq), value, error)

    def next(self, timeout: float | None = None) -> bool:
        if self._try_kill_actor():
            return True
        self._try_start_actors()
        state = self._actor_state_events.get_futures()
        futures = state | self._actor_task_events.get_futures()
        if not futures:
            return False
        # Earliest first; at equal times, actor starts and stops before results, then call order.
        future = min(futures, key=lambda f: (f.ready_at, f not in state, f.seq))
        self.now = max(self.now, future.ready_at)
        if future in state:
            self._actor_state_events.resolve_future(future)
        else:
            self._actor_task_events.resolve_future(future)
        self._try_start_actors()
        return True

    def _try_start_actors(self, max_actors: int | None = None) -> int:
        started = 0
        for request, pending in self._resource_request_to_pending_actors.items():
            while pending and self._resource_manager.has_resources_ready(request):
                if max_actors is not None and started >= max_actors:
                    return started
                acquired = self._resource_manager.acquire_resources(request)
                tracked_actor = pending.pop(0)
                actor_cls, kwargs, _ = self._pending_actors_to_attrs.pop(tracked_actor)
                try:
                    instance, error = _plain_class(actor_cls)(**kwargs), None
                except Exception as exc:  # a trainable that fails in setup: the actor fails to start, as in Ray
                    instance, error = None, RayActorError(error_msg=f"{type(exc).__name__}: {exc}")
                handle = SimActorHandle(self, instance)
                self._live_actors_to_ray_actors_resources[tracked_actor] = (handle, acquired)
                self._live_resource_cache = None
                future = handle.__ray_ready__.remote() if error is None else self._future(self.now, None, error)
                self._tracked_actors_to_state_futures[tracked_actor].add(future)
                self._actor_state_events.track_future(
                    future,
                    on_result=_bind(self._actor_start_resolved, tracked_actor, future),
                    on_error=lambda exc, ta=tracked_actor: self._actor_start_failed(ta, exc),
                )
                self._enqueue_cached_actor_tasks(tracked_actor=tracked_actor)
                started += 1
        return started

    def _try_kill_actor(self) -> bool:
        if not self._live_actors_to_kill:
            return False
        tracked_actor = self._live_actors_to_kill.pop()
        self._cleanup_actor_futures(tracked_actor)
        self._actor_stop_resolved(tracked_actor)
        return True

    def cleanup(self) -> None:
        for _, acquired in self._live_actors_to_ray_actors_resources.values():
            self._resource_manager.free_resources(acquired)
        for request, pending in self._resource_request_to_pending_actors.items():
            for _ in pending:
                self._resource_manager.cancel_resource_request(request)
        self._resource_manager.clear()
        now = self.now
        self.__init__()
        self.now = now


# Enough of everything that only the tuning slot limits how many trials run at once.
_SIM_RESOURCES = {"CPU": 1e6, "GPU": 1e6, "memory": 1e15, "object_store_memory": 1e15, SLOT: 1.0}


def _bind(fn, tracked_actor: TrackedActor, future: SimFuture):
    return lambda _result: fn(tracked_actor=tracked_actor, future=future)


def _plain_class(actor_cls) -> type:
    """The trainable class behind the ``ray.remote`` wrapper Tune's class cache made of it."""
    meta = getattr(actor_cls, "__ray_metadata__", None)
    return meta.modified_class if meta is not None else actor_cls


def _ordinal_hash(counter):
    """Tune keeps trials in sets, hashed by memory address, so their order changes from run to run.
    Hashing each trial by the order it was first hashed in makes that order, and the replay, repeat."""

    def __hash__(trial) -> int:
        ordinal = trial.__dict__.get("_sim_ordinal")
        if ordinal is None:
            ordinal = trial.__dict__["_sim_ordinal"] = next(counter)
        return ordinal

    return __hash__


class SimulatedRun:
    """What :func:`simulated_actors` hands back: the managers Tune built, hence the final clock."""

    def __init__(self) -> None:
        self.managers: list[SimulatedActorManager] = []

    @property
    def makespan_s(self) -> float:
        return max((m.now for m in self.managers), default=0.0)


@contextlib.contextmanager
def simulated_actors() -> Iterator[SimulatedRun]:
    """Within this block, every ``Tuner.fit`` in this process runs on a simulated clock.

    Not thread-safe: it swaps the actor manager class Tune's controller module uses.
    """
    from ray.tune.execution import tune_controller
    from ray.tune.experiment import Trial
    from ray.tune.experiment import trial as trial_module

    run = SimulatedRun()
    # Tune looks a trial's trainable class up in the GCS's key-value store every time it creates or starts a trial
    # (about 10 ms a lookup); within one replay the class under a name never changes, so it is looked up once.
    saved_lookup = trial_module.get_trainable_cls
    trial_module.get_trainable_cls = functools.lru_cache(maxsize=None)(saved_lookup)

    def factory(resource_manager=None) -> SimulatedActorManager:
        manager = SimulatedActorManager(resource_manager)
        run.managers.append(manager)
        return manager

    saved_cls, saved_hash = tune_controller.RayActorManager, Trial.__dict__.get("__hash__")
    saved_chdir = os.environ.get("RAY_CHDIR_TO_TRIAL_DIR")
    tune_controller.RayActorManager = factory
    Trial.__hash__ = _ordinal_hash(itertools.count())
    os.environ["RAY_CHDIR_TO_TRIAL_DIR"] = "0"  # in-process trainables must not move the driver's cwd
    try:
        yield run
    finally:
        trial_module.get_trainable_cls = saved_lookup
        tune_controller.RayActorManager = saved_cls
        if saved_hash is None:
            del Trial.__hash__
        else:
            Trial.__hash__ = saved_hash
        if saved_chdir is None:
            os.environ.pop("RAY_CHDIR_TO_TRIAL_DIR", None)
        else:
            os.environ["RAY_CHDIR_TO_TRIAL_DIR"] = saved_chdir


class SimulatedTimeBudget(Stopper):
    """A Tune stopper that ends the whole replay once a result arrives at or after ``cap_s`` simulated seconds."""

    def __init__(self, cap_s: float) -> None:
        self.cap_s, self.reached = cap_s, False

    def __call__(self, trial_id, result) -> bool:
        self.reached = self.reached or result.get(SIM_TIME_KEY, 0.0) >= self.cap_s
        return False

    def stop_all(self) -> bool:
        return self.reached
