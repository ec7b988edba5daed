"""The comparison table, written one way for every place it appears.

One row per (benchmark, strategy) of an :class:`~harness.evaluate.summary.Analysis`: the terminal
summary (mean ± sd), the Markdown table of report.md and of each benchmark's comparison.md (95 %
intervals, tests against the reference), and summary.csv / comparison.csv (every figure, unformatted).
"""

from __future__ import annotations

import csv
import io

from harness.evaluate.stats import Summary
from harness.evaluate.summary import Analysis, StrategyStats, VersusReference
from harness.core.objective import Objective
from harness.core.records import SIMULATED


def mean_sd(mean: float | None, sd: float | None, fmt: str) -> str:
    """``mean ± sd``, or ``mean (1 seed)`` without a spread, or ``n/a``."""
    if mean is None:
        return "n/a"
    return f"{mean:{fmt}} ± {sd:{fmt}}" if sd is not None else f"{mean:{fmt}} (1 seed)"


HEADERS = (
    "benchmark", "strategy", "seeds", "best val acc (95% CI)", "test acc (95% CI)", "wall-clock s (geo. mean, 95% CI)",
    "compute saved", "time to target s (geo. mean; unreached at run end)", "epochs to target", "AUC",
    "avg rank (test acc)", "vs reference (val acc)",
    "vs reference (test acc)",
)


def _ci(s: Summary, fmt: str) -> str:
    if s.mean is None:
        return "n/a"
    if s.ci_low is None:
        return f"{s.mean:{fmt}} (1 seed)"
    if s.ci_low == s.ci_high and s.n > 1:  # every seed alike: a zero-width interval would look like certainty
        return f"{s.mean:{fmt}} (alike on all {s.n} seeds)"
    return f"{s.mean:{fmt}} [{s.ci_low:{fmt}}, {s.ci_high:{fmt}}]"


def shown(s: Summary, objective: Objective) -> Summary:
    """A summary of scores in the metric's own direction (a minimised metric: the negatives, the interval turned)."""
    if objective.sign > 0 or s.mean is None:
        return s
    flip = objective.shown
    low, high = (flip(s.ci_high), flip(s.ci_low)) if s.ci_low is not None else (None, None)
    return Summary(s.n, flip(s.mean), flip(s.median), low, high, s.sd)


def _score(s: Summary, objective: Objective, fmt: str, name: str | None) -> str:
    """Accuracy as it always was; a declared metric by its name, in its own direction."""
    if objective.is_default:
        return _ci(s, fmt)
    return f"{name} {_ci(shown(s, objective), '.4g')}"


def headers(rows: list[StrategyStats]) -> tuple[str, ...]:
    """The table's column names; accuracy columns say "metric" when a row's problem declares its own objective."""
    if all(r.objective.is_default for r in rows):
        return HEADERS
    named = {"best val acc (95% CI)": "best val metric (95% CI)", "test acc (95% CI)": "held-out metric (95% CI)",
             "avg rank (test acc)": "avg rank (held-out)", "vs reference (val acc)": "vs reference (val)",
             "vs reference (test acc)": "vs reference (held-out)"}
    return tuple(named.get(h, h) for h in HEADERS)


def _versus(v: VersusReference | None) -> str:
    if v is None:
        return "n/a"
    if v.p_holm is None or v.verdict.startswith("too few"):
        return v.verdict
    return f"{v.verdict} (Holm p={v.p_holm:.3g}, A12={v.a12:.2f})"


def cells(row: StrategyStats) -> list[str]:
    n = len(row.seeds)
    reach = f" ({row.reached}/{n - row.failed_runs} reached)" if row.reached < n - row.failed_runs else ""
    return [
        row.benchmark,
        row.strategy,
        f"{n}" + (f" ({row.failed_runs} failed)" if row.failed_runs else ""),
        _score(row.best_val_acc, row.objective, ".4f", row.objective.metric),
        _score(row.test_acc, row.objective, ".4f", row.objective.test_metric),
        _ci(row.wallclock_s, ".1f"),
        _ci(row.compute_saved, ".3f"),
        (_ci(row.ttt_s, ".1f") if row.reached else "not reached") + reach,
        _ci(row.ttt_epochs, ".0f") if row.reached else "not reached",  # unreached seeds count at their run's end
        _ci(row.auc, ".3f"),
        f"{row.avg_rank:.2f}" if row.avg_rank is not None else "n/a",
        _versus(row.versus),
        _versus(row.versus_test),
    ]


def sorted_rows(analysis: Analysis) -> list[StrategyStats]:
    return sorted(analysis.rows, key=lambda r: (r.benchmark, r.avg_rank if r.avg_rank is not None else 1e9, r.strategy))


def _sd(s: Summary, fmt: str) -> str:
    return mean_sd(s.mean, s.sd, fmt)


def short_table(analysis: Analysis) -> str:
    """The terminal form: mean ± sd of accuracy, wall-clock and compute saved, rank and verdict."""
    accuracy = all(r.objective.is_default for r in analysis.rows)
    head = ["benchmark", "strategy", "seeds", "best val acc" if accuracy else "best val metric (95% CI)",
            "test acc" if accuracy else "held-out metric (95% CI)", "wall-clock (s)", "compute saved", "avg rank",
            "vs reference (val)", "vs reference (test)"]
    body = [
        [r.benchmark, r.strategy, cells(r)[2], cells(r)[3] if not r.objective.is_default else _sd(r.best_val_acc, ".4f"),
         cells(r)[4] if not r.objective.is_default else _sd(r.test_acc, ".4f"), _sd(r.wallclock_s, ".1f"),
         _sd(r.compute_saved, ".3f"), cells(r)[10], cells(r)[11], cells(r)[12]]
        for r in sorted_rows(analysis)
    ]
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in [head] + body]
    simulated = sorted({r.benchmark for r in analysis.runs if r.clock == SIMULATED})
    if simulated:
        lines.append(f"wall-clock of {', '.join(simulated)}: simulated seconds (replays of recorded learning curves)")
    return "\n".join(lines + [om.statement for om in analysis.omnibus]) + "\n"


def markdown_table(rows: list[StrategyStats]) -> list[str]:
    """The table's Markdown lines."""
    return ["| " + " | ".join(headers(rows)) + " |", "|" + "---|" * len(HEADERS)] + ["| " + " | ".join(cells(r)) + " |" for r in rows]


def summary_csv(rows: list[StrategyStats]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    metrics = ("best_val_acc", "test_acc", "wallclock_s", "compute_saved", "ttt_s", "ttt_epochs", "auc")
    versus = (("val", "versus"), ("test", "versus_test"))
    # Accuracy columns hold scores: a declared objective's metric when higher is better, its negative when lower is
    # (the columns objective and mode say which).
    w.writerow(
        ["benchmark", "strategy", "n_seeds", "failed_runs", "reached_target"]
        + [f"{m}_{s}" for m in metrics for s in ("mean", "median", "ci_low", "ci_high")]
        + ["avg_rank", "reference"] + [f"{k}_{c}" for k, _ in versus for c in ("p_raw", "p_holm", "a12", "verdict")]
        + ["objective", "mode"]
    )
    for r in rows:
        tests = [getattr(r, attr) for _, attr in versus]
        w.writerow(
            [r.benchmark, r.strategy, len(r.seeds), r.failed_runs, r.reached]
            + [_num(getattr(getattr(r, m), f)) for m in metrics for f in ("mean", "median", "ci_low", "ci_high")]
            + [_num(r.avg_rank), r.versus.reference if r.versus else ""]
            + [x for v in tests for x in ((_num(v.p_raw), _num(v.p_holm), _num(v.a12), v.verdict) if v else ("", "", "", ""))]
            + [r.objective.metric, r.objective.mode]
        )
    return buf.getvalue()


def _num(x) -> str:
    return "" if x is None else f"{x:.6g}"


