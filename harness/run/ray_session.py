"""Starting Ray: a local instance on loopback with no dashboard, or an existing cluster (``ray start``)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
from typing import Callable
from pathlib import Path

from harness.core.errors import ClusterLost, ConfigError
from harness.core.provenance import ROOT

# Set before Ray is imported: loopback-only clusters, no usage reporting, no per-trial logger files.
_ENV = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_USAGE_STATS_ENABLED": "0",
    "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1",
    "RAY_AIR_NEW_OUTPUT": "0",
    "RAY_DEDUP_LOGS": "0",
}
# Ray Tune catches the first SIGINT itself, ends the experiment and returns as if it had finished,
# so the harness would store a cut-short run as finished. Without its handler, Ctrl-C raises
# KeyboardInterrupt out of Tuner.fit: the run in flight is discarded and pytest ends the session
# as interrupted (exit 2). Forced, not a default: the harness relies on it.
_FORCED_ENV = {"TUNE_DISABLE_SIGINT_HANDLER": "1"}


# A custom resource of which the cluster has exactly one: a trial asks for 1/max_concurrent_trials
# of it, so at most that many trials train at once whatever the CPUs, and for every strategy alike
# (Ray's own max_concurrent_trials reaches only Searchers, and would starve Hyperband's brackets).
SLOT = "tuning_slot"
XDIST_WORKER_ENV, XDIST_COUNT_ENV = "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT"  # set by pytest-xdist


def slot_name(address: str | None) -> str:
    """The slot resource this process's cases share.

    A local Ray belongs to one process, so its one ``tuning_slot`` is that process's. On a cluster,
    each pytest-xdist worker runs its cases in its own slot, ``tuning_slot_<worker>`` (``gw0``,
    ``gw1``...), so that concurrent cases each keep their own cap and none waits for another's.
    """
    worker = os.environ.get(XDIST_WORKER_ENV)
    return f"{SLOT}_{worker}" if address and worker else SLOT


def local_cpus() -> int | None:
    """CPUs for a local Ray: all of them, or an equal share when pytest-xdist runs several workers here."""
    workers = int(os.environ.get(XDIST_COUNT_ENV) or 1)
    return None if workers <= 1 else max(1, (os.cpu_count() or 1) // workers)


def worker_pythonpath() -> str:
    """The PYTHONPATH a local Ray's workers get: the harness's checkout, then the driver's own PYTHONPATH.

    Workers import the problem's loaders and models by module name (harness.session checks, before training,
    that they can)."""
    parts = [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return os.pathsep.join(dict.fromkeys(parts))


def prepare_environment() -> None:
    """Set Ray's environment before Ray is imported (harness/__init__ calls this on import)."""
    for key, value in _ENV.items():
        os.environ.setdefault(key, value)
    os.environ.update(_FORCED_ENV)
    os.environ["PYTHONPATH"] = worker_pythonpath()


def ensure_ray(address: str | None = None) -> str:
    """Connect to ``address`` (an existing cluster) or start a local Ray on 127.0.0.1; returns the address used."""
    prepare_environment()
    import ray

    if ray.is_initialized():
        return ray.get_runtime_context().gcs_address
    if address:
        _use_the_clusters_token()
        ray.init(address=address, runtime_env=cluster_runtime_env(), log_to_driver=False)
        slot = slot_name(address)
        if ray.cluster_resources().get(slot) != 1:
            found = ray.cluster_resources().get(slot)
            ray.shutdown()
            workers = int(os.environ.get(XDIST_COUNT_ENV) or 0)
            slots = json.dumps({s: 1 for s in [SLOT] + [f"{SLOT}_gw{i}" for i in range(workers)]})
            raise ConfigError(
                f"the Ray cluster at {address} offers {slot}={found}; start its head with "
                f"ray start --head --resources='{slots}' so that each process's trial concurrency can be "
                f"capped (one slot per pytest-xdist worker)"
            )
    else:
        from ray._private import ray_constants

        # Ray reads RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER when it is imported; when something imported
        # Ray before the harness could set it, its services would listen on every interface.
        ray_constants.ENABLE_RAY_CLUSTER = False
        ray.init(
            address="local",  # a new instance, never one already running on this machine
            _node_ip_address="127.0.0.1",
            include_dashboard=False,
            num_cpus=local_cpus(),  # pytest-xdist workers split the machine instead of oversubscribing it
            resources={SLOT: 1},
            log_to_driver=False,
            configure_logging=True,
            logging_level="ERROR",
        )
        outside = [n["NodeManagerAddress"] for n in ray.nodes() if n["NodeManagerAddress"] != "127.0.0.1"]
        if outside:
            ray.shutdown()
            raise RuntimeError(f"the local Ray instance is not on loopback: nodes at {outside}")
    return ray.get_runtime_context().gcs_address


SHIPPED = ("harness", "strategies", "datasets")  # what a cluster's nodes import of this tool
NOT_SHIPPED = [".git", ".venv", "venv", "results", ".benchmarks", "__pycache__", "*.egg-info", "build"]


def cluster_runtime_env(cwd: Path | None = None) -> dict:
    """What a cluster's nodes receive, since they share neither this machine's files nor its path.

    The driver's working folder (your repository: your benchmarks and the package your problem's functions live in)
    goes as the job's ``working_dir``, which Ray's workers start in and import from; the tool's own packages go as
    ``py_modules`` when they do not already lie inside it (the tool installed from elsewhere, or run from your repo).
    """
    cwd = (cwd or Path.cwd()).resolve()
    if ROOT.resolve() == cwd:  # run from the tool's own checkout: the working_dir holds it all
        return {"working_dir": str(cwd), "excludes": NOT_SHIPPED}
    # Only the tool's own packages: an installed tool's folder (site-packages) may hold another `datasets`
    # (Hugging Face's), which must not travel as ours.
    own = {"harness": "fronts", "strategies": "_base.py", "datasets": "_files.py"}
    modules = [str(ROOT / m) for m in SHIPPED if (ROOT / m / own[m]).exists()]
    return {"working_dir": str(cwd), "excludes": NOT_SHIPPED, **({"py_modules": modules} if modules else {})}


def _use_the_clusters_token() -> None:
    """Token authentication, as Ray documents it for clients.

    ``ray start`` (2.60) turns token authentication on and writes the token to ``~/.ray/auth_token``;
    a client must then run with ``RAY_AUTH_MODE=token`` and the token (that file,
    ``RAY_AUTH_TOKEN_PATH`` or ``RAY_AUTH_TOKEN``). When ``RAY_AUTH_MODE`` is unset and a token is
    at hand, turn token mode on for this process, as Ray's own ``ray start`` does; an explicit
    ``RAY_AUTH_MODE`` is left as it is.
    """
    from ray._private.authentication.authentication_token_setup import maybe_enable_token_auth_if_token_available

    maybe_enable_token_auth_if_token_available(warn_if_disabled=False)


# A run on a cluster probes its head every HEAD_PROBE_S; HEAD_MISSES unanswered probes in a row end it. Ray itself
# would wait for the head for a minute (gcs_rpc_server_reconnect_timeout_s) and then abort the driver. A driver stuck
# in a call into Ray that waits for the head (Tune removing a placement group, say: measured here) gets HEAD_GRACE_S to
# come out of it, then the process exits.
HEAD_PROBE_S, HEAD_PROBE_TIMEOUT_S, HEAD_MISSES, HEAD_GRACE_S = 1.0, 1.0, 3, 5.0
HEAD_LOST_EXIT = 2  # the exit status when the head is lost: the session was interrupted, --resume completes it


def head_answers(address: str, timeout_s: float = HEAD_PROBE_TIMEOUT_S) -> bool:
    """Whether something accepts a connection at the cluster head's HOST:PORT."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s):
            return True
    except (OSError, ValueError):
        return False


class _HeadGone(KeyboardInterrupt):
    """Raised in the driver's main thread when the head stopped answering: a BaseException, so that Ray Tune's
    loop, which catches Exceptions, lets it out of Tuner.fit at once."""


def lost_line(address: str) -> str:
    return (f"--ray-address {address}: the Ray cluster's head stopped answering during a run; the run in flight "
            f"is not stored, the finished ones are: restart the head and run again with --resume")


@contextlib.contextmanager
def watch_cluster(address: str | None, say: Callable[[str], None] | None = None):
    """During a run on a cluster, end it with :class:`ClusterLost` as soon as the head stops answering.

    A thread probes the head's port; after HEAD_MISSES failed probes in a row it raises ``_HeadGone`` in the main
    thread (``_thread.interrupt_main`` with a signal number of its own: no signal is sent), and any error that
    comes out of the run while the head does not answer is reported the same way. A main thread that does not
    come out of the run within HEAD_GRACE_S is stuck in a call into Ray that waits for the head: the line is
    written with ``say`` (past pytest's capture) or to stderr, and the process exits with HEAD_LOST_EXIT, as Ray
    would abort it a minute later. Finished runs are stored already. Nothing happens on a local Ray.
    """
    if not address:
        yield
        return
    import signal

    lost, done, lock = threading.Event(), threading.Event(), threading.Lock()
    main = threading.current_thread() is threading.main_thread()
    signum = signal.SIGUSR2

    def gone(_signum, _frame):
        if lost.is_set() and not done.is_set():
            raise _HeadGone(lost_line(address))

    previous = signal.signal(signum, gone) if main else None
    watcher = threading.Thread(target=_watch_head, args=(address, done, lost, lock, signum if main else None, say),
                               name="tuning-cluster-watch", daemon=True)
    watcher.start()
    try:
        yield
    except BaseException as exc:
        if isinstance(exc, _HeadGone) or lost.is_set() or (isinstance(exc, Exception) and not head_answers(address)):
            global _head_lost
            _head_lost = address
            raise ClusterLost(lost_line(address)) from None
        raise
    finally:
        with lock:
            done.set()
        if main:
            signal.signal(signum, previous)


def _watch_head(address: str, done, lost, lock, signum: int | None, say) -> None:
    """The watch thread of :func:`watch_cluster`: probe the head each HEAD_PROBE_S; after HEAD_MISSES misses, interrupt
    the main thread (``signum``; None when the run is not on the main thread), and exit the process when the main
    thread has not come out of the run within HEAD_GRACE_S."""
    import _thread
    import sys

    misses = 0
    while not done.wait(HEAD_PROBE_S):
        misses = 0 if head_answers(address) else misses + 1
        if misses < HEAD_MISSES:
            continue
        with lock:
            if done.is_set():
                return
            lost.set()
            if signum is not None:
                _thread.interrupt_main(signum)
        if not done.wait(HEAD_GRACE_S):
            try:
                (say or (lambda line: print(line, file=sys.__stderr__, flush=True)))(lost_line(address))
            finally:
                os._exit(HEAD_LOST_EXIT)
        return


def cluster_gpus() -> float:
    """GPUs the connected Ray cluster offers (0 when none)."""
    import ray

    return float(ray.cluster_resources().get("GPU", 0))


_head_lost: str | None = None  # the address of a head this process lost (watch_cluster)


def shutdown() -> None:
    """Disconnect from Ray at the end of a session; after a lost head, end the process instead.

    With the head gone, ``ray.shutdown`` and then Ray's own exit hooks wait for it until Ray gives up a minute
    later (measured here: 60 s either way): the session has said its line and written what it could, so the
    process exits at once with HEAD_LOST_EXIT.
    """
    import sys

    if _head_lost is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(HEAD_LOST_EXIT)
    import ray

    if ray.is_initialized():
        ray.shutdown()
