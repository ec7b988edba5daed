"""Where data sets live on disk, what happens when they are missing, and the errors that say so."""

from __future__ import annotations

import os
from pathlib import Path

from harness.core.errors import DataCorrupt, DataMissing

__all__ = ["DataCorrupt", "DataMissing", "cache_dir", "cifar_dir", "downloads_allowed", "mads_dir", "mads_download"]

MADS_ENV = "MADS_DATASETS_DIR"  # mads-datasets' datadir: <dir>/<name>/...
CIFAR_ENV = "CIFAR10_DIR"  # torchvision's root: <dir>/cifar-10-batches-py/
CACHE_ENV = "TUNING_BENCH_CACHE"  # decoded tensor files
OFFLINE_ENV = "TUNING_BENCH_OFFLINE"  # "1": never try to download (the tests set it)


def mads_dir() -> Path:
    return Path(os.environ.get(MADS_ENV) or Path.home() / ".cache" / "mads_datasets").expanduser()


def cifar_dir() -> Path:
    return Path(os.environ.get(CIFAR_ENV) or Path.home() / ".cache" / "cifar10").expanduser()


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "tuning-bench").expanduser()


def downloads_allowed() -> bool:
    return os.environ.get(OFFLINE_ENV, "") not in {"1", "true", "yes"}


def mads_download(dataset_type: str, datadir: Path, expected: Path, hint: str) -> None:
    """Fetch a mads-datasets data set into ``datadir`` unless ``expected`` exists; DataMissing on failure.

    mads-datasets skips a download whenever the data set's folder exists, so a failed attempt's
    folder is removed again rather than left to block the next one.
    """
    if expected.exists():
        return
    if not downloads_allowed():
        raise DataMissing(f"{expected} not found (downloads are off: {OFFLINE_ENV}=1). {hint}")
    import shutil

    from mads_datasets import DatasetFactoryProvider, DatasetType

    folder_existed = (datadir / expected.relative_to(datadir).parts[0]).exists()
    try:
        factory = DatasetFactoryProvider.create_factory(getattr(DatasetType, dataset_type), datadir=datadir)
        factory.download_data()
    except Exception as exc:  # any network or archive failure means: not available here
        if not folder_existed:
            shutil.rmtree(datadir / expected.relative_to(datadir).parts[0], ignore_errors=True)
        raise DataMissing(f"{expected} not found and the download failed ({type(exc).__name__}: {exc}). {hint}") from None
    if not expected.exists():
        raise DataMissing(f"{expected} not found after downloading. {hint}")
