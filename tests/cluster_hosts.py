"""Test hosts for real Ray clusters: network namespaces joined by a veth pair, and Ray nodes started in them.

Ray 2.60 puts the nodes of a multi-node cluster on a routable address, never 127.0.0.1. Two network
namespaces that a test makes itself (``ip netns add``, a veth pair between them, root only) are two hosts
with addresses of their own, 198.51.100.1 and .2 (TEST-NET-2: routed nowhere); nothing in them reaches
anything but loopback and each other. Every process is started in a session of its own and stopped by its
process group id; whatever is left in a namespace is killed by pid (``ip netns pids``) and the namespaces
are deleted by name, also when the test fails. Each cluster keeps Ray's files (sessions, sockets, logs,
``ray_current_cluster``) in a temporary folder of its own (``ray start --temp-dir``), removed at the end,
so that no later ``ray.init()`` on this machine finds the test's cluster.

Not a ``test_*`` module: nothing here is collected, and a Ray worker never imports it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

RAY = Path(sys.executable).parent / "ray"
NET = "198.51.100"  # TEST-NET-2 (RFC 5737): documentation only, routed nowhere


def wait_for(check, timeout_s: float, what: str, every_s: float = 0.5):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(every_s)
    raise AssertionError(f"timed out waiting for {what}")


def answers(host: str, port: int, netns: str | None = None) -> bool:
    """Whether something accepts a connection at host:port (from inside ``netns`` when given)."""
    if netns is None:
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            return False
    code = f"import socket; socket.create_connection(({host!r}, {port}), timeout=1)"
    return subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-c", code], capture_output=True,
                          timeout=30).returncode == 0


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _why_no_netns() -> str | None:
    """None when this machine lets a test make network namespaces, else what is missing."""
    if shutil.which("ip") is None:
        return "iproute2's `ip` command is not installed"
    if os.geteuid() != 0:
        return "network namespaces need root (`ip netns add`), and this test runs as uid %d" % os.geteuid()
    name = f"tbprobe{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if made.returncode != 0:
        return f"`ip netns add` failed here: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    veth = subprocess.run(["ip", "link", "add", f"tbp{os.getpid()}a", "type", "veth", "peer", "name",
                           f"tbp{os.getpid()}b"], capture_output=True, text=True)
    if veth.returncode != 0:
        return f"`ip link add ... type veth` failed here (no veth support?): {veth.stderr.strip()}"
    subprocess.run(["ip", "link", "del", f"tbp{os.getpid()}a"], capture_output=True)
    return None


class TestHosts:
    """Two network namespaces, ``<tag>a`` (198.51.100.1) and ``<tag>b`` (198.51.100.2), joined by a veth pair."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        why = _why_no_netns()
        if why:
            pytest.skip(f"two test hosts need network namespaces: {why}")
        self.tag = f"tb{os.getpid() % 100000}{secrets.token_hex(1)}"
        self.names = [f"{self.tag}a", f"{self.tag}b"]
        self.ips = [f"{NET}.1", f"{NET}.2"]
        self._made: list[str] = []

    def up(self) -> "TestHosts":
        a, b = self.names
        va, vb = f"{self.tag}va", f"{self.tag}vb"  # at most 15 characters
        for name in self.names:
            self._ip("netns", "add", name)
            self._made.append(name)
        self._ip("link", "add", va, "type", "veth", "peer", "name", vb)
        self._ip("link", "set", va, "netns", a)
        self._ip("link", "set", vb, "netns", b)
        for name, dev, ip in ((a, va, self.ips[0]), (b, vb, self.ips[1])):
            self._ip("-n", name, "addr", "add", f"{ip}/24", "dev", dev)
            self._ip("-n", name, "link", "set", "lo", "up")
            self._ip("-n", name, "link", "set", dev, "up")
        return self

    @staticmethod
    def _ip(*args: str) -> None:
        out = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise RuntimeError(f"ip {' '.join(args)}: {out.stderr.strip()}")

    def prefix(self, host: int) -> list[str]:
        """The argv prefix that runs a command on test host ``host`` (0 or 1)."""
        return ["ip", "netns", "exec", self.names[host]]

    def pids(self, host: int) -> list[int]:
        out = subprocess.run(["ip", "netns", "pids", self.names[host]], capture_output=True, text=True, timeout=30)
        return [int(p) for p in out.stdout.split()]

    def kill_all(self, host: int) -> list[int]:
        """SIGKILL every process in test host ``host``, by pid: the host is lost. Returns the pids killed."""
        killed = []
        for _ in range(5):  # a dying raylet may still fork; kill until nothing is left
            pids = self.pids(host)
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                except ProcessLookupError:
                    pass
            time.sleep(0.2)
        return killed

    def down(self) -> None:
        """Kill whatever is left in the namespaces (by pid), then delete them by name (the veth pair goes with them)."""
        for host, name in enumerate(self.names):
            if name in self._made:
                self.kill_all(host)
        for name in self._made:
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)
        self._made.clear()

    def exist(self) -> list[str]:
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=30).stdout.split()
        return [n for n in self.names if n in listed]


class RayCluster:
    """Ray nodes started with ``ray start --block``, each in a process group of its own, with token authentication.

    ``hosts``: None for one loopback node (127.0.0.1); a :class:`TestHosts` for nodes on its test hosts, the head
    on host 0. The token is the cluster's own (``RAY_AUTH_TOKEN_PATH``); ``env`` is what a client needs.
    """

    def __init__(self, tmp_path: Path, hosts: TestHosts | None = None, *, token_mode: str = "explicit") -> None:
        if not RAY.exists():
            pytest.skip(f"no `ray` command beside {sys.executable}: the cluster tests start nodes with it")
        self.hosts = hosts
        self.port = free_port()
        self.head_ip = hosts.ips[0] if hosts else "127.0.0.1"
        self.address = f"{self.head_ip}:{self.port}"
        # Ray's files in a folder of the cluster's own; short, since socket paths are limited to 107 characters.
        self.temp_dir = Path(tempfile.mkdtemp(prefix="tbray-", dir="/tmp"))
        self.logs = tmp_path / "ray-logs"
        self.logs.mkdir(exist_ok=True)
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_USAGE_STATS_ENABLED": "0", "TUNING_BENCH_OFFLINE": "1",
                    # one loopback node keeps to 127.0.0.1; nodes on test hosts are a multi-node cluster
                    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "1" if hosts else "0"}
        # cluster_models.slow_mlp holds a trial on a node while a file named by its IP is here (the nodes inherit it)
        self.holds = tmp_path / "holds"
        self.holds.mkdir(exist_ok=True)
        self.env["CLUSTER_TEST_HOLDS"] = str(self.holds)
        if token_mode == "explicit":  # the cluster's own token, for every node and client
            token = self.temp_dir / "auth_token"
            token.write_text(secrets.token_hex(16))
            self.env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token))
        else:  # as a user would: ray start turns token authentication on when ~/.ray/auth_token is at hand
            for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
                self.env.pop(name, None)
            # A home of its own, with the token Ray's own advice makes (`ray get-auth-token --generate`): on a fresh
            # machine ~/.ray/auth_token exists only once some local ray.init() has written it, so whether ray start
            # turned authentication on depended on which test ran first (CI once ran this one first).
            home = tmp_path / "home"
            home.mkdir(exist_ok=True)
            self.env["HOME"] = str(home)
            made = subprocess.run([str(RAY), "get-auth-token", "--generate"], env=self.env, cwd="/",
                                  capture_output=True, text=True, timeout=120)
            assert made.returncode == 0 and (home / ".ray" / "auth_token").exists(), made.stderr[-2000:]
        self.nodes: dict[str, subprocess.Popen] = {}
        self._all: list[subprocess.Popen] = []

    def _start(self, name: str, host: int | None, *args: str, cpus: int = 1) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "a")
        ip = self.hosts.ips[host] if self.hosts else "127.0.0.1"
        prefix = self.hosts.prefix(host) if self.hosts else []
        env = self.env if name == "head" else {**self.env, "RAY_AUTH_MODE": "token"}  # a joining node needs it
        # A node does not have the checkout on its path, as on another machine: trials import what the session
        # ships to the cluster (the checkout, as the job's working directory).
        env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
        proc = subprocess.Popen([*prefix, str(RAY), "start", "--block", "--node-ip-address", ip, "--num-cpus", str(cpus),
                                 "--object-store-memory", str(100 * 1024 * 1024), "--disable-usage-stats", *args],
                                env=env, cwd="/", stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.nodes[name] = proc
        self._all.append(proc)
        return proc

    def start_head(self, slots: tuple[str, ...] = ("tuning_slot",), cpus: int = 1) -> None:
        self._start("head", 0, "--head", "--port", str(self.port), "--resources", json.dumps({s: 1 for s in slots}),
                    "--include-dashboard", "false", "--temp-dir", str(self.temp_dir), cpus=cpus)
        netns = self.hosts.names[0] if self.hosts else None
        wait_for(lambda: answers(self.head_ip, self.port, netns), 90, f"the head at {self.address}")

    def start_worker(self, cpus: int = 1) -> None:
        self._start("worker", 1, "--address", self.address, cpus=cpus)

    def client(self, code: str, host: int = 0, timeout_s: float = 120) -> subprocess.CompletedProcess:
        prefix = self.hosts.prefix(host) if self.hosts else []
        return subprocess.run([*prefix, sys.executable, "-c", code], env=self.env, capture_output=True, text=True,
                              timeout=timeout_s, cwd="/")

    def live_nodes(self) -> list[str]:
        code = (f"import json, ray; ray.init(address={self.address!r}, log_to_driver=False); "
                f"print(json.dumps([n['NodeManagerAddress'] for n in ray.nodes() if n['Alive']]))")
        out = self.client(code)
        return json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else []

    def wait_for_nodes(self, n: int, timeout_s: float = 90) -> None:
        wait_for(lambda: len(self.live_nodes()) == n, timeout_s, f"{n} live nodes at {self.address}", every_s=1)

    def kill_node(self, name: str) -> None:
        """The node lost: SIGKILL to its process group (and, on a test host, to every process there)."""
        proc = self.nodes.pop(name)
        if group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
        if self.hosts:
            self.hosts.kill_all(0 if name == "head" else 1)
        proc.wait(timeout=30)

    def stop(self, grace_s: float = 3.0) -> None:
        """Stop every node this cluster started, by its process group id; then remove Ray's files of this cluster.

        ``ray start --block`` stops what it started on SIGINT, but takes over 20 s here: after ``grace_s`` the groups
        get SIGKILL (every node process is in its group; the folder with Ray's files goes anyway).
        """
        for proc in reversed(self._all):
            if group_alive(proc.pid):
                os.killpg(proc.pid, signal.SIGINT)
        deadline = time.monotonic() + grace_s
        for proc in self._all:
            while group_alive(proc.pid) and time.monotonic() < deadline:
                time.sleep(0.5)
            if group_alive(proc.pid):
                os.killpg(proc.pid, signal.SIGKILL)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self.nodes.clear()
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    def leftovers(self) -> list[str]:
        """Processes of this cluster still running anywhere on the machine (found by its temp folder or address)."""
        out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True, timeout=30).stdout
        return [line.strip()[:160] for line in out.splitlines()
                if str(self.temp_dir) in line or f"{self.address}" in line]


def current_cluster_file() -> str | None:
    """Ray's /tmp/ray/ray_current_cluster: a plain ray.init() joins the cluster it names."""
    path = Path("/tmp/ray/ray_current_cluster")
    return path.read_text() if path.exists() else None


def started_cluster(tmp_path, hosts: TestHosts | None = None, *, workers: int = 0, cpus: int = 1,
            slots: tuple[str, ...] = ("tuning_slot",), token_mode: str = "explicit"):
    """A started cluster; afterwards stopped, and checked to have left no process and no Ray file of its own."""
    before = current_cluster_file()
    started = RayCluster(tmp_path, hosts, token_mode=token_mode)
    try:
        started.start_head(slots, cpus=cpus)
        if workers:
            started.start_worker()
            started.wait_for_nodes(1 + workers)
        yield started
    finally:
        started.stop()
    assert started.leftovers() == [], f"processes of the test's cluster left behind: {started.leftovers()}"
    assert not started.temp_dir.exists()
    assert current_cluster_file() == before  # its ray_current_cluster went into its own folder, now removed


def made_hosts():
    """Two test hosts (network namespaces joined by a veth pair); afterwards checked gone, with all they ran."""
    hosts = TestHosts()
    try:
        yield hosts.up()
    finally:
        hosts.down()
    assert hosts.exist() == [], f"namespaces left behind: {hosts.exist()}"


def run_session(cluster: RayCluster, folder: Path, *args: str, host: int = 0, timeout_s: float = 600,
                env: dict | None = None) -> subprocess.CompletedProcess:
    """A pytest session through ``--ray-address`` on test host ``host`` (the head's by default)."""
    prefix = cluster.hosts.prefix(host) if cluster.hosts else []
    return subprocess.run(
        [*prefix, sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--rootdir={folder}", "--results-dir",
         str(folder / "results"), "--ray-address", cluster.address, *args, str(folder)],
        cwd=folder, env=env or cluster.env, capture_output=True, text=True, timeout=timeout_s)


class SessionProcess:
    """A pytest session running in the background (in a process group of its own), its output lines timed as they come.

    ``cluster``: run through its ``--ray-address`` on test host ``host``; None: a session with its own local Ray.
    """

    def __init__(self, folder: Path, *args: str, cluster: RayCluster | None = None, host: int = 0,
                 env: dict | None = None, results: Path | None = None) -> None:
        import threading

        prefix = cluster.hosts.prefix(host) if cluster and cluster.hosts else []
        address = ["--ray-address", cluster.address] if cluster else []
        env = env or (cluster.env if cluster else {**os.environ, "PYTHONPATH": str(ROOT)})
        self.lines: list[tuple[float, str]] = []
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [*prefix, sys.executable, "-u", "-m", "pytest", "-p", "no:cacheprovider", f"--rootdir={folder}",
             "--results-dir", str(results or folder / "results"), *address, *args, str(folder)],
            cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def wait(self, timeout_s: float = 600) -> int:
        try:
            self.proc.wait(timeout=timeout_s)
        finally:
            self.stop()
        self._reader.join(timeout=10)
        return self.proc.returncode

    def stop(self) -> None:
        """Kill what is left of the session's process group (nothing, when it ended by itself)."""
        if group_alive(self.proc.pid):
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def first(self, text: str) -> float | None:
        """When the first line containing ``text`` came (time.monotonic), or None."""
        return next((t for t, line in list(self.lines) if text in line), None)

    @property
    def output(self) -> str:
        return "\n".join(line for _, line in self.lines)


def trial_results(folder: Path) -> list[dict]:
    """Every result Tune's JSON logger has written so far under ``folder``'s live experiments (partial lines skipped)."""
    out = []
    for path in (folder / "results").glob("*/ray/*/*/result.json"):
        for line in path.read_text().splitlines():
            try:
                out.append({**json.loads(line), "experiment": path.parent.parent.name})
            except ValueError:
                pass
    return out


def session_folder(tmp_path: Path, modules: dict[str, str], name: str = "session") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    shutil.copy(ROOT / "conftest.py", folder / "conftest.py")
    for module, text in modules.items():
        (folder / f"{module}.py").write_text(text)
    return folder


def load_records(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((folder / "results").glob("*/runs/*/*.json"))]
