"""The comparison table: one row per strategy, mean ± sd over seeds, as text, Markdown and CSV."""

from __future__ import annotations

import csv
import io
import statistics
from dataclasses import dataclass

from harness.records import FAILED, RunRecord

COLUMNS = ("best_val_acc", "wallclock_s", "compute_saved")


@dataclass(frozen=True)
class Row:
    benchmark: str
    strategy: str
    seeds: tuple[int, ...]
    means: dict[str, float | None]
    sds: dict[str, float | None]
    trials_failed: int


def latest_per_seed(records: list[RunRecord]) -> list[RunRecord]:
    """The newest run of each (benchmark, strategy, seed): reruns replace older runs in tables only."""
    newest: dict[tuple, RunRecord] = {}
    for r in sorted(records, key=lambda r: r.started_at):
        newest[(r.benchmark, r.strategy, r.seed)] = r
    return list(newest.values())


def rows(records: list[RunRecord]) -> list[Row]:
    """One row per (benchmark, strategy), ordered by mean best accuracy, best first."""
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for r in latest_per_seed(records):
        groups.setdefault((r.benchmark, r.strategy), []).append(r)
    out = []
    for (benchmark, strategy), runs in groups.items():
        means, sds = {}, {}
        for col in COLUMNS:
            values = [getattr(r, col) for r in runs if getattr(r, col) is not None]
            means[col] = statistics.fmean(values) if values else None
            sds[col] = statistics.stdev(values) if len(values) >= 2 else None
        failed = sum(r.count(FAILED) for r in runs)
        out.append(Row(benchmark, strategy, tuple(sorted(r.seed for r in runs)), means, sds, failed))
    return sorted(out, key=lambda row: (row.benchmark, -(row.means["best_val_acc"] or 0.0), row.strategy))


def mean_sd(mean: float | None, sd: float | None, fmt: str) -> str:
    """``mean ± sd``, or ``mean (1 seed)`` without a spread, or ``n/a``."""
    if mean is None:
        return "n/a"
    return f"{mean:{fmt}} ± {sd:{fmt}}" if sd is not None else f"{mean:{fmt}} (1 seed)"


_FORMATS = {"best_val_acc": ".4f", "wallclock_s": ".1f", "compute_saved": ".3f"}
_HEADERS = ("benchmark", "strategy", "seeds", "best val acc", "wall-clock (s)", "compute saved", "failed trials")


def _cells(row: Row) -> list[str]:
    return [
        row.benchmark,
        row.strategy,
        str(len(row.seeds)),
        *(mean_sd(row.means[c], row.sds[c], _FORMATS[c]) for c in COLUMNS),
        str(row.trials_failed),
    ]


def to_markdown(table: list[Row]) -> str:
    lines = ["| " + " | ".join(_HEADERS) + " |", "|" + "---|" * len(_HEADERS)]
    lines += ["| " + " | ".join(_cells(r)) + " |" for r in table]
    return "\n".join(lines) + "\n"


def to_text(table: list[Row]) -> str:
    """A fixed-width table for the terminal."""
    cells = [list(_HEADERS)] + [_cells(r) for r in table]
    widths = [max(len(row[i]) for row in cells) for i in range(len(_HEADERS))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells) + "\n"


def to_csv(table: list[Row]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["benchmark", "strategy", "n_seeds", *(f"{c}_{s}" for c in COLUMNS for s in ("mean", "sd")), "trials_failed"])
    for r in table:
        writer.writerow(
            [r.benchmark, r.strategy, len(r.seeds), *(_csv(v) for c in COLUMNS for v in (r.means[c], r.sds[c])), r.trials_failed]
        )
    return buf.getvalue()


def _csv(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"
