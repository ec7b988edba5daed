"""The comparison report: report.md, a self-contained report.html, summary.csv and the plots.

``python -m harness report <results dir>`` builds it from every stored run there; a benchmark
session builds it from that session's runs.
"""

from __future__ import annotations

import base64
import csv
import html
import io
from pathlib import Path

from harness import plots
from harness.compare import mean_sd
from harness.analysis import Analysis, StrategyStats, VersusReference, seeds_for_a_verdict
from harness.stats import Summary
from harness.store import write_atomic

HEADERS = (
    "benchmark", "strategy", "seeds", "best val acc (95% CI)", "test acc (95% CI)", "wall-clock s (95% CI)",
    "compute saved", "time to target s", "epochs to target", "AUC", "avg rank", "vs reference (val acc)",
    "vs reference (test acc)",
)


def _ci(s: Summary, fmt: str) -> str:
    if s.mean is None:
        return "n/a"
    if s.ci_low is None:
        return f"{s.mean:{fmt}} (1 seed)"
    return f"{s.mean:{fmt}} [{s.ci_low:{fmt}}, {s.ci_high:{fmt}}]"


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
        _ci(row.best_val_acc, ".4f"),
        _ci(row.test_acc, ".4f"),
        _ci(row.wallclock_s, ".1f"),
        _ci(row.compute_saved, ".3f"),
        (_ci(row.ttt_s, ".1f") if row.reached else "not reached") + reach,
        _ci(row.ttt_epochs, ".0f") if row.reached else "not reached",
        _ci(row.auc, ".3f"),
        f"{row.avg_rank:.2f}" if row.avg_rank is not None else "n/a",
        _versus(row.versus),
        _versus(row.versus_test),
    ]


def _sorted_rows(analysis: Analysis) -> list[StrategyStats]:
    return sorted(analysis.rows, key=lambda r: (r.benchmark, r.avg_rank if r.avg_rank is not None else 1e9, r.strategy))


def _sd(s: Summary, fmt: str) -> str:
    return mean_sd(s.mean, s.sd, fmt)


def short_table(analysis: Analysis) -> str:
    """The terminal form: mean ± sd of accuracy, wall-clock and compute saved, rank and verdict."""
    head = ["benchmark", "strategy", "seeds", "best val acc", "test acc", "wall-clock (s)", "compute saved", "avg rank",
            "vs reference (val)", "vs reference (test)"]
    body = [
        [r.benchmark, r.strategy, cells(r)[2], _sd(r.best_val_acc, ".4f"), _sd(r.test_acc, ".4f"), _sd(r.wallclock_s, ".1f"),
         _sd(r.compute_saved, ".3f"), cells(r)[10], cells(r)[11], cells(r)[12]]
        for r in _sorted_rows(analysis)
    ]
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in [head] + body]
    simulated = sorted({r.benchmark for r in analysis.runs if r.clock == "simulated"})
    if simulated:
        lines.append(f"wall-clock of {', '.join(simulated)}: simulated seconds (replays of recorded learning curves)")
    return "\n".join(lines + [om.statement for om in analysis.omnibus]) + "\n"


def markdown(analysis: Analysis, images: list[Path]) -> str:
    out = ["# Tuning-strategy comparison", ""]
    out += _settings(analysis)
    out += ["## Comparison", "", "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    out += ["| " + " | ".join(cells(r)) + " |" for r in _sorted_rows(analysis)]
    out += [""] + [f"**Omnibus:** {om.statement}." for om in analysis.omnibus] + [""]
    if analysis.notes:
        out += ["## Notes", ""] + [f"- {n}" for n in analysis.notes] + [""]
    out += ["## Plots", ""] + [f"![{p.stem}]({p.as_posix()})" for p in images] + [""]
    out += ["## Provenance", ""] + [f"- {line}" for line in _provenance(analysis)] + [""]
    return "\n".join(out)


def _settings(analysis: Analysis) -> list[str]:
    targets = ", ".join(f"{b}: {t:.4f}" for b, t in sorted(analysis.targets.items()))
    budgets = sorted({f"{r.benchmark}: {_budget_text(r.budget)}" for r in analysis.runs})
    return [
        "## Settings",
        "",
        f"- runs: {len(analysis.runs)} (the newest run of each benchmark, strategy and seed)",
        f"- reference for paired tests: `{analysis.reference}`. Each strategy is compared with it twice, on best "
        f"validation accuracy (the score the search maximised, biased upward by how many configurations it saw) and on "
        f"held-out test accuracy (of the configuration it selected, at the epoch it selected it): a two-sided exact "
        f"Wilcoxon signed-rank test paired by seed (ties enumerated exactly), Holm-corrected over the strategies "
        f"compared on that metric; better/worse is the sign of the signed-rank statistic; effect size Vargha-Delaney A12",
        f"- significance level: {analysis.alpha}; CIs: 95% Student-t interval of the mean over seeds",
        f"- with n differing seeds the exact test cannot go below p = 2/2^n, and Holm's first step over m comparisons "
        f"needs p < alpha/m: a comparison that could not reach significance even with every sign alike is reported as "
        f"too few seeds, not as no difference (with {len({r.strategy for r in analysis.rows})} strategies: "
        f"{seeds_for_a_verdict(len({r.strategy for r in analysis.rows}), analysis.alpha)} differing seeds)",
        "- omnibus: one Friedman test per clock (live runs and replays of a problem are never pooled as independent "
        "blocks), blocks = (benchmark, seed), on best validation accuracy",
        f"- time to target: first time the best-so-far reaches the target ({analysis.target_fraction:g} x the best accuracy any strategy reached, unless set): {targets}",
        "- AUC: area under best-so-far accuracy over cumulative epochs, divided by the budget's epochs (num_trials x max_epochs)",
        *clock_notes(analysis.runs),
        *[f"- budget {b}" for b in budgets],
        "",
    ]


def clock_notes(runs) -> list[str]:
    """Which seconds each benchmark's times are: real, or simulated by a replay (and of which table)."""
    notes = []
    for bench in sorted({r.benchmark for r in runs}):
        sim = [r for r in runs if r.benchmark == bench and r.clock == "simulated"]
        if not sim:
            notes.append(f"- {bench}: times are real seconds")
            continue
        table = sim[0].provenance.get("table", {})
        real = sum(r.real_s or 0.0 for r in sim)
        notes.append(
            f"- {bench}: times are SIMULATED seconds, replayed from table {table.get('benchmark')} "
            f"({table.get('configs')} configurations, fingerprint {table.get('fingerprint')}) on "
            f"max_concurrent_trials virtual workers; {len(sim)} replays took {real:.1f} real seconds"
        )
    return notes


def _budget_text(budget: dict) -> str:
    keys = ("max_epochs", "num_trials", "max_concurrent_trials", "cpus_per_trial", "gpus_per_trial_resolved", "wallclock_s")
    return ", ".join(f"{k}={budget.get(k)}" for k in keys if k in budget)


def _provenance(analysis: Analysis) -> list[str]:
    lines = set()
    for r in analysis.runs:
        p = r.provenance
        versions = ", ".join(f"{k} {v}" for k, v in sorted((p.get("versions") or {}).items()) if v)
        lines.add(
            f"commit {str(p.get('git_commit'))[:12]}{' (dirty)' if p.get('git_dirty') else ''}; device {p.get('device')}; "
            f"python {p.get('python')}; {versions}"
        )
    return sorted(lines)


def summary_csv(analysis: Analysis) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    metrics = ("best_val_acc", "test_acc", "wallclock_s", "compute_saved", "ttt_s", "ttt_epochs", "auc")
    versus = (("val", "versus"), ("test", "versus_test"))
    w.writerow(
        ["benchmark", "strategy", "n_seeds", "failed_runs", "reached_target"]
        + [f"{m}_{s}" for m in metrics for s in ("mean", "median", "ci_low", "ci_high")]
        + ["avg_rank", "reference"] + [f"{k}_{c}" for k, _ in versus for c in ("p_raw", "p_holm", "a12", "verdict")]
    )
    for r in _sorted_rows(analysis):
        tests = [getattr(r, attr) for _, attr in versus]
        w.writerow(
            [r.benchmark, r.strategy, len(r.seeds), r.failed_runs, r.reached]
            + [_num(getattr(getattr(r, m), f)) for m in metrics for f in ("mean", "median", "ci_low", "ci_high")]
            + [_num(r.avg_rank), r.versus.reference if r.versus else ""]
            + [x for v in tests for x in ((_num(v.p_raw), _num(v.p_holm), _num(v.a12), v.verdict) if v else ("", "", "", ""))]
        )
    return buf.getvalue()


def _num(x) -> str:
    return "" if x is None else f"{x:.6g}"


def html_page(analysis: Analysis, images: list[Path]) -> str:
    """One file that opens offline: inline CSS, plots embedded as data URIs, no external assets."""
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells(r)) + "</tr>" for r in _sorted_rows(analysis))
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADERS)
    settings = "".join(f"<li>{html.escape(line[2:])}</li>" for line in _settings(analysis) if line.startswith("- "))
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in analysis.notes)
    figures = "".join(
        f'<figure><img alt="{html.escape(p.stem)}" src="data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()}">'
        f"<figcaption>{html.escape(p.stem)}</figcaption></figure>"
        for p in images
    )
    prov = "".join(f"<li>{html.escape(line)}</li>" for line in _provenance(analysis))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tuning-strategy comparison</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; font-size: 13px; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; }}
th {{ background: #f3f3f3; }} tr:nth-child(even) {{ background: #fafafa; }}
figure {{ display: inline-block; margin: 1em; }} img {{ max-width: 760px; }}
</style></head><body>
<h1>Tuning-strategy comparison</h1>
<h2>Comparison</h2><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>
{"".join(f"<p><strong>Omnibus:</strong> {html.escape(om.statement)}.</p>" for om in analysis.omnibus)}
<h2>Settings</h2><ul>{settings}</ul>
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
<h2>Plots</h2>{figures}
<h2>Provenance</h2><ul>{prov}</ul>
</body></html>
"""


def write_report(analysis: Analysis, folder: str | Path) -> dict[str, Path]:
    """Write every report file into ``folder`` (atomically, replacing the previous report)."""
    folder = Path(folder)
    images = plots.all_plots(analysis, folder / "plots")
    return {
        "report.md": write_atomic(folder / "report.md", markdown(analysis, [Path("plots") / p.name for p in images]), overwrite=True),
        "report.html": write_atomic(folder / "report.html", html_page(analysis, images), overwrite=True),
        "summary.csv": write_atomic(folder / "summary.csv", summary_csv(analysis), overwrite=True),
        **{f"plots/{p.name}": p for p in images},
    }
