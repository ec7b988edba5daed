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


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
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
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": None if status is None else bool(status),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "host": platform.node(),
        "cpu_count": os.cpu_count(),
        "versions": {p: _version(p) for p in PACKAGES},
    }


def device_description() -> str:
    """The accelerator a trial would use here: the GPU's name, or 'cpu' and its model."""
    import torch

    if torch.cuda.is_available():
        return f"cuda: {torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}"
    return f"cpu: {platform.processor() or platform.machine()}"


def collect(**extra) -> dict:
    """Provenance for one run; ``extra`` (seed, budget, ray address...) is merged in."""
    return {**_static(), "device": device_description(), **extra}
