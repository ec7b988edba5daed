"""Results on disk: one JSON file per run, written atomically and never overwritten.

Layout: ``<root>/<benchmark>/runs/<strategy>/seed<seed>-<UTC stamp>-<run id>.json``, plus the
derived tables next to ``runs/``. A write goes to a temporary file in the same folder and is then
hard-linked into place, which fails rather than replace an existing run; an interrupted session
leaves at most a ``.tmp`` file, which readers skip.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator

from harness.core.records import RunRecord


def write_atomic(path: Path, text: str, *, overwrite: bool) -> Path:
    """Write ``text`` to ``path`` so that readers see the old file or the whole new one, never a part."""
    with atomic_file(path, overwrite=overwrite) as fh:
        fh.write(text.encode("utf-8"))
    return path


@contextlib.contextmanager
def atomic_file(path: Path, *, overwrite: bool) -> Iterator[BinaryIO]:
    """A binary file handle whose content appears at ``path`` whole, when the block ends without error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # raises FileExistsError instead of replacing a finished run
            os.unlink(tmp)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class ResultStore:
    """Run records and tables under one results folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def run_path(self, record: RunRecord) -> Path:
        stamp = record.started_at.replace(":", "").replace("-", "").split(".")[0]
        name = f"seed{record.seed}-{stamp}-{record.run_id[:8]}.json"
        return self.root / record.benchmark / "runs" / record.strategy / name

    def save(self, record: RunRecord) -> Path:
        text = json.dumps(record.to_dict(), indent=1, sort_keys=True, allow_nan=False)
        return write_atomic(self.run_path(record), text, overwrite=False)

    def load(self, path: str | Path) -> RunRecord:
        """One stored run, by its file."""
        path = Path(path)
        try:
            return RunRecord.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a readable run record ({exc})") from exc

    def load_runs(self, benchmark: str | None = None) -> list[RunRecord]:
        """Every finished run (of ``benchmark``, or of all), oldest first; unreadable files are errors."""
        pattern = f"{benchmark or '*'}/runs/*/*.json"
        records = [self.load(path) for path in sorted(self.root.glob(pattern))]
        return sorted(records, key=lambda r: r.started_at)
