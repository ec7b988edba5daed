"""Decoded data sets as one compact tensor file each, built once and loaded by every later trial.

A file is keyed by the data set's name, its decoding settings (image size) and a fingerprint of
its source files (names, sizes, modification times), so a changed source is decoded again. Splits
by seed are cut from the cached tensors on load: cheap, deterministic, and one file serves every seed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

from harness.core.store import atomic_file

from datasets._files import DataCorrupt, cache_dir


def fingerprint(paths: list[Path]) -> str:
    h = hashlib.sha1()
    for p in sorted(paths):
        st = p.stat()
        h.update(f"{p}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def cached(name: str, key: dict, build: Callable[[], dict], required: tuple[str, ...] = ("x", "y")) -> dict:
    """The tensors ``build()`` returns, from ``<cache>/<name>-<hash of key>.pt`` when it exists."""
    import torch

    digest = hashlib.sha1(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]
    path = cache_dir() / f"{name}-{digest}.pt"
    if path.exists():
        try:
            data = torch.load(path, weights_only=True)
        except Exception as exc:
            raise DataCorrupt(f"{path}: unreadable cache file ({type(exc).__name__}: {exc}); delete it to rebuild") from None
        missing = [k for k in required if k not in data]
        if missing or len(data["x"]) != len(data["y"]):
            raise DataCorrupt(f"{path}: cache file lacks {missing or 'matching x/y lengths'}; delete it to rebuild")
        return data
    data = build()
    with atomic_file(path, overwrite=True) as fh:  # readers see the whole file or none
        torch.save(data, fh)
    return data
