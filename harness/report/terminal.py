"""What a session prints at its end: the gate's result, the verdict, the short table, and where the files went."""

from __future__ import annotations

from harness.core.records import SIMULATED, RunRecord
from harness.report.tables import short_table


def gate_text(finished, interrupted: bool) -> str:
    """The gate's result, or why there is none."""
    if finished.gate_error:
        return f"{finished.gate_error}\n"
    if interrupted:
        return "gate: not evaluated: the session was interrupted\n"
    return finished.gate.report() if finished.gate else "gate: no runs in this session to compare\n"


def summary_sections(finished, records: list[RunRecord], root: str, interrupted: bool) -> list[tuple[str | None, str]]:
    """(section title or None, text) pairs: the verdict, the comparison table, then what was written."""
    if finished.analysis is None:
        return []
    sections: list[tuple[str | None, str]] = [
        ("verdict (paired by seed against the reference; this session's runs)", "\n".join(finished.verdict_lines) + "\n"),
        ("tuning comparison (mean ± sd over seeds; this session's runs)", short_table(finished.analysis)),
    ]
    plots = sum(1 for name in finished.written if name.startswith("plots/"))
    lines = [f"written: {root}/report.md, report.html, summary.csv, {plots} plots; "
             f"per-benchmark comparison.md/.csv and run records under {root}/<benchmark>/"]
    replays = [r for r in records if r.clock == SIMULATED]
    if replays:
        simulated, real = sum(r.wallclock_s for r in replays), sum(r.real_s or 0.0 for r in replays)
        lines.append(f"replays: {len(replays)} runs, {simulated:.0f} simulated seconds in {real:.1f} real seconds "
                     f"(simulated/real = {simulated / max(real, 1e-9):.0f}x); their wall-clock figures are simulated seconds")
    if interrupted:
        lines.append(f"interrupted: {len(records)} finished runs are stored and reported above; the run in flight was "
                     f"discarded. Continue with --resume; no gate was evaluated and no baseline written.")
    elif finished.baseline:
        lines.append(f"baseline written: {finished.baseline}")
    sections.append((None, "\n".join(lines) + "\n"))
    return sections
