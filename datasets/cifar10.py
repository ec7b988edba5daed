"""CIFAR-10 through torchvision: ``<CIFAR10_DIR>/cifar-10-batches-py/`` (python pickle batches).

torchvision reads the batches. Its md5 check only accepts the published files, so a local copy
(or a test's small one) is checked for presence and shape instead; a download, when the files are
absent, goes through torchvision and its checksums.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.run.live.data import DataSplits

from datasets._cache import cached, fingerprint
from datasets._common import split
from datasets._files import CIFAR_ENV, DataCorrupt, DataMissing, cifar_dir, downloads_allowed

N_CLASSES = 10
BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


@dataclass(frozen=True)
class Cifar10:
    root: Path = field(default_factory=cifar_dir)
    valid_frac: float = 0.1

    @property
    def folder(self) -> Path:
        return Path(self.root) / "cifar-10-batches-py"

    def ensure_available(self) -> None:
        missing = [b for b in BATCHES if not (self.folder / b).exists()]
        if not missing:
            return
        hint = f"Put the python batches ({', '.join(BATCHES)}) in {self.folder}, or set {CIFAR_ENV} to the folder that holds cifar-10-batches-py/."
        if not downloads_allowed():
            raise DataMissing(f"{self.folder / missing[0]} not found (downloads are off). {hint}")
        try:
            from torchvision.datasets import CIFAR10

            CIFAR10(str(self.root), train=True, download=True)
        except Exception as exc:
            raise DataMissing(f"{self.folder / missing[0]} not found and the download failed ({type(exc).__name__}: {exc}). {hint}") from None

    def __call__(self, seed: int) -> DataSplits:
        self.ensure_available()
        files = [self.folder / b for b in BATCHES]
        data = cached("cifar10", {"source": str(self.folder), "files": fingerprint(files)}, self._decode)
        return split(data, seed, N_CLASSES, self.valid_frac, 0.0, augment=True)

    def _decode(self) -> dict:
        import torch

        out = {}
        for train, part in ((True, ""), (False, "_test")):
            ds = _read(self.root, train, self.folder)
            x = torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous()
            y = torch.tensor(ds.targets, dtype=torch.int64)
            if tuple(x.shape[1:]) != (3, 32, 32) or len(x) != len(y) or len(x) == 0:
                raise DataCorrupt(f"{self.folder}: batches must hold (N, 32, 32, 3) images with N labels, got {tuple(ds.data.shape)}")
            if int(y.min()) < 0 or int(y.max()) >= N_CLASSES:
                raise DataCorrupt(f"{self.folder}: labels outside 0..{N_CLASSES - 1}")
            out["x" + part], out["y" + part] = x, y
        return out


def _read(root: Path, train: bool, folder: Path):
    from torchvision.datasets import CIFAR10

    class LocalCIFAR10(CIFAR10):
        def _check_integrity(self) -> bool:  # presence, not the published md5 (see module docstring)
            return all((folder / b).exists() for b in BATCHES)

        def _load_meta(self) -> None:  # class names are not needed, and a copy may lack batches.meta
            self.classes = [str(i) for i in range(N_CLASSES)]

    try:
        return LocalCIFAR10(str(root), train=train, download=False)
    except Exception as exc:
        names = BATCHES[:5] if train else BATCHES[5:]
        raise DataCorrupt(f"{folder}: cannot read {', '.join(names)} as CIFAR-10 python batches ({type(exc).__name__}: {exc})") from None
