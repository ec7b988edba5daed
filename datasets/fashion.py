"""Fashion-MNIST through mads-datasets: ``<MADS_DATASETS_DIR>/fashionmnist/fashionmnist.pt``.

The file is a dict of uint8 ``traindata`` (N, 28, 28), int ``trainlabels``, ``testdata`` and
``testlabels``. Its test split stays the test split; the training part is split train/valid by seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.run.live.data import DataSplits

from datasets._cache import cached, fingerprint
from datasets._common import split
from datasets._files import MADS_ENV, DataCorrupt, mads_dir, mads_download

N_CLASSES = 10
KEYS = ("traindata", "trainlabels", "testdata", "testlabels")


@dataclass(frozen=True)
class Fashion:
    """Loader: ``Fashion()(seed)`` returns DataSplits of uint8 images (N, 1, 28, 28)."""

    root: Path = field(default_factory=mads_dir)  # pinned when the benchmark is defined
    valid_frac: float = 0.1

    @property
    def file(self) -> Path:
        return Path(self.root) / "fashionmnist" / "fashionmnist.pt"

    def ensure_available(self) -> None:
        hint = f"Put fashionmnist.pt at {self.file}, or set {MADS_ENV} to the folder that holds fashionmnist/."
        mads_download("FASHION", Path(self.root), self.file, hint)

    def __call__(self, seed: int) -> DataSplits:
        self.ensure_available()
        data = cached("fashion", {"source": str(self.file), "files": fingerprint([self.file])}, self._decode)
        return split(data, seed, N_CLASSES, self.valid_frac, 0.0)

    def _decode(self) -> dict:
        import torch

        try:
            raw = torch.load(self.file, weights_only=True)
        except Exception as exc:
            raise DataCorrupt(f"{self.file}: not a readable Fashion-MNIST tensor file ({type(exc).__name__}: {exc})") from None
        if not isinstance(raw, dict) or any(k not in raw for k in KEYS):
            found = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
            raise DataCorrupt(f"{self.file}: expected a dict with {list(KEYS)}, found {found}")
        out = {}
        for part, (xk, yk) in {"": ("traindata", "trainlabels"), "_test": ("testdata", "testlabels")}.items():
            x, y = raw[xk], raw[yk]
            if x.ndim != 3 or tuple(x.shape[1:]) != (28, 28) or len(x) != len(y) or len(x) == 0:
                raise DataCorrupt(f"{self.file}: {xk} must be (N, 28, 28) with N labels, got {tuple(x.shape)} and {len(y)}")
            y = y.long()
            if int(y.min()) < 0 or int(y.max()) >= N_CLASSES:
                raise DataCorrupt(f"{self.file}: {yk} outside 0..{N_CLASSES - 1}")
            if x.dtype != torch.uint8:
                x = (x.float() * (255.0 if float(x.max()) <= 1.0 else 1.0)).round().clamp(0, 255).to(torch.uint8)
            out["x" + part], out["y" + part] = x.unsqueeze(1).contiguous(), y
        return out
