"""Where a result came from: commit, dirty flag, package versions, device, host."""

from __future__ import annotations

import functools
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the checkout: harness/core/provenance.py -> the repo root
PACKAGES = (
    "torch", "torchvision", "ray", "hyperopt", "optuna", "bayesian-optimization", "hpbandster",
    "ConfigSpace", "scipy", "numpy", "scikit-learn", "mads-datasets", "pytest", "pytest-benchmark",
)


def _git(*args: str, where: Path = ROOT) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=1)
def _static() -> dict:
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "git_commit": _git("rev-parse", "HEAD"),  # the tool's checkout
        "git_dirty": None if status is None else bool(status),
        **_your_repository(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "host": platform.node(),
        "cpu_count": os.cpu_count(),
        "versions": {p: _version(p) for p in PACKAGES},
    }


def _your_repository() -> dict:
    """The folder the session ran from (your repository, with your benchmarks and problem code) when it is not the
    tool's checkout: its path, and its git commit and dirty flag when it is a git repository (None otherwise)."""
    here = Path.cwd().resolve()
    if here == ROOT or here.is_relative_to(ROOT):
        return {}
    status = _git("status", "--porcelain", "--untracked-files=no", where=here)
    return {"your_repo": str(here), "your_repo_commit": _git("rev-parse", "HEAD", where=here),
            "your_repo_dirty": None if status is None else bool(status)}


def device_description() -> str:
    """The accelerator a trial would use here: the GPU's name, or 'cpu' and its model."""
    import torch

    if torch.cuda.is_available():
        return f"cuda: {torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}"
    return f"cpu: {platform.processor() or platform.machine()}"


def collect(**extra) -> dict:
    """Provenance for one run; ``extra`` (seed, budget, ray address...) is merged in."""
    return {**_static(), "device": device_description(), **extra}
