"""A local Ray listens on loopback only, even when Ray was imported before the harness."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = textwrap.dedent(
    """
    import os, socket, struct
    import ray                      # imported first, on purpose: the harness must still keep Ray on loopback
    from ray import tune            # noqa: F401
    from harness.run.ray_session import ensure_ray, shutdown

    def descendants(root):
        parent = {}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                parent[int(pid)] = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
        found, frontier = set(), {root}
        while frontier:
            frontier = {p for p, pp in parent.items() if pp in frontier} - found
            found |= frontier
        return found | {root}

    def listening(pids):
        inodes = set()
        for pid in pids:
            try:
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
            except OSError:
                pass
        out = []
        for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
            for line in open(f"/proc/net/{table}").read().splitlines()[1:]:
                f = line.split()
                if f[3] == "0A" and f[9] in inodes:  # LISTEN
                    raw = bytes.fromhex(f[1].split(":")[0])
                    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                    out.append(socket.inet_ntop(family, words))
        return out

    ensure_ray()
    assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}, ray.nodes()
    addresses = listening(descendants(os.getpid()))
    shutdown()
    assert addresses, "found no listening sockets at all"
    outside = [a for a in addresses if a not in ("127.0.0.1", "::1", "::ffff:127.0.0.1")]
    assert not outside, f"Ray listens beyond loopback: {outside}"
    print("LOOPBACK-ONLY", len(addresses))
    """
)


def test_local_ray_listens_on_loopback_only():
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "LOOPBACK-ONLY" in result.stdout
