"""Gestures through mads-datasets: ``<MADS_DATASETS_DIR>/gestures/gestures-dataset/**/<class>/*.txt``.

Each txt file is one accelerometer series (rows of numbers; the first three columns are dropped,
as mads-datasets does, leaving x, y, z). The class is the number of the file's folder (1..20).
Series have different lengths: they are **padded** with zeros to the longest, and a fourth channel
holds the mask (1 for a real step, 0 for padding), so models can pool over real steps only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.run.live.data import DataSplits

from datasets._cache import cached, fingerprint
from datasets._common import split
from datasets._files import MADS_ENV, DataCorrupt, DataMissing, mads_dir, mads_download

N_CLASSES = 20


@dataclass(frozen=True)
class Gestures:
    root: Path = field(default_factory=mads_dir)
    valid_frac: float = 0.15
    test_frac: float = 0.15

    @property
    def folder(self) -> Path:
        return Path(self.root) / "gestures" / "gestures-dataset"

    def files(self) -> list[Path]:
        return sorted(p for p in self.folder.rglob("*.txt") if p.parent.name.isdigit())

    def ensure_available(self) -> None:
        hint = f"Put the gesture txt files in numbered class folders under {self.folder}, or set {MADS_ENV}."
        mads_download("GESTURES", Path(self.root), self.folder, hint)
        if not self.files():
            raise DataMissing(f"{self.folder} holds no txt files in numbered class folders. {hint}")

    def __call__(self, seed: int) -> DataSplits:
        self.ensure_available()
        files = self.files()
        data = cached("gestures", {"source": str(self.folder), "files": fingerprint(files)}, lambda: _decode(files))
        return split(data, seed, N_CLASSES, self.valid_frac, self.test_frac)


def _decode(files: list[Path]) -> dict:
    import numpy as np
    import torch

    series, labels = [], []
    for path in files:
        try:
            values = np.loadtxt(path, ndmin=2)
        except Exception as exc:
            raise DataCorrupt(f"{path}: not a numeric series ({type(exc).__name__}: {exc})") from None
        if values.shape[1] < 6 or len(values) == 0:
            raise DataCorrupt(f"{path}: expected rows of at least 6 numbers (3 dropped + x, y, z), got shape {values.shape}")
        label = int(path.parent.name) - 1
        if not 0 <= label < N_CLASSES:
            raise DataCorrupt(f"{path}: class folder {path.parent.name} outside 1..{N_CLASSES}")
        series.append(values[:, 3:6].astype(np.float32))
        labels.append(label)
    longest = max(len(s) for s in series)
    x = np.zeros((len(series), 4, longest), dtype=np.float32)
    for i, s in enumerate(series):
        x[i, :3, : len(s)] = s.T
        x[i, 3, : len(s)] = 1.0
    return {"x": torch.from_numpy(x), "y": torch.tensor(labels, dtype=torch.int64)}
